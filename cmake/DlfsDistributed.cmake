# Data-parallel training across processes (comm/): MPI for CPU ranks and for starting the ranks,
# NCCL for the gradients of CUDA ranks. Both are optional and found automatically, like CUDA:
# DLFS_MPI / DLFS_NCCL = AUTO (when found), ON (required) or OFF. Sets DLFS_HAVE_MPI and
# DLFS_HAVE_NCCL and the interface targets dlfs_mpi / dlfs_nccl.
set(DLFS_MPI AUTO CACHE STRING "Multi-process training with MPI: AUTO (when found), ON (required) or OFF")
set_property(CACHE DLFS_MPI PROPERTY STRINGS AUTO ON OFF)
set(DLFS_NCCL AUTO CACHE STRING "NCCL for the gradients of CUDA ranks: AUTO, ON or OFF")
set_property(CACHE DLFS_NCCL PROPERTY STRINGS AUTO ON OFF)
set(DLFS_HAVE_MPI OFF)
set(DLFS_HAVE_NCCL OFF)

if(NOT DLFS_MPI STREQUAL "OFF")
  # dlfs calls MPI's C API from C++: the CXX component, without the deprecated C++ bindings.
  set(MPI_CXX_SKIP_MPICXX ON)
  find_package(MPI COMPONENTS CXX QUIET)
  if(MPI_CXX_FOUND)
    add_library(dlfs_mpi INTERFACE)
    target_link_libraries(dlfs_mpi INTERFACE MPI::MPI_CXX)
    set(DLFS_HAVE_MPI ON)
    message(STATUS "dlfs: MPI ${MPI_CXX_VERSION} (${MPI_CXX_LIBRARIES})")
  elseif(DLFS_MPI STREQUAL "ON")
    message(FATAL_ERROR "DLFS_MPI=ON but no MPI was found; install libopenmpi-dev (Debian) or "
                        "configure with -DDLFS_MPI=OFF.")
  else()
    message(STATUS "dlfs: MPI not found, training runs in one process")
  endif()
endif()

# NCCL comes with the CUDA toolkit here and with pip's nvidia-nccl wheels elsewhere (NCCL_ROOT).
# The emulated device does not emulate NCCL.
if(DLFS_HAVE_CUDA AND NOT DLFS_CUDA_EMULATION AND NOT DLFS_NCCL STREQUAL "OFF")
  set(_dlfs_nccl_hints ${CUDAToolkit_INCLUDE_DIRS} ${CUDAToolkit_LIBRARY_DIR} $ENV{NCCL_ROOT}
      $ENV{NCCL_ROOT}/include $ENV{NCCL_ROOT}/lib)
  find_path(DLFS_NCCL_INCLUDE_DIR nccl.h HINTS ${_dlfs_nccl_hints})
  find_library(DLFS_NCCL_LIBRARY NAMES nccl libnccl.so.2 HINTS ${_dlfs_nccl_hints})
  if(DLFS_NCCL_INCLUDE_DIR AND DLFS_NCCL_LIBRARY)
    add_library(dlfs_nccl INTERFACE)
    target_include_directories(dlfs_nccl INTERFACE ${DLFS_NCCL_INCLUDE_DIR})
    target_link_libraries(dlfs_nccl INTERFACE ${DLFS_NCCL_LIBRARY})
    set(DLFS_HAVE_NCCL ON)
    message(STATUS "dlfs: NCCL ${DLFS_NCCL_LIBRARY}")
  elseif(DLFS_NCCL STREQUAL "ON")
    message(FATAL_ERROR "DLFS_NCCL=ON but nccl.h / libnccl were not found; set NCCL_ROOT.")
  endif()
endif()
