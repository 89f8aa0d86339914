#include <gtest/gtest.h>

#include <cmath>

#include "dlfs/layers/lrn.hpp"
#include "support/equivalence.hpp"
#include "support/gpu.hpp"
#include "support/gradient_check.hpp"
#include "support/layer_equivalence.hpp"

namespace dlfs {
namespace {

// Larger alpha than AlexNet's, so the cross-channel term of the gradient matters.
testing::GradCheckResult check(LRN& layer, const Shape& shape, std::uint64_t seed) {
  Generator g(seed);
  return testing::check_gradients(layer, {testing::random_tensor(shape, g, 2.0)});
}

TEST(LRNGradCheck, OddShapeSize5) {
  LRN layer(5, 0.5, 0.75, 1.0);
  auto r = check(layer, {3, 7, 5, 9}, 1);
  EXPECT_GRADIENTS_MATCH(r);
  EXPECT_EQ(r.checked, 3u * 7 * 5 * 9);
}

TEST(LRNGradCheck, EvenSizeAndWindowWiderThanChannels) {
  LRN even(2, 1.0, 0.5, 2.0);
  EXPECT_GRADIENTS_MATCH(check(even, {2, 5, 3, 3}, 2));
  LRN wide(9, 1.0, 0.75, 1.0);
  EXPECT_GRADIENTS_MATCH(check(wide, {2, 4, 3, 2}, 3));
}

TEST(LRNLayer, AlexNetConstantsAndInference) {
  LRN layer(5, 5e-4, 0.75, 2.0);
  EXPECT_EQ(layer.describe(), "size 5, alpha 0.0005, beta 0.75, k 2");
  Tensor x = Tensor::full({1, 3, 1, 1}, 1.0, DType::Float64);
  const std::vector<double> y = layer.forward({x}, Mode::Inference).to_vector<double>();
  // Channel 0 sees channels 0..2 (3 ones); channel 2 sees 0..2 as well.
  EXPECT_DOUBLE_EQ(y[0], std::pow(2 + 5e-4 / 5 * 3, -0.75));
  EXPECT_THROW(layer.backward(x), Error);  // inference keeps nothing
  EXPECT_THROW(LRN(0), Error);
}

TEST(LRNLayerGpu, ForwardBackwardMatchCpu) {
  DLFS_REQUIRE_GPU();
  LRN cpu(5, 5e-4, 0.75, 2.0), gpu(5, 5e-4, 0.75, 2.0);
  testing::expect_layer_matches_on_gpu(cpu, gpu, testing::random_normal({3, 7, 5, 9}, 4, 3.0), 5,
                                       1e-5);
}

}  // namespace
}  // namespace dlfs
