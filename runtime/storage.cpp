#include "dlfs/runtime/storage.hpp"

#include <cstdio>
#include <exception>

#include "dlfs/runtime/cuda_context.hpp"
#include "dlfs/runtime/device_pools.hpp"

namespace dlfs {

Storage::Storage(std::size_t bytes, const Device& device)
    : bytes_(bytes), device_(device), pool_(&memory_pool(device)) {
  // Device blocks are tied to the context's stream: every dlfs kernel runs on it, so a block
  // freed and reused on that stream needs no extra synchronisation.
  StreamId stream =
      device.is_cuda() ? static_cast<StreamId>(cuda_context(device.index).stream()) : nullptr;
  data_ = pool_->allocate(bytes, stream);
}

Storage::Storage(void* data, std::size_t bytes, const Device& device, std::shared_ptr<void> owner)
    : data_(data), bytes_(bytes), device_(device), owner_(std::move(owner)) {}

Storage::~Storage() {
  if (!pool_) return;  // external memory: owner_ lets it go
  // A destructor must not throw. The pool throws only for a pointer it never handed out, which
  // would be a bug in dlfs: it is reported on stderr (once per occurrence) and the block is
  // leaked rather than the process ended.
  try {
    pool_->free(data_);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dlfs: internal error while freeing a tensor's memory: %s\n", e.what());
  }
}

}  // namespace dlfs
