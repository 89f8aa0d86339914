#!/usr/bin/env bash
# Fills .device-carry/debs with the Debian 12 packages that bench/gpu_check.sh unpacks on the GPU
# machine, which has the CUDA toolkit, cuDNN (pip) and a compiler but none of Debian's -dev
# packages and no network. Run it here (Debian 12, with apt); the device tool then carries the
# folder: run(command="bash bench/gpu_check.sh $OUT", carry=[".device-carry"]). docs/gpu_check.md.
#
#   libopenblas-openmp-dev  cblas.h and libopenblas.so (the OpenMP build dlfs prefers)
#   libopenblas0-openmp     the shared library itself
#   libgfortran5, libquadmath0, libgomp1
#                           what libopenblas0-openmp needs at run time; gpu_check.sh puts them
#                           on LD_LIBRARY_PATH only where the machine lacks them
#   libgtest-dev            GoogleTest headers, static libraries, relocatable CMake config
#   libbenchmark-dev, libbenchmark1debian
#                           Google Benchmark (the CPU benchmarks)
#   zlib1g-dev              zlib.h and libz.a (its libz.so is an absolute link that
#                           gpu_check.sh re-points at the machine's libz.so.1)
# Not carried: googletest (sources only; libgtest-dev has the built libraries).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
carry="$repo_root/.device-carry"
debs="$carry/debs"
packages=(libopenblas-openmp-dev libopenblas0-openmp libgfortran5 libquadmath0 libgomp1
          libgtest-dev libbenchmark-dev libbenchmark1debian zlib1g-dev)
limit_mib=40

command -v apt-get >/dev/null || { echo "prepare_gpu_carry: needs apt-get (Debian 12)" >&2; exit 1; }
rm -rf "$debs"
mkdir -p "$debs"
# apt-get download writes into the current directory; the _apt sandbox user may not be able to,
# which only costs a warning.
(cd "$debs" && apt-get download "${packages[@]}" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)

missing=0
for p in "${packages[@]}"; do
  if ! ls "$debs/${p}_"*.deb >/dev/null 2>&1; then
    echo "prepare_gpu_carry: $p was not downloaded" >&2
    missing=1
  fi
done
[ "$missing" = 0 ] || exit 1

# Check that the files gpu_check.sh relies on are in the packages.
check_file() {  # package-glob path-suffix
  # shellcheck disable=SC2086 # $1 is a glob
  if ! dpkg -c "$debs"/$1 | grep -- "$2" >/dev/null; then
    echo "prepare_gpu_carry: $1 lacks $2" >&2
    exit 1
  fi
}
check_file 'libopenblas-openmp-dev_*.deb' 'openblas-openmp/cblas.h'
check_file 'libopenblas0-openmp_*.deb' 'openblas-openmp/libopenblasp-r.*\.so$'
check_file 'libgtest-dev_*.deb' 'cmake/GTest/GTestConfig.cmake'
check_file 'libbenchmark-dev_*.deb' 'cmake/benchmark/benchmarkConfig.cmake'
check_file 'zlib1g-dev_*.deb' 'usr/include/zlib.h'

{
  echo "# made by bench/prepare_gpu_carry.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  . /etc/os-release 2>/dev/null && echo "# on $PRETTY_NAME"
  (cd "$debs" && ls -1 -- *.deb)
} > "$carry/MANIFEST"

size_kib=$(du -sk "$carry" | cut -f1)
echo "prepare_gpu_carry: $(ls "$debs" | wc -l) packages, $((size_kib / 1024)) MiB in $carry"
if [ "$size_kib" -gt $((limit_mib * 1024)) ]; then
  echo "prepare_gpu_carry: over the ${limit_mib} MiB budget (the whole carried tree is limited to 64 MiB)" >&2
  exit 1
fi
