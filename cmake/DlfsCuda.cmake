# Decides whether this build has a CUDA path. DLFS_CUDA=AUTO enables it when nvcc is found,
# ON requires it, OFF never looks. Finding nvcc says nothing about a GPU: a CUDA build runs on
# the CPU wherever cudaGetDeviceCount fails.
set(DLFS_HAVE_CUDA OFF)
set(DLFS_HAVE_CUDNN OFF)

if(DLFS_CUDA_EMULATION)
  include(DlfsCudaEmulation)
  return()
endif()

if(NOT DLFS_CUDA STREQUAL "OFF")
  # nvcc is often installed off PATH; look in the standard place before giving up.
  if(NOT CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX})
    find_program(_dlfs_nvcc nvcc HINTS /usr/local/cuda/bin)
    if(_dlfs_nvcc)
      set(CMAKE_CUDA_COMPILER ${_dlfs_nvcc})
    endif()
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      # 90 = sm_90 machine code plus compute_90 PTX (H100/H200, and newer GPUs through the PTX).
      set(CMAKE_CUDA_ARCHITECTURES 90)
    endif()
    enable_language(CUDA)
    set(CMAKE_CUDA_STANDARD 17)
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    find_package(CUDAToolkit REQUIRED)
    set(DLFS_HAVE_CUDA ON)
    add_compile_options($<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra>
                        $<$<COMPILE_LANGUAGE:CUDA>:--expt-relaxed-constexpr>)
  elseif(DLFS_CUDA STREQUAL "ON")
    message(FATAL_ERROR "DLFS_CUDA=ON but no CUDA compiler (nvcc) was found; "
                        "install the CUDA toolkit or configure with -DDLFS_CUDA=OFF.")
  else()
    message(STATUS "dlfs: nvcc not found, building the CPU path only")
  endif()
endif()

if(DLFS_HAVE_CUDA AND NOT DLFS_CUDNN STREQUAL "OFF")
  # cuDNN may sit in the toolkit (Debian/NVIDIA packages) or in pip's nvidia-cudnn-cu13 wheel.
  set(_dlfs_cudnn_hints ${CUDAToolkit_LIBRARY_DIR} ${CUDAToolkit_INCLUDE_DIRS} $ENV{CUDNN_ROOT}
      $ENV{CUDNN_ROOT}/lib $ENV{CUDNN_ROOT}/include)
  find_path(DLFS_CUDNN_INCLUDE_DIR cudnn.h HINTS ${_dlfs_cudnn_hints})
  find_library(DLFS_CUDNN_LIBRARY NAMES cudnn libcudnn.so.9 HINTS ${_dlfs_cudnn_hints})
  if(DLFS_CUDNN_INCLUDE_DIR AND DLFS_CUDNN_LIBRARY)
    add_library(dlfs_cudnn INTERFACE)
    target_include_directories(dlfs_cudnn INTERFACE ${DLFS_CUDNN_INCLUDE_DIR})
    target_link_libraries(dlfs_cudnn INTERFACE ${DLFS_CUDNN_LIBRARY})
    set(DLFS_HAVE_CUDNN ON)
  elseif(DLFS_CUDNN STREQUAL "ON")
    message(FATAL_ERROR "DLFS_CUDNN=ON but cudnn.h / libcudnn were not found; set CUDNN_ROOT.")
  endif()
endif()
