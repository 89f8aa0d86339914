#include <gtest/gtest.h>

#include <cmath>

#include "dlfs/layers/affine.hpp"
#include "support/elementwise_testing.hpp"
#include "support/equivalence.hpp"
#include "support/gpu.hpp"
#include "support/gradient_check.hpp"

namespace dlfs {
namespace {

template <typename T>
class AffineLayer : public ::testing::Test {};
using FloatingTypes = ::testing::Types<float, double>;
TYPED_TEST_SUITE(AffineLayer, FloatingTypes);

TYPED_TEST(AffineLayer, ForwardAndBackwardMatchHandComputedValues) {
  using T = TypeParam;
  Affine layer(3, 2);
  layer.to(dtype_of<T>());
  layer.weight().value = Tensor::from_vector<T>({1, 0, -1, 2, 1, 0}, {2, 3});
  layer.bias().value = Tensor::from_vector<T>({0.5, -1}, {2});
  // A 4-D input [2, 1, 3, 1] is flattened to [2, 3] = [[1, 2, 3], [4, 5, 6]].
  Tensor x = Tensor::from_vector<T>({1, 2, 3, 4, 5, 6}, {2, 1, 3, 1});
  Tensor y = layer.forward({x}, Mode::Train);
  // x W^T = [[1 - 3, 2 + 2], [4 - 6, 8 + 5]] = [[-2, 4], [-2, 13]], plus b.
  EXPECT_EQ(y.shape(), Shape({2, 2}));
  EXPECT_EQ(y.to_vector<T>(), std::vector<T>({-1.5, 3, -1.5, 12}));
  Tensor dy = Tensor::from_vector<T>({1, 0, 0, 2}, {2, 2});
  std::vector<Tensor> dx = layer.backward(dy);
  ASSERT_EQ(dx.size(), 1u);
  // dx = dy W = [[W row 0], [2 W row 1]], in the input's shape.
  EXPECT_EQ(dx[0].shape(), Shape({2, 1, 3, 1}));
  EXPECT_EQ(dx[0].to_vector<T>(), std::vector<T>({1, 0, -1, 4, 2, 0}));
  // dW = dy^T x = [[x row 0], [2 x row 1]]; db = column sums of dy.
  EXPECT_EQ(layer.weight().grad.to_vector<T>(), std::vector<T>({1, 2, 3, 8, 10, 12}));
  EXPECT_EQ(layer.bias().grad.to_vector<T>(), std::vector<T>({1, 2}));
}

TEST(AffineLayer, ParametersAreNamedAsPyTorchAndZeroFilled) {
  Affine layer(5, 3);
  EXPECT_EQ(layer.describe(), "5->3");
  std::vector<Parameter*> params = layer.parameters();
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params[0]->name, "weight");
  EXPECT_EQ(params[0]->value.shape(), Shape({3, 5}));
  EXPECT_EQ(params[1]->name, "bias");
  EXPECT_EQ(params[1]->value.shape(), Shape({3}));
  for (Parameter* p : params) {
    EXPECT_EQ(p->value.dtype(), DType::Float32);
    EXPECT_TRUE(p->value.device().is_cpu());
    for (float v : p->value.to_vector<float>()) EXPECT_EQ(v, 0.0f);
  }
  EXPECT_THROW(Affine(0, 3), Error);
}

TEST(AffineLayer, BackwardOverwritesParameterGradients) {
  Affine layer(4, 3);
  Generator g(5);
  for (Parameter* p : layer.parameters()) p->value.normal_(g);
  Tensor x = testing::random_normal({2, 4}, 1);
  Tensor dy = testing::random_normal({2, 3}, 2);
  layer.forward({x}, Mode::Train);
  layer.backward(dy);
  const std::vector<float> dw = layer.weight().grad.to_vector<float>();
  const std::vector<float> db = layer.bias().grad.to_vector<float>();
  layer.forward({x}, Mode::Train);
  layer.backward(dy);
  EXPECT_EQ(layer.weight().grad.to_vector<float>(), dw);
  EXPECT_EQ(layer.bias().grad.to_vector<float>(), db);

  // As a first layer in training (the graph clears the flag): no dx, the same dW and db.
  layer.set_input_gradient_needed(false);
  layer.forward({x}, Mode::Train);
  const std::vector<Tensor> none = layer.backward(dy);
  ASSERT_EQ(none.size(), 1u);
  EXPECT_FALSE(none[0].defined());
  EXPECT_EQ(layer.weight().grad.to_vector<float>(), dw);
  EXPECT_EQ(layer.bias().grad.to_vector<float>(), db);
}

TEST(AffineLayer, RejectsBadInputs) {
  Affine layer(6, 2);
  EXPECT_THROW(layer.forward({Tensor::zeros({2, 5})}, Mode::Train), Error);
  EXPECT_THROW(layer.forward({Tensor::zeros({2, 6}, DType::Float64)}, Mode::Train), Error);
  layer.forward({Tensor::zeros({2, 2, 3})}, Mode::Train);
  EXPECT_THROW(layer.backward(Tensor::zeros({3, 2})), Error);
  layer.forward({Tensor::zeros({2, 6})}, Mode::Inference);
  EXPECT_THROW(layer.backward(Tensor::zeros({2, 2})), Error);
}

testing::GradCheckResult check_affine(std::int64_t in, std::int64_t out, const Shape& input) {
  Affine layer(in, out);
  Generator g(3);
  layer.to(DType::Float64);
  testing::randomize_parameters(layer, g);
  return testing::check_gradients(layer, {testing::random_tensor(input, g)});
}

TEST(AffineGradCheck, OddShape) {
  auto r = check_affine(315, 4, {3, 5, 7, 9});
  EXPECT_GRADIENTS_MATCH(r);
  EXPECT_EQ(r.checked, 945u + 4 * 315 + 4);  // input, weight, bias
}

TEST(AffineGradCheck, BatchOne) {
  auto r = check_affine(6, 3, {1, 6});
  EXPECT_GRADIENTS_MATCH(r);
  EXPECT_EQ(r.checked, 6u + 18 + 3);
}

TEST(AffineGradCheck, SingleInputFeature) {
  auto r = check_affine(1, 5, {4, 1});
  EXPECT_GRADIENTS_MATCH(r);
  EXPECT_EQ(r.checked, 4u + 5 + 5);
}

// GEMM-based results are compared against the rms of the expected tensor, not element by
// element: OpenBLAS and cuBLAS sum the K products of each dot product in different orders
// (blocking, FMA, split-K), and that rounding error is bounded by about K * 2^-24 * sum |terms|,
// so it scales with the terms, not with a result that may have cancelled to near zero.
// Measured this way the differences are ~1e-6 for K in the thousands; 1e-4 leaves margin
// (a wrong index or transpose gives errors of order 1).
::testing::AssertionResult gemm_close(const Tensor& expected, const Tensor& actual) {
  return testing::close_at_scale(expected, actual, testing::rms(expected), 1e-4);
}

TEST(AffineLayerGpu, ForwardBackwardMatchCpu) {
  DLFS_REQUIRE_GPU();
  struct Case {
    Shape input;
    std::int64_t out;
  };
  for (const Case& c : {Case{{3, 5, 7, 9}, 4}, Case{{1, 7}, 3}, Case{{128, 256, 3, 3}, 1000}}) {
    const std::int64_t in = c.input.numel() / c.input[0];
    Affine layer(in, c.out);
    Generator g(7);
    for (Parameter* p : layer.parameters()) p->value.normal_(g, 0.0, 1.0 / std::sqrt(in));
    Tensor x = testing::random_normal(c.input, 1);
    Tensor dy = testing::random_normal({c.input[0], c.out}, 2);
    Tensor y = layer.forward({x}, Mode::Train);
    Tensor dx = layer.backward(dy)[0];
    Tensor dw = layer.weight().grad.clone(), db = layer.bias().grad.clone();

    layer.to(Device::cuda());
    Tensor y_gpu = layer.forward({x.to(Device::cuda())}, Mode::Train);
    Tensor dx_gpu = layer.backward(dy.to(Device::cuda()))[0];
    EXPECT_TRUE(layer.weight().grad.device().is_cuda());
    EXPECT_TRUE(gemm_close(y, y_gpu));
    EXPECT_TRUE(gemm_close(dx, dx_gpu));
    EXPECT_TRUE(gemm_close(dw, layer.weight().grad));
    EXPECT_TRUE(gemm_close(db, layer.bias().grad));
  }
}

TEST(AffineLayerGpu, ConstructedOnTheGpu) {
  DLFS_REQUIRE_GPU();
  Affine layer(8, 2, Device::cuda());
  for (Parameter* p : layer.parameters()) {
    EXPECT_TRUE(p->value.device().is_cuda());
    for (float v : p->value.to_vector<float>()) EXPECT_EQ(v, 0.0f);
  }
  Tensor y = layer.forward({Tensor::full({3, 2, 4}, 1.0).to(Device::cuda())}, Mode::Train);
  EXPECT_EQ(y.to_vector<float>(), std::vector<float>(6, 0.0f));
}

}  // namespace
}  // namespace dlfs
