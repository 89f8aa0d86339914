#include "dlfs/runtime/memory_pool.hpp"

#include <algorithm>
#include <cstdio>
#include <tuple>

#include "dlfs/runtime/error.hpp"
#include "dlfs/runtime/json_writer.hpp"

namespace dlfs {

// A piece of a segment. Blocks of one segment form a doubly linked list in address order so a
// freed block can find its neighbours; merging always keeps the lower block, so a segment's
// first block (prev == nullptr) lives as long as the segment.
struct CachingPool::Block {
  char* ptr = nullptr;
  std::size_t size = 0;
  StreamId stream = nullptr;
  bool allocated = false;
  bool small = false;
  Block* prev = nullptr;
  Block* next = nullptr;
  bool is_whole_segment() const { return prev == nullptr && next == nullptr; }
};

bool CachingPool::BySize::operator()(const Block* a, const Block* b) const {
  return std::make_tuple(a->stream, a->size, a->ptr) < std::make_tuple(b->stream, b->size, b->ptr);
}

namespace {
// "12.00 MiB" below a GiB, "3.25 GiB" from there on.
std::string mib(std::size_t bytes) {
  char buf[48];
  const double b = static_cast<double>(bytes);
  if (b < 1024.0 * 1024 * 1024)
    std::snprintf(buf, sizeof buf, "%.2f MiB", b / (1 << 20));
  else
    std::snprintf(buf, sizeof buf, "%.2f GiB", b / (1024.0 * 1024 * 1024));
  return buf;
}

// No device has 2^56 bytes (64 PiB); beyond it, rounding the size up could wrap around.
constexpr std::size_t kLargestRequest = std::size_t{1} << 56;
}  // namespace

std::string PoolStats::str() const {
  return "allocated " + mib(allocated_bytes) + " (peak " + mib(peak_allocated_bytes) +
         "), reserved " + mib(reserved_bytes) + " (peak " + mib(peak_reserved_bytes) + "), " +
         std::to_string(raw_allocations) + " raw allocations, " + std::to_string(raw_frees) +
         " raw frees, " + std::to_string(cache_hits) + "/" + std::to_string(allocations) +
         " cache hits, " + std::to_string(oom_retries) + " OOM retries";
}

void PoolStats::write_json(JsonWriter& json) const {
  json.begin_object()
      .field("allocated_bytes", allocated_bytes)
      .field("peak_allocated_bytes", peak_allocated_bytes)
      .field("reserved_bytes", reserved_bytes)
      .field("peak_reserved_bytes", peak_reserved_bytes)
      .field("requested_bytes", requested_bytes)
      .field("active_blocks", active_blocks)
      .field("raw_allocations", raw_allocations)
      .field("raw_frees", raw_frees)
      .field("allocations", allocations)
      .field("cache_hits", cache_hits)
      .field("oom_retries", oom_retries)
      .field("ooms", ooms)
      .end_object();
}

CachingPool::CachingPool(std::unique_ptr<AllocatorBackend> backend, bool caching)
    : backend_(std::move(backend)), caching_(caching) {}

CachingPool::~CachingPool() {
  // Blocks still handed out belong to tensors that outlive the pool (only at process exit);
  // their memory is left to the OS rather than freed under them.
  std::lock_guard<std::mutex> lock(mutex_);
  release_free_segments();
}

std::size_t CachingPool::round_size(std::size_t bytes) {
  if (bytes == 0) return kRounding;
  return (bytes + kRounding - 1) / kRounding * kRounding;
}

std::size_t CachingPool::segment_size(std::size_t rounded) {
  if (rounded <= kSmallRequest) return kSmallSegment;
  if (rounded < kMinLargeAlloc) return kLargeSegment;
  return (rounded + kLargeRounding - 1) / kLargeRounding * kLargeRounding;
}

void* CachingPool::allocate(std::size_t bytes, StreamId stream) {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.allocations += 1;
  if (bytes > kLargestRequest) throw_oom(bytes, bytes, false);  // no backend could: not tried
  const std::size_t rounded = round_size(bytes);

  if (!caching_) {
    void* p = raw_allocate_or_retry(rounded, bytes);
    uncached_[p] = rounded;
    stats_.allocated_bytes += rounded;
    stats_.reserved_bytes += rounded;
    stats_.peak_reserved_bytes = std::max(stats_.peak_reserved_bytes, stats_.reserved_bytes);
    stats_.requested_bytes += bytes;
    stats_.peak_allocated_bytes = std::max(stats_.peak_allocated_bytes, stats_.allocated_bytes);
    stats_.active_blocks += 1;
    return p;
  }

  const bool small = rounded <= kSmallRequest;
  FreeSet& set = free_set_for(rounded);
  Block* block = find_free(set, rounded, stream);
  if (block) {
    set.erase(block);
    stats_.cache_hits += 1;
  } else {
    block = new_segment(rounded, bytes, stream, small);
  }

  // Split off the remainder when it is worth keeping as a block of its own.
  const std::size_t remaining = block->size - rounded;
  const bool split = small ? remaining >= kRounding : remaining > kSmallRequest;
  if (split) {
    auto* rest =
        new Block{block->ptr + rounded, remaining, stream, false, small, block, block->next};
    if (block->next) block->next->prev = rest;
    block->next = rest;
    block->size = rounded;
    set.insert(rest);
  }

  block->allocated = true;
  active_[block->ptr] = block;
  stats_.allocated_bytes += block->size;
  stats_.requested_bytes += bytes;
  stats_.peak_allocated_bytes = std::max(stats_.peak_allocated_bytes, stats_.allocated_bytes);
  stats_.active_blocks += 1;
  return block->ptr;
}

void CachingPool::free(void* ptr) {
  if (ptr == nullptr) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (!caching_) {
    auto it = uncached_.find(ptr);
    if (it == uncached_.end())
      throw Error("CachingPool::free: pointer was not allocated by this pool");
    stats_.allocated_bytes -= it->second;
    stats_.reserved_bytes -= it->second;
    stats_.active_blocks -= 1;
    uncached_.erase(it);
    backend_->raw_free(ptr);
    stats_.raw_frees += 1;
    return;
  }
  auto it = active_.find(ptr);
  if (it == active_.end()) throw Error("CachingPool::free: pointer was not allocated by this pool");
  Block* block = it->second;
  active_.erase(it);
  block->allocated = false;
  stats_.allocated_bytes -= block->size;
  stats_.active_blocks -= 1;

  FreeSet& set = block->small ? small_free_ : large_free_;
  if (block->prev && !block->prev->allocated) {
    Block* prev = block->prev;
    set.erase(prev);
    try_merge(prev, block);
    block = prev;
  }
  if (block->next && !block->next->allocated) {
    set.erase(block->next);
    try_merge(block, block->next);
  }
  set.insert(block);
}

void CachingPool::try_merge(Block* into, Block* neighbour) {
  // `neighbour` directly follows `into` in the same segment; `into` absorbs it.
  into->size += neighbour->size;
  into->next = neighbour->next;
  if (neighbour->next) neighbour->next->prev = into;
  delete neighbour;
}

CachingPool::Block* CachingPool::find_free(FreeSet& set, std::size_t rounded, StreamId stream) {
  Block key;
  key.stream = stream;
  key.size = rounded;
  key.ptr = nullptr;
  auto it = set.lower_bound(&key);
  if (it == set.end() || (*it)->stream != stream) return nullptr;
  return *it;
}

CachingPool::Block* CachingPool::new_segment(std::size_t rounded, std::size_t requested,
                                             StreamId stream, bool small) {
  const std::size_t bytes = segment_size(rounded);
  char* ptr = static_cast<char*>(raw_allocate_or_retry(bytes, requested));
  stats_.reserved_bytes += bytes;
  stats_.peak_reserved_bytes = std::max(stats_.peak_reserved_bytes, stats_.reserved_bytes);
  return new Block{ptr, bytes, stream, false, small, nullptr, nullptr};
}

void* CachingPool::raw_allocate_or_retry(std::size_t bytes, std::size_t requested) {
  void* p = backend_->raw_allocate(bytes);
  if (!p) {
    stats_.oom_retries += 1;
    release_free_segments();
    p = backend_->raw_allocate(bytes);
  }
  if (!p) throw_oom(requested, bytes, true);
  stats_.raw_allocations += 1;
  return p;
}

void CachingPool::throw_oom(std::size_t requested, std::size_t raw_bytes, bool freed_cache) {
  stats_.ooms += 1;
  // One sentence: what was asked, what the backend refused, and where the pool's memory is.
  std::string what = "Out of memory on " + backend_->name() + ": tried to allocate " +
                     mib(requested) + " (" + std::to_string(requested) + " bytes";
  if (raw_bytes != requested) what += ", a " + mib(raw_bytes) + " block from the backend";
  what += freed_cache ? ") and failed even after freeing the pool's cache; pool: "
                      : ") and failed; pool: ";
  what += stats_.str() + ".";
  throw OutOfMemoryError(what, requested);
}

void CachingPool::release_free_segments() {
  for (FreeSet* set : {&small_free_, &large_free_}) {
    for (auto it = set->begin(); it != set->end();) {
      Block* b = *it;
      if (b->is_whole_segment()) {
        backend_->raw_free(b->ptr);
        stats_.raw_frees += 1;
        stats_.reserved_bytes -= b->size;
        delete b;
        it = set->erase(it);
      } else {
        ++it;
      }
    }
  }
}

void CachingPool::empty_cache() {
  std::lock_guard<std::mutex> lock(mutex_);
  release_free_segments();
}

PoolStats CachingPool::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void CachingPool::reset_peaks() {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.peak_allocated_bytes = stats_.allocated_bytes;
  stats_.peak_reserved_bytes = stats_.reserved_bytes;
}

}  // namespace dlfs
