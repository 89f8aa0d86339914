// Runtime behaviour that needs a GPU: compiled always, skipped with the reason when none exists.
#include <gtest/gtest.h>

#include "runtime/cuda_context.hpp"
#include "runtime/device_pools.hpp"
#include "runtime/tensor.hpp"
#include "support/gpu.hpp"

namespace dlfs {
namespace {

TEST(CudaRuntime, RoundTripCopyIsExact) {
  DLFS_REQUIRE_GPU();
  Generator g(1);
  Tensor host = Tensor::empty({3, 5, 7, 9});
  host.normal_(g);
  Tensor dev = host.to(Device::cuda());
  EXPECT_EQ(dev.device(), Device::cuda());
  EXPECT_EQ(dev.to(Device::cpu()).to_vector<float>(), host.to_vector<float>());
  EXPECT_EQ(dev.clone().to_vector<float>(), host.to_vector<float>());
}

TEST(CudaRuntime, FillAndRandomInitMatchTheCpu) {
  DLFS_REQUIRE_GPU();
  Tensor d = Tensor::full({1001}, 3.5, DType::Float32, Device::cuda());
  EXPECT_EQ(d.to_vector<float>(), std::vector<float>(1001, 3.5f));
  Generator g1(77), g2(77);
  Tensor c = Tensor::empty({4097});
  Tensor e = Tensor::empty({4097}, DType::Float32, Device::cuda());
  c.normal_(g1);
  e.normal_(g2);
  EXPECT_EQ(e.to_vector<float>(), c.to_vector<float>());
}

TEST(CudaRuntime, ContextHandlesAreCreatedOnceAndBoundToTheStream) {
  DLFS_REQUIRE_GPU();
  CudaContext& ctx = cuda_context(0);
  EXPECT_NE(ctx.stream(), nullptr);
  EXPECT_EQ(ctx.cublas(), ctx.cublas());
  if (built_with_cudnn()) {
    EXPECT_EQ(ctx.cudnn(), ctx.cudnn());
  }
  EXPECT_EQ(&cuda_context(0), &ctx);
}

TEST(CudaRuntime, DevicePoolReachesASteadyState) {
  DLFS_REQUIRE_GPU();
  CachingPool& pool = memory_pool(Device::cuda());
  auto step = [] {
    Tensor a = Tensor::empty({128, 6, 28, 28}, DType::Float32, Device::cuda());
    Tensor b = Tensor::empty({128, 150, 24, 24}, DType::Float32, Device::cuda());
    Tensor c = Tensor::empty({128, 10}, DType::Float32, Device::cuda());
  };
  step();
  const auto raw = pool.stats().raw_allocations;
  for (int i = 0; i < 20; ++i) step();
  EXPECT_EQ(pool.stats().raw_allocations, raw);
}

TEST(CudaRuntime, OutOfMemoryIsAnExceptionWithStats) {
  DLFS_REQUIRE_GPU();
  try {
    Tensor huge = Tensor::empty({1LL << 40}, DType::Float32, Device::cuda());  // 4 TiB
    FAIL() << "allocated 4 TiB";
  } catch (const OutOfMemoryError& e) {
    EXPECT_NE(std::string(e.what()).find("tried to allocate"), std::string::npos);
  }
  Tensor ok = Tensor::zeros({16}, DType::Float32, Device::cuda());  // device still usable
  EXPECT_EQ(ok.to_vector<float>(), std::vector<float>(16, 0.0f));
}

TEST(CudaRuntime, NoGpuMeansContextCallsThrowNotAbort) {
  if (cuda_available()) GTEST_SKIP() << "this machine has a GPU";
  EXPECT_THROW(cuda_context(0), Error);
  EXPECT_THROW(memory_pool(Device::cuda()), Error);
  EXPECT_THROW(Tensor::empty({4}, DType::Float32, Device::cuda()), Error);
  EXPECT_THROW(Tensor::zeros({4}).to(Device::cuda()), Error);
}

}  // namespace
}  // namespace dlfs
