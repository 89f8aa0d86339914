#include <gtest/gtest.h>

#include "dlfs/layers/scale.hpp"
#include "support/elementwise_testing.hpp"
#include "support/equivalence.hpp"
#include "support/gpu.hpp"
#include "support/gradient_check.hpp"

namespace dlfs {
namespace {

TEST(ScaleGradCheck, ByAFactorThatIsNotAPowerOfTwo) {
  Scale layer(0.3);
  Generator g(3);
  auto r = testing::check_gradients(layer, {testing::random_tensor({4, 5}, g)});
  EXPECT_GRADIENTS_MATCH(r);
  EXPECT_EQ(r.checked, 20u);
}

TEST(ScaleLayer, MultipliesForwardAndBackward) {
  Scale layer(0.5);
  EXPECT_EQ(layer.describe(), "x0.5");
  Tensor y = layer.forward({Tensor::from_vector<float>({2, -4, 6}, {3})}, Mode::Train);
  EXPECT_EQ(y.to_vector<float>(), std::vector<float>({1, -2, 3}));
  std::vector<Tensor> dx = layer.backward(Tensor::from_vector<float>({1, 10, -8}, {3}));
  ASSERT_EQ(dx.size(), 1u);
  EXPECT_EQ(dx[0].to_vector<float>(), std::vector<float>({0.5, 5, -4}));
}

TEST(ScaleLayer, RejectsBadUse) {
  Scale layer(2.0);
  EXPECT_THROW(layer.forward({Tensor::zeros({2}), Tensor::zeros({2})}, Mode::Train), Error);
  layer.forward({Tensor::zeros({2})}, Mode::Inference);
  EXPECT_THROW(layer.backward(Tensor::zeros({2})), Error);
}

TEST(ScaleLayerGpu, ForwardBackwardMatchCpu) {
  DLFS_REQUIRE_GPU();
  Tensor x = testing::random_normal({7, 33}, 50), dy = testing::random_normal({7, 33}, 51);
  Scale cpu(0.3), gpu(0.3);
  EXPECT_TENSORS_CLOSE(cpu.forward({x}, Mode::Train),
                       gpu.forward({x.to(Device::cuda())}, Mode::Train), 0.0);
  EXPECT_TENSORS_CLOSE(cpu.backward(dy)[0], gpu.backward(dy.to(Device::cuda()))[0], 0.0);
}

}  // namespace
}  // namespace dlfs
