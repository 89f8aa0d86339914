#include <gtest/gtest.h>

#include "dlfs/kernels/bias.hpp"
#include "support/equivalence.hpp"
#include "support/gpu.hpp"

namespace dlfs::kernels {
namespace {

TEST(Bias, AddsPerChannelAndSumsPerChannel) {
  // [N=2, C=3, S=2]
  Tensor y = Tensor::zeros({2, 3, 2});
  Tensor b = Tensor::from_vector<float>({1, 2, 3}, {3});
  bias_add_(y, b);
  EXPECT_EQ(y.to_vector<float>(), std::vector<float>({1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3}));
  Tensor dy = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, {2, 3, 2});
  EXPECT_EQ(bias_grad(dy).to_vector<float>(),
            std::vector<float>({1 + 2 + 7 + 8, 3 + 4 + 9 + 10, 5 + 6 + 11 + 12}));
}

TEST(Bias, AffineShapeHasNoSpatialAxis) {
  Tensor y = Tensor::zeros({4, 2}, DType::Float64);
  bias_add_(y, Tensor::from_vector<double>({0.5, -1}, {2}));
  EXPECT_EQ(bias_grad(y).to_vector<double>(), std::vector<double>({2.0, -4.0}));
  EXPECT_THROW(bias_add_(y, Tensor::zeros({3}, DType::Float64)), Error);
}

TEST(BiasGpu, MatchesCpu) {
  DLFS_REQUIRE_GPU();
  for (Shape s : {Shape{3, 5, 7, 9}, Shape{128, 10}, Shape{64, 256, 56, 56}}) {
    Generator g(1);
    Tensor y = Tensor::empty(s), b = Tensor::empty({s[1]});
    y.normal_(g);
    b.normal_(g);
    Tensor yd = y.to(Device::cuda());
    bias_add_(y, b);
    bias_add_(yd, b.to(Device::cuda()));
    EXPECT_TENSORS_CLOSE(y, yd, 1e-6);
    // Sums of up to 64*56*56 terms in another order: 1e-4 relative, floor 1e-3.
    EXPECT_TENSORS_CLOSE(bias_grad(y), bias_grad(yd), 1e-4);
  }
}

TEST(BiasGpu, ChannelsSplitOverSeveralBlocksMatchCpu) {
  DLFS_REQUIRE_GPU();
  // Runs of a channel summed by separate blocks, then combined in order: run ends inside a
  // plane, one channel in 44 runs, [N, F] features in 2 runs (the last one short).
  for (Shape s : {Shape{203, 3, 7, 11}, Shape{2, 1, 300, 301}, Shape{8193, 2}}) {
    SCOPED_TRACE(s.str());
    ASSERT_GT(channel_split(s[1], s.numel() / s[1]).splits, 1);
    Generator g(3);
    Tensor dy = Tensor::empty(s);
    dy.normal_(g, 0.25, 1.0);
    const std::vector<float> cpu = bias_grad(dy).to_vector<float>();
    const std::vector<float> gpu = bias_grad(dy.to(Device::cuda())).to_vector<float>();
    // Float sums of up to 180600 terms of about 1 in two orders: within 1e-6 of the count.
    const double count = static_cast<double>(s.numel() / s[1]);
    for (std::size_t c = 0; c < cpu.size(); ++c) EXPECT_NEAR(gpu[c], cpu[c], 1e-6 * count);
  }
}

}  // namespace
}  // namespace dlfs::kernels
