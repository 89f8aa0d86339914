#include <gtest/gtest.h>

#include <vector>

#include "dlfs/runtime/error.hpp"
#include "dlfs/runtime/json.hpp"
#include "dlfs/runtime/json_writer.hpp"
#include "dlfs/runtime/memory_pool.hpp"
#include "support/counting_backend.hpp"

namespace dlfs {
namespace {

using testing::CountingBackend;
constexpr std::size_t MiB = 1 << 20;

TEST(MemoryPool, RoundsTo512AndPicksSegmentSizes) {
  EXPECT_EQ(CachingPool::round_size(0), 512u);
  EXPECT_EQ(CachingPool::round_size(1), 512u);
  EXPECT_EQ(CachingPool::round_size(512), 512u);
  EXPECT_EQ(CachingPool::round_size(513), 1024u);
  EXPECT_EQ(CachingPool::segment_size(512), 2 * MiB);
  EXPECT_EQ(CachingPool::segment_size(MiB), 2 * MiB);
  EXPECT_EQ(CachingPool::segment_size(MiB + 512), 20 * MiB);
  EXPECT_EQ(CachingPool::segment_size(10 * MiB), 10 * MiB);
  EXPECT_EQ(CachingPool::segment_size(11 * MiB + 1), 12 * MiB);
}

TEST(MemoryPool, ReusesAFreedBlockWithoutARawAllocation) {
  CountingBackend::Counters c;
  CachingPool pool(std::make_unique<CountingBackend>(&c));
  void* a = pool.allocate(1000);
  EXPECT_EQ(c.allocations, 1u);
  pool.free(a);
  void* b = pool.allocate(1000);
  EXPECT_EQ(b, a);
  EXPECT_EQ(c.allocations, 1u);
  EXPECT_EQ(pool.stats().cache_hits, 1u);
  pool.free(b);
}

TEST(MemoryPool, SplitsOneSegmentAmongSmallRequests) {
  CountingBackend::Counters c;
  CachingPool pool(std::make_unique<CountingBackend>(&c));
  std::vector<void*> blocks;
  for (int i = 0; i < 4; ++i) blocks.push_back(pool.allocate(256 * 1024));
  EXPECT_EQ(c.allocations, 1u) << "four 256 KiB blocks fit one 2 MiB segment";
  for (int i = 1; i < 4; ++i)
    EXPECT_EQ(static_cast<char*>(blocks[i]) - static_cast<char*>(blocks[i - 1]), 256 * 1024);
  EXPECT_EQ(pool.stats().allocated_bytes, 1 * MiB);
  EXPECT_EQ(pool.stats().reserved_bytes, 2 * MiB);
  for (void* p : blocks) pool.free(p);
}

TEST(MemoryPool, CoalescesNeighboursSoALargerRequestFitsAgain) {
  CountingBackend::Counters c;
  CachingPool pool(std::make_unique<CountingBackend>(&c));
  void* a = pool.allocate(512 * 1024);
  void* b = pool.allocate(512 * 1024);
  void* d = pool.allocate(512 * 1024);
  void* e = pool.allocate(512 * 1024);
  ASSERT_EQ(c.allocations, 1u);
  // Free in an order that exercises merging with the previous and with the next block.
  pool.free(b);
  pool.free(d);
  pool.free(a);
  pool.free(e);
  // The whole 2 MiB segment is one free block again: a 1 MiB request reuses its start.
  void* big = pool.allocate(MiB);
  EXPECT_EQ(big, a);
  EXPECT_EQ(c.allocations, 1u);
  pool.free(big);
  pool.empty_cache();
  EXPECT_EQ(c.frees, 1u) << "one coalesced segment goes back whole";
  EXPECT_EQ(pool.stats().reserved_bytes, 0u);
}

TEST(MemoryPool, CoalescesAHoleBetweenTwoFreeNeighboursAndFreedInReverse) {
  CountingBackend::Counters c;
  CachingPool pool(std::make_unique<CountingBackend>(&c));
  std::vector<void*> b;
  for (int i = 0; i < 8; ++i) b.push_back(pool.allocate(256 * 1024));
  ASSERT_EQ(pool.stats().raw_allocations, 1u) << "eight 256 KiB blocks fill one 2 MiB segment";
  // Free 1 and 3 (two separate holes), then 2: it merges with both neighbours at once.
  pool.free(b[1]);
  pool.free(b[3]);
  pool.free(b[2]);
  EXPECT_EQ(pool.stats().active_blocks, 5u);
  // 768 KiB fits only in the merged hole (each hole alone is 256 KiB).
  void* mid = pool.allocate(768 * 1024);
  EXPECT_EQ(mid, b[1]);
  EXPECT_EQ(pool.stats().raw_allocations, 1u);
  // Free everything from the end backwards: each block merges with the free one after it.
  pool.free(mid);
  for (int i = 7; i >= 0; --i)
    if (i < 1 || i > 3) pool.free(b[static_cast<std::size_t>(i)]);
  EXPECT_EQ(pool.stats().active_blocks, 0u);
  EXPECT_EQ(pool.stats().allocated_bytes, 0u);
  const std::uint64_t hits = pool.stats().cache_hits;
  void* whole = pool.allocate(MiB);  // the largest small request: the segment's start again
  EXPECT_EQ(whole, b[0]);
  EXPECT_EQ(pool.stats().raw_allocations, 1u);
  EXPECT_EQ(pool.stats().cache_hits, hits + 1);
  pool.free(whole);
  pool.empty_cache();
  EXPECT_EQ(pool.stats().raw_frees, 1u) << "the segment went back as one block";
  EXPECT_EQ(pool.stats().reserved_bytes, 0u);
}

TEST(MemoryPool, KeepsSmallAndLargePoolsApart) {
  CountingBackend::Counters c;
  CachingPool pool(std::make_unique<CountingBackend>(&c));
  void* small = pool.allocate(4096);
  pool.free(small);
  void* large = pool.allocate(2 * MiB);
  EXPECT_EQ(c.allocations, 2u) << "a large request never carves the small pool's segment";
  EXPECT_EQ(pool.stats().reserved_bytes, 22 * MiB);
  pool.free(large);
}

TEST(MemoryPool, BlocksAreReusedOnlyOnTheirOwnStream) {
  CountingBackend::Counters c;
  CachingPool pool(std::make_unique<CountingBackend>(&c));
  int s1 = 0, s2 = 0;
  void* a = pool.allocate(4096, &s1);
  pool.free(a);
  void* b = pool.allocate(4096, &s2);
  EXPECT_EQ(c.allocations, 2u);
  void* again = pool.allocate(4096, &s1);
  EXPECT_EQ(again, a);
  pool.free(b);
  pool.free(again);
}

TEST(MemoryPool, StatsTrackPeaksAndCounts) {
  CountingBackend::Counters c;
  CachingPool pool(std::make_unique<CountingBackend>(&c));
  void* a = pool.allocate(3 * MiB);  // 20 MiB segment, split: 3 MiB used
  void* b = pool.allocate(5 * MiB);  // from the remainder
  PoolStats s = pool.stats();
  EXPECT_EQ(s.allocated_bytes, 8 * MiB);
  EXPECT_EQ(s.reserved_bytes, 20 * MiB);
  EXPECT_EQ(s.raw_allocations, 1u);
  EXPECT_EQ(s.allocations, 2u);
  EXPECT_EQ(s.cache_hits, 1u);
  EXPECT_EQ(s.active_blocks, 2u);
  pool.free(a);
  pool.free(b);
  s = pool.stats();
  EXPECT_EQ(s.allocated_bytes, 0u);
  EXPECT_EQ(s.peak_allocated_bytes, 8 * MiB);
  EXPECT_EQ(s.active_blocks, 0u);
  pool.reset_peaks();
  EXPECT_EQ(pool.stats().peak_allocated_bytes, 0u);
  EXPECT_NE(s.str().find("8.00 MiB"), std::string::npos);
  // The JSON form carries every counter, read back by the JSON reader.
  JsonWriter json;
  s.write_json(json);
  const JsonValue parsed = parse_json(json.str());
  EXPECT_EQ(parsed.find("raw_allocations")->integer, 1);
  EXPECT_EQ(parsed.find("peak_allocated_bytes")->integer, static_cast<std::int64_t>(8 * MiB));
  EXPECT_EQ(parsed.find("requested_bytes")->integer, static_cast<std::int64_t>(s.requested_bytes));
  EXPECT_EQ(parsed.find("active_blocks")->integer, 0);
  EXPECT_EQ(parsed.find("cache_hits")->integer, 1);
}

TEST(MemoryPool, EmptyCacheKeepsSegmentsInUse) {
  CountingBackend::Counters c;
  CachingPool pool(std::make_unique<CountingBackend>(&c));
  void* used = pool.allocate(4096);
  void* other = pool.allocate(12 * MiB);
  pool.free(other);
  pool.empty_cache();
  EXPECT_EQ(c.frees, 1u);
  EXPECT_EQ(pool.stats().reserved_bytes, 2 * MiB);
  pool.free(used);
}

TEST(MemoryPool, RetriesAfterFreeingTheCacheWhenTheBackendFails) {
  CountingBackend::Counters c;
  // Room for one 20 MiB segment only.
  CachingPool pool(std::make_unique<CountingBackend>(&c, 25 * MiB));
  void* a = pool.allocate(12 * MiB);  // 12 MiB segment (>= 10 MiB: rounded to 2 MiB)
  pool.free(a);                       // cached, 12 MiB still held
  void* b = pool.allocate(14 * MiB);  // 14 MiB does not fit beside it: retry after empty_cache
  EXPECT_NE(b, nullptr);
  EXPECT_EQ(c.failures, 1u);
  EXPECT_EQ(pool.stats().oom_retries, 1u);
  EXPECT_EQ(c.frees, 1u);
  pool.free(b);
}

TEST(MemoryPool, ThrowsOutOfMemoryWithTheSizeAndStats) {
  CountingBackend::Counters c;
  CachingPool pool(std::make_unique<CountingBackend>(&c, 16 * MiB));
  void* held = pool.allocate(12 * MiB);
  try {
    pool.allocate(14 * MiB);
    FAIL() << "expected OutOfMemoryError";
  } catch (const OutOfMemoryError& e) {
    EXPECT_EQ(e.requested_bytes(), 14 * MiB);
    std::string msg = e.what();
    EXPECT_NE(msg.find("tried to allocate 14.00 MiB"), std::string::npos) << msg;
    EXPECT_NE(msg.find("allocated 12.00 MiB"), std::string::npos) << msg;
    EXPECT_NE(msg.find("counting"), std::string::npos) << msg;
  }
  EXPECT_EQ(pool.stats().ooms, 1u);
  EXPECT_EQ(pool.stats().oom_retries, 1u);
  pool.free(held);
}

TEST(MemoryPool, RejectsForeignPointers) {
  CountingBackend::Counters c;
  CachingPool pool(std::make_unique<CountingBackend>(&c));
  int x = 0;
  EXPECT_THROW(pool.free(&x), Error);
}

TEST(MemoryPool, SteadyStateTrainingPatternMakesNoRawAllocationsAfterTheFirstStep) {
  CountingBackend::Counters c;
  CachingPool pool(std::make_unique<CountingBackend>(&c));
  // One "training step": a batch, activations kept for backward, temporaries freed at once,
  // gradients, then everything but the parameters released.
  const std::vector<std::size_t> activations = {
      128 * 784 * 4, 128 * 6 * 28 * 28 * 4, 128 * 16 * 10 * 10 * 4, 128 * 120 * 4, 128 * 10 * 4};
  auto step = [&] {
    std::vector<void*> live;
    for (std::size_t bytes : activations) {
      live.push_back(pool.allocate(bytes));
      void* scratch = pool.allocate(bytes * 9);  // an im2col buffer
      pool.free(scratch);
    }
    for (auto it = activations.rbegin(); it != activations.rend(); ++it) {
      void* grad = pool.allocate(*it);
      pool.free(grad);
    }
    for (void* p : live) pool.free(p);
  };
  step();
  const std::size_t after_warmup = c.allocations;
  ASSERT_GT(after_warmup, 0u);
  for (int i = 0; i < 50; ++i) step();
  EXPECT_EQ(c.allocations, after_warmup) << "raw allocations after warm-up";
  EXPECT_EQ(c.frees, 0u);
  PoolStats s = pool.stats();
  EXPECT_EQ(s.raw_allocations, after_warmup);
  EXPECT_GT(s.cache_hits, 50u * 15u - 1u);
}

TEST(MemoryPool, UncachedModeForwardsEveryRequest) {
  CountingBackend::Counters c;
  CachingPool pool(std::make_unique<CountingBackend>(&c), /*caching=*/false);
  void* a = pool.allocate(1000);
  pool.free(a);
  void* b = pool.allocate(1000);
  pool.free(b);
  EXPECT_EQ(c.allocations, 2u);
  EXPECT_EQ(c.frees, 2u);
  EXPECT_EQ(pool.stats().allocated_bytes, 0u);
  EXPECT_EQ(pool.stats().reserved_bytes, 0u);
}

}  // namespace
}  // namespace dlfs
