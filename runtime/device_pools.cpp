#include "dlfs/runtime/device_pools.hpp"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

#include "dlfs/runtime/error.hpp"
#include "dlfs/runtime/host_allocator.hpp"
#if DLFS_HAVE_CUDA
#include "dlfs/runtime/cuda_allocator.hpp"
#endif

namespace dlfs {

namespace {
bool caching_enabled() {
  const char* v = std::getenv("DLFS_POOL_CACHING");
  return !(v && std::strcmp(v, "0") == 0);
}
}  // namespace

CachingPool& memory_pool(const Device& device) {
  // Pools are never destroyed: tensors held in static objects may be freed during exit.
  if (device.is_cpu()) {
    static CachingPool* host =
        new CachingPool(std::make_unique<HostAllocator>(), caching_enabled());
    return *host;
  }
#if DLFS_HAVE_CUDA
  static std::mutex mutex;
  static std::vector<CachingPool*> pools;
  std::lock_guard<std::mutex> lock(mutex);
  if (device.index < 0 || device.index >= cuda_device_count())
    throw Error("no memory pool for " + device.str() + ": " + cuda_status());
  if (pools.empty()) pools.assign(static_cast<std::size_t>(cuda_device_count()), nullptr);
  auto& pool = pools[static_cast<std::size_t>(device.index)];
  if (!pool)
    pool = new CachingPool(std::make_unique<CudaAllocator>(device.index), caching_enabled());
  return *pool;
#else
  throw Error("no memory pool for " + device.str() + ": " + cuda_status());
#endif
}

}  // namespace dlfs
