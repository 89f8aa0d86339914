#include <gtest/gtest.h>

#include "dlfs/layers/avg_pool.hpp"
#include "support/equivalence.hpp"
#include "support/gpu.hpp"
#include "support/gradient_check.hpp"
#include "support/layer_equivalence.hpp"

namespace dlfs {
namespace {

using kernels::PoolWindow;

testing::GradCheckResult check(AvgPool& layer, const Shape& shape, std::uint64_t seed) {
  Generator g(seed);
  return testing::check_gradients(layer, {testing::random_tensor(shape, g)});
}

TEST(AvgPoolGradCheck, OddShapeWindow3Stride2Pad1) {
  AvgPool layer(3, 2, 1);
  auto r = check(layer, {3, 5, 7, 9}, 1);
  EXPECT_GRADIENTS_MATCH(r);
  EXPECT_EQ(r.checked, 3u * 5 * 7 * 9);
}

TEST(AvgPoolGradCheck, NonOverlapping2x2) {
  AvgPool layer(2, 2);
  EXPECT_GRADIENTS_MATCH(check(layer, {2, 3, 6, 8}, 2));
}

TEST(AvgPoolGradCheck, WindowAsLargeAsInput) {
  AvgPool layer(PoolWindow{7, 9, 1, 1, 0, 0});
  EXPECT_GRADIENTS_MATCH(check(layer, {3, 5, 7, 9}, 3));
}

TEST(AvgPoolGradCheck, RectangularWindowWithPadding) {
  AvgPool layer(PoolWindow{2, 4, 2, 3, 1, 2});
  EXPECT_GRADIENTS_MATCH(check(layer, {3, 2, 7, 9}, 4));
}

TEST(AvgPoolLayer, AveragesWindowsCountingPadding) {
  AvgPool layer(3, 1, 1);
  Tensor x = Tensor::from_vector<double>({1, 2, 3, 4}, {1, 1, 2, 2});
  // Every 3x3 window centred on a pixel of a 2x2 input holds all four pixels: 10 / 9.
  const std::vector<double> y = layer.forward({x}, Mode::Train).to_vector<double>();
  for (double v : y) EXPECT_DOUBLE_EQ(v, 10.0 / 9.0);
  // Each pixel lies in all four windows.
  const std::vector<double> dx =
      layer.backward(Tensor::full({1, 1, 2, 2}, 1.0, DType::Float64))[0].to_vector<double>();
  for (double v : dx) EXPECT_DOUBLE_EQ(v, 4.0 / 9.0);
}

TEST(AvgPoolLayer, InferenceKeepsNothingForBackward) {
  AvgPool layer(2, 2);
  layer.forward({Tensor::zeros({1, 1, 2, 2})}, Mode::Inference);
  EXPECT_THROW(layer.backward(Tensor::zeros({1, 1, 1, 1})), Error);
}

TEST(AvgPoolLayer, ClearErrorsForBadWindows) {
  EXPECT_THROW(AvgPool(3, 0), Error);
  EXPECT_THROW(AvgPool(3, 1, -1), Error);
  AvgPool layer(PoolWindow{2, 6, 1, 1, 0, 0});
  EXPECT_THROW(layer.forward({Tensor::zeros({1, 1, 4, 4})}, Mode::Train), Error);
}

TEST(AvgPoolLayerGpu, ForwardBackwardMatchCpu) {
  DLFS_REQUIRE_GPU();
  for (const PoolWindow& w : {PoolWindow::square(3, 2, 1), PoolWindow::square(2, 2)}) {
    SCOPED_TRACE(w.str());
    AvgPool cpu(w), gpu(w);
    testing::expect_layer_matches_on_gpu(cpu, gpu, testing::random_normal({3, 5, 7, 9}, 5), 6,
                                         1e-6);
  }
}

}  // namespace
}  // namespace dlfs
