#pragma once
// Checked CUDA, cuBLAS and cuDNN calls. Include only from code built with DLFS_HAVE_CUDA.
#include <cublas_v2.h>
#include <cuda_runtime.h>
#if DLFS_HAVE_CUDNN
#include <cudnn.h>
#endif
#include <string>

#include "dlfs/runtime/error.hpp"

#define DLFS_CUDA_CHECK(call)                                                                     \
  do {                                                                                            \
    cudaError_t dlfs_status_ = (call);                                                            \
    if (dlfs_status_ != cudaSuccess)                                                              \
      throw ::dlfs::LibraryError(                                                                 \
          "CUDA", #call, __FILE__, __LINE__,                                                      \
          std::string(cudaGetErrorName(dlfs_status_)) + ": " + cudaGetErrorString(dlfs_status_)); \
  } while (0)

#define DLFS_CUBLAS_CHECK(call)                                        \
  do {                                                                 \
    cublasStatus_t dlfs_status_ = (call);                              \
    if (dlfs_status_ != CUBLAS_STATUS_SUCCESS)                         \
      throw ::dlfs::LibraryError("cuBLAS", #call, __FILE__, __LINE__,  \
                                 cublasGetStatusString(dlfs_status_)); \
  } while (0)

#if DLFS_HAVE_CUDNN
#define DLFS_CUDNN_CHECK(call)                                       \
  do {                                                               \
    cudnnStatus_t dlfs_status_ = (call);                             \
    if (dlfs_status_ != CUDNN_STATUS_SUCCESS)                        \
      throw ::dlfs::LibraryError("cuDNN", #call, __FILE__, __LINE__, \
                                 cudnnGetErrorString(dlfs_status_)); \
  } while (0)
#endif

// Kernel launches report configuration errors only through cudaGetLastError.
#define DLFS_CUDA_CHECK_LAUNCH() DLFS_CUDA_CHECK(cudaGetLastError())
