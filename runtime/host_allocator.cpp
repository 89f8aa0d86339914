#include "dlfs/runtime/host_allocator.hpp"

#include <cstdlib>

namespace dlfs {

void* HostAllocator::raw_allocate(std::size_t bytes) {
  const std::size_t padded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  return std::aligned_alloc(kAlignment, padded);
}

void HostAllocator::raw_free(void* ptr) {
  std::free(ptr);
}

}  // namespace dlfs
