#include "dlfs/runtime/cuda_check.hpp"
#include "dlfs/runtime/cuda_launch.hpp"
#include "dlfs/runtime/device_fill.hpp"

namespace dlfs {

namespace {
// Grid-stride loop: one thread per element, as many blocks as fill the GPU once.
template <typename T>
__global__ void fill_kernel(T* dst, std::int64_t count, T value) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
    dst[i] = value;
}

template <typename T>
void launch(void* dst, std::int64_t count, double value, CudaStream stream) {
  if (count == 0) return;
  const int threads = 256;
  const std::int64_t wanted = (count + threads - 1) / threads;
  const int blocks = static_cast<int>(wanted < 4096 ? wanted : 4096);
  DLFS_LAUNCH(blocks, threads, 0, stream, fill_kernel<T>)
  (static_cast<T*>(dst), count, static_cast<T>(value));
  DLFS_CUDA_CHECK_LAUNCH();
}
}  // namespace

void cuda_fill(void* dst, DType dtype, std::int64_t count, double value, CudaStream stream) {
  switch (dtype) {
    case DType::Float32:
      return launch<float>(dst, count, value, stream);
    case DType::Float64:
      return launch<double>(dst, count, value, stream);
    case DType::UInt8:
      return launch<std::uint8_t>(dst, count, value, stream);
    case DType::Int32:
      return launch<std::int32_t>(dst, count, value, stream);
    case DType::Int64:
      return launch<std::int64_t>(dst, count, value, stream);
  }
}

}  // namespace dlfs
