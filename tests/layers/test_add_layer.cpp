#include <gtest/gtest.h>

#include "dlfs/layers/add.hpp"
#include "support/elementwise_testing.hpp"
#include "support/equivalence.hpp"
#include "support/gpu.hpp"
#include "support/gradient_check.hpp"

namespace dlfs {
namespace {

TEST(AddGradCheck, TwoInputs) {
  Add layer;
  Generator g(1);
  auto r = testing::check_gradients(
      layer, {testing::random_tensor({3, 5, 7}, g), testing::random_tensor({3, 5, 7}, g)});
  EXPECT_GRADIENTS_MATCH(r);
  EXPECT_EQ(r.checked, 210u);
}

TEST(AddGradCheck, ThreeInputs) {
  Add layer;
  Generator g(2);
  auto r = testing::check_gradients(
      layer, {testing::random_tensor({2, 3, 5, 7}, g), testing::random_tensor({2, 3, 5, 7}, g),
              testing::random_tensor({2, 3, 5, 7}, g)});
  EXPECT_GRADIENTS_MATCH(r);
  EXPECT_EQ(r.checked, 630u);
}

TEST(AddLayer, SumsInputsAndPassesTheGradientToEach) {
  Add layer;
  Tensor a = Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2});
  Tensor b = Tensor::from_vector<float>({10, 20, 30, 40}, {2, 2});
  Tensor c = Tensor::from_vector<float>({0.5, -2, 0, -4}, {2, 2});
  Tensor y = layer.forward({a, b, c}, Mode::Train);
  EXPECT_EQ(y.shape(), Shape({2, 2}));
  EXPECT_EQ(y.to_vector<float>(), std::vector<float>({11.5, 20, 33, 40}));
  EXPECT_EQ(a.to_vector<float>(), std::vector<float>({1, 2, 3, 4}));  // inputs untouched
  Tensor dy = Tensor::from_vector<float>({1, -1, 2, 3}, {2, 2});
  std::vector<Tensor> dx = layer.backward(dy);
  ASSERT_EQ(dx.size(), 3u);
  for (const Tensor& g : dx) EXPECT_EQ(g.to_vector<float>(), dy.to_vector<float>());
}

TEST(AddLayer, RejectsBadInputs) {
  Add layer;
  EXPECT_THROW(layer.forward({Tensor::zeros({2})}, Mode::Train), Error);
  EXPECT_THROW(layer.forward({Tensor::zeros({2}), Tensor::zeros({3})}, Mode::Train), Error);
  EXPECT_THROW(layer.forward({Tensor::zeros({2}), Tensor()}, Mode::Train), Error);
  layer.forward({Tensor::zeros({2}), Tensor::zeros({2})}, Mode::Train);
  EXPECT_THROW(layer.backward(Tensor::zeros({3})), Error);
}

TEST(AddLayer, InferenceKeepsNothingForBackward) {
  Add layer;
  layer.forward({Tensor::zeros({2}), Tensor::zeros({2})}, Mode::Inference);
  EXPECT_THROW(layer.backward(Tensor::zeros({2})), Error);
}

TEST(AddLayerGpu, ForwardBackwardMatchCpu) {
  DLFS_REQUIRE_GPU();
  for (const Shape& shape : {Shape{3, 5, 7, 9}, Shape{32, 64, 56, 56}}) {
    std::vector<Tensor> inputs, inputs_gpu;
    for (std::uint64_t k = 0; k < 3; ++k) {
      inputs.push_back(testing::random_normal(shape, 10 + k));
      inputs_gpu.push_back(inputs.back().to(Device::cuda()));
    }
    Tensor dy = testing::random_normal(shape, 20);
    Add cpu, gpu;
    // (a + b) + c in the same order on both devices, each sum correctly rounded: bit-identical.
    EXPECT_TENSORS_CLOSE(cpu.forward(inputs, Mode::Train), gpu.forward(inputs_gpu, Mode::Train),
                         0.0);
    std::vector<Tensor> dx = gpu.backward(dy.to(Device::cuda()));
    ASSERT_EQ(dx.size(), 3u);
    for (const Tensor& g : dx) {
      EXPECT_TRUE(g.device().is_cuda());
      EXPECT_TENSORS_CLOSE(dy, g, 0.0);
    }
  }
}

}  // namespace
}  // namespace dlfs
