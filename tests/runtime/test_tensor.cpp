#include <gtest/gtest.h>

#include <cmath>

#include "dlfs/runtime/counter_rng.hpp"
#include "dlfs/runtime/device_pools.hpp"
#include "dlfs/runtime/tensor.hpp"

namespace dlfs {
namespace {

TEST(Tensor, CreatesShapedZeroedStorage) {
  Tensor t = Tensor::zeros({2, 3, 4, 5});
  EXPECT_EQ(t.numel(), 120);
  EXPECT_EQ(t.ndim(), 4);
  EXPECT_EQ(t.dim(-1), 5);
  EXPECT_EQ(t.nbytes(), 480u);
  EXPECT_EQ(t.str(), "float32[2, 3, 4, 5] on cpu");
  for (float v : t.to_vector<float>()) EXPECT_EQ(v, 0.0f);
}

TEST(Tensor, FromExternalUsesTheMemoryInPlaceAndReleasesItsOwnerLast) {
  std::vector<float> memory = {1, 2, 3, 4, 5, 6};
  int releases = 0;
  std::shared_ptr<void> owner(&releases, [](void* count) { ++*static_cast<int*>(count); });
  const std::uint64_t raw_before = memory_pool(Device::cpu()).stats().raw_allocations;
  Tensor t = Tensor::from_external(memory.data(), {2, 3}, DType::Float32, Device::cpu(), owner);
  owner.reset();
  EXPECT_EQ(t.data<float>(), memory.data());
  memory[4] = 50;
  EXPECT_EQ(t.to_vector<float>()[4], 50.0f);
  t.fill_(7.0);  // writes reach the owner's memory
  EXPECT_EQ(memory[0], 7.0f);
  Tensor view = t.reshape({3, 2});
  EXPECT_TRUE(view.same_storage(t));
  t = Tensor();
  EXPECT_EQ(releases, 0);  // the view still uses it
  view = Tensor();
  EXPECT_EQ(releases, 1);
  EXPECT_EQ(memory_pool(Device::cpu()).stats().raw_allocations,
            raw_before);  // the pool was never asked
  EXPECT_THROW(Tensor::from_external(nullptr, {2}, DType::Float32, Device::cpu(), nullptr), Error);
}

TEST(Tensor, HostMemoryIs64ByteAligned) {
  for (int n : {1, 7, 100, 4097}) {
    Tensor t = Tensor::empty({n});
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.raw_data()) % 64, 0u);
  }
}

TEST(Tensor, FullFillsEveryDtype) {
  EXPECT_EQ(Tensor::full({3}, 2.5).to_vector<float>(), std::vector<float>(3, 2.5f));
  EXPECT_EQ(Tensor::full({2}, -1.25, DType::Float64).to_vector<double>(),
            std::vector<double>(2, -1.25));
  EXPECT_EQ(Tensor::full({4}, 7, DType::Int32).to_vector<std::int32_t>(),
            std::vector<std::int32_t>(4, 7));
}

TEST(Tensor, DataChecksTheDtype) {
  Tensor t = Tensor::zeros({2});
  EXPECT_THROW(t.data<double>(), Error);
  EXPECT_THROW(Tensor().raw_data(), Error);
}

TEST(Tensor, CopySharesStorageCloneDoesNot) {
  Tensor a = Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2});
  Tensor shared = a;
  Tensor copy = a.clone();
  a.data<float>()[0] = 42;
  EXPECT_EQ(shared.to_vector<float>()[0], 42.0f);
  EXPECT_EQ(copy.to_vector<float>()[0], 1.0f);
  EXPECT_TRUE(shared.same_storage(a));
  EXPECT_FALSE(copy.same_storage(a));
}

TEST(Tensor, ReshapeKeepsDataAndInfersOneDimension) {
  Tensor a = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = a.reshape({3, -1});
  EXPECT_EQ(b.shape(), Shape({3, 2}));
  EXPECT_TRUE(b.same_storage(a));
  EXPECT_EQ(b.to_vector<float>(), a.to_vector<float>());
  EXPECT_THROW(a.reshape({4, -1}), Error);
  EXPECT_THROW(a.reshape({-1, -1}), Error);
  EXPECT_THROW(a.reshape({5}), Error);
}

TEST(Tensor, ConvertsBetweenFloat32AndFloat64) {
  Tensor a = Tensor::from_vector<float>({0.5f, -3.0f}, {2});
  Tensor d = a.to(DType::Float64);
  EXPECT_EQ(d.dtype(), DType::Float64);
  EXPECT_EQ(d.to_vector<double>(), std::vector<double>({0.5, -3.0}));
  EXPECT_EQ(d.to(DType::Float32).to_vector<float>(), a.to_vector<float>());
}

TEST(Tensor, CopyFromChecksSizes) {
  Tensor a = Tensor::zeros({4});
  Tensor b = Tensor::full({2, 2}, 3.0);
  a.copy_from(b);
  EXPECT_EQ(a.to_vector<float>(), std::vector<float>(4, 3.0f));
  EXPECT_THROW(a.copy_from(Tensor::zeros({3})), Error);
  EXPECT_THROW(a.copy_from(Tensor::zeros({4}, DType::Float64)), Error);
}

TEST(Tensor, NegativeShapeIsAnInputError) {
  EXPECT_THROW(Shape({2, -3}), InputError);
}

TEST(Random, CounterStreamIsAPureFunctionOfSeedAndIndex) {
  // Pinned values: the same seed must give these numbers on every machine and device. They were
  // computed outside dlfs (a few lines of Python implementing counter_rng.hpp's definition,
  // bits(seed, i) = mix64(mix64(seed) + (i + 1) * 0x9E3779B97F4A7C15)). mix64(0) = 0, so the
  // stream of seed 0 is SplitMix64's published sequence from state 0.
  EXPECT_EQ(rng::mix64(0), 0u);
  EXPECT_EQ(rng::bits(0, 0), 0xE220A8397B1DCDAFull) << "SplitMix64's first output from state 0";
  EXPECT_EQ(rng::bits(0, 1), 0x6E789E6AA1B965F4ull) << "its second";
  EXPECT_EQ(rng::bits(0, 2), 0x06C45D188009454Full) << "its third";
  EXPECT_EQ(rng::bits(1, 0), 0xBFEF8030DDC2D772ull);
  EXPECT_EQ(rng::bits(42, 1000000), 0xFABED23CE0F4C425ull);
  EXPECT_EQ(rng::mix64(0x9E3779B97F4A7C15ull), 0xE220A8397B1DCDAFull);
  // uniform_float keeps the top 24 bits: bits(7, 3) >> 40 = 14818128.
  EXPECT_EQ(rng::uniform_float(7, 3), 14818128.0f / 16777216.0f);
  // uniform_double keeps the top 53: bits(123, 5) >> 11 = 247272361045220.
  EXPECT_EQ(rng::uniform_double(123, 5), 247272361045220.0 / 9007199254740992.0);
}

TEST(Random, SameSeedSameNumbersAndSensibleMoments) {
  Generator g1(123), g2(123), g3(124);
  Tensor a = Tensor::empty({10000});
  Tensor b = Tensor::empty({10000});
  Tensor c = Tensor::empty({10000});
  a.normal_(g1, 0.0, 2.0);
  b.normal_(g2, 0.0, 2.0);
  c.normal_(g3, 0.0, 2.0);
  EXPECT_EQ(a.to_vector<float>(), b.to_vector<float>());
  EXPECT_NE(a.to_vector<float>(), c.to_vector<float>());
  double sum = 0, sq = 0;
  for (float v : a.to_vector<float>()) {
    sum += v;
    sq += double(v) * v;
  }
  const double mean = sum / 10000, var = sq / 10000 - mean * mean;
  EXPECT_NEAR(mean, 0.0, 0.06);  // 3 standard errors of 2/sqrt(10000)
  EXPECT_NEAR(std::sqrt(var), 2.0, 0.05);

  Tensor u = Tensor::empty({10000}, DType::Float64);
  Generator g4(5);
  u.uniform_(g4, -1.0, 3.0);
  double lo = 1e9, hi = -1e9, usum = 0;
  for (double v : u.to_vector<double>()) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    usum += v;
  }
  EXPECT_GE(lo, -1.0);
  EXPECT_LT(hi, 3.0);
  EXPECT_NEAR(usum / 10000, 1.0, 0.04);
}

TEST(Random, BelowIsUniformOverSmallRanges) {
  Generator g(9);
  std::vector<int> counts(3, 0);
  for (int i = 0; i < 30000; ++i) counts[g.below(3)] += 1;
  for (int c : counts) EXPECT_NEAR(c, 10000, 300);
}

TEST(Tensor, HostTensorsComeFromThePool) {
  CachingPool& pool = memory_pool(Device::cpu());
  { Tensor warm = Tensor::empty({1000}); }
  const auto before = pool.stats();
  for (int i = 0; i < 100; ++i) Tensor t = Tensor::empty({1000});
  const auto after = pool.stats();
  EXPECT_EQ(after.raw_allocations, before.raw_allocations);
  EXPECT_EQ(after.allocations - before.allocations, 100u);
}

}  // namespace
}  // namespace dlfs
