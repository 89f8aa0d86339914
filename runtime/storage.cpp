#include "runtime/storage.hpp"

#include "runtime/cuda_context.hpp"
#include "runtime/device_pools.hpp"

namespace dlfs {

Storage::Storage(std::size_t bytes, const Device& device)
    : bytes_(bytes), device_(device), pool_(&memory_pool(device)) {
  // Device blocks are tied to the context's stream: every dlfs kernel runs on it, so a block
  // freed and reused on that stream needs no extra synchronisation.
  StreamId stream =
      device.is_cuda() ? static_cast<StreamId>(cuda_context(device.index).stream()) : nullptr;
  data_ = pool_->allocate(bytes, stream);
}

Storage::~Storage() {
  // Freeing is noexcept in spirit: a pool that rejects its own pointer is a bug to report loudly,
  // but a destructor must not throw.
  try {
    pool_->free(data_);
  } catch (...) {
  }
}

}  // namespace dlfs
