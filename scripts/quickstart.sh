#!/usr/bin/env bash
# The README's two commands:
#   bash scripts/quickstart.sh train [dlfs train options]   train the default model on Fashion-MNIST
#   bash scripts/quickstart.sh test                          build and run the whole test suite
# and the emulated CUDA device's suite (docs/emulation.md), which CI runs too:
#   bash scripts/quickstart.sh emulated                      build-emulated/: every GPU test on the CPU
# Each installs what is missing (Debian packages, and into .venv the PyPI packages of
# python/requirements.txt), configures once, builds incrementally and runs. `test` also installs
# the Python package into .venv (pip install ., reusing the build) and checks the installed copy.
# DLFS_BUILD_DIR (default: build) and DLFS_CMAKE_ARGS (e.g. -DDLFS_CUDA=OFF) adjust the build.
set -euo pipefail
cd "$(dirname "$0")/.."

job=${1:-}
case "$job" in
  train | test | emulated) shift ;;
  *)
    echo "usage: bash scripts/quickstart.sh train|test|emulated [options]" >&2
    exit 2
    ;;
esac

packages=(build-essential cmake ninja-build ccache pkg-config python3
          libopenblas-openmp-dev libdnnl-dev libgtest-dev libbenchmark-dev zlib1g-dev dataset-fashion-mnist
          python3-matplotlib clang libclang-rt-14-dev libboost-context-dev
          python3-torch  # the models' PyTorch twins (tests/models/test_pytorch_forward.cpp)
          openmpi-bin libopenmpi-dev  # mpirun and MPI: data-parallel training (docs/distributed.md)
          python3-dev python3-venv)  # the Python package (docs/python.md), built in .venv
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  echo "== installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The virtual environment of the Python package: Debian's python3 with its packages (torch for
# the DLPack tests) plus what python/requirements.txt names from PyPI. Without PyPI (offline),
# dlfs builds and tests without its Python package, and says so.
venv=.venv
python_args=()
stamp="$venv/.dlfs-requirements"
if [ ! -x "$venv/bin/python" ]; then
  echo "== making the Python environment $venv"
  /usr/bin/python3 -m venv --system-site-packages "$venv"
fi
if ! cmp -s python/requirements.txt "$stamp"; then
  echo "== installing python/requirements.txt into $venv"
  if "$venv/bin/pip" install -q --disable-pip-version-check -r python/requirements.txt; then
    cp python/requirements.txt "$stamp"
  else
    echo "== WARNING: pip could not install python/requirements.txt; building without the Python package" >&2
  fi
fi
if cmp -s python/requirements.txt "$stamp"; then
  python_args=(-DPython_EXECUTABLE="$PWD/$venv/bin/python")
else
  python_args=(-DDLFS_PYTHON=OFF)
fi

build=${DLFS_BUILD_DIR:-build}
extra_args=()
if [ "$job" = emulated ]; then
  build=${DLFS_BUILD_DIR:-build-emulated}
  extra_args=(-DDLFS_CUDA_EMULATION=ON -DDLFS_BUILD_BENCH=OFF)
fi
if [ ! -f "$build/build.ninja" ]; then
  echo "== configuring $build"
  # shellcheck disable=SC2086
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "${extra_args[@]}" "${python_args[@]}" \
    ${DLFS_CMAKE_ARGS:-}
fi
echo "== building ($(nproc) jobs)"
cmake --build "$build" -j"$(nproc)"

case "$job" in
  train) exec "$build/dlfs" train "$@" ;;
  test)
    ctest --test-dir "$build" --output-on-failure -j"$(nproc)" "$@"
    if [ -f "$build/python/dlfs/__init__.py" ]; then
      # The package as pip installs it, from the same build folder (nothing is compiled again),
      # then checked from outside the source tree.
      echo "== installing the Python package into $venv (pip install .)"
      "$venv/bin/pip" install -q --disable-pip-version-check --no-build-isolation \
        --config-settings=build-dir="$build" .
      (cd / && DLFS_TEST_INSTALLED=1 "$OLDPWD/$venv/bin/python" -m pytest -q -p no:cacheprovider \
        "$OLDPWD/python/tests/test_installed.py")
    else
      echo "== the Python package was not built (see the configure output of $build)"
    fi
    ;;
  emulated)
    status=0
    ctest --test-dir "$build" --output-on-failure -j"$(nproc)" "$@" || status=$?
    # What ran on the emulated device and what skipped, each skip with its reason.
    python3 scripts/test_summary.py "$build" --require-run Gpu --require-run CudaEmulation ||
      status=1
    exit $status
    ;;
esac
