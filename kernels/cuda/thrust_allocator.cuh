#pragma once
// Thrust algorithms on dlfs's terms: their temporary storage comes from the GPU's caching pool
// (runtime/device_pools.hpp) and they run on the context's stream, so a Thrust call makes no
// cudaMalloc of its own once the pool is warm. Include only from the few .cu files that use
// Thrust: its headers are slow to compile.
//
//   ThrustPoolAllocator alloc(device, stream);
//   thrust::stable_sort_by_key(thrust_on(alloc, stream), ...);
#include <thrust/execution_policy.h>

#include <cstddef>

#include "dlfs/runtime/cuda_context.hpp"
#include "dlfs/runtime/device.hpp"
#include "dlfs/runtime/device_pools.hpp"
#if DLFS_CUDA_EMULATION
#include "dlfs/emulation/device_memory.hpp"
#endif

namespace dlfs::kernels::cuda_detail {

class ThrustPoolAllocator {
 public:
  using value_type = char;

  ThrustPoolAllocator(int device, CudaStream stream)
      : pool_(&memory_pool(Device::cuda(device))), stream_(stream) {}

  // Blocks are tied to the stream the algorithm runs on, as tensors' blocks are; freeing one
  // before the algorithm's kernels finish is safe because its next user queues behind them.
  char* allocate(std::ptrdiff_t bytes) {
    return static_cast<char*>(pool_->allocate(static_cast<std::size_t>(bytes), stream_));
  }
  void deallocate(char* ptr, std::size_t) {
    // Thrust frees from destructors, which must not throw; the pool only rejects pointers it
    // never handed out, which cannot happen here.
    try {
      pool_->free(ptr);
    } catch (...) {
    }
  }

 private:
  CachingPool* pool_;
  StreamId stream_;
#if DLFS_CUDA_EMULATION
  // Thrust's host backend reads and writes device memory from host code: the emulator allows
  // that only while the algorithm runs, as it does for a kernel or a copy.
  emulation::DeviceAccess device_access_;
#endif
};

// An execution policy on `stream` with temporaries from `alloc`. No synchronization at the end:
// algorithms that return a value to the host (reduce, count) wait for it anyway.
inline auto thrust_on(ThrustPoolAllocator& alloc, CudaStream stream) {
#if DLFS_CUDA_EMULATION
  (void)stream;  // the emulated device runs work when it is issued
  return thrust::cpp::par(alloc);
#else
  return thrust::cuda::par_nosync(alloc).on(stream);
#endif
}

}  // namespace dlfs::kernels::cuda_detail
