#include "dlfs/runtime/device.hpp"

#include <mutex>

#include "dlfs/runtime/error.hpp"
#if DLFS_HAVE_CUDA
#include <cuda_runtime.h>
#endif

namespace dlfs {

namespace {

struct CudaProbe {
  int count = 0;
  std::string status;
};

// Asked once: cudaGetDeviceCount is the only call made, and its error (if any) is cleared so
// that it never surfaces later through cudaGetLastError.
const CudaProbe& probe() noexcept {
  static CudaProbe result;
  static std::once_flag once;
  std::call_once(once, [] {
#if DLFS_HAVE_CUDA
    int n = 0;
    cudaError_t status = cudaGetDeviceCount(&n);
    if (status != cudaSuccess) {
      result.status =
          std::string("no CUDA device (cudaGetDeviceCount: ") + cudaGetErrorString(status) + ")";
      cudaGetLastError();
      return;
    }
    if (n == 0) {
      result.status = "no CUDA device (the driver reports none)";
      return;
    }
    result.count = n;
    result.status = std::to_string(n) + " CUDA device(s):";
    for (int i = 0; i < n; ++i) {
      cudaDeviceProp prop{};
      if (cudaGetDeviceProperties(&prop, i) == cudaSuccess)
        result.status += " [" + std::to_string(i) + "] " + prop.name + " (sm_" +
                         std::to_string(prop.major) + std::to_string(prop.minor) + ")";
    }
#else
    result.status = "no CUDA device (this build of dlfs has no CUDA path)";
#endif
  });
  return result;
}

}  // namespace

bool cuda_available() noexcept {
  return probe().count > 0;
}
int cuda_device_count() noexcept {
  return probe().count;
}
std::string cuda_status() noexcept {
  return probe().status;
}
bool built_with_cuda() noexcept {
  return DLFS_HAVE_CUDA != 0;
}
bool built_with_cudnn() noexcept {
  return DLFS_HAVE_CUDNN != 0;
}

void synchronize_cuda_device(int index) {
#if DLFS_HAVE_CUDA
  int previous = 0;
  cudaGetDevice(&previous);
  cudaSetDevice(index);
  const cudaError_t status = cudaDeviceSynchronize();
  cudaSetDevice(previous);
  if (status != cudaSuccess)
    throw Error(std::string("cudaDeviceSynchronize on cuda:") + std::to_string(index) + ": " +
                cudaGetErrorString(status));
#else
  (void)index;
#endif
}

Device Device::parse(const std::string& text) {
  if (text == "cpu") return cpu();
  if (text == "auto") return cuda_available() ? cuda(0) : cpu();
  int index = -1;
  if (text == "cuda") {
    index = 0;
  } else if (text.rfind("cuda:", 0) == 0 && text.size() > 5 &&
             text.find_first_not_of("0123456789", 5) == std::string::npos && text.size() < 10) {
    index = std::stoi(text.substr(5));
  } else {
    throw InputError("device '" + text + "' is not one of cpu, cuda, cuda:N or auto");
  }
  if (index >= cuda_device_count())
    throw InputError("device '" + text + "' is not available: " + cuda_status() +
                     "; use --device cpu or --device auto");
  return cuda(index);
}

std::string Device::str() const {
  return is_cpu() ? "cpu" : "cuda:" + std::to_string(index);
}

}  // namespace dlfs
