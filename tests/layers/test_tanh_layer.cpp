#include <gtest/gtest.h>

#include "dlfs/kernels/tanh.hpp"
#include "dlfs/layers/tanh.hpp"
#include "support/elementwise_testing.hpp"
#include "support/equivalence.hpp"
#include "support/gpu.hpp"
#include "support/gradient_check.hpp"

namespace dlfs {
namespace {

TEST(TanhGradCheck, OddShape) {
  Tanh layer;
  Generator g(1);
  auto r = testing::check_gradients(layer, {testing::random_tensor({3, 5, 7, 9}, g, 2.0)});
  EXPECT_GRADIENTS_MATCH(r);
  EXPECT_EQ(r.checked, 945u);
}

TEST(TanhLayer, ForwardAndBackwardMatchHandComputedValues) {
  Tanh layer;
  Tensor y = layer.forward({Tensor::from_vector<double>({0, 1000, -1000}, {3})}, Mode::Train);
  EXPECT_EQ(y.to_vector<double>(), std::vector<double>({0, 1, -1}));
  // dy * (1 - y^2) = 4 at y = 0, then exact zeros at saturation.
  EXPECT_EQ(layer.backward(Tensor::from_vector<double>({4, 1, 1}, {3}))[0].to_vector<double>(),
            std::vector<double>({4, 0, 0}));
}

TEST(TanhLayer, InferenceKeepsNothingForBackward) {
  Tanh layer;
  layer.forward({Tensor::zeros({2})}, Mode::Inference);
  EXPECT_THROW(layer.backward(Tensor::zeros({2})), Error);
  EXPECT_THROW(layer.forward({Tensor::zeros({2}), Tensor::zeros({2})}, Mode::Train), Error);
}

TEST(TanhLayerGpu, ForwardBackwardMatchCpu) {
  DLFS_REQUIRE_GPU();
  for (const Shape& shape : {Shape{3, 5, 7, 9}, Shape{32, 64, 56, 56}}) {
    Tensor x = testing::random_normal(shape, 2);
    Tensor dy = testing::random_normal(shape, 3);
    Tanh cpu, gpu;
    Tensor y = cpu.forward({x}, Mode::Train);
    Tensor y_gpu = gpu.forward({x.to(Device::cuda())}, Mode::Train);
    EXPECT_TENSORS_CLOSE(y, y_gpu, 1e-5);
    Tensor dx_gpu = gpu.backward(dy.to(Device::cuda()))[0];
    // Given the output the GPU stored, its backward is exactly the CPU kernel's.
    EXPECT_TENSORS_CLOSE(kernels::tanh_backward(dy, y_gpu.to(Device::cpu())), dx_gpu, 0.0);
    // Against the CPU layer, the forward's few-ulp differences in y reach dx through the
    // derivative of dx with respect to y, -2y dy, at most 2|dy|: the change is bounded by |dy|
    // times a few 2^-24 however small dx is near saturation, so it is measured against the scale of
    // dy.
    EXPECT_TRUE(testing::close_at_scale(cpu.backward(dy)[0], dx_gpu, testing::rms(dy), 1e-5));
  }
}

}  // namespace
}  // namespace dlfs
