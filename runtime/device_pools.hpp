#pragma once
// One caching pool per device, created on first use and kept for the life of the process.
#include "dlfs/runtime/device.hpp"
#include "dlfs/runtime/memory_pool.hpp"

namespace dlfs {

// The pool that serves tensors on `device`. DLFS_POOL_CACHING=0 in the environment makes every
// pool forward each request to the raw allocator (for compute-sanitizer or valgrind runs).
CachingPool& memory_pool(const Device& device);

}  // namespace dlfs
