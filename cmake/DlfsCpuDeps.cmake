# CPU dependencies: OpenMP for the CPU kernels, OpenBLAS for CPU GEMM.
find_package(OpenMP REQUIRED COMPONENTS CXX)
add_library(dlfs_openmp INTERFACE)
target_link_libraries(dlfs_openmp INTERFACE OpenMP::OpenMP_CXX)

# Prefer Debian's OpenMP build of OpenBLAS: the pthread build starts its own threads beside
# our OpenMP pool, so two cores end up running four busy threads.
set(_dlfs_arch_lib /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE})
set(_dlfs_arch_inc /usr/include/${CMAKE_LIBRARY_ARCHITECTURE})
find_path(DLFS_CBLAS_INCLUDE_DIR cblas.h
  HINTS ${_dlfs_arch_inc}/openblas-openmp ${_dlfs_arch_inc}/openblas-pthread $ENV{OPENBLAS_ROOT}/include
  NO_DEFAULT_PATH)
find_path(DLFS_CBLAS_INCLUDE_DIR cblas.h PATH_SUFFIXES openblas)
find_library(DLFS_OPENBLAS_LIBRARY openblas
  HINTS ${_dlfs_arch_lib}/openblas-openmp $ENV{OPENBLAS_ROOT}/lib NO_DEFAULT_PATH)
find_library(DLFS_OPENBLAS_LIBRARY openblas)
if(NOT DLFS_CBLAS_INCLUDE_DIR OR NOT DLFS_OPENBLAS_LIBRARY)
  message(FATAL_ERROR "OpenBLAS not found: install libopenblas-openmp-dev (Debian) or set OPENBLAS_ROOT.")
endif()
add_library(dlfs_openblas INTERFACE)
target_include_directories(dlfs_openblas INTERFACE ${DLFS_CBLAS_INCLUDE_DIR})
target_link_libraries(dlfs_openblas INTERFACE ${DLFS_OPENBLAS_LIBRARY})
message(STATUS "dlfs: OpenBLAS ${DLFS_OPENBLAS_LIBRARY}")
