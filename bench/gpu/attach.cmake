# Adds dlfs_bench_gpu to a dlfs build whose bench/CMakeLists.txt does not (yet) add bench/gpu:
#   cmake -S . -B build -DCMAKE_PROJECT_dlfs_INCLUDE=$PWD/bench/gpu/attach.cmake
# CMake includes this file right after project(dlfs); the deferred call runs at the end of the
# top CMakeLists.txt, when dlfs_layers exists and bench/ has had its chance to add the target.
# (Deferred calls may not add_subdirectory, hence include.)
function(_dlfs_attach_bench_gpu)
  if(DLFS_HAVE_CUDA AND NOT TARGET dlfs_bench_gpu)
    include(${CMAKE_SOURCE_DIR}/bench/gpu/CMakeLists.txt)
  endif()
endfunction()
cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR} CALL _dlfs_attach_bench_gpu)
