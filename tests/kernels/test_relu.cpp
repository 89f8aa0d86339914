#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "dlfs/kernels/relu.hpp"
#include "support/equivalence.hpp"
#include "support/gpu.hpp"

namespace dlfs::kernels {
namespace {

TEST(Relu, ForwardStoresTheMaskAndBackwardUsesIt) {
  Tensor x = Tensor::from_vector<float>({-2, 0, 3, -0.5f, 7}, {5});
  Tensor mask;
  Tensor y = relu_forward(x, &mask);
  EXPECT_EQ(y.to_vector<float>(), std::vector<float>({0, 0, 3, 0, 7}));
  EXPECT_EQ(mask.to_vector<std::uint8_t>(), std::vector<std::uint8_t>({0, 0, 1, 0, 1}));
  Tensor dy = Tensor::from_vector<float>({1, 2, 3, 4, 5}, {5});
  EXPECT_EQ(relu_backward(dy, mask).to_vector<float>(), std::vector<float>({0, 0, 3, 0, 5}));
}

TEST(Relu, WithoutAMaskTheOutputIsTheSame) {
  for (DType dtype : {DType::Float32, DType::Float64}) {
    Generator g(5);
    Tensor x = Tensor::empty({70001}, dtype);  // over the parallel threshold, odd
    x.normal_(g);
    Tensor mask;
    const Tensor without = relu_forward(x, nullptr), with = relu_forward(x, &mask);
    EXPECT_EQ(0, std::memcmp(without.raw_data(), with.raw_data(), with.nbytes()));
  }
  Tensor x = Tensor::from_vector<float>({-2, 0, 3, -0.0f, 7}, {5});
  EXPECT_EQ(relu_forward(x, nullptr).to_vector<float>(), std::vector<float>({0, 0, 3, 0, 7}));
}

// From the ReLU's output instead of its mask (a layer that applied the ReLU itself): the same
// bits, including inputs of -0, +0 and NaN, whose outputs are +0.
TEST(Relu, BackwardFromTheOutputIsBackwardFromTheMask) {
  for (DType dtype : {DType::Float32, DType::Float64}) {
    Generator g(6);
    Tensor x = Tensor::empty({70001}, dtype), dy = Tensor::empty({70001}, dtype);
    x.normal_(g);
    dy.normal_(g);
    std::vector<double> xs = x.to(DType::Float64).to_vector<double>();
    xs[0] = -0.0;
    xs[1] = 0.0;
    xs[2] = std::nan("");
    x = Tensor::from_vector<double>(xs, {70001}).to(dtype);
    Tensor mask;
    const Tensor y = relu_forward(x, &mask);
    const Tensor expected = relu_backward(dy, mask), dx = relu_backward_from_output(dy, y);
    EXPECT_EQ(0, std::memcmp(expected.raw_data(), dx.raw_data(), dx.nbytes()));
  }
  const Tensor y = Tensor::from_vector<float>({0, 2, 0, 1e-30f}, {4});
  const Tensor dy = Tensor::from_vector<float>({1, 2, 3, 4}, {4});
  EXPECT_EQ(relu_backward_from_output(dy, y).to_vector<float>(), std::vector<float>({0, 2, 0, 4}));
  EXPECT_THROW(relu_backward_from_output(dy, Tensor::zeros({3})), Error);
  EXPECT_THROW(relu_backward_from_output(dy, y.to(DType::Float64)), Error);
}

TEST(Relu, Float64) {
  Tensor x = Tensor::from_vector<double>({-1e-300, 1e-300}, {2});
  Tensor mask;
  EXPECT_EQ(relu_forward(x, &mask).to_vector<double>(), std::vector<double>({0, 1e-300}));
}

TEST(ReluGpu, ZeroIsMaskedOut) {
  DLFS_REQUIRE_GPU();
  Tensor x = Tensor::from_vector<float>({-2, 0, 3, -0.0f, 7}, {5}).to(Device::cuda());
  Tensor mask;
  Tensor y = relu_forward(x, &mask);
  EXPECT_EQ(y.to_vector<float>(), std::vector<float>({0, 0, 3, 0, 7}));
  EXPECT_EQ(mask.to_vector<std::uint8_t>(), std::vector<std::uint8_t>({0, 0, 1, 0, 1}));
  Tensor dy = Tensor::from_vector<float>({1, 2, 3, 4, 5}, {5}).to(Device::cuda());
  EXPECT_EQ(relu_backward(dy, mask).to_vector<float>(), std::vector<float>({0, 0, 3, 0, 5}));
}

TEST(ReluGpu, MatchesCpuOnOddAndLargeShapes) {
  DLFS_REQUIRE_GPU();
  for (std::int64_t n : {1LL, 1000003LL, 128LL * 3 * 224 * 224}) {
    Generator g(n);
    Tensor x = Tensor::empty({n});
    x.normal_(g);
    Tensor dy = Tensor::empty({n});
    dy.normal_(g);
    Tensor mask, mask_d;
    Tensor y = relu_forward(x, &mask);
    Tensor yd = relu_forward(x.to(Device::cuda()), &mask_d);
    EXPECT_TENSORS_CLOSE(y, yd, 0.0);
    EXPECT_EQ(mask.to_vector<std::uint8_t>(), mask_d.to_vector<std::uint8_t>());
    EXPECT_TENSORS_CLOSE(relu_backward(dy, mask), relu_backward(dy.to(Device::cuda()), mask_d),
                         0.0);
    EXPECT_TENSORS_CLOSE(y, relu_forward(x.to(Device::cuda()), nullptr), 0.0);
  }
}

}  // namespace
}  // namespace dlfs::kernels
