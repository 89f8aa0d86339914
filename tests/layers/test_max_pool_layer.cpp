#include <gtest/gtest.h>

#include "dlfs/layers/max_pool.hpp"
#include "support/equivalence.hpp"
#include "support/gpu.hpp"
#include "support/gradient_check.hpp"
#include "support/layer_equivalence.hpp"
#include "support/pooling_distinct_values.hpp"

namespace dlfs {
namespace {

using kernels::PoolWindow;

testing::GradCheckResult check(MaxPool& layer, const Shape& shape, std::uint64_t seed) {
  return testing::check_gradients(layer, {testing::pooling_distinct_values(shape, seed)});
}

TEST(MaxPoolGradCheck, OddShapeWindow3Stride2Pad1) {
  MaxPool layer(3, 2, 1);
  auto r = check(layer, {3, 5, 7, 9}, 1);
  EXPECT_GRADIENTS_MATCH(r);
  EXPECT_EQ(r.checked, 3u * 5 * 7 * 9);
}

TEST(MaxPoolGradCheck, NonOverlapping2x2) {
  MaxPool layer(2, 2);
  EXPECT_GRADIENTS_MATCH(check(layer, {2, 3, 6, 8}, 2));
}

TEST(MaxPoolGradCheck, OverlappingStride1) {
  // A pixel can be the maximum of several windows: its gradient is their sum.
  MaxPool layer(3, 1, 1);
  EXPECT_GRADIENTS_MATCH(check(layer, {2, 2, 5, 6}, 3));
}

TEST(MaxPoolGradCheck, WindowAsLargeAsInput) {
  MaxPool layer(PoolWindow{7, 9, 1, 1, 0, 0});
  EXPECT_GRADIENTS_MATCH(check(layer, {3, 5, 7, 9}, 4));
}

TEST(MaxPoolGradCheck, RectangularWindowWithPadding) {
  MaxPool layer(PoolWindow{2, 4, 2, 3, 1, 2});
  EXPECT_GRADIENTS_MATCH(check(layer, {3, 2, 7, 9}, 5));
}

TEST(MaxPoolLayer, PoolsAndRoutesGradientsToTheMaxima) {
  MaxPool layer(2, 2);
  Tensor x =
      Tensor::from_vector<float>({1, 5, 2, 0, 3, 4, 8, 6, 7, -1, 9, 10, 2, 0, 11, 3}, {1, 1, 4, 4});
  EXPECT_EQ(layer.forward({x}, Mode::Train).to_vector<float>(), std::vector<float>({5, 8, 7, 11}));
  std::vector<Tensor> dx = layer.backward(Tensor::from_vector<float>({1, 2, 3, 4}, {1, 1, 2, 2}));
  ASSERT_EQ(dx.size(), 1u);
  EXPECT_EQ(dx[0].to_vector<float>(),
            std::vector<float>({0, 1, 0, 0, 0, 0, 2, 0, 3, 0, 0, 0, 0, 0, 4, 0}));
  EXPECT_EQ(layer.describe(), "k2x2 s2x2 p0x0");
}

TEST(MaxPoolLayer, InferenceKeepsNothingForBackward) {
  MaxPool layer(2, 2);
  layer.forward({Tensor::zeros({1, 1, 2, 2})}, Mode::Inference);
  EXPECT_THROW(layer.backward(Tensor::zeros({1, 1, 1, 1})), Error);
}

TEST(MaxPoolLayer, ClearErrorsForBadWindows) {
  EXPECT_THROW(MaxPool(0, 1), Error);
  EXPECT_THROW(MaxPool(2, 2, 2), Error);  // padding beyond half the window
  MaxPool layer(5, 1);
  try {
    layer.forward({Tensor::zeros({2, 3, 4, 4})}, Mode::Train);
    FAIL() << "a 5x5 window on a 4x4 input must be rejected";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("does not fit"), std::string::npos) << message;
    EXPECT_NE(message.find("[2, 3, 4, 4]"), std::string::npos) << message;
  }
}

TEST(MaxPoolLayerGpu, ForwardBackwardMatchCpu) {
  DLFS_REQUIRE_GPU();
  for (const PoolWindow& w : {PoolWindow::square(3, 2, 1), PoolWindow::square(2, 2)}) {
    SCOPED_TRACE(w.str());
    MaxPool cpu(w), gpu(w);
    testing::expect_layer_matches_on_gpu(cpu, gpu, testing::random_normal({3, 5, 7, 9}, 6), 7,
                                         1e-6);
  }
}

}  // namespace
}  // namespace dlfs
