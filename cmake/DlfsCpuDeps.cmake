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

# oneDNN (Debian's libdnnl-dev) as a CPU convolution path beside im2col + GEMM
# (kernels/cpu/onednn_conv2d.hpp). Found by header and library, like OpenBLAS, so the installed
# package needs no find_dependency for it. Debian's build threads with OpenMP, as dlfs does.
set(DLFS_HAVE_ONEDNN OFF)
if(NOT DLFS_ONEDNN STREQUAL "OFF")
  find_path(DLFS_ONEDNN_INCLUDE_DIR oneapi/dnnl/dnnl.hpp HINTS $ENV{DNNL_ROOT}/include)
  find_library(DLFS_ONEDNN_LIBRARY dnnl HINTS $ENV{DNNL_ROOT}/lib)
  if(DLFS_ONEDNN_INCLUDE_DIR AND DLFS_ONEDNN_LIBRARY)
    add_library(dlfs_onednn INTERFACE)
    target_include_directories(dlfs_onednn INTERFACE ${DLFS_ONEDNN_INCLUDE_DIR})
    target_link_libraries(dlfs_onednn INTERFACE ${DLFS_ONEDNN_LIBRARY})
    set(DLFS_HAVE_ONEDNN ON)
    message(STATUS "dlfs: oneDNN ${DLFS_ONEDNN_LIBRARY}")
  elseif(DLFS_ONEDNN STREQUAL "ON")
    message(FATAL_ERROR "DLFS_ONEDNN=ON but oneapi/dnnl/dnnl.hpp / libdnnl were not found: "
                        "install libdnnl-dev (Debian) or set DNNL_ROOT.")
  endif()
endif()
