#include <gtest/gtest.h>

#include "layers/relu.hpp"
#include "support/equivalence.hpp"
#include "support/gpu.hpp"
#include "support/gradient_check.hpp"

namespace dlfs {
namespace {

TEST(ReLULayerGradCheck, OddShape) {
  ReLU layer;
  Generator g(1);
  testing::GradCheckOptions options;
  options.kink = 1e-3;  // central differences straddling 0 are meaningless
  auto r = testing::check_gradients(layer, {testing::random_tensor({3, 5, 7, 9}, g)}, options);
  EXPECT_GRADIENTS_MATCH(r);
  EXPECT_GT(r.checked, 900u);
}

TEST(ReLULayer, InferenceKeepsNothingForBackward) {
  ReLU layer;
  layer.forward({Tensor::zeros({2})}, Mode::Inference);
  EXPECT_THROW(layer.backward(Tensor::zeros({2})), Error);
}

TEST(ReLULayerGpu, ForwardBackwardMatchCpu) {
  DLFS_REQUIRE_GPU();
  Generator g(2);
  Tensor x = Tensor::empty({3, 5, 7, 9});
  x.normal_(g);
  Tensor dy = Tensor::empty({3, 5, 7, 9});
  dy.normal_(g);
  ReLU cpu, gpu;
  Tensor y = cpu.forward({x}, Mode::Train);
  Tensor yd = gpu.forward({x.to(Device::cuda())}, Mode::Train);
  EXPECT_TENSORS_CLOSE(y, yd, 0.0);
  EXPECT_TENSORS_CLOSE(cpu.backward(dy)[0], gpu.backward(dy.to(Device::cuda()))[0], 0.0);
}

}  // namespace
}  // namespace dlfs
