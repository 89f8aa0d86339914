#pragma once
// Per-GPU context: the stream every dlfs kernel runs on and the cuBLAS/cuDNN handles bound to
// it, each created on first use. The handle types are declared opaquely so that code built
// without CUDA headers can still pass them around.
#include "dlfs/runtime/device.hpp"

struct CUstream_st;
struct cublasContext;
struct cudnnContext;

namespace dlfs {

using CudaStream = CUstream_st*;      // same type as cudaStream_t
using CublasHandle = cublasContext*;  // same type as cublasHandle_t
using CudnnHandle = cudnnContext*;    // same type as cudnnHandle_t

class CudaContext {
 public:
  explicit CudaContext(int device) : device_(device) {}
  ~CudaContext();
  CudaContext(const CudaContext&) = delete;
  CudaContext& operator=(const CudaContext&) = delete;

  int device() const { return device_; }
  // Makes this context's GPU current for the calling thread.
  void activate() const;
  CudaStream stream();
  CublasHandle cublas();
  // Throws when the build has no cuDNN.
  CudnnHandle cudnn();
  void synchronize();

 private:
  int device_;
  CudaStream stream_ = nullptr;
  CublasHandle cublas_ = nullptr;
  CudnnHandle cudnn_ = nullptr;
};

// The context of CUDA device `index`; throws dlfs::Error when there is no such device.
CudaContext& cuda_context(int index = 0);

}  // namespace dlfs
