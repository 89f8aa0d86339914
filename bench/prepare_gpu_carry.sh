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
#
# And a small data set, since the GPU machine has no Fashion-MNIST: .device-carry/data holds the
# first GPU_CARRY_TRAIN_IMAGES (6000) training and GPU_CARRY_TEST_IMAGES (1000) test images of
# Fashion-MNIST as the four MNIST-format files, gzip-compressed (bench/idx_slice.py slice), taken
# from FASHION_MNIST_DIR (default /usr/share/datasets/fashion-mnist) or, where that is not
# installed, from Debian's dataset-fashion-mnist package unpacked into a temporary folder. Where
# neither can be had it writes a synthetic set instead (bench/idx_slice.py synthetic) and says so;
# gpu_check.sh does the same on the GPU machine when the carry has no data.
#   bash bench/prepare_gpu_carry.sh              packages and data
#   bash bench/prepare_gpu_carry.sh --data-only  the data only (keeps .device-carry/debs)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
carry="$repo_root/.device-carry"
debs="$carry/debs"
packages=(libopenblas-openmp-dev libopenblas0-openmp libgfortran5 libquadmath0 libgomp1
          libgtest-dev libbenchmark-dev libbenchmark1debian zlib1g-dev)
limit_mib=40
data="$carry/data"
train_images=${GPU_CARRY_TRAIN_IMAGES:-6000}
test_images=${GPU_CARRY_TEST_IMAGES:-1000}
fashion=${FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
slicer="$repo_root/bench/idx_slice.py"

data_only=0
case "${1:-}" in
  --data-only) data_only=1 ;;
  "") ;;
  *) echo "usage: bash bench/prepare_gpu_carry.sh [--data-only]" >&2; exit 2 ;;
esac

# ---- the data slice ---------------------------------------------------------------------------
make_data() {
  local src=$fashion tmp="" label="Fashion-MNIST in $fashion"
  if ! ls "$src"/train-images-idx3-ubyte* >/dev/null 2>&1; then
    tmp=$(mktemp -d)
    src="$tmp/root/usr/share/datasets/fashion-mnist"
    label="Fashion-MNIST (Debian's dataset-fashion-mnist package)"
    echo "prepare_gpu_carry: $fashion absent; unpacking Debian's dataset-fashion-mnist"
    (cd "$tmp" && { apt-get download dataset-fashion-mnist 2>&1 \
      | grep -v '^W: Download is performed unsandboxed' || true; })
    if ls "$tmp"/dataset-fashion-mnist_*.deb >/dev/null 2>&1; then
      dpkg -x "$tmp"/dataset-fashion-mnist_*.deb "$tmp/root" || true
    fi
  fi
  if ls "$src"/train-images-idx3-ubyte* >/dev/null 2>&1; then
    python3 "$slicer" slice "$src" "$data" --train "$train_images" --test "$test_images" \
      --label "$label"
  else
    echo "prepare_gpu_carry: no Fashion-MNIST to be had; carrying a SYNTHETIC set instead" >&2
    python3 "$slicer" synthetic "$data" --train "$train_images" --test "$test_images"
  fi
  [ -z "$tmp" ] || rm -rf "$tmp"
  python3 "$slicer" check "$data" --min-train "$train_images" --min-test "$test_images"
}

if [ "$data_only" = 1 ]; then
  make_data
  echo "prepare_gpu_carry: data $(du -sk "$data" | cut -f1) KiB in $data; $(cat "$data/SOURCE")"
  exit 0
fi

command -v apt-get >/dev/null || { echo "prepare_gpu_carry: needs apt-get (Debian 12)" >&2; exit 1; }
rm -rf "$debs"
mkdir -p "$debs"
# apt-get download writes into the current directory; the _apt sandbox user may not be able to,
# which only costs a warning.
(cd "$debs" && { apt-get download "${packages[@]}" 2>&1 \
  | grep -v '^W: Download is performed unsandboxed' || true; })

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
check_file 'libopenblas-openmp-dev_*.deb' 'openblas-openmp/libopenblas.so -> '
check_file 'libopenblas0-openmp_*.deb' 'openblas-openmp/libopenblasp-r.*\.so$'
check_file 'libgtest-dev_*.deb' 'cmake/GTest/GTestConfig.cmake'
check_file 'libbenchmark-dev_*.deb' 'cmake/benchmark/benchmarkConfig.cmake'
check_file 'zlib1g-dev_*.deb' 'usr/include/zlib.h'

make_data

{
  echo "# made by bench/prepare_gpu_carry.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  # shellcheck source=/dev/null
  . /etc/os-release 2>/dev/null && echo "# on $PRETTY_NAME"
  (cd "$debs" && ls -1 -- *.deb)
  echo "data/: $(cat "$data/SOURCE")"
  (cd "$data" && ls -1 -- *.gz)
} > "$carry/MANIFEST"

size_kib=$(du -sk "$carry" | cut -f1)
echo "prepare_gpu_carry: $(find "$debs" -name '*.deb' | wc -l) packages and $(find "$data" -name '*.gz' | wc -l) data files, $((size_kib / 1024)) MiB in $carry"
if [ "$size_kib" -gt $((limit_mib * 1024)) ]; then
  echo "prepare_gpu_carry: over the ${limit_mib} MiB budget (the whole carried tree is limited to 64 MiB)" >&2
  exit 1
fi
