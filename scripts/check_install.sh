#!/usr/bin/env bash
# dlfs as a C++ library, as a user meets it: installs BUILD_DIR into a fresh prefix, configures
# and builds each project in examples/cpp against it with find_package(dlfs), and runs them.
#   bash scripts/check_install.sh [BUILD_DIR (default build)]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" > "$work/install.log"
echo "== installed $build into a fresh prefix: $(find "$work/prefix/include/dlfs" -name '*.hpp' | wc -l) headers," \
  "$(find "$work/prefix" -name '*.a' | wc -l) libraries, the CMake package"
for example in examples/cpp/*/; do
  name=$(basename "$example")
  echo "== examples/cpp/$name against it"
  cmake -S "$example" -B "$work/$name" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$work/prefix" > "$work/$name.configure.log" ||
    { cat "$work/$name.configure.log"; exit 1; }
  cmake --build "$work/$name" > "$work/$name.build.log" || { cat "$work/$name.build.log"; exit 1; }
  (cd "$work" && "$work/$name/$name")
done
echo "== the installed package builds and runs both examples"
