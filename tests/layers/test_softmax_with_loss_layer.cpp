#include <gtest/gtest.h>

#include <cmath>

#include "dlfs/layers/softmax_with_loss.hpp"
#include "support/equivalence.hpp"
#include "support/gpu.hpp"
#include "support/gradient_check.hpp"
#include "support/softmax_test_data.hpp"

namespace dlfs {
namespace {

testing::GradCheckOptions loss_options() {
  testing::GradCheckOptions options;
  options.check_input = {true, false};  // labels take no gradient
  options.output_is_loss = true;
  return options;
}

TEST(SoftmaxWithLossGradCheck, IntLabels) {
  SoftmaxWithLoss layer;
  Generator g(1);
  Tensor logits = testing::random_tensor({7, 5}, g, 2.0);
  auto r =
      testing::check_gradients(layer, {logits, testing::random_labels(7, 5, g)}, loss_options());
  EXPECT_GRADIENTS_MATCH(r);
  EXPECT_EQ(r.checked, 35u);
}

TEST(SoftmaxWithLossGradCheck, OneHotLabels) {
  SoftmaxWithLoss layer;
  Generator g(2);
  Tensor logits = testing::random_tensor({3, 11}, g, 2.0);
  Tensor targets = testing::one_hot(testing::random_labels(3, 11, g), 11, DType::Float64);
  auto r = testing::check_gradients(layer, {logits, targets}, loss_options());
  EXPECT_GRADIENTS_MATCH(r);
  EXPECT_EQ(r.checked, 33u);
}

TEST(SoftmaxWithLossGradCheck, SoftTargets) {
  SoftmaxWithLoss layer;
  Generator g(3);
  Tensor logits = testing::random_tensor({5, 3}, g, 2.0);
  Tensor targets = testing::random_distributions(5, 3, g, DType::Float64);
  auto r = testing::check_gradients(layer, {logits, targets}, loss_options());
  EXPECT_GRADIENTS_MATCH(r);
  EXPECT_EQ(r.checked, 15u);
}

TEST(SoftmaxWithLossGradCheck, BatchOfOneWithLargeLogits) {
  SoftmaxWithLoss layer;
  Generator g(4);
  Tensor logits = testing::random_tensor({1, 9}, g, 20.0);
  auto r =
      testing::check_gradients(layer, {logits, testing::random_labels(1, 9, g)}, loss_options());
  EXPECT_GRADIENTS_MATCH(r);
}

TEST(SoftmaxWithLossLayer, ForwardReturnsTheMeanLossAndKeepsProbabilities) {
  const testing::SoftmaxLossHandCase hand;
  SoftmaxWithLoss layer;
  Tensor logits = hand.logits_tensor(DType::Float32);
  Tensor loss = layer.forward({logits, hand.labels_tensor()}, Mode::Train);
  EXPECT_EQ(loss.shape(), Shape({1}));
  EXPECT_EQ(loss.device(), logits.device());
  EXPECT_NEAR(loss.to_vector<float>()[0], hand.loss, 1e-7);
  const std::vector<float> p = layer.probabilities().to_vector<float>();
  for (std::size_t i = 0; i < p.size(); ++i) EXPECT_NEAR(p[i], hand.probabilities[i], 1e-7);
  std::vector<Tensor> grads = layer.backward(Tensor::full({1}, 2.0));
  ASSERT_EQ(grads.size(), 2u);
  EXPECT_FALSE(grads[1].defined());
  const std::vector<float> dx = grads[0].to_vector<float>();
  const std::vector<double> expected = hand.gradient(2.0);
  for (std::size_t i = 0; i < dx.size(); ++i) EXPECT_NEAR(dx[i], expected[i], 1e-7);
}

TEST(SoftmaxWithLossLayer, InferenceReturnsTheLossButKeepsNothingForBackward) {
  SoftmaxWithLoss layer;
  Tensor logits = Tensor::from_vector<float>({0, 0, 0, 0}, {1, 4});
  Tensor loss =
      layer.forward({logits, Tensor::from_vector<std::int32_t>({3}, {1})}, Mode::Inference);
  EXPECT_NEAR(loss.to_vector<float>()[0], std::log(4.0), 1e-6);
  EXPECT_EQ(layer.probabilities().to_vector<float>(), std::vector<float>(4, 0.25f));
  EXPECT_THROW(layer.backward(Tensor::full({1}, 1.0)), Error);
}

TEST(SoftmaxWithLossLayer, RejectsBadInputs) {
  SoftmaxWithLoss layer;
  EXPECT_THROW(layer.forward({Tensor::zeros({2, 3})}, Mode::Train), Error);
  EXPECT_THROW(
      layer.forward({Tensor::zeros({2, 3}), Tensor::from_vector<std::int32_t>({0, 3}, {2})},
                    Mode::Train),
      Error);
  EXPECT_THROW(layer.backward(Tensor::full({1}, 1.0)), Error);  // the failed forward kept nothing
}

TEST(SoftmaxWithLossLayerGpu, ForwardBackwardMatchCpu) {
  DLFS_REQUIRE_GPU();
  const Device gpu = Device::cuda();
  Generator g(9);
  Tensor logits = testing::random_logits(257, 10, g, 3.0);
  Tensor labels = testing::random_labels(257, 10, g);
  for (const Tensor& t : {labels, testing::one_hot(labels, 10)}) {
    SoftmaxWithLoss cpu, cuda;
    Tensor loss = cpu.forward({logits, t}, Mode::Train);
    Tensor loss_d = cuda.forward({logits.to(gpu), t.to(gpu)}, Mode::Train);
    EXPECT_EQ(loss_d.device(), gpu);
    EXPECT_TENSORS_CLOSE(loss, loss_d, 1e-5);  // a mean of 257 float terms
    EXPECT_TENSORS_CLOSE(cpu.probabilities(), cuda.probabilities(), 1e-5);
    std::vector<Tensor> grads = cuda.backward(Tensor::full({1}, 1.0).to(gpu));
    EXPECT_FALSE(grads[1].defined());
    EXPECT_TENSORS_CLOSE(cpu.backward(Tensor::full({1}, 1.0))[0], grads[0], 1e-5);
  }
}

}  // namespace
}  // namespace dlfs
