#include <gtest/gtest.h>

#include <cmath>

#include "dlfs/kernels/reduce.hpp"
#include "dlfs/kernels/shuffle.hpp"
#include "dlfs/runtime/device_pools.hpp"
#include "support/gpu.hpp"
#include "support/softmax_test_data.hpp"

namespace dlfs::kernels {
namespace {

TEST(Sum, HandComputed) {
  EXPECT_EQ(sum(Tensor::from_vector<float>({1.0f, 2.0f, 3.5f, -0.25f}, {2, 2})), 6.25);
  EXPECT_EQ(sum(Tensor::from_vector<double>({1e-300, 2.0}, {2})), 2.0 + 1e-300);
  EXPECT_EQ(sum(Tensor::zeros({0})), 0.0);
}

TEST(Sum, AccumulatesFloatInDouble) {
  // 2^24 + 1 + 1 + ... loses every 1 in float; a double accumulator keeps them.
  std::vector<float> v(1001, 1.0f);
  v[0] = 16777216.0f;
  EXPECT_EQ(sum(Tensor::from_vector(v, {1001})), 16777216.0 + 1000.0);
}

TEST(Sum, RejectsIntegerTensors) {
  EXPECT_THROW(sum(Tensor::zeros({3}, DType::Int32)), Error);
}

TEST(AccuracyCount, CountsRowsWhoseArgmaxIsTheLabel) {
  Tensor scores = Tensor::from_vector<float>({0.1f, 0.9f, 0.0f,     // argmax 1
                                              0.8f, 0.2f, 0.0f,     // argmax 0
                                              0.5f, 0.5f, 0.5f,     // tie: the first, 0
                                              -3.0f, -2.0f, -1.0f,  // argmax 2
                                              0.0f, 0.0f, 1.0f},    // argmax 2
                                             {5, 3});
  Tensor labels = Tensor::from_vector<std::int32_t>({1, 1, 0, 2, 7}, {5});
  EXPECT_EQ(accuracy_count(scores, labels), 3);  // the out-of-range 7 never counts
  EXPECT_EQ(accuracy_count(scores.to(DType::Float64), labels), 3);
  EXPECT_EQ(accuracy_count(scores, Tensor::from_vector<std::int32_t>({0, 0, 1, 1, 1}, {5})), 1);
}

TEST(AccuracyCount, MatchesANaiveArgmaxOnRandomScores) {
  Generator g(11);
  Tensor scores = testing::random_logits(500, 10, g);
  Tensor labels = testing::random_labels(500, 10, g);
  const std::vector<float> s = scores.to_vector<float>();
  const std::vector<std::int32_t> l = labels.to_vector<std::int32_t>();
  std::int64_t expected = 0;
  for (std::int64_t n = 0; n < 500; ++n) {
    const auto row = s.begin() + n * 10;
    expected += std::max_element(row, row + 10) - row == l[n];
  }
  EXPECT_GT(expected, 20);  // about 50 correct by chance: the test distinguishes something
  EXPECT_EQ(accuracy_count(scores, labels), expected);
}

TEST(AccuracyCount, RejectsBadShapes) {
  EXPECT_THROW(accuracy_count(Tensor::zeros({4, 3}), Tensor::zeros({3}, DType::Int32)), Error);
  EXPECT_THROW(accuracy_count(Tensor::zeros({4, 3}), Tensor::zeros({4})), Error);
  EXPECT_THROW(accuracy_count(Tensor::zeros({12}), Tensor::zeros({12}, DType::Int32)), Error);
}

TEST(SumGpu, MatchesCpu) {
  DLFS_REQUIRE_GPU();
  for (std::int64_t n : {1LL, 1000003LL, 1LL << 24}) {
    Generator g(static_cast<std::uint64_t>(n));
    Tensor x = Tensor::empty({n});
    x.normal_(g, 1.0, 2.0);
    const double cpu = sum(x);
    const double gpu = sum(x.to(Device::cuda()));
    // Both add exact float values in double, in different orders: rounding of at most a few
    // units in the 1e-16 place per addition, far below 1e-9 of the magnitude summed.
    double magnitude = 0.0;
    for (float v : x.to_vector<float>()) magnitude += std::abs(v);
    EXPECT_NEAR(gpu, cpu, 1e-9 * magnitude) << n;
  }
}

TEST(AccuracyCountGpu, MatchesCpu) {
  DLFS_REQUIRE_GPU();
  for (auto [rows, cols] :
       {std::pair<std::int64_t, std::int64_t>{1, 1}, {4099, 10}, {1000, 1000}}) {
    Generator g(static_cast<std::uint64_t>(rows * cols));
    Tensor scores = testing::random_logits(rows, cols, g);
    Tensor labels = testing::random_labels(rows, cols, g);
    // Comparisons are exact, so the counts are equal.
    EXPECT_EQ(accuracy_count(scores, labels),
              accuracy_count(scores.to(Device::cuda()), labels.to(Device::cuda())))
        << rows << " x " << cols;
  }
  // A row predicting its label on purpose: every row correct.
  Tensor scores = Tensor::from_vector<float>({0, 5, 9, 1}, {2, 2}).to(Device::cuda());
  EXPECT_EQ(
      accuracy_count(scores, Tensor::from_vector<std::int32_t>({1, 0}, {2}).to(Device::cuda())), 2);
}

TEST(ThrustPoolGpu, RepeatedCallsMakeNoNewDeviceAllocations) {
  DLFS_REQUIRE_GPU();
  const Device gpu = Device::cuda();
  Generator g(3);
  Tensor x = testing::random_logits(4099, 10, g).to(gpu);
  Tensor labels = testing::random_labels(4099, 10, g).to(gpu);
  auto run_all = [&] {
    sum(x);
    accuracy_count(x, labels);
    random_permutation(100003, 7, gpu);
  };
  run_all();  // warms the pool: Thrust's temporaries and the outputs find cached blocks after
  const std::uint64_t raw = memory_pool(gpu).stats().raw_allocations;
  const std::uint64_t allocations = memory_pool(gpu).stats().allocations;
  for (int i = 0; i < 10; ++i) run_all();
  EXPECT_EQ(memory_pool(gpu).stats().raw_allocations, raw);
  EXPECT_GT(memory_pool(gpu).stats().allocations, allocations);
  // Thrust's temporaries come from the pool. The permutation allocates two tensors (indices and
  // sort keys); its sort's scratch space is the third allocation, on both Thrust backends.
  const std::uint64_t before_sort = memory_pool(gpu).stats().allocations;
  random_permutation(100003, 8, gpu);
  EXPECT_GE(memory_pool(gpu).stats().allocations, before_sort + 3);
  if (!testing::kEmulatedGpu) {
    // CUDA's reductions need scratch space too (the emulated device's host backend does not);
    // sum and accuracy_count allocate no tensors, so these allocations are Thrust's.
    const std::uint64_t before_sum = memory_pool(gpu).stats().allocations;
    sum(x);
    accuracy_count(x, labels);
    EXPECT_GE(memory_pool(gpu).stats().allocations, before_sum + 2);
  }
}

}  // namespace
}  // namespace dlfs::kernels
