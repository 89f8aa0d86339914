#include <gtest/gtest.h>

#include <cmath>

#include "dlfs/layers/batch_norm.hpp"
#include "support/batch_norm_close.hpp"
#include "support/gpu.hpp"
#include "support/gradient_check.hpp"

namespace dlfs {
namespace {

// The gradient checker converts the layer with Layer::to(DType::Float64), which converts every
// buffer, and num_batches_tracked is an int64 with no such conversion. This adapter shows the
// checker BatchNorm without that buffer (it stays an int64 on the CPU and keeps counting).
class WithoutIntegerBuffers : public Layer {
 public:
  explicit WithoutIntegerBuffers(Layer& inner) : inner_(inner) {}
  std::string type() const override { return inner_.type(); }
  Tensor forward(const std::vector<Tensor>& inputs, Mode mode) override {
    return inner_.forward(inputs, mode);
  }
  std::vector<Tensor> backward(const Tensor& dy) override { return inner_.backward(dy); }
  std::vector<Parameter*> parameters() override { return inner_.parameters(); }
  std::vector<Buffer*> buffers() override {
    std::vector<Buffer*> floating;
    for (Buffer* b : inner_.buffers())
      if (b->value.dtype() == DType::Float32 || b->value.dtype() == DType::Float64)
        floating.push_back(b);
    return floating;
  }

 private:
  Layer& inner_;
};

testing::GradCheckResult check(const Shape& shape, std::uint64_t seed) {
  BatchNorm layer(shape[1]);
  Generator g(seed);
  testing::randomize_parameters(layer, g);
  WithoutIntegerBuffers checkable(layer);
  return testing::check_gradients(checkable, {testing::random_tensor(shape, g, 2.0)});
}

TEST(BatchNormGradCheck, PerFeature) {
  auto r = check({6, 5}, 1);
  EXPECT_GRADIENTS_MATCH(r);
  EXPECT_EQ(r.checked, 6u * 5 + 5 + 5);  // input, weight, bias
}

TEST(BatchNormGradCheck, PerFeatureBatchTwo) {
  EXPECT_GRADIENTS_MATCH(check({2, 3}, 2));
}

TEST(BatchNormGradCheck, PerChannel) {
  auto r = check({3, 5, 7, 9}, 3);
  EXPECT_GRADIENTS_MATCH(r);
  EXPECT_EQ(r.checked, 3u * 5 * 7 * 9 + 5 + 5);
}

TEST(BatchNormGradCheck, PerChannelBatchOne) {
  EXPECT_GRADIENTS_MATCH(check({1, 4, 3, 5}, 4));
}

TEST(BatchNormLayer, StateIsNamedAndInitialisedLikePyTorch) {
  BatchNorm layer(4);
  std::vector<Parameter*> params = layer.parameters();
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params[0]->name, "weight");
  EXPECT_EQ(params[1]->name, "bias");
  EXPECT_EQ(params[0]->value.to_vector<float>(), std::vector<float>(4, 1.0f));
  EXPECT_EQ(params[1]->value.to_vector<float>(), std::vector<float>(4, 0.0f));
  std::vector<Buffer*> buffers = layer.buffers();
  ASSERT_EQ(buffers.size(), 3u);
  EXPECT_EQ(buffers[0]->name, "running_mean");
  EXPECT_EQ(buffers[1]->name, "running_var");
  EXPECT_EQ(buffers[2]->name, "num_batches_tracked");
  EXPECT_EQ(buffers[0]->value.to_vector<float>(), std::vector<float>(4, 0.0f));
  EXPECT_EQ(buffers[1]->value.to_vector<float>(), std::vector<float>(4, 1.0f));
  EXPECT_EQ(buffers[2]->value.dtype(), DType::Int64);
  EXPECT_EQ(buffers[2]->value.shape(), Shape{});  // 0-dim, as PyTorch stores it
  EXPECT_EQ(buffers[2]->value.to_vector<std::int64_t>(), std::vector<std::int64_t>({0}));
  EXPECT_EQ(layer.eps(), 1e-5);
  EXPECT_EQ(layer.momentum(), 0.1);
  EXPECT_EQ(layer.describe(), "4, eps 1e-05, momentum 0.1");
}

TEST(BatchNormLayer, TrainUpdatesRunningStatisticsAndInferenceUsesThem) {
  BatchNorm layer(2, 1e-5, 0.5);
  // Feature 0: {1, 3} (mean 2, unbiased var 2); feature 1: {4, 4} (mean 4, var 0).
  Tensor x = Tensor::from_vector<float>({1, 4, 3, 4}, {2, 2});
  Tensor y = layer.forward({x}, Mode::Train);
  const float invstd0 = 1 / std::sqrt(1 + 1e-5f);
  const std::vector<float> yv = y.to_vector<float>();
  EXPECT_FLOAT_EQ(yv[0], -invstd0);
  EXPECT_FLOAT_EQ(yv[2], invstd0);
  EXPECT_FLOAT_EQ(yv[1], 0.0f);
  EXPECT_EQ(layer.running_mean().value.to_vector<float>(), std::vector<float>({1.0f, 2.0f}));
  EXPECT_EQ(layer.running_var().value.to_vector<float>(), std::vector<float>({1.5f, 0.5f}));
  EXPECT_EQ(layer.num_batches_tracked().value.to_vector<std::int64_t>()[0], 1);

  // Inference normalizes with the running statistics and changes no state.
  Tensor z = layer.forward({Tensor::from_vector<float>({3, 2}, {1, 2})}, Mode::Inference);
  const std::vector<float> zv = z.to_vector<float>();
  EXPECT_FLOAT_EQ(zv[0], (3 - 1.0f) / std::sqrt(1.5f + 1e-5f));
  EXPECT_FLOAT_EQ(zv[1], (2 - 2.0f) / std::sqrt(0.5f + 1e-5f));
  EXPECT_EQ(layer.num_batches_tracked().value.to_vector<std::int64_t>()[0], 1);
  EXPECT_EQ(layer.running_mean().value.to_vector<float>(), std::vector<float>({1.0f, 2.0f}));
}

// Momentum 0.1 (PyTorch's default) tells running = (1 - m) * running + m * batch apart from the
// swapped running = m * running + (1 - m) * batch, which momentum 0.5 cannot.
TEST(BatchNormLayer, MomentumWeighsTheNewBatchStatisticsByMomentum) {
  BatchNorm layer(2, 1e-5, 0.1);
  // Step 1: feature 0 {1, 3} (mean 2, unbiased var 2), feature 1 {4, 4} (mean 4, var 0).
  layer.forward({Tensor::from_vector<float>({1, 4, 3, 4}, {2, 2})}, Mode::Train);
  std::vector<float> mean = layer.running_mean().value.to_vector<float>();
  std::vector<float> var = layer.running_var().value.to_vector<float>();
  EXPECT_NEAR(mean[0], 0.9 * 0 + 0.1 * 2, 1e-6);  // 0.2
  EXPECT_NEAR(mean[1], 0.9 * 0 + 0.1 * 4, 1e-6);  // 0.4
  EXPECT_NEAR(var[0], 0.9 * 1 + 0.1 * 2, 1e-6);   // 1.1
  EXPECT_NEAR(var[1], 0.9 * 1 + 0.1 * 0, 1e-6);   // 0.9
  // Step 2: feature 0 {5, 9} (mean 7, var 8), feature 1 {0, 2} (mean 1, var 2).
  layer.forward({Tensor::from_vector<float>({5, 0, 9, 2}, {2, 2})}, Mode::Train);
  mean = layer.running_mean().value.to_vector<float>();
  var = layer.running_var().value.to_vector<float>();
  EXPECT_NEAR(mean[0], 0.9 * 0.2 + 0.1 * 7, 1e-6);  // 0.88
  EXPECT_NEAR(mean[1], 0.9 * 0.4 + 0.1 * 1, 1e-6);  // 0.46
  EXPECT_NEAR(var[0], 0.9 * 1.1 + 0.1 * 8, 1e-6);   // 1.79
  EXPECT_NEAR(var[1], 0.9 * 0.9 + 0.1 * 2, 1e-6);   // 1.01
  EXPECT_EQ(layer.num_batches_tracked().value.to_vector<std::int64_t>()[0], 2);
}

TEST(BatchNormLayer, SpatialMomentumUsesTheUnbiasedVarianceOverBatchAndPixels) {
  // One channel, N = 2, 1x2 pixels: {1, 3, 5, 7}, mean 4, unbiased var (9 + 1 + 1 + 9) / 3.
  BatchNorm layer(1, 1e-5, 0.1);
  layer.forward({Tensor::from_vector<float>({1, 3, 5, 7}, {2, 1, 1, 2})}, Mode::Train);
  EXPECT_NEAR(layer.running_mean().value.to_vector<float>()[0], 0.1 * 4, 1e-6);
  EXPECT_NEAR(layer.running_var().value.to_vector<float>()[0], 0.9 + 0.1 * 20.0 / 3.0, 1e-6);
}

TEST(BatchNormLayer, InferenceKeepsNothingForBackward) {
  BatchNorm layer(3);
  layer.forward({Tensor::zeros({2, 3})}, Mode::Train);
  layer.forward({Tensor::zeros({2, 3})}, Mode::Inference);
  EXPECT_THROW(layer.backward(Tensor::zeros({2, 3})), Error);
}

TEST(BatchNormLayer, BackwardOverwritesParameterGradients) {
  BatchNorm layer(3);
  Generator g(5);
  Tensor x = testing::random_tensor({4, 3, 2, 2}, g).to(DType::Float32);
  Tensor dy = testing::random_tensor({4, 3, 2, 2}, g).to(DType::Float32);
  layer.forward({x}, Mode::Train);
  layer.backward(dy);
  const std::vector<float> dgamma = layer.weight().grad.to_vector<float>();
  const std::vector<float> dbeta = layer.bias().grad.to_vector<float>();
  layer.forward({x}, Mode::Train);
  layer.backward(dy);
  EXPECT_EQ(layer.weight().grad.to_vector<float>(), dgamma);
  EXPECT_EQ(layer.bias().grad.to_vector<float>(), dbeta);
  // dbeta is the sum of dy over batch and space.
  const std::vector<float> dyv = dy.to_vector<float>();
  for (int c = 0; c < 3; ++c) {
    double sum = 0;
    for (int n = 0; n < 4; ++n)
      for (int s = 0; s < 4; ++s) sum += dyv[(n * 3 + c) * 4 + s];
    EXPECT_NEAR(dbeta[c], sum, 1e-5);
  }
}

TEST(BatchNormLayer, ClearErrors) {
  EXPECT_THROW(BatchNorm(0), Error);
  EXPECT_THROW(BatchNorm(3, 0.0), Error);
  EXPECT_THROW(BatchNorm(3, 1e-5, 1.5), Error);
  BatchNorm layer(3);
  EXPECT_THROW(layer.forward({Tensor::zeros({2, 4})}, Mode::Train), Error);  // 4 features
  EXPECT_THROW(layer.forward({Tensor::zeros({1, 3})}, Mode::Train), Error);  // one value each
}

TEST(BatchNormLayerGpu, TrainInferenceAndBackwardMatchCpu) {
  DLFS_REQUIRE_GPU();
  for (const Shape& shape : {Shape{7, 5}, Shape{3, 5, 7, 9}, Shape{1, 5, 4, 3}}) {
    SCOPED_TRACE(shape.str());
    Generator g(6);
    BatchNorm cpu(5), gpu(5);
    testing::randomize_parameters(cpu, g);
    for (std::size_t i = 0; i < 2; ++i)
      gpu.parameters()[i]->value.copy_from(cpu.parameters()[i]->value);
    gpu.to(Device::cuda());
    EXPECT_TRUE(gpu.num_batches_tracked().value.device().is_cuda());
    Tensor x = Tensor::empty(shape);
    x.normal_(g, 0.5, 2.0);
    Tensor dy = Tensor::empty(shape);
    dy.normal_(g, 0.3, 1.0);
    // Tolerance and floors: see support/batch_norm_close.hpp.
    using testing::batch_norm_close;
    const double tolerance = 1e-5, M = static_cast<double>(shape.numel() / 5);
    for (int step = 0; step < 2; ++step) {
      EXPECT_TRUE(batch_norm_close(cpu.forward({x}, Mode::Train),
                                   gpu.forward({x.to(Device::cuda())}, Mode::Train), tolerance,
                                   1.0));
      const Tensor dx = cpu.backward(dy)[0];
      EXPECT_TRUE(batch_norm_close(dx, gpu.backward(dy.to(Device::cuda()))[0], tolerance, 1.0));
      EXPECT_TRUE(batch_norm_close(cpu.weight().grad, gpu.weight().grad, tolerance, M));
      EXPECT_TRUE(batch_norm_close(cpu.bias().grad, gpu.bias().grad, tolerance, M));
    }
    EXPECT_TRUE(
        batch_norm_close(cpu.running_mean().value, gpu.running_mean().value, tolerance, 1.0));
    EXPECT_TRUE(batch_norm_close(cpu.running_var().value, gpu.running_var().value, tolerance, 1.0));
    EXPECT_EQ(gpu.num_batches_tracked().value.to_vector<std::int64_t>()[0], 2);
    EXPECT_TRUE(batch_norm_close(cpu.forward({x}, Mode::Inference),
                                 gpu.forward({x.to(Device::cuda())}, Mode::Inference), tolerance,
                                 1.0));
  }
}

}  // namespace
}  // namespace dlfs
