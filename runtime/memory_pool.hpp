#pragma once
// A caching allocator in the manner of PyTorch's CUDA caching allocator, written once over a
// small backend so the same logic serves host memory, device memory and counting test doubles.
//
// - Sizes round up to 512 B. Requests of at most 1 MiB come from the small pool, carved out of
//   2 MiB segments; larger ones from the large pool: 20 MiB segments below 10 MiB, otherwise the
//   request rounded up to 2 MiB.
// - Free blocks sit in size-ordered sets per pool; allocation takes the best fit on the same
//   stream, splits off the remainder, and free() coalesces a block with free neighbours of its
//   segment. Memory goes back to the backend only through empty_cache().
// - When the backend fails, the pool hands back every free segment and retries once before
//   throwing OutOfMemoryError with the size asked for and the pool's stats. Requests above
//   2^56 bytes (sizes computed from a corrupt shape) are refused the same way, before rounding.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

namespace dlfs {

class JsonWriter;

// Raw memory source under the pool. raw_allocate returns nullptr on failure (never throws for
// out-of-memory), so the pool can free its cache and retry.
class AllocatorBackend {
 public:
  virtual ~AllocatorBackend() = default;
  virtual void* raw_allocate(std::size_t bytes) = 0;
  virtual void raw_free(void* ptr) = 0;
  virtual std::string name() const = 0;
};

struct PoolStats {
  std::size_t allocated_bytes = 0;  // in blocks handed out, after rounding
  std::size_t peak_allocated_bytes = 0;
  std::size_t reserved_bytes = 0;  // held from the backend (segments)
  std::size_t peak_reserved_bytes = 0;
  std::size_t requested_bytes = 0;    // as asked for, before rounding
  std::uint64_t raw_allocations = 0;  // backend raw_allocate calls that succeeded
  std::uint64_t raw_frees = 0;
  std::uint64_t allocations = 0;  // allocate() calls
  std::uint64_t cache_hits = 0;   // allocate() served from cached memory
  std::uint64_t oom_retries = 0;  // backend failures followed by empty_cache and retry
  std::uint64_t ooms = 0;         // OutOfMemoryError thrown
  std::uint64_t active_blocks = 0;

  std::string str() const;                  // one line for logs and error messages
  void write_json(JsonWriter& json) const;  // every field above, as one JSON object
};

using StreamId = const void*;  // cudaStream_t on CUDA; nullptr for the host

class CachingPool {
 public:
  static constexpr std::size_t kRounding = 512;
  static constexpr std::size_t kSmallRequest = 1 << 20;    // 1 MiB
  static constexpr std::size_t kSmallSegment = 2 << 20;    // 2 MiB
  static constexpr std::size_t kLargeSegment = 20 << 20;   // 20 MiB
  static constexpr std::size_t kMinLargeAlloc = 10 << 20;  // below: carve 20 MiB segments
  static constexpr std::size_t kLargeRounding = 2 << 20;   // 2 MiB

  // caching=false forwards every request to the backend (for memcheck and leak hunting).
  explicit CachingPool(std::unique_ptr<AllocatorBackend> backend, bool caching = true);
  ~CachingPool();
  CachingPool(const CachingPool&) = delete;
  CachingPool& operator=(const CachingPool&) = delete;

  // Zero bytes returns a valid unique pointer of one rounding unit.
  void* allocate(std::size_t bytes, StreamId stream = nullptr);
  void free(void* ptr);
  // Returns every wholly free segment to the backend.
  void empty_cache();

  PoolStats stats() const;
  void reset_peaks();
  std::string backend_name() const { return backend_->name(); }
  bool caching() const { return caching_; }

  static std::size_t round_size(std::size_t bytes);
  static std::size_t segment_size(std::size_t rounded);

 private:
  struct Block;
  struct BySize {
    bool operator()(const Block* a, const Block* b) const;
  };
  using FreeSet = std::set<Block*, BySize>;

  FreeSet& free_set_for(std::size_t rounded) {
    return rounded <= kSmallRequest ? small_free_ : large_free_;
  }
  Block* find_free(FreeSet& set, std::size_t rounded, StreamId stream);
  Block* new_segment(std::size_t rounded, std::size_t requested, StreamId stream, bool small);
  void* raw_allocate_or_retry(std::size_t bytes, std::size_t requested);
  void release_free_segments();
  void try_merge(Block* into, Block* neighbour);
  // requested: the caller's size; raw_bytes: what the backend was asked for (a segment).
  // `freed_cache`: whether the request was retried after release_free_segments().
  [[noreturn]] void throw_oom(std::size_t requested, std::size_t raw_bytes, bool freed_cache);

  std::unique_ptr<AllocatorBackend> backend_;
  bool caching_;
  mutable std::mutex mutex_;
  FreeSet small_free_;
  FreeSet large_free_;
  std::unordered_map<void*, Block*> active_;
  std::unordered_map<void*, std::size_t> uncached_;  // caching=false: ptr -> rounded size
  PoolStats stats_;
};

}  // namespace dlfs
