#pragma once
// A reference-counted block of memory from a device's caching pool. Tensors share one Storage
// through std::shared_ptr; the last owner returns the block to the pool.
#include <cstddef>
#include <memory>

#include "dlfs/runtime/device.hpp"
#include "dlfs/runtime/memory_pool.hpp"

namespace dlfs {

class Storage {
 public:
  Storage(std::size_t bytes, const Device& device);
  // Memory that another owner allocated (a NumPy array, a DLPack tensor): used in place, never
  // returned to a pool; `owner` is released when the last tensor viewing it goes.
  Storage(void* data, std::size_t bytes, const Device& device, std::shared_ptr<void> owner);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  std::size_t bytes() const { return bytes_; }
  const Device& device() const { return device_; }

 private:
  void* data_ = nullptr;
  std::size_t bytes_ = 0;
  Device device_;
  CachingPool* pool_ = nullptr;  // null for external memory
  std::shared_ptr<void> owner_;  // keeps external memory alive
};

}  // namespace dlfs
