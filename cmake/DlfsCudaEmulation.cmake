# The emulated CUDA device (docs/emulation.md): with -DDLFS_CUDA_EMULATION=ON the project's .cu
# files and its CUDA-using .cpp files are compiled by the host C++ compiler. Types and API
# declarations come from the CUDA toolkit's headers; the functions behind them (runtime, cuBLAS)
# come from emulation/ instead of libcudart and libcublas, and every .cu file gets
# emulation/kernel_api.hpp force-included, as nvcc pre-includes cuda_runtime.h. Thrust runs on its
# host backend. The build has a CUDA path (DLFS_HAVE_CUDA) that runs on the CPU: a test and CI
# configuration, never the CPU fallback. cuDNN and NCCL are not emulated.
find_package(Boost 1.66 REQUIRED COMPONENTS context)
find_package(Threads REQUIRED)
find_path(DLFS_CUDA_INCLUDE_DIR cuda_runtime.h
          HINTS $ENV{CUDA_HOME}/include /usr/local/cuda/include)
find_path(DLFS_CCCL_INCLUDE_DIR thrust/version.h
          HINTS ${DLFS_CUDA_INCLUDE_DIR}/cccl ${DLFS_CUDA_INCLUDE_DIR})
if(NOT DLFS_CUDA_INCLUDE_DIR OR NOT DLFS_CCCL_INCLUDE_DIR)
  message(FATAL_ERROR "DLFS_CUDA_EMULATION=ON needs the CUDA toolkit's headers (cuda_runtime.h, "
                      "include/cccl for Thrust); set CUDA_HOME or DLFS_CUDA_INCLUDE_DIR")
endif()

file(GLOB _dlfs_emulation_sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/emulation/*.cpp)
add_library(dlfs_cuda_emulation STATIC ${_dlfs_emulation_sources})
target_include_directories(dlfs_cuda_emulation PUBLIC ${DLFS_INCLUDE_ROOT})
target_include_directories(dlfs_cuda_emulation SYSTEM PUBLIC ${DLFS_CCCL_INCLUDE_DIR}
                                                             ${DLFS_CUDA_INCLUDE_DIR})
target_compile_definitions(dlfs_cuda_emulation
                           PUBLIC THRUST_DEVICE_SYSTEM=THRUST_DEVICE_SYSTEM_CPP)
target_link_libraries(dlfs_cuda_emulation PUBLIC Boost::context Threads::Threads)
set(DLFS_EMULATION_PREINCLUDE ${PROJECT_SOURCE_DIR}/emulation/kernel_api.hpp)

set(DLFS_HAVE_CUDA ON)
set(DLFS_HAVE_CUDNN OFF)
message(STATUS "dlfs: emulated CUDA device (kernels run on the host; headers from "
               "${DLFS_CUDA_INCLUDE_DIR})")
