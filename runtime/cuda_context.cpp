#include "dlfs/runtime/cuda_context.hpp"

#include <memory>
#include <mutex>
#include <vector>

#include "dlfs/runtime/error.hpp"
#if DLFS_HAVE_CUDA
#include "dlfs/runtime/cuda_check.hpp"
#endif

namespace dlfs {

#if DLFS_HAVE_CUDA

CudaContext::~CudaContext() {
  // Destruction happens at exit, when the driver may already be gone: ignore errors.
#if DLFS_HAVE_CUDNN
  if (cudnn_) cudnnDestroy(cudnn_);
#endif
  if (cublas_) cublasDestroy(cublas_);
  if (stream_) cudaStreamDestroy(stream_);
}

void CudaContext::activate() const {
  DLFS_CUDA_CHECK(cudaSetDevice(device_));
}

CudaStream CudaContext::stream() {
  if (!stream_) {
    activate();
    DLFS_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  }
  return stream_;
}

CublasHandle CudaContext::cublas() {
  if (!cublas_) {
    CudaStream s = stream();
    DLFS_CUBLAS_CHECK(cublasCreate(&cublas_));
    DLFS_CUBLAS_CHECK(cublasSetStream(cublas_, s));
  }
  return cublas_;
}

CudnnHandle CudaContext::cudnn() {
#if DLFS_HAVE_CUDNN
  if (!cudnn_) {
    CudaStream s = stream();
    DLFS_CUDNN_CHECK(cudnnCreate(&cudnn_));
    DLFS_CUDNN_CHECK(cudnnSetStream(cudnn_, s));
  }
  return cudnn_;
#else
  throw Error("this build of dlfs has no cuDNN (configure with cuDNN installed, DLFS_CUDNN=AUTO)");
#endif
}

void CudaContext::synchronize() {
  DLFS_CUDA_CHECK(cudaStreamSynchronize(stream()));
}

CudaContext& cuda_context(int index) {
  static std::mutex mutex;
  static std::vector<CudaContext*> contexts;  // never destroyed: see memory_pool()
  std::lock_guard<std::mutex> lock(mutex);
  if (index < 0 || index >= cuda_device_count())
    throw Error("no CUDA context for cuda:" + std::to_string(index) + ": " + cuda_status());
  if (contexts.empty()) contexts.assign(static_cast<std::size_t>(cuda_device_count()), nullptr);
  auto& ctx = contexts[static_cast<std::size_t>(index)];
  if (!ctx) ctx = new CudaContext(index);
  return *ctx;
}

#else  // no CUDA in this build

CudaContext::~CudaContext() = default;
void CudaContext::activate() const {
  throw Error(cuda_status());
}
CudaStream CudaContext::stream() {
  throw Error(cuda_status());
}
CublasHandle CudaContext::cublas() {
  throw Error(cuda_status());
}
CudnnHandle CudaContext::cudnn() {
  throw Error(cuda_status());
}
void CudaContext::synchronize() {
  throw Error(cuda_status());
}
CudaContext& cuda_context(int index) {
  throw Error("no CUDA context for cuda:" + std::to_string(index) + ": " + cuda_status());
}

#endif

}  // namespace dlfs
