// Out of memory: the pool's error says what was asked, what the backend refused and where the
// pool's memory is, in one sentence; the pool stays usable afterwards.
#include <gtest/gtest.h>

#include <limits>

#include "dlfs/runtime/error.hpp"
#include "dlfs/runtime/memory_pool.hpp"
#include "support/counting_backend.hpp"

namespace dlfs {
namespace {

using testing::CountingBackend;
constexpr std::size_t MiB = 1 << 20;

std::string oom_message(CachingPool& pool, std::size_t bytes, std::size_t* requested = nullptr) {
  try {
    pool.free(pool.allocate(bytes));
  } catch (const OutOfMemoryError& e) {
    if (requested) *requested = e.requested_bytes();
    return e.what();
  }
  return "(no OutOfMemoryError)";
}

void expect_one_sentence(const std::string& m) {
  EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  EXPECT_EQ(m.back(), '.') << m;
  EXPECT_EQ(m.rfind("Out of memory on counting: ", 0), 0u) << m;
}

TEST(PoolOom, LargeRequestNamesTheSizeInBytesAndThePoolStats) {
  CountingBackend::Counters c;
  CachingPool pool(std::make_unique<CountingBackend>(&c, 40 * MiB));
  void* held = pool.allocate(24 * MiB);  // a 24 MiB segment of its own (>= 10 MiB)
  std::size_t requested = 0;
  const std::string m = oom_message(pool, 30 * MiB, &requested);
  EXPECT_EQ(requested, 30 * MiB);
  expect_one_sentence(m);
  EXPECT_NE(m.find("tried to allocate 30.00 MiB (31457280 bytes)"), std::string::npos) << m;
  EXPECT_NE(m.find("after freeing the pool's cache"), std::string::npos) << m;
  EXPECT_NE(m.find("pool: allocated 24.00 MiB (peak 24.00 MiB), reserved 24.00 MiB"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("1 OOM retries"), std::string::npos) << m;
  EXPECT_EQ(pool.stats().ooms, 1u);
  pool.free(held);
}

TEST(PoolOom, SmallRequestAlsoNamesTheSegmentTheBackendRefused) {
  CountingBackend::Counters c;
  CachingPool pool(std::make_unique<CountingBackend>(&c, 1 * MiB));  // not one 2 MiB segment
  std::size_t requested = 0;
  const std::string m = oom_message(pool, 1000, &requested);
  EXPECT_EQ(requested, 1000u);  // what the caller asked, not the rounded size
  expect_one_sentence(m);
  EXPECT_NE(m.find("tried to allocate 0.00 MiB (1000 bytes, a 2.00 MiB block from the backend)"),
            std::string::npos)
      << m;
}

TEST(PoolOom, GibibyteSizesAreShownInGiB) {
  CountingBackend::Counters c;
  CachingPool pool(std::make_unique<CountingBackend>(&c, 64 * MiB));
  const std::string m = oom_message(pool, std::size_t{3} << 30);
  EXPECT_NE(m.find("tried to allocate 3.00 GiB (3221225472 bytes)"), std::string::npos) << m;
}

TEST(PoolOom, FreedCacheIsRetriedBeforeGivingUp) {
  CountingBackend::Counters c;
  CachingPool pool(std::make_unique<CountingBackend>(&c, 30 * MiB));
  pool.free(pool.allocate(20 * MiB));  // cached: 20 MiB held, free
  void* p = pool.allocate(24 * MiB);   // fits only once the cache is handed back
  EXPECT_EQ(pool.stats().oom_retries, 1u);
  EXPECT_EQ(pool.stats().ooms, 0u);
  pool.free(p);
}

TEST(PoolOom, UncachedPoolReportsTheSameWay) {
  CountingBackend::Counters c;
  CachingPool pool(std::make_unique<CountingBackend>(&c, 4 * MiB), /*caching=*/false);
  const std::string m = oom_message(pool, 5 * MiB);
  expect_one_sentence(m);
  EXPECT_NE(m.find("tried to allocate 5.00 MiB (5242880 bytes)"), std::string::npos) << m;
}

TEST(PoolOom, AbsurdSizesAreRefusedBeforeRoundingWraps) {
  // A size computed from a corrupt shape: rounding SIZE_MAX up to 512 would wrap to 0 and hand
  // out a tiny block. It must be an OutOfMemoryError without any backend call.
  CountingBackend::Counters c;
  CachingPool pool(std::make_unique<CountingBackend>(&c));
  for (std::size_t bytes : {std::numeric_limits<std::size_t>::max(),
                            std::numeric_limits<std::size_t>::max() - 100, std::size_t{1} << 60}) {
    std::size_t requested = 0;
    const std::string m = oom_message(pool, bytes, &requested);
    EXPECT_EQ(requested, bytes);
    expect_one_sentence(m);
    EXPECT_NE(m.find("(" + std::to_string(bytes) + " bytes)"), std::string::npos) << m;
    // Nothing was freed or retried, and the message does not claim it was.
    EXPECT_EQ(m.find("freeing"), std::string::npos) << m;
  }
  EXPECT_EQ(c.allocations, 0u);
  EXPECT_EQ(c.failures, 0u);
  EXPECT_EQ(pool.stats().ooms, 3u);
}

TEST(PoolOom, ThePoolStaysUsableAfterwards) {
  CountingBackend::Counters c;
  CachingPool pool(std::make_unique<CountingBackend>(&c, 24 * MiB));
  void* a = pool.allocate(4 * MiB);
  EXPECT_THROW(pool.allocate(100 * MiB), OutOfMemoryError);
  void* b = pool.allocate(12 * MiB);  // a smaller batch: fits
  EXPECT_NE(b, nullptr);
  EXPECT_EQ(pool.stats().allocated_bytes, 16 * MiB);
  pool.free(a);
  pool.free(b);
  EXPECT_EQ(pool.stats().allocated_bytes, 0u);
  EXPECT_EQ(pool.stats().active_blocks, 0u);
}

}  // namespace
}  // namespace dlfs
