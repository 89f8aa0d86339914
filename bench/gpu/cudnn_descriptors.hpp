#pragma once
// Owning wrappers of the cuDNN descriptors the vendor columns need (builds with cuDNN only).
#if DLFS_HAVE_CUDNN
#include <cstdint>

#include "dlfs/runtime/cuda_check.hpp"

namespace dlfs::bench {

// A float32 NCHW tensor descriptor.
class CudnnTensor {
 public:
  CudnnTensor(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w) {
    DLFS_CUDNN_CHECK(cudnnCreateTensorDescriptor(&desc_));
    DLFS_CUDNN_CHECK(cudnnSetTensor4dDescriptor(desc_, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT,
                                                static_cast<int>(n), static_cast<int>(c),
                                                static_cast<int>(h), static_cast<int>(w)));
  }
  CudnnTensor() { DLFS_CUDNN_CHECK(cudnnCreateTensorDescriptor(&desc_)); }
  ~CudnnTensor() { cudnnDestroyTensorDescriptor(desc_); }
  CudnnTensor(const CudnnTensor&) = delete;
  CudnnTensor& operator=(const CudnnTensor&) = delete;
  cudnnTensorDescriptor_t get() const { return desc_; }

 private:
  cudnnTensorDescriptor_t desc_ = nullptr;
};

class CudnnActivation {
 public:
  explicit CudnnActivation(cudnnActivationMode_t mode) {
    DLFS_CUDNN_CHECK(cudnnCreateActivationDescriptor(&desc_));
    DLFS_CUDNN_CHECK(cudnnSetActivationDescriptor(desc_, mode, CUDNN_NOT_PROPAGATE_NAN, 0.0));
  }
  ~CudnnActivation() { cudnnDestroyActivationDescriptor(desc_); }
  CudnnActivation(const CudnnActivation&) = delete;
  CudnnActivation& operator=(const CudnnActivation&) = delete;
  cudnnActivationDescriptor_t get() const { return desc_; }

 private:
  cudnnActivationDescriptor_t desc_ = nullptr;
};

class CudnnPooling {
 public:
  CudnnPooling(cudnnPoolingMode_t mode, int kernel, int stride, int padding) {
    DLFS_CUDNN_CHECK(cudnnCreatePoolingDescriptor(&desc_));
    DLFS_CUDNN_CHECK(cudnnSetPooling2dDescriptor(desc_, mode, CUDNN_NOT_PROPAGATE_NAN, kernel,
                                                 kernel, padding, padding, stride, stride));
  }
  ~CudnnPooling() { cudnnDestroyPoolingDescriptor(desc_); }
  CudnnPooling(const CudnnPooling&) = delete;
  CudnnPooling& operator=(const CudnnPooling&) = delete;
  cudnnPoolingDescriptor_t get() const { return desc_; }

 private:
  cudnnPoolingDescriptor_t desc_ = nullptr;
};

}  // namespace dlfs::bench
#endif
