#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <vector>

#include "dlfs/kernels/gemm.hpp"
#include "support/equivalence.hpp"
#include "support/gemm_error.hpp"
#include "support/gpu.hpp"

namespace dlfs::kernels {
namespace {

// Naive triple loop over the row-major definition, in double.
Tensor naive_matmul(const Tensor& a, bool ta, const Tensor& b, bool tb) {
  const auto A = a.to(DType::Float64), B = b.to(DType::Float64);
  const std::int64_t m = ta ? a.dim(1) : a.dim(0), k = ta ? a.dim(0) : a.dim(1);
  const std::int64_t n = tb ? b.dim(0) : b.dim(1);
  Tensor c = Tensor::zeros({m, n}, DType::Float64);
  const double *ap = A.data<double>(), *bp = B.data<double>();
  double* cp = c.data<double>();
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (std::int64_t p = 0; p < k; ++p)
        s += (ta ? ap[p * a.dim(1) + i] : ap[i * a.dim(1) + p]) *
             (tb ? bp[j * b.dim(1) + p] : bp[p * b.dim(1) + j]);
      cp[i * n + j] = s;
    }
  return c;
}

class GemmTest : public ::testing::TestWithParam<std::tuple<bool, bool>> {};

TEST_P(GemmTest, MatchesNaiveLoopsOnOddShapes) {
  const auto [ta, tb] = GetParam();
  Generator g(3);
  const std::int64_t m = 7, n = 5, k = 11;
  Tensor a = Tensor::empty(ta ? Shape{k, m} : Shape{m, k});
  Tensor b = Tensor::empty(tb ? Shape{n, k} : Shape{k, n});
  a.normal_(g);
  b.normal_(g);
  Tensor c = Tensor::empty({m, n});
  matmul(a, ta, b, tb, c);
  const Tensor expected = naive_matmul(a, ta, b, tb).to(DType::Float32);
  EXPECT_TENSORS_CLOSE(expected, c, 1e-5);

  // beta accumulates: c = 2 * op(a)op(b) + 1 * c
  matmul(a, ta, b, tb, c, 2.0, 1.0);
  const auto e = expected.to_vector<float>();
  const auto got = c.to_vector<float>();
  for (std::size_t i = 0; i < e.size(); ++i) EXPECT_NEAR(got[i], 3 * e[i], 1e-4);
}

INSTANTIATE_TEST_SUITE_P(AllTranspositions, GemmTest,
                         ::testing::Combine(::testing::Bool(), ::testing::Bool()));

// dlfs cuts large GEMMs into blocks fixed by the shape, each on one thread: the same bits at 1,
// 2 and 3 threads, in every transposition, on the shapes of SimpleConvNet's and vgg-small-bn's
// Linear layers at batch 128 (OpenBLAS's own threading changed them) and on row and column
// counts that leave a smaller last block.
TEST(Gemm, SameBitsForAnyThreadCount) {
  const int threads = omp_get_max_threads();
  Generator gen(3);
  for (const auto& [m, n, k] : std::vector<std::array<std::int64_t, 3>>{
           {128, 100, 4320}, {4320, 100, 128}, {128, 256, 1152}, {77, 1003, 301}, {1003, 77, 301}})
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        SCOPED_TRACE(std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k) +
                     (ta ? " A^T" : "") + (tb ? " B^T" : ""));
        const Tensor a = Tensor::empty(ta ? Shape{k, m} : Shape{m, k}).uniform_(gen, -1, 1);
        const Tensor b = Tensor::empty(tb ? Shape{n, k} : Shape{k, n}).uniform_(gen, -1, 1);
        std::vector<Tensor> results;
        for (int t : {1, 2, 3}) {
          omp_set_num_threads(t);
          Tensor c = Tensor::zeros({m, n});
          matmul(a, ta, b, tb, c);
          results.push_back(c);
        }
        for (int i : {1, 2})
          EXPECT_EQ(std::memcmp(results[0].data<float>(), results[i].data<float>(),
                                sizeof(float) * m * n),
                    0)
              << (i + 1) << " threads";
        // Against the double loops, relative to C's largest element: sums of up to 4,320
        // products cancel to near zero in places, where an element-wise ratio means nothing.
        const Tensor expected = naive_matmul(a, ta, b, tb);
        double worst = 0, largest = 0;
        for (std::int64_t e = 0; e < m * n; ++e) {
          const double want = expected.data<double>()[e];
          largest = std::max(largest, std::abs(want));
          worst = std::max(worst, std::abs(want - results[0].data<float>()[e]));
        }
        EXPECT_LE(worst, 1e-5 * largest);
      }
  omp_set_num_threads(threads);
}

TEST(Gemm, Float64OnTheCpu) {
  Tensor a = Tensor::from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = Tensor::from_vector<double>({1, 0, 0, 1, 1, 1}, {3, 2});
  Tensor c = Tensor::empty({2, 2}, DType::Float64);
  matmul(a, false, b, false, c);
  EXPECT_EQ(c.to_vector<double>(), std::vector<double>({4, 5, 10, 11}));
}

TEST(Gemm, RejectsMismatchedShapes) {
  Tensor a = Tensor::zeros({2, 3}), b = Tensor::zeros({4, 2}), c = Tensor::zeros({2, 2});
  EXPECT_THROW(matmul(a, false, b, false, c), Error);
  Tensor d = Tensor::zeros({3, 2}, DType::Float64);
  EXPECT_THROW(matmul(a, false, d, false, c), Error);
}

TEST(GemmGpu, MatchesCpuOnOddShapes) {
  DLFS_REQUIRE_GPU();
  for (auto [ta, tb] : {std::pair{false, false}, {true, false}, {false, true}, {true, true}}) {
    Generator g(5);
    const std::int64_t m = 33, n = 17, k = 65;
    Tensor a = Tensor::empty(ta ? Shape{k, m} : Shape{m, k});
    Tensor b = Tensor::empty(tb ? Shape{n, k} : Shape{k, n});
    a.normal_(g);
    b.normal_(g);
    Tensor c = Tensor::zeros({m, n});
    matmul(a, ta, b, tb, c);
    Tensor cd = Tensor::zeros({m, n}, DType::Float32, Device::cuda());
    matmul(a.to(Device::cuda()), ta, b.to(Device::cuda()), tb, cd);
    // Both within the bound of any float32 summation order (gemm_error.hpp): k units.
    const testing::GemmError cpu = testing::gemm_error(a, ta, b, tb, c);
    const testing::GemmError gpu = testing::gemm_error(a, ta, b, tb, cd);
    EXPECT_LE(cpu.normalised, double(k)) << "CPU at " << cpu.where;
    EXPECT_LE(gpu.normalised, double(k)) << "GPU at " << gpu.where << ", ta " << ta << " tb " << tb;
  }
}

TEST(GemmGpu, ErrorBoundCatchesATransposedOperand) {
  // The bound above is not vacuous: the right product read with A transposed fails it by orders
  // of magnitude.
  Generator g(5);
  const std::int64_t n = 24;
  Tensor a = Tensor::empty({n, n}), b = Tensor::empty({n, n});
  a.normal_(g);
  b.normal_(g);
  Tensor c = Tensor::zeros({n, n});
  matmul(a, false, b, false, c);
  EXPECT_LE(testing::gemm_error(a, false, b, false, c).normalised, double(n));
  EXPECT_GT(testing::gemm_error(a, true, b, false, c).normalised, 1e4);
}

TEST(GemmGpu, LargeSquareMatchesCpu) {
  DLFS_REQUIRE_GPU();
  Generator g(6);
  // 4096 on a GPU; the emulated device's plain-loop cuBLAS takes 512.
  const std::int64_t n = testing::gpu_test_size(4096, 512);
  Tensor a = Tensor::empty({n, n}), b = Tensor::empty({n, n});
  a.uniform_(g, -1, 1);
  b.uniform_(g, -1, 1);
  Tensor c = Tensor::empty({n, n});
  matmul(a, false, b, false, c);
  Tensor cd = Tensor::empty({n, n}, DType::Float32, Device::cuda());
  matmul(a.to(Device::cuda()), false, b.to(Device::cuda()), false, cd);
  // Dot products of n terms of size ~1/3 have magnitude ~sqrt(n)/3; float32 accumulation order
  // differs between OpenBLAS and cuBLAS, giving absolute differences ~1e-4 (relative 1e-3 floor 1).
  const auto d = testing::max_difference(c, cd, 1.0);
  EXPECT_LE(d.max_relative, 1e-3) << "at " << d.where;
}

}  // namespace
}  // namespace dlfs::kernels
