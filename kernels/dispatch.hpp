#pragma once
// The one dispatch point between CPU and CUDA kernels. A Tensor-level op looks at its tensors'
// device: CUDA tensors (float32) go to kernels/cuda, host tensors to kernels/cpu, instantiated
// for float and double.
#include <string>

#include "dlfs/runtime/cuda_context.hpp"
#include "dlfs/runtime/tensor.hpp"

namespace dlfs::kernels {

// Throws unless every tensor is defined and on `first`'s device.
void check_same_device(const char* op, std::initializer_list<const Tensor*> tensors);
// Throws unless the tensor is float32 or float64 (and float32 on CUDA).
void check_floating(const char* op, const Tensor& t);
// The stream of the tensor's GPU (the context's one stream), with that GPU made current.
CudaStream stream_of(const Tensor& t);
CublasHandle cublas_of(const Tensor& t);
[[noreturn]] void no_cuda_build(const char* op);

}  // namespace dlfs::kernels

// Runs the block with `scalar_t` bound to float or double according to `dtype`.
#define DLFS_DISPATCH_FLOATING(dtype, op, ...)                                                     \
  do {                                                                                             \
    switch (dtype) {                                                                               \
      case ::dlfs::DType::Float32: {                                                               \
        using scalar_t = float;                                                                    \
        __VA_ARGS__();                                                                             \
        break;                                                                                     \
      }                                                                                            \
      case ::dlfs::DType::Float64: {                                                               \
        using scalar_t = double;                                                                   \
        __VA_ARGS__();                                                                             \
        break;                                                                                     \
      }                                                                                            \
      default:                                                                                     \
        throw ::dlfs::Error(std::string(op) + ": unsupported dtype " + ::dlfs::dtype_name(dtype)); \
    }                                                                                              \
  } while (0)

// Wraps a call into kernels/cuda so that CPU-only builds compile it away.
#if DLFS_HAVE_CUDA
#define DLFS_CUDA_CALL(op, ...) __VA_ARGS__
#else
#define DLFS_CUDA_CALL(op, ...) ::dlfs::kernels::no_cuda_build(op)
#endif
