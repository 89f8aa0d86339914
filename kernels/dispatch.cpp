#include "dlfs/kernels/dispatch.hpp"

namespace dlfs::kernels {

void check_same_device(const char* op, std::initializer_list<const Tensor*> tensors) {
  const Tensor* first = nullptr;
  for (const Tensor* t : tensors) {
    if (!t->defined()) throw Error(std::string(op) + ": a tensor argument is undefined");
    if (!first) first = t;
    if (t->device() != first->device())
      throw Error(std::string(op) + ": tensors on " + first->device().str() + " and " +
                  t->device().str() + "; move them to one device first");
  }
}

void check_floating(const char* op, const Tensor& t) {
  if (t.dtype() == DType::Float32) return;
  if (t.dtype() == DType::Float64 && t.device().is_cpu()) return;
  throw Error(std::string(op) + ": " + t.str() +
              " is not supported (float32 anywhere, float64 on the CPU)");
}

// The caller launches on the stream next: its GPU must be the calling thread's current device,
// or CUDA refuses the launch (another GPU's work may have made another device current).
CudaStream stream_of(const Tensor& t) {
  CudaContext& ctx = cuda_context(t.device().index);
  ctx.activate();
  return ctx.stream();
}
CublasHandle cublas_of(const Tensor& t) {
  CudaContext& ctx = cuda_context(t.device().index);
  ctx.activate();
  return ctx.cublas();
}

void no_cuda_build(const char* op) {
  throw Error(std::string(op) + ": this build of dlfs has no CUDA path");
}

}  // namespace dlfs::kernels
