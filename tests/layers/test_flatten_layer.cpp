#include <gtest/gtest.h>

#include "dlfs/layers/flatten.hpp"
#include "support/elementwise_testing.hpp"
#include "support/equivalence.hpp"
#include "support/gpu.hpp"
#include "support/gradient_check.hpp"

namespace dlfs {
namespace {

TEST(FlattenGradCheck, OddShape) {
  Flatten layer;
  Generator g(1);
  auto r = testing::check_gradients(layer, {testing::random_tensor({3, 5, 7, 9}, g)});
  EXPECT_GRADIENTS_MATCH(r);
  EXPECT_EQ(r.checked, 945u);
}

TEST(FlattenLayer, ReshapesWithoutCopyingAndBackwardRestoresTheShape) {
  Flatten layer;
  Tensor x = testing::random_normal({3, 5, 7, 9}, 1);
  Tensor y = layer.forward({x}, Mode::Train);
  EXPECT_EQ(y.shape(), Shape({3, 315}));
  EXPECT_TRUE(y.same_storage(x));
  EXPECT_EQ(y.to_vector<float>(), x.to_vector<float>());  // row-major order is kept
  Tensor dy = testing::random_normal({3, 315}, 2);
  Tensor dx = layer.backward(dy)[0];
  EXPECT_EQ(dx.shape(), Shape({3, 5, 7, 9}));
  EXPECT_EQ(dx.to_vector<float>(), dy.to_vector<float>());
}

TEST(FlattenLayer, HandlesOneAndTwoDimensionalInputs) {
  Flatten layer;
  EXPECT_EQ(layer.forward({Tensor::zeros({4})}, Mode::Train).shape(), Shape({4, 1}));
  EXPECT_EQ(layer.backward(Tensor::zeros({4, 1}))[0].shape(), Shape({4}));
  EXPECT_EQ(layer.forward({Tensor::zeros({4, 6})}, Mode::Train).shape(), Shape({4, 6}));
  EXPECT_EQ(layer.forward({Tensor::zeros({1, 2, 1, 3})}, Mode::Train).shape(), Shape({1, 6}));
  EXPECT_THROW(layer.backward(Tensor::zeros({1, 7})), Error);
}

TEST(FlattenLayer, InferenceKeepsNothingForBackward) {
  Flatten layer;
  layer.forward({Tensor::zeros({2, 3})}, Mode::Inference);
  EXPECT_THROW(layer.backward(Tensor::zeros({2, 3})), Error);
}

TEST(FlattenLayerGpu, ForwardBackwardMatchCpu) {
  DLFS_REQUIRE_GPU();
  for (const Shape& shape : {Shape{3, 5, 7, 9}, Shape{128, 512, 7, 7}}) {
    Tensor x = testing::random_normal(shape, 1);
    Flatten cpu, gpu;
    Tensor y = cpu.forward({x}, Mode::Train);
    Tensor x_gpu = x.to(Device::cuda());
    Tensor y_gpu = gpu.forward({x_gpu}, Mode::Train);
    EXPECT_TRUE(y_gpu.same_storage(x_gpu));
    EXPECT_TENSORS_CLOSE(y, y_gpu, 0.0);
    Tensor dy = testing::random_normal(y.shape(), 2);
    Tensor dx_gpu = gpu.backward(dy.to(Device::cuda()))[0];
    EXPECT_TRUE(dx_gpu.device().is_cuda());
    EXPECT_TENSORS_CLOSE(cpu.backward(dy)[0], dx_gpu, 0.0);
  }
}

}  // namespace
}  // namespace dlfs
