#include <gtest/gtest.h>

#include "dlfs/layers/avg_pool.hpp"
#include "dlfs/layers/global_avg_pool.hpp"
#include "dlfs/layers/max_pool.hpp"
#include "support/equivalence.hpp"
#include "support/gpu.hpp"
#include "support/gradient_check.hpp"
#include "support/layer_equivalence.hpp"
#include "support/pooling_distinct_values.hpp"

namespace dlfs {
namespace {

TEST(GlobalAvgPoolGradCheck, OddShape) {
  GlobalAvgPool layer;
  Generator g(1);
  auto r = testing::check_gradients(layer, {testing::random_tensor({3, 5, 7, 9}, g)});
  EXPECT_GRADIENTS_MATCH(r);
  EXPECT_EQ(r.checked, 3u * 5 * 7 * 9);
}

TEST(GlobalAvgPoolGradCheck, OnePixelPlanes) {
  GlobalAvgPool layer;
  Generator g(2);
  EXPECT_GRADIENTS_MATCH(
      testing::check_gradients(layer, {testing::random_tensor({4, 3, 1, 1}, g)}));
}

// A network made only of pooling: max pool, then average pool, then global average pool,
// checked end to end (each layer's backward feeds the next one's).
class PoolingStack : public Layer {
 public:
  std::string type() const override { return "PoolingStack"; }
  Tensor forward(const std::vector<Tensor>& inputs, Mode mode) override {
    Tensor h = max_.forward(inputs, mode);
    h = avg_.forward({h}, mode);
    return global_.forward({h}, mode);
  }
  std::vector<Tensor> backward(const Tensor& dy) override {
    Tensor g = global_.backward(dy)[0];
    g = avg_.backward(g)[0];
    return max_.backward(g);
  }

 private:
  MaxPool max_{3, 2, 1};
  AvgPool avg_{2, 1};
  GlobalAvgPool global_;
};

TEST(GlobalAvgPoolGradCheck, AllPoolingStack) {
  PoolingStack stack;
  auto r = testing::check_gradients(stack, {testing::pooling_distinct_values({3, 5, 7, 9}, 3)});
  EXPECT_GRADIENTS_MATCH(r);
  EXPECT_EQ(r.checked, 3u * 5 * 7 * 9);
}

TEST(GlobalAvgPoolLayer, MeansAndSpreadsGradients) {
  GlobalAvgPool layer;
  Tensor x = Tensor::from_vector<float>({1, 2, 3, 4, 0, 0, 0, 8}, {2, 1, 2, 2});
  Tensor y = layer.forward({x}, Mode::Train);
  EXPECT_EQ(y.shape(), Shape({2, 1, 1, 1}));
  EXPECT_EQ(y.to_vector<float>(), std::vector<float>({2.5f, 2.0f}));
  EXPECT_EQ(layer.backward(Tensor::from_vector<float>({4, -8}, {2, 1, 1, 1}))[0].to_vector<float>(),
            std::vector<float>({1, 1, 1, 1, -2, -2, -2, -2}));
}

TEST(GlobalAvgPoolLayer, InferenceKeepsNothingForBackward) {
  GlobalAvgPool layer;
  layer.forward({Tensor::zeros({1, 1, 2, 2})}, Mode::Inference);
  EXPECT_THROW(layer.backward(Tensor::zeros({1, 1, 1, 1})), Error);
}

TEST(GlobalAvgPoolLayerGpu, ForwardBackwardMatchCpu) {
  DLFS_REQUIRE_GPU();
  Generator g(4);
  Tensor x = Tensor::empty({3, 5, 7, 9});
  x.uniform_(g);
  GlobalAvgPool cpu, gpu;
  // A 63-value float32 reduction against the CPU's double sum (see GlobalAvgPoolGpu); the
  // gradient is a division.
  testing::expect_layer_matches_on_gpu(cpu, gpu, x, 5, 1e-5, 1e-6);
}

}  // namespace
}  // namespace dlfs
