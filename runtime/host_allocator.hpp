#pragma once
// Host memory backend for the caching pool: 64-byte aligned so vector loads never straddle lines.
#include "dlfs/runtime/memory_pool.hpp"

namespace dlfs {

class HostAllocator : public AllocatorBackend {
 public:
  static constexpr std::size_t kAlignment = 64;
  void* raw_allocate(std::size_t bytes) override;
  void raw_free(void* ptr) override;
  std::string name() const override { return "cpu"; }
};

}  // namespace dlfs
