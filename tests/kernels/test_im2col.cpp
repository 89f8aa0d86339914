#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numeric>

#include "dlfs/kernels/gemm.hpp"
#include "dlfs/kernels/im2col.hpp"
#include "dlfs/kernels/swap_axes.hpp"
#include "support/conv_reference.hpp"
#include "support/equivalence.hpp"
#include "support/gpu.hpp"
#include "support/gradient_check.hpp"

namespace dlfs::kernels {
namespace {

using testing::conv_window;

Tensor iota_image(const Shape& shape) {
  std::vector<float> v(static_cast<std::size_t>(shape.numel()));
  std::iota(v.begin(), v.end(), 1.0f);
  return Tensor::from_vector(v, shape);
}

// Leaves a pool block of `shape` full of NaN behind, so that an op allocating the same size
// next most likely receives it: an element the op forgets to write then shows up as NaN.
void poison_pool(const Shape& shape, DType dtype = DType::Float32,
                 const Device& device = Device::cpu()) {
  Tensor::full(shape, std::numeric_limits<double>::quiet_NaN(), dtype, device);
}

// Geometries with every feature (support/conv_reference.hpp), as (input shape, window) pairs.
std::vector<std::pair<Shape, ConvWindow>> odd_cases() {
  std::vector<std::pair<Shape, ConvWindow>> out;
  for (const testing::ConvCase& c : testing::odd_conv_cases()) out.emplace_back(c.input, c.window);
  return out;
}

// ---- Geometry -----------------------------------------------------------------------------------

TEST(ConvGeometry, OutputSizes) {
  EXPECT_EQ(conv_geometry("t", 1, 3, 224, 224, conv_window(3, 3, 2, 2, 1, 1)).out_h, 112);
  const ConvGeometry g = conv_geometry("t", 3, 5, 7, 9, conv_window(3, 3, 2, 2, 1, 1));
  EXPECT_EQ(g.out_h, 4);
  EXPECT_EQ(g.out_w, 5);
  EXPECT_EQ(g.col_rows(), 5 * 9);
  EXPECT_EQ(g.col_cols(), 3 * 4 * 5);
  // Dilation 2 makes a 3-tap kernel span 5 pixels: (9 - 5) / 1 + 1.
  EXPECT_EQ(conv_geometry("t", 1, 1, 9, 9, conv_window(3, 3, 1, 1, 0, 0, 2, 2)).out_h, 5);
  // Stride that does not divide: floor((10 + 0 - 3) / 3) + 1 = 3.
  EXPECT_EQ(conv_geometry("t", 1, 1, 10, 10, conv_window(3, 3, 3, 3)).out_w, 3);
  const ConvGeometry whole = conv_geometry("t", 1, 1, 4, 6, conv_window(4, 6));
  EXPECT_EQ(whole.out_h, 1);
  EXPECT_EQ(whole.out_w, 1);
}

TEST(ConvGeometry, KernelThatDoesNotFitThrowsAClearMessage) {
  try {
    conv_geometry("Convolution", 1, 1, 3, 3, conv_window(5, 5));
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "Convolution: kernel 5x5 with padding 0 does not fit input 3x3");
  }
  try {
    conv_geometry("im2col", Shape{1, 1, 4, 8}, conv_window(3, 3, 1, 1, 0, 1, 2, 2));
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "im2col: kernel 3x3 (dilation 2) with padding 0x1 does not fit input 4x8");
  }
  // Padding can make it fit: 3 + 2*1 >= 5.
  EXPECT_EQ(conv_geometry("t", 1, 1, 3, 3, conv_window(5, 5, 1, 1, 1, 1)).out_h, 1);
}

TEST(ConvGeometry, InvalidWindowsThrow) {
  EXPECT_THROW(conv_geometry("t", 1, 1, 5, 5, conv_window(0, 3)), Error);
  EXPECT_THROW(conv_geometry("t", 1, 1, 5, 5, conv_window(3, 3, 0, 1)), Error);
  EXPECT_THROW(conv_geometry("t", 1, 1, 5, 5, conv_window(3, 3, 1, 1, -1, 0)), Error);
  EXPECT_THROW(conv_geometry("t", 1, 1, 5, 5, conv_window(3, 3, 1, 1, 0, 0, 0, 1)), Error);
  EXPECT_THROW(conv_geometry("t", Shape{1, 5, 5}, conv_window(3, 3)), Error);
}

// ---- im2col -------------------------------------------------------------------------------------

TEST(Im2col, HandComputedValidWindows) {
  // 1 2 3
  // 4 5 6    2x2 kernel, stride 1: four windows; row (i, j) lists tap (i, j) of each window.
  // 7 8 9
  Tensor col = im2col(iota_image({1, 1, 3, 3}), conv_window(2, 2));
  ASSERT_EQ(col.shape(), Shape({4, 4}));
  EXPECT_EQ(col.to_vector<float>(), std::vector<float>({1, 2, 4, 5,  //
                                                        2, 3, 5, 6,  //
                                                        4, 5, 7, 8,  //
                                                        5, 6, 8, 9}));
}

TEST(Im2col, HandComputedChannelsComeFirstInRows) {
  // Channel 0: 1 2 3 / 4 5 6; channel 1: 7 8 9 / 10 11 12; kernel 1x2 gives 2x2 outputs.
  Tensor col = im2col(iota_image({1, 2, 2, 3}), conv_window(1, 2));
  ASSERT_EQ(col.shape(), Shape({4, 4}));
  EXPECT_EQ(col.to_vector<float>(), std::vector<float>({1, 2, 4, 5,       // c0 tap (0, 0)
                                                        2, 3, 5, 6,       // c0 tap (0, 1)
                                                        7, 8, 10, 11,     // c1 tap (0, 0)
                                                        8, 9, 11, 12}));  // c1 tap (0, 1)
}

TEST(Im2col, HandComputedPaddingStrideAndBatch) {
  // Two 2x2 images (1 2 / 3 4 and 5 6 / 7 8), 2x2 kernel, stride 2, padding 1: four windows
  // with top-left corners (-1,-1), (-1,1), (1,-1), (1,1), each seeing one pixel. The columns of
  // image 1 follow those of image 0.
  poison_pool({4, 8});
  Tensor col = im2col(iota_image({2, 1, 2, 2}), conv_window(2, 2, 2, 2, 1, 1));
  ASSERT_EQ(col.shape(), Shape({4, 8}));
  EXPECT_EQ(col.to_vector<float>(), std::vector<float>({0, 0, 0, 4, 0, 0, 0, 8,  //
                                                        0, 0, 3, 0, 0, 0, 7, 0,  //
                                                        0, 2, 0, 0, 0, 6, 0, 0,  //
                                                        1, 0, 0, 0, 5, 0, 0, 0}));
}

TEST(Im2col, HandComputedDilation) {
  // A 2x2 kernel with dilation 2 on a 3x3 image sees the four corners.
  Tensor col = im2col(iota_image({1, 1, 3, 3}), conv_window(2, 2, 1, 1, 0, 0, 2, 2));
  ASSERT_EQ(col.shape(), Shape({4, 1}));
  EXPECT_EQ(col.to_vector<float>(), std::vector<float>({1, 3, 7, 9}));
}

TEST(Im2col, ConvolutionThroughOneGemmMatchesDirectLoops) {
  // W[O, C*kh*kw] * col, with batch and channel swapped back, is the convolution.
  Generator gen(7);
  for (const auto& [shape, window] : odd_cases()) {
    const std::int64_t out_channels = 4;
    Tensor x = testing::random_tensor(shape, gen);
    Tensor w =
        testing::random_tensor({out_channels, shape[1], window.kernel_h, window.kernel_w}, gen);
    testing::DirectConvolution direct(shape, out_channels, window);
    const ConvGeometry& g = direct.g;
    Tensor col = im2col(x, window);
    Tensor y_swapped = Tensor::empty({out_channels, g.col_cols()}, DType::Float64);
    matmul(w.reshape({out_channels, g.col_rows()}), false, col, false, y_swapped);
    Tensor y = swap_leading_axes(y_swapped.reshape({out_channels, g.batch, g.out_h * g.out_w}));
    EXPECT_LE(testing::max_normalized_error(direct.forward(x, w, Tensor()), testing::as_doubles(y)),
              1e-14)
        << shape.str() << " " << describe(window);
  }
}

TEST(Im2col, Float32AndFloat64Agree) {
  Generator gen(8);
  Tensor x = testing::random_tensor({2, 3, 7, 9}, gen);
  const ConvWindow window = conv_window(3, 2, 2, 1, 1, 0);
  const std::vector<double> wide = im2col(x, window).to_vector<double>();
  const std::vector<float> narrow = im2col(x.to(DType::Float32), window).to_vector<float>();
  ASSERT_EQ(wide.size(), narrow.size());
  for (std::size_t k = 0; k < wide.size(); ++k)
    ASSERT_EQ(static_cast<float>(wide[k]), narrow[k]) << k;
}

// ---- col2im -------------------------------------------------------------------------------------

TEST(Col2im, HandComputedCoverageCounts) {
  // With all-one columns every pixel receives the number of windows that cover it.
  const std::vector<float> counts = {1, 2, 1, 2, 4, 2, 1, 2, 1};
  // 2x2 kernel, stride 1 on 3x3: the centre is in all four windows.
  Tensor ones = Tensor::full({4, 4}, 1.0);
  EXPECT_EQ(col2im(ones, {1, 1, 3, 3}, conv_window(2, 2)).to_vector<float>(), counts);
  // 3x3 kernel, stride 2, padding 1 on 3x3: windows start at rows/columns -1 and 1, so the
  // middle row and column are covered twice per axis.
  Tensor ones_strided = Tensor::full({9, 4}, 1.0);
  EXPECT_EQ(col2im(ones_strided, {1, 1, 3, 3}, conv_window(3, 3, 2, 2, 1, 1)).to_vector<float>(),
            counts);
}

TEST(Col2im, HandComputedFoldOfIm2col) {
  // col2im(im2col(x)) multiplies each pixel by its coverage count.
  Tensor x = iota_image({1, 1, 3, 3});
  Tensor folded = col2im(im2col(x, conv_window(2, 2)), x.shape(), conv_window(2, 2));
  EXPECT_EQ(folded.to_vector<float>(), std::vector<float>({1, 4, 3, 8, 20, 12, 7, 16, 9}));
}

TEST(Col2im, PixelsNoWindowCoversAreZero) {
  // 1x1 kernel with stride 3 on 5x5 covers rows and columns 0 and 3 only.
  poison_pool({1, 1, 5, 5});
  Tensor col = Tensor::full({1, 4}, 2.0);
  const std::vector<float> x =
      col2im(col, {1, 1, 5, 5}, conv_window(1, 1, 3, 3)).to_vector<float>();
  for (std::int64_t h = 0; h < 5; ++h)
    for (std::int64_t w = 0; w < 5; ++w)
      EXPECT_EQ(x[static_cast<std::size_t>(h * 5 + w)], (h % 3 == 0 && w % 3 == 0) ? 2.0f : 0.0f)
          << h << "," << w;
}

TEST(Col2im, IsTheAdjointOfIm2col) {
  // <im2col(x), c> == <x, col2im(c)> for all x and c: col2im is im2col's transpose, which is
  // exactly what backpropagation through im2col needs.
  Generator gen(9);
  for (const auto& [shape, window] : odd_cases()) {
    const ConvGeometry g = conv_geometry("test", shape, window);
    Tensor x = testing::random_tensor(shape, gen);
    Tensor c = testing::random_tensor({g.col_rows(), g.col_cols()}, gen);
    const std::vector<double> ix = im2col(x, window).to_vector<double>();
    const std::vector<double> cs = c.to_vector<double>();
    const std::vector<double> xs = x.to_vector<double>();
    const std::vector<double> fc = col2im(c, shape, window).to_vector<double>();
    double lhs = 0, rhs = 0, magnitude = 0;
    for (std::size_t k = 0; k < ix.size(); ++k) {
      lhs += ix[k] * cs[k];
      magnitude += std::abs(ix[k] * cs[k]);
    }
    for (std::size_t k = 0; k < xs.size(); ++k) rhs += xs[k] * fc[k];
    EXPECT_NEAR(lhs, rhs, 1e-12 * magnitude) << shape.str() << " " << describe(window);
    EXPECT_GT(magnitude, 1.0);
  }
}

TEST(Col2im, WrongColumnShapeThrows) {
  EXPECT_THROW(col2im(Tensor::zeros({4, 5}), {1, 1, 3, 3}, conv_window(2, 2)), Error);
  EXPECT_THROW(col2im(Tensor::zeros({16}), {1, 1, 3, 3}, conv_window(2, 2)), Error);
}

// ---- swap_leading_axes --------------------------------------------------------------------------

TEST(SwapLeadingAxes, HandComputed) {
  // [2, 3, 2]: blocks (1 2) (3 4) (5 6) / (7 8) (9 10) (11 12) -> [3, 2, 2].
  Tensor y = swap_leading_axes(iota_image({2, 3, 2}));
  ASSERT_EQ(y.shape(), Shape({3, 2, 2}));
  EXPECT_EQ(y.to_vector<float>(), std::vector<float>({1, 2, 7, 8, 3, 4, 9, 10, 5, 6, 11, 12}));
  Tensor m = swap_leading_axes(Tensor::from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3}));
  EXPECT_EQ(m.to_vector<double>(), std::vector<double>({1, 4, 2, 5, 3, 6}));
  EXPECT_THROW(swap_leading_axes(Tensor::zeros({3})), Error);
}

// ---- CPU/GPU equivalence ------------------------------------------------------------------------
// im2col and swap_leading_axes copy values, and col2im adds each pixel's contributions in the
// same (i, j) order on both devices, so the GPU must reproduce the CPU bit for bit.

TEST(Im2colGpu, MatchesCpuOnOddShapes) {
  DLFS_REQUIRE_GPU();
  Generator gen(10);
  for (const auto& [shape, window] : odd_cases()) {
    Tensor x = Tensor::empty(shape);
    x.normal_(gen);
    poison_pool({conv_geometry("t", shape, window).col_rows(),
                 conv_geometry("t", shape, window).col_cols()},
                DType::Float32, Device::cuda());
    SCOPED_TRACE(shape.str() + " " + describe(window));
    EXPECT_TENSORS_CLOSE(im2col(x, window), im2col(x.to(Device::cuda()), window), 0.0);
  }
}

TEST(Im2colGpu, MatchesCpuOnImageNetBatch) {
  DLFS_REQUIRE_GPU();
  // 128x3x224x224 with a 3x3 kernel, padding 1: a [27, 6422528] column matrix (693 MB).
  Generator gen(11);
  Tensor x = Tensor::empty({128, 3, 224, 224});
  x.uniform_(gen, -1.0, 1.0);
  const ConvWindow window = conv_window(3, 3, 1, 1, 1, 1);
  EXPECT_TENSORS_CLOSE(im2col(x, window), im2col(x.to(Device::cuda()), window), 0.0);
}

TEST(Col2imGpu, MatchesCpuOnOddShapes) {
  DLFS_REQUIRE_GPU();
  Generator gen(12);
  for (const auto& [shape, window] : odd_cases()) {
    const ConvGeometry g = conv_geometry("t", shape, window);
    Tensor col = Tensor::empty({g.col_rows(), g.col_cols()});
    col.normal_(gen);
    poison_pool(shape, DType::Float32, Device::cuda());
    SCOPED_TRACE(shape.str() + " " + describe(window));
    EXPECT_TENSORS_CLOSE(col2im(col, shape, window), col2im(col.to(Device::cuda()), shape, window),
                         0.0);
  }
}

TEST(Col2imGpu, MatchesCpuOnImageNetBatch) {
  DLFS_REQUIRE_GPU();
  // Columns of a 128x3x224x224 batch with a 3x3 kernel, stride 2, padding 1 (overlapping
  // windows: interior pixels gather 1, 2 or 4 contributions) and with stride 1 (up to 9).
  Generator gen(13);
  Tensor x = Tensor::empty({128, 3, 224, 224});
  x.uniform_(gen, -1.0, 1.0);
  for (const ConvWindow& window : {conv_window(3, 3, 2, 2, 1, 1), conv_window(3, 3, 1, 1, 1, 1)}) {
    Tensor col = im2col(x, window);
    SCOPED_TRACE(describe(window));
    EXPECT_TENSORS_CLOSE(col2im(col, x.shape(), window),
                         col2im(col.to(Device::cuda()), x.shape(), window), 0.0);
  }
}

TEST(SwapLeadingAxesGpu, MatchesCpu) {
  DLFS_REQUIRE_GPU();
  Generator gen(14);
  for (const Shape& shape :
       {Shape{1, 1}, Shape{3, 5, 7, 9}, Shape{64, 128, 3136}, Shape{7, 1000}}) {
    Tensor x = Tensor::empty(shape);
    x.normal_(gen);
    SCOPED_TRACE(shape.str());
    EXPECT_TENSORS_CLOSE(swap_leading_axes(x), swap_leading_axes(x.to(Device::cuda())), 0.0);
  }
}

}  // namespace
}  // namespace dlfs::kernels
