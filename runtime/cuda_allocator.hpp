#pragma once
// Device memory backend for the caching pool: cudaMalloc/cudaFree on one GPU.
// Only built with DLFS_HAVE_CUDA.
#include "dlfs/runtime/memory_pool.hpp"

namespace dlfs {

class CudaAllocator : public AllocatorBackend {
 public:
  explicit CudaAllocator(int device) : device_(device) {}
  // nullptr when the device is out of memory; other CUDA errors throw.
  void* raw_allocate(std::size_t bytes) override;
  void raw_free(void* ptr) override;
  std::string name() const override { return "cuda:" + std::to_string(device_); }

 private:
  int device_;
};

}  // namespace dlfs
