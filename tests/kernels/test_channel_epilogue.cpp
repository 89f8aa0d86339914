// The inference epilogue (a BatchNorm with running statistics, then a ReLU) gives the bits of the
// two kernels run one after the other, out of place and in place, also with a convolution's bias
// added in its pass, and refuses per-channel tensors that do not match.
#include <gtest/gtest.h>

#include <cstring>

#include "dlfs/kernels/batch_norm.hpp"
#include "dlfs/kernels/bias.hpp"
#include "dlfs/kernels/channel_epilogue.hpp"
#include "dlfs/kernels/relu.hpp"
#include "dlfs/runtime/error.hpp"
#include "dlfs/runtime/generator.hpp"

namespace dlfs::kernels {
namespace {

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
}

ChannelEpilogue batch_norm_epilogue(std::int64_t channels, DType dtype, Generator& gen) {
  const auto per_channel = [&](double low, double high) {
    return Tensor::empty({channels}, dtype).uniform_(gen, low, high);
  };
  ChannelEpilogue e;
  e.gamma = per_channel(0.5, 1.5);
  e.beta = per_channel(-0.5, 0.5);
  e.mean = per_channel(-0.5, 0.5);
  e.var = per_channel(0.1, 2.0);
  e.eps = 1e-5;
  return e;
}

TEST(ChannelEpilogue, IsTheBatchNormThenTheReluBitForBit) {
  for (DType dtype : {DType::Float32, DType::Float64})
    for (const Shape& shape : {Shape{5, 7, 3, 4}, Shape{6, 3}, Shape{2, 70, 40, 30}}) {
      SCOPED_TRACE(shape.str() + " " + dtype_name(dtype));
      Generator gen(5);
      Tensor x = Tensor::empty(shape, dtype).uniform_(gen, -2.0, 2.0);
      ChannelEpilogue e = batch_norm_epilogue(shape[1], dtype, gen);
      // Values that normalise to exactly 0 in channel 0: x = mean, with beta = 0.
      e.beta.fill_(0.0);
      const double mean0 = e.mean.to(DType::Float64).to_vector<double>()[0];
      const std::int64_t spatial = x.numel() / (shape[0] * shape[1]);
      for (std::int64_t n = 0; n < shape[0]; ++n)
        for (std::int64_t k = 0; k < spatial; ++k) {
          const std::int64_t i = n * shape[1] * spatial + k;
          if (dtype == DType::Float32)
            x.data<float>()[i] = static_cast<float>(mean0);
          else
            x.data<double>()[i] = mean0;
        }

      const Tensor normalized =
          batch_norm_inference_forward(x, e.gamma, e.beta, e.mean, e.var, e.eps);
      const Tensor clamped = relu_forward(normalized, nullptr);
      EXPECT_TRUE(same_bits(normalized, apply_channel_epilogue(x, e)));
      e.relu = true;
      EXPECT_TRUE(same_bits(clamped, apply_channel_epilogue(x, e)));
      Tensor in_place = x.clone();
      apply_channel_epilogue_(in_place, e);
      EXPECT_TRUE(same_bits(clamped, in_place));
      ChannelEpilogue relu_only;
      relu_only.relu = true;
      EXPECT_TRUE(same_bits(relu_forward(x, nullptr), apply_channel_epilogue(x, relu_only)));
    }
}

// The convolution hands its bias to the epilogue (cpu::apply_channel_epilogue's `bias`): one pass
// with the bits of bias_add and then the epilogue, for every kind of epilogue.
TEST(ChannelEpilogue, WithTheConvolutionsBiasIsTheBiasAddThenTheEpilogueBitForBit) {
  const Shape shape{3, 5, 6, 7};
  const std::int64_t spatial = shape[2] * shape[3];
  Generator gen(11);
  Tensor x = Tensor::empty(shape, DType::Float32).uniform_(gen, -2.0, 2.0);
  Tensor bias = Tensor::empty({shape[1]}, DType::Float32).uniform_(gen, -1.0, 1.0);
  // A bias that cancels some values exactly: x + b = 0 there.
  x.data<float>()[0] = -bias.data<float>()[0];
  ChannelEpilogue normalize = batch_norm_epilogue(shape[1], DType::Float32, gen);
  ChannelEpilogue normalize_relu = normalize, relu_only, nothing;
  normalize_relu.relu = relu_only.relu = true;
  for (const ChannelEpilogue* e : {&normalize, &normalize_relu, &relu_only, &nothing}) {
    SCOPED_TRACE(std::string(e->normalizes() ? "batchnorm" : "") + (e->relu ? " relu" : ""));
    Tensor expected = x.clone();
    cpu::bias_add(expected.data<float>(), bias.data<float>(), shape[0], shape[1], spatial);
    expected = apply_channel_epilogue(expected, *e);
    Tensor fused = Tensor::empty(shape, DType::Float32);
    cpu::apply_channel_epilogue(x.data<float>(), fused.data<float>(), shape[0], shape[1], spatial,
                                *e, bias.data<float>());
    EXPECT_TRUE(same_bits(expected, fused));
    Tensor in_place = x.clone();
    cpu::apply_channel_epilogue(in_place.data<float>(), in_place.data<float>(), shape[0], shape[1],
                                spatial, *e, bias.data<float>());
    EXPECT_TRUE(same_bits(expected, in_place));
  }
}

TEST(ChannelEpilogue, RefusesPerChannelTensorsThatDoNotMatch) {
  Generator gen(6);
  const Tensor x = Tensor::empty({2, 4, 3, 3}).uniform_(gen, -1.0, 1.0);
  ChannelEpilogue e = batch_norm_epilogue(5, DType::Float32, gen);
  EXPECT_FALSE(epilogue_fits(e, 4, DType::Float32));
  EXPECT_TRUE(epilogue_fits(e, 5, DType::Float32));
  EXPECT_FALSE(epilogue_fits(e, 5, DType::Float64));
  EXPECT_TRUE(epilogue_fits(ChannelEpilogue{}, 4, DType::Float32));  // nothing to fit
  try {
    apply_channel_epilogue(x, e);
    FAIL() << "a 5-channel BatchNorm was applied to a 4-channel input";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("does not match the 4 channels"), std::string::npos)
        << error.what();
  }
  e = batch_norm_epilogue(4, DType::Float64, gen);
  EXPECT_THROW(apply_channel_epilogue(x, e), Error);  // float64 statistics, float32 input
}

}  // namespace
}  // namespace dlfs::kernels
