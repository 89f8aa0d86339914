#include <gtest/gtest.h>

#include <cmath>

#include "dlfs/kernels/cross_entropy.hpp"
#include "dlfs/kernels/cuda/loss_mean.hpp"
#include "dlfs/kernels/dispatch.hpp"
#include "dlfs/kernels/loss_targets.hpp"
#include "dlfs/kernels/softmax.hpp"
#include "support/equivalence.hpp"
#include "support/gpu.hpp"
#include "support/softmax_test_data.hpp"

namespace dlfs::kernels {
namespace {

// The book's example network outputs: the true class 2 gets 0.6, then 0.1.
const std::vector<float> kConfident = {0.1f, 0.05f, 0.6f, 0.0f, 0.05f,
                                       0.1f, 0.0f,  0.1f, 0.0f, 0.0f};
const std::vector<float> kWrong = {0.1f, 0.05f, 0.1f, 0.0f, 0.05f, 0.1f, 0.0f, 0.6f, 0.0f, 0.0f};

float loss_of(const Tensor& p, const Tensor& t) {
  return cross_entropy(p, t).to_vector<float>().at(0);
}

TEST(CrossEntropy, BookExampleWithLabelsAndOneHot) {
  Tensor labels = Tensor::from_vector<std::int32_t>({2}, {1});
  Tensor t = testing::one_hot(labels, 10);
  EXPECT_NEAR(loss_of(Tensor::from_vector(kConfident, {1, 10}), labels), 0.510825457, 1e-6);
  EXPECT_NEAR(loss_of(Tensor::from_vector(kWrong, {1, 10}), labels), 2.302584093, 1e-6);
  EXPECT_NEAR(loss_of(Tensor::from_vector(kConfident, {1, 10}), t), 0.510825457, 1e-6);
  EXPECT_NEAR(loss_of(Tensor::from_vector(kWrong, {1, 10}), t), 2.302584093, 1e-6);
}

TEST(CrossEntropy, MeanOverTheBatch) {
  std::vector<float> both = kConfident;
  both.insert(both.end(), kWrong.begin(), kWrong.end());
  Tensor p = Tensor::from_vector(both, {2, 10});
  Tensor labels = Tensor::from_vector<std::int32_t>({2, 2}, {2});
  const double expected = (0.510825457 + 2.302584093) / 2;
  EXPECT_NEAR(loss_of(p, labels), expected, 1e-6);
  EXPECT_NEAR(loss_of(p, testing::one_hot(labels, 10)), expected, 1e-6);
  Tensor loss = cross_entropy(p, labels);
  EXPECT_EQ(loss.shape(), Shape({1}));
  EXPECT_EQ(loss.dtype(), DType::Float32);
}

TEST(CrossEntropy, ZeroProbabilityForTheTrueClassIsLargeButFinite) {
  Tensor p = Tensor::from_vector<float>({1.0f, 0.0f}, {1, 2});
  const float loss = loss_of(p, Tensor::from_vector<std::int32_t>({1}, {1}));
  EXPECT_TRUE(std::isfinite(loss));
  EXPECT_NEAR(loss, -std::log(1e-7), 1e-5);  // 16.118
  const float one_hot_loss = loss_of(p, Tensor::from_vector<float>({0, 1}, {1, 2}));
  EXPECT_NEAR(one_hot_loss, -std::log(1e-7), 1e-5);
}

TEST(CrossEntropy, SoftTargetsWeighEveryClass) {
  Tensor p = Tensor::from_vector<double>({0.2, 0.8, 0.5, 0.5}, {2, 2});
  Tensor t = Tensor::from_vector<double>({0.25, 0.75, 1.0, 0.0}, {2, 2});
  const double d = kCrossEntropyDelta;
  const double expected =
      -(0.25 * std::log(0.2 + d) + 0.75 * std::log(0.8 + d) + std::log(0.5 + d)) / 2;
  EXPECT_NEAR(cross_entropy(p, t).to_vector<double>()[0], expected, 1e-15);
}

TEST(CrossEntropy, OneClassAndBatchOfOne) {
  Tensor p = Tensor::from_vector<double>({1.0}, {1, 1});
  EXPECT_NEAR(cross_entropy(p, Tensor::from_vector<std::int32_t>({0}, {1})).to_vector<double>()[0],
              -std::log(1.0 + kCrossEntropyDelta), 1e-20);
}

TEST(CrossEntropy, ZeroTargetsIgnoreNegativeProbabilityGarbage) {
  // A zero target contributes nothing even where log(p + delta) would be NaN.
  Tensor p = Tensor::from_vector<double>({-1.0, 1.0}, {1, 2});
  Tensor t = Tensor::from_vector<double>({0.0, 1.0}, {1, 2});
  EXPECT_NEAR(cross_entropy(p, t).to_vector<double>()[0], -std::log(1.0 + kCrossEntropyDelta),
              1e-20);
}

TEST(CrossEntropy, LabelOutOfRangeNamesLabelAndIndex) {
  Tensor p = Tensor::full({3, 4}, 0.25);
  for (std::int32_t bad : {4, -1}) {
    Tensor labels = Tensor::from_vector<std::int32_t>({0, bad, 3}, {3});
    try {
      cross_entropy(p, labels);
      FAIL() << "label " << bad << " was accepted";
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("cross_entropy"), std::string::npos) << msg;
      EXPECT_NE(msg.find("label " + std::to_string(bad)), std::string::npos) << msg;
      EXPECT_NE(msg.find("index 1"), std::string::npos) << msg;
      EXPECT_NE(msg.find("[0, 4)"), std::string::npos) << msg;
    }
  }
}

TEST(CrossEntropy, RejectsMismatchedTargets) {
  Tensor p = Tensor::full({3, 4}, 0.25);
  EXPECT_THROW(cross_entropy(p, Tensor::zeros({2}, DType::Int32)), Error);
  EXPECT_THROW(cross_entropy(p, Tensor::zeros({3, 4}, DType::Float64)), Error);
  EXPECT_THROW(cross_entropy(p, Tensor::zeros({3, 5})), Error);
  EXPECT_THROW(cross_entropy(Tensor::full({12}, 0.25), Tensor::zeros({12}, DType::Int32)), Error);
  EXPECT_THROW(cross_entropy(Tensor::zeros({0, 4}), Tensor::zeros({0}, DType::Int32)), Error);
}

TEST(CrossEntropyGpu, MatchesCpu) {
  DLFS_REQUIRE_GPU();
  const std::vector<std::pair<std::int64_t, std::int64_t>> shapes = {
      {1, 1}, {4099, 10}, {300, 1000}, {5, 1025}, {8, 32768}};
  for (auto [rows, cols] : shapes) {
    SCOPED_TRACE(std::to_string(rows) + " x " + std::to_string(cols));
    Generator g(static_cast<std::uint64_t>(rows + cols));
    Tensor p = softmax(testing::random_logits(rows, cols, g, 3.0));
    Tensor labels = testing::random_labels(rows, cols, g);
    Tensor soft = testing::random_distributions(rows, cols, g);
    const Device gpu = Device::cuda();
    // Each row's term is taken in double on both (the GPU rounds it to float once) and the mean
    // is summed in double on both: about 1e-7 apart; 1e-5 leaves a margin.
    EXPECT_TENSORS_CLOSE(cross_entropy(p, labels), cross_entropy(p.to(gpu), labels.to(gpu)), 1e-5);
    EXPECT_TENSORS_CLOSE(cross_entropy(p, testing::one_hot(labels, cols)),
                         cross_entropy(p.to(gpu), testing::one_hot(labels, cols).to(gpu)), 1e-5);
    EXPECT_TENSORS_CLOSE(cross_entropy(p, soft), cross_entropy(p.to(gpu), soft.to(gpu)), 1e-5);
  }
}

TEST(CrossEntropyGpu, LabelOutOfRangeNamesLabelAndIndex) {
  DLFS_REQUIRE_GPU();
  Tensor p = Tensor::full({3000, 4}, 0.25).to(Device::cuda());
  std::vector<std::int32_t> labels(3000, 1);
  labels[2500] = 9;
  labels[2999] = -3;
  // The op queues the kernels' verdict instead of waiting for it; the report reads it.
  cross_entropy(p, Tensor::from_vector(labels, {3000}).to(Device::cuda()));
  try {
    report_label_errors(Device::cuda());
    FAIL() << "label 9 was accepted";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("label 9 at index 2500"), std::string::npos) << msg;
  }
  EXPECT_NO_THROW(report_label_errors(Device::cuda()));  // reported once, then forgotten
}

TEST(CrossEntropyGpu, LabelChecksWaitForNothingUntilReported) {
  DLFS_REQUIRE_GPU();
  Tensor p = Tensor::full({8, 4}, 0.25).to(Device::cuda());
  Tensor good = Tensor::from_vector<std::int32_t>({0, 1, 2, 3, 0, 1, 2, 3}, {8}).to(Device::cuda());
  Tensor bad = Tensor::from_vector<std::int32_t>({0, 1, 2, 3, 4, 1, 2, 3}, {8}).to(Device::cuda());
  for (int i = 0; i < 10; ++i) cross_entropy(p, good);
  EXPECT_NO_THROW(report_label_errors(Device::cuda()));
  cross_entropy(p, good);
  EXPECT_NO_THROW(cross_entropy(p, bad));  // queued, not read
  EXPECT_THROW(report_label_errors(Device::cuda()), Error);
  // An unread queue is bounded: the 64th status makes the op report the ones before it.
  cross_entropy(p, bad);
  bool thrown = false;
  for (int i = 0; i < 70 && !thrown; ++i) {
    try {
      cross_entropy(p, good);
    } catch (const Error& e) {
      thrown = std::string(e.what()).find("label 4 at index 4") != std::string::npos;
    }
  }
  EXPECT_TRUE(thrown);
  EXPECT_NO_THROW(report_label_errors(Device::cuda()));
}

TEST(CrossEntropyGpu, NearCertainProbabilitiesMatchCpu) {
  DLFS_REQUIRE_GPU();
  // The loss of p ~ 1 is about delta = 1e-7, below float's resolution next to 1: taken in float,
  // -log(p + 1e-7f) is 1.19e-7 at p = 1 (19% off the CPU's double 1.0e-7). 3000 rows give the
  // mean three first-stage blocks.
  const std::int64_t rows = 3000, cols = 3;
  std::vector<float> p(static_cast<std::size_t>(rows * cols), 0.0f);
  std::vector<std::int32_t> labels(static_cast<std::size_t>(rows));
  for (std::int64_t n = 0; n < rows; ++n) {
    labels[n] = static_cast<std::int32_t>(n % cols);
    p[n * cols + labels[n]] = n % 2 ? 1.0f : 1.0f - 6e-8f * static_cast<float>(n % 5);
  }
  Tensor probs = Tensor::from_vector(p, {rows, cols});
  Tensor t = Tensor::from_vector(labels, {rows});
  const Device gpu = Device::cuda();
  for (const Tensor& target : {t, testing::one_hot(t, cols)}) {
    const double cpu = cross_entropy(probs, target).to_vector<float>()[0];
    const double dev = cross_entropy(probs.to(gpu), target.to(gpu)).to_vector<float>()[0];
    EXPECT_NEAR(dev, cpu, 1e-6 * std::abs(cpu));  // about 1e-7 or below: either sign
  }
}

// cuda::mean_row_losses on `row_loss` with `labels` (may be empty), on the device; returns
// {loss, first bad row, its label}.
struct MeanResult {
  float loss;
  std::int64_t bad, label;
};
MeanResult device_mean(const std::vector<float>& row_loss, const std::vector<std::int32_t>& labels,
                       std::int64_t classes, bool with_partials = true) {
#if DLFS_HAVE_CUDA
  const Device gpu = Device::cuda();
  const auto rows = static_cast<std::int64_t>(row_loss.size());
  Tensor losses = Tensor::from_vector(row_loss, {rows}).to(gpu);
  Tensor l = labels.empty() ? Tensor() : Tensor::from_vector(labels, {rows}).to(gpu);
  Tensor loss = Tensor::empty({1}, DType::Float32, gpu);
  Tensor status = Tensor::full({2}, -7.0, DType::Int64, gpu);
  Tensor partials = Tensor::empty({cuda::loss_workspace_doubles(rows)}, DType::Float64, gpu);
  cuda::mean_row_losses(losses.data<float>(), rows,
                        labels.empty() ? nullptr : l.data<std::int32_t>(), classes,
                        loss.data<float>(), status.data<std::int64_t>(), stream_of(losses),
                        with_partials ? partials.data<double>() : nullptr);
  const std::vector<std::int64_t> s = status.to_vector<std::int64_t>();
  return {loss.to_vector<float>()[0], s[0], s[1]};
#else  // no CUDA kernels to call; the tests using this skip first
  (void)row_loss, (void)labels, (void)classes, (void)with_partials;
  ADD_FAILURE() << "device_mean needs a CUDA build";
  return {};
#endif
}

TEST(CrossEntropyGpu, MeanOverManyPartialBlocksIsExactAndRepeatable) {
  DLFS_REQUIRE_GPU();
  // 1000 rows: one block; 5000: five blocks of 1024 rows, the last short; 1024 * 1030 + 7: the
  // cap of 1024 blocks, 1031 rows each, the last one 14.
  for (std::int64_t rows : {1000, 5000, 1024 * 1030 + 7}) {
    SCOPED_TRACE(std::to_string(rows) + " rows");
    Generator g(static_cast<std::uint64_t>(rows));
    std::vector<float> row_loss(static_cast<std::size_t>(rows));
    double sum = 0.0;
    for (float& v : row_loss) sum += v = static_cast<float>(g.uniform() * 20.0);
    const double expected = sum / static_cast<double>(rows);
    const MeanResult a = device_mean(row_loss, {}, 0);
    // Double sums of float terms: the result is the exact mean rounded to float.
    EXPECT_NEAR(a.loss, expected, 1e-7 * expected);
    EXPECT_EQ(device_mean(row_loss, {}, 0).loss, a.loss);  // bitwise repeatable
    EXPECT_NEAR(device_mean(row_loss, {}, 0, false).loss, expected, 1e-7 * expected);
    EXPECT_EQ(a.bad, -7);  // no labels: status untouched
  }
  EXPECT_EQ(cuda::loss_partial_blocks(1024), 1);
  EXPECT_EQ(cuda::loss_partial_blocks(1025), 2);
  EXPECT_EQ(cuda::loss_partial_blocks(5000), 5);
  EXPECT_EQ(cuda::loss_partial_blocks(1024 * 1030 + 7), 1024);
  EXPECT_EQ(cuda::loss_partial_blocks(std::int64_t{1} << 40), cuda::kMaxLossPartials);
}

TEST(CrossEntropyGpu, MeanFindsTheFirstBadLabelInAnyPartialBlock) {
  DLFS_REQUIRE_GPU();
  const std::int64_t rows = 5000, classes = 10;  // five first-stage blocks of 1024 rows
  const std::vector<float> row_loss(static_cast<std::size_t>(rows), 0.5f);
  struct Case {
    std::vector<std::pair<std::int64_t, std::int32_t>> bad;  // (row, label), any order
    std::int64_t first;
  };
  const std::vector<Case> cases = {
      {{}, -1},
      {{{4999, -3}}, 4999},              // the last row of the short last block
      {{{4100, 10}, {4999, -3}}, 4100},  // both in the last block
      {{{3000, 12}, {2048, -1}}, 2048},  // the first row of block 2 beats block 2's later
      {{{1023, 77}, {1024, 11}, {4500, 10}}, 1023},  // block 0's last row beats block 1's first
      {{{4100, 10}, {0, 10}}, 0}};
  for (const Case& c : cases) {
    std::vector<std::int32_t> labels(static_cast<std::size_t>(rows));
    for (std::int64_t n = 0; n < rows; ++n) labels[n] = static_cast<std::int32_t>(n % classes);
    std::int32_t first_label = 0;
    for (auto [row, label] : c.bad) {
      labels[row] = label;
      if (row == c.first) first_label = label;
    }
    SCOPED_TRACE("first bad row " + std::to_string(c.first));
    const MeanResult r = device_mean(row_loss, labels, classes);
    EXPECT_EQ(r.bad, c.first);
    EXPECT_EQ(r.label, first_label);
    EXPECT_FLOAT_EQ(r.loss, 0.5f);
    const MeanResult one_block = device_mean(row_loss, labels, classes, false);
    EXPECT_EQ(one_block.bad, c.first);
    EXPECT_EQ(one_block.label, first_label);
  }
}

}  // namespace
}  // namespace dlfs::kernels
