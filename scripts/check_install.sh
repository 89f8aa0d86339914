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
# Every installed header compiles on its own terms: one file includes them all (a header that
# needs one that was not installed fails here).
mkdir -p "$work/all_headers"
(cd "$work/prefix/include" && find dlfs -name '*.hpp' | sort | sed 's/.*/#include <&>/') \
  > "$work/all_headers/all.cpp"
cat > "$work/all_headers/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.24)
project(all_headers LANGUAGES CXX)
find_package(dlfs REQUIRED)
add_library(all_headers OBJECT all.cpp)
target_link_libraries(all_headers PRIVATE dlfs::dlfs)
CMAKE
cmake -S "$work/all_headers" -B "$work/all_headers/build" -G Ninja \
  -DCMAKE_PREFIX_PATH="$work/prefix" > "$work/all_headers.log" &&
  cmake --build "$work/all_headers/build" >> "$work/all_headers.log" ||
  { cat "$work/all_headers.log"; exit 1; }
echo "== every installed header compiles against the package alone"
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
