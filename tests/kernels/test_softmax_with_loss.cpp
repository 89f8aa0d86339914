#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "dlfs/kernels/cross_entropy.hpp"
#include "dlfs/kernels/loss_targets.hpp"
#include "dlfs/kernels/softmax.hpp"
#include "dlfs/kernels/softmax_with_loss.hpp"
#include "support/equivalence.hpp"
#include "support/gpu.hpp"
#include "support/softmax_test_data.hpp"

namespace dlfs::kernels {
namespace {

double scalar(const Tensor& t) {
  return t.dtype() == DType::Float64 ? t.to_vector<double>().at(0) : t.to_vector<float>().at(0);
}

Tensor labels_of(std::vector<std::int32_t> v) {
  const auto n = static_cast<std::int64_t>(v.size());
  return Tensor::from_vector(v, {n});
}

TEST(SoftmaxWithLoss, HandComputedForwardAndBackward) {
  const testing::SoftmaxLossHandCase hand;
  Tensor x = hand.logits_tensor(DType::Float64);
  Tensor labels = hand.labels_tensor();
  for (const Tensor& t : {labels, testing::one_hot(labels, hand.kClasses, DType::Float64)}) {
    Tensor y;
    Tensor loss = softmax_with_loss_forward(x, t, &y);
    EXPECT_EQ(loss.shape(), Shape({1}));
    EXPECT_NEAR(scalar(loss), hand.loss, 1e-15);
    const std::vector<double> p = y.to_vector<double>();
    for (std::size_t i = 0; i < p.size(); ++i) EXPECT_NEAR(p[i], hand.probabilities[i], 1e-15);
    Tensor dx = softmax_with_loss_backward(y, t, Tensor::full({1}, 3.0, DType::Float64));
    const std::vector<double> g = dx.to_vector<double>(), expected = hand.gradient(3.0);
    for (std::size_t i = 0; i < g.size(); ++i) EXPECT_NEAR(g[i], expected[i], 1e-15);
  }
}

TEST(SoftmaxWithLoss, SoftTargets) {
  Tensor x = Tensor::from_vector<double>({0, std::log(3.0)}, {1, 2});
  Tensor t = Tensor::from_vector<double>({0.5, 0.5}, {1, 2});
  Tensor y;
  EXPECT_NEAR(scalar(softmax_with_loss_forward(x, t, &y)),
              -(0.5 * std::log(0.25) + 0.5 * std::log(0.75)), 1e-15);
  const std::vector<double> g =
      softmax_with_loss_backward(y, t, Tensor::full({1}, 1.0, DType::Float64)).to_vector<double>();
  EXPECT_NEAR(g[0], -0.25, 1e-15);
  EXPECT_NEAR(g[1], 0.25, 1e-15);
}

TEST(SoftmaxWithLoss, UnderflowingTrueClassGivesLargeFiniteLoss) {
  // The true class's probability is 0 in float, yet the log-sum-exp loss is exact.
  Tensor y;
  Tensor loss =
      softmax_with_loss_forward(Tensor::from_vector<float>({1000, 0}, {1, 2}), labels_of({1}), &y);
  EXPECT_EQ(y.to_vector<float>()[1], 0.0f);
  EXPECT_EQ(scalar(loss), 1000.0);
  loss = softmax_with_loss_forward(Tensor::from_vector<float>({1e4f, -1e4f}, {1, 2}),
                                   Tensor::from_vector<float>({0, 1}, {1, 2}), &y);
  EXPECT_EQ(scalar(loss), 2e4);
  // Huge logits with the right answer: loss ~ exp(-1) / (1 + ...) in digits beyond 1e4's.
  loss = softmax_with_loss_forward(Tensor::from_vector<float>({1e4f, 1e4f - 1.0f}, {1, 2}),
                                   labels_of({0}), &y);
  EXPECT_NEAR(scalar(loss), std::log1p(std::exp(-1.0)), 1e-7);
}

TEST(SoftmaxWithLoss, NegativeInfinityLogitsAwayFromTheLabel) {
  const float inf = std::numeric_limits<float>::infinity();
  Tensor x = Tensor::from_vector<float>({-inf, 0.0f, std::log(3.0f)}, {1, 3});
  Tensor y;
  EXPECT_NEAR(scalar(softmax_with_loss_forward(x, labels_of({2}), &y)), -std::log(0.75), 1e-7);
  EXPECT_NEAR(scalar(softmax_with_loss_forward(x, testing::one_hot(labels_of({2}), 3), &y)),
              -std::log(0.75), 1e-7);
  EXPECT_EQ(y.to_vector<float>()[0], 0.0f);
  // At the label the loss really is infinite: -log(0).
  EXPECT_EQ(scalar(softmax_with_loss_forward(x, labels_of({0}), &y)), inf);
}

TEST(SoftmaxWithLoss, OneClassHasZeroLossAndGradient) {
  Tensor x = Tensor::from_vector<float>({3.0f, -2.0f}, {2, 1});
  Tensor y;
  EXPECT_EQ(scalar(softmax_with_loss_forward(x, labels_of({0, 0}), &y)), 0.0);
  EXPECT_EQ(y.to_vector<float>(), std::vector<float>({1.0f, 1.0f}));
  EXPECT_EQ(
      softmax_with_loss_backward(y, labels_of({0, 0}), Tensor::full({1}, 1.0)).to_vector<float>(),
      std::vector<float>({0.0f, 0.0f}));
}

TEST(SoftmaxWithLoss, AgreesWithSoftmaxThenCrossEntropy) {
  Generator g(5);
  Tensor x = testing::random_logits(9, 13, g, 2.0, DType::Float64);
  Tensor labels = testing::random_labels(9, 13, g);
  Tensor y;
  const double fused = scalar(softmax_with_loss_forward(x, labels, &y));
  EXPECT_TENSORS_CLOSE(y.to(DType::Float32), softmax(x).to(DType::Float32), 1e-7);
  // The book's cross-entropy adds delta = 1e-7 inside the log: a difference of about
  // delta / p per row, well under 1e-4 for these probabilities.
  EXPECT_NEAR(fused, scalar(cross_entropy(softmax(x), labels)), 1e-4);
  double direct = 0.0;
  const std::vector<double> p = y.to_vector<double>();
  const std::vector<std::int32_t> l = labels.to_vector<std::int32_t>();
  for (std::int64_t n = 0; n < 9; ++n) direct -= std::log(p[n * 13 + l[n]]);
  EXPECT_NEAR(fused, direct / 9, 1e-13);
}

TEST(SoftmaxWithLoss, LabelOutOfRangeNamesLabelAndIndex) {
  Tensor x = Tensor::zeros({3, 5});
  Tensor y;
  try {
    softmax_with_loss_forward(x, labels_of({0, 4, 5}), &y);
    FAIL() << "label 5 was accepted";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("softmax_with_loss"), std::string::npos) << msg;
    EXPECT_NE(msg.find("label 5 at index 2"), std::string::npos) << msg;
  }
  EXPECT_THROW(softmax_with_loss_forward(x, labels_of({-1, 0, 0}), &y), Error);
}

TEST(SoftmaxWithLoss, RejectsBadShapes) {
  Tensor y;
  EXPECT_THROW(softmax_with_loss_forward(Tensor::zeros({3, 5}), labels_of({0, 1}), &y), Error);
  EXPECT_THROW(softmax_with_loss_forward(Tensor::zeros({3, 5}), Tensor::zeros({3, 4}), &y), Error);
  Tensor p = Tensor::full({2, 2}, 0.5);
  EXPECT_THROW(softmax_with_loss_backward(p, labels_of({0, 1}), Tensor::full({2}, 1.0)), Error);
  EXPECT_THROW(
      softmax_with_loss_backward(p, labels_of({0, 1}), Tensor::full({1}, 1.0, DType::Float64)),
      Error);
}

struct GpuCase {
  std::int64_t rows, cols;
};

TEST(SoftmaxWithLossGpu, ForwardBackwardMatchCpu) {
  DLFS_REQUIRE_GPU();
  const Device gpu = Device::cuda();
  for (GpuCase s : {GpuCase{1, 1}, GpuCase{4099, 10}, GpuCase{257, 1000}, GpuCase{3, 1025},
                    GpuCase{16, 32768}}) {
    SCOPED_TRACE(std::to_string(s.rows) + " x " + std::to_string(s.cols));
    Generator g(static_cast<std::uint64_t>(s.rows * 7 + s.cols));
    Tensor x = testing::random_logits(s.rows, s.cols, g, 4.0);
    Tensor labels = testing::random_labels(s.rows, s.cols, g);
    Tensor dloss = Tensor::full({1}, 0.7);
    for (const Tensor& t : {labels, testing::one_hot(labels, s.cols),
                            testing::random_distributions(s.rows, s.cols, g)}) {
      Tensor y, yd;
      Tensor loss = softmax_with_loss_forward(x, t, &y);
      Tensor loss_d = softmax_with_loss_forward(x.to(gpu), t.to(gpu), &yd);
      EXPECT_TENSORS_CLOSE(y, yd, 1e-5);
      // A mean over rows of float terms (see CrossEntropyGpu.MatchesCpu): 1e-5.
      EXPECT_TENSORS_CLOSE(loss, loss_d, 1e-5);
      EXPECT_TENSORS_CLOSE(softmax_with_loss_backward(y, t, dloss),
                           softmax_with_loss_backward(yd, t.to(gpu), dloss.to(gpu)), 1e-5);
    }
  }
}

TEST(SoftmaxWithLossGpu, ShortRowsAtEveryGroupWidthMatchCpu) {
  DLFS_REQUIRE_GPU();
  // Rows up to 1024 columns get 1 to 32 lanes (about 4 columns a lane), several rows a warp; 45
  // rows leave idle groups in the last warp.
  const Device gpu = Device::cuda();
  for (std::int64_t cols : {1, 2, 3, 5, 9, 17, 33, 65, 129}) {
    SCOPED_TRACE(std::to_string(cols) + " columns");
    const std::int64_t rows = 45;
    Generator g(static_cast<std::uint64_t>(cols * 11));
    Tensor x = testing::random_logits(rows, cols, g, 4.0);
    Tensor labels = testing::random_labels(rows, cols, g);
    for (const Tensor& t :
         {labels, testing::one_hot(labels, cols), testing::random_distributions(rows, cols, g)}) {
      Tensor y, yd;
      Tensor loss = softmax_with_loss_forward(x, t, &y);
      Tensor loss_d = softmax_with_loss_forward(x.to(gpu), t.to(gpu), &yd);
      EXPECT_TENSORS_CLOSE(y, yd, 1e-5);
      EXPECT_TENSORS_CLOSE(loss, loss_d, 1e-5);
    }
  }
}

TEST(SoftmaxWithLossGpu, EdgeCases) {
  DLFS_REQUIRE_GPU();
  const Device gpu = Device::cuda();
  Tensor y;
  EXPECT_EQ(scalar(softmax_with_loss_forward(Tensor::from_vector<float>({1000, 0}, {1, 2}).to(gpu),
                                             labels_of({1}).to(gpu), &y)),
            1000.0);
  EXPECT_EQ(
      scalar(softmax_with_loss_forward(Tensor::from_vector<float>({1e4f, -1e4f}, {1, 2}).to(gpu),
                                       labels_of({1}).to(gpu), &y)),
      2e4);
  for (std::int64_t cols : {10, 3000}) {
    Tensor x = Tensor::full({4, cols}, -5.0).to(gpu);
    Tensor loss = softmax_with_loss_forward(x, labels_of({0, 1, 2, 3}).to(gpu), &y);
    EXPECT_NEAR(scalar(loss), std::log(static_cast<double>(cols)), 1e-6);
    for (float p : y.to_vector<float>()) ASSERT_EQ(p, 1.0f / static_cast<float>(cols));
  }
}

TEST(SoftmaxWithLossGpu, LabelOutOfRangeNamesLabelAndIndex) {
  DLFS_REQUIRE_GPU();
  Tensor x = Tensor::zeros({3, 5}).to(Device::cuda());
  Tensor y;
  try {
    softmax_with_loss_forward(x, labels_of({0, 7, 5}).to(Device::cuda()), &y);
    report_label_errors(Device::cuda());  // the op queues the kernels' verdict
    FAIL() << "label 7 was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("label 7 at index 1"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace dlfs::kernels
