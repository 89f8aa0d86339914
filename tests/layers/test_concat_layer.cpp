#include <gtest/gtest.h>

#include "dlfs/layers/concat.hpp"
#include "support/elementwise_testing.hpp"
#include "support/equivalence.hpp"
#include "support/gpu.hpp"
#include "support/gradient_check.hpp"

namespace dlfs {
namespace {

TEST(ConcatGradCheck, TwoInputsOfDifferentChannelCounts) {
  Concat layer;
  Generator g(1);
  auto r = testing::check_gradients(
      layer, {testing::random_tensor({2, 3, 4, 5}, g), testing::random_tensor({2, 1, 4, 5}, g)});
  EXPECT_GRADIENTS_MATCH(r);
  EXPECT_EQ(r.checked, 160u);
}

TEST(ConcatGradCheck, FourBranchesAsInAnInceptionBlock) {
  Concat layer;
  Generator g(2);
  auto r = testing::check_gradients(
      layer, {testing::random_tensor({3, 2, 3, 3}, g), testing::random_tensor({3, 4, 3, 3}, g),
              testing::random_tensor({3, 1, 3, 3}, g), testing::random_tensor({3, 3, 3, 3}, g)});
  EXPECT_GRADIENTS_MATCH(r);
  EXPECT_EQ(r.checked, 270u);
}

TEST(ConcatLayer, JoinsChannelsImageByImageAndSplitsTheGradientBack) {
  Concat layer;
  // a: 2 images of 1 channel of 2 pixels; b: 2 images of 2 channels of 2 pixels.
  Tensor a = Tensor::from_vector<float>({1, 2, 3, 4}, {2, 1, 1, 2});
  Tensor b = Tensor::from_vector<float>({10, 20, 30, 40, 50, 60, 70, 80}, {2, 2, 1, 2});
  Tensor y = layer.forward({a, b}, Mode::Train);
  EXPECT_EQ(y.shape(), Shape({2, 3, 1, 2}));
  EXPECT_EQ(y.to_vector<float>(), std::vector<float>({1, 2, 10, 20, 30, 40, 3, 4, 50, 60, 70, 80}));
  Tensor dy =
      Tensor::from_vector<float>({-1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12}, {2, 3, 1, 2});
  std::vector<Tensor> dx = layer.backward(dy);
  ASSERT_EQ(dx.size(), 2u);
  EXPECT_EQ(dx[0].shape(), a.shape());
  EXPECT_EQ(dx[1].shape(), b.shape());
  EXPECT_EQ(dx[0].to_vector<float>(), std::vector<float>({-1, -2, -7, -8}));
  EXPECT_EQ(dx[1].to_vector<float>(), std::vector<float>({-3, -4, -5, -6, -9, -10, -11, -12}));
}

TEST(ConcatLayer, RejectsInputsThatDifferOutsideTheChannelAxis) {
  Concat layer;
  EXPECT_THROW(layer.forward({Tensor::zeros({2, 1, 3, 3})}, Mode::Train), Error);
  EXPECT_THROW(
      layer.forward({Tensor::zeros({2, 1, 3, 3}), Tensor::zeros({3, 1, 3, 3})}, Mode::Train),
      Error);
  EXPECT_THROW(
      layer.forward({Tensor::zeros({2, 1, 3, 3}), Tensor::zeros({2, 1, 3, 4})}, Mode::Train),
      Error);
  EXPECT_THROW(layer.forward({Tensor::zeros({2, 1, 3, 3}), Tensor()}, Mode::Train), Error);
  EXPECT_THROW(
      layer.forward({Tensor::zeros({2, 1}), Tensor::zeros({2, 1}, DType::Int32)}, Mode::Train),
      Error);
  layer.forward({Tensor::zeros({2, 1, 3, 3}), Tensor::zeros({2, 2, 3, 3})}, Mode::Train);
  EXPECT_THROW(layer.backward(Tensor::zeros({2, 4, 3, 3})), Error);
}

TEST(ConcatLayer, InferenceKeepsNothingForBackward) {
  Concat layer;
  layer.forward({Tensor::zeros({2, 1}), Tensor::zeros({2, 3})}, Mode::Inference);
  EXPECT_THROW(layer.backward(Tensor::zeros({2, 4})), Error);
}

TEST(ConcatLayerGpu, ForwardBackwardMatchCpu) {
  DLFS_REQUIRE_GPU();
  // An Inception block's widths at 28x28 (3a), and odd sizes.
  for (const auto& channels :
       {std::vector<std::int64_t>{64, 128, 32, 32}, std::vector<std::int64_t>{3, 1, 5}}) {
    const std::int64_t n = channels.size() == 4 ? 8 : 3, h = channels.size() == 4 ? 14 : 5;
    std::vector<Tensor> inputs, inputs_gpu;
    std::int64_t total = 0;
    for (std::size_t k = 0; k < channels.size(); ++k) {
      inputs.push_back(testing::random_normal({n, channels[k], h, h}, 30 + k));
      inputs_gpu.push_back(inputs.back().to(Device::cuda()));
      total += channels[k];
    }
    Concat cpu, gpu;
    // Copies only: bit-identical on both devices.
    EXPECT_TENSORS_CLOSE(cpu.forward(inputs, Mode::Train), gpu.forward(inputs_gpu, Mode::Train),
                         0.0);
    Tensor dy = testing::random_normal({n, total, h, h}, 40);
    std::vector<Tensor> dx_cpu = cpu.backward(dy), dx_gpu = gpu.backward(dy.to(Device::cuda()));
    ASSERT_EQ(dx_gpu.size(), channels.size());
    for (std::size_t k = 0; k < channels.size(); ++k) {
      EXPECT_TRUE(dx_gpu[k].device().is_cuda());
      EXPECT_TENSORS_CLOSE(dx_cpu[k], dx_gpu[k], 0.0);
    }
  }
}

}  // namespace
}  // namespace dlfs
