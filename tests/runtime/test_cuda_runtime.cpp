// Runtime behaviour that needs a GPU: compiled always, skipped with the reason when none exists.
#include <gtest/gtest.h>

#if DLFS_HAVE_CUDA
#include <cublas_v2.h>
#endif
#if DLFS_HAVE_CUDNN
#include <cudnn.h>
#endif

#include "dlfs/runtime/cuda_context.hpp"
#include "dlfs/runtime/device.hpp"
#include "dlfs/runtime/device_pools.hpp"
#include "dlfs/runtime/tensor.hpp"
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
  // A created stream, not the legacy default stream (which is nullptr).
  const CudaStream stream = ctx.stream();
  ASSERT_NE(stream, nullptr);
  const CublasHandle blas = ctx.cublas();
  ASSERT_NE(blas, nullptr);
  // Created once: a later call (and a later lookup of the context) hands back the same objects.
  EXPECT_EQ(&cuda_context(0), &ctx);
  EXPECT_EQ(cuda_context(0).cublas(), blas);
  EXPECT_EQ(cuda_context(0).stream(), stream);
#if DLFS_HAVE_CUDA
  // Bound to the stream: cuBLAS reports the context's stream as its own.
  cudaStream_t bound = nullptr;
  ASSERT_EQ(cublasGetStream(blas, &bound), CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(bound, stream);
#endif
#if DLFS_HAVE_CUDNN
  if (built_with_cudnn() && !testing::kEmulatedGpu) {
    const CudnnHandle dnn = ctx.cudnn();
    ASSERT_NE(dnn, nullptr);
    EXPECT_EQ(cuda_context(0).cudnn(), dnn);
    cudaStream_t dnn_stream = nullptr;
    ASSERT_EQ(cudnnGetStream(dnn, &dnn_stream), CUDNN_STATUS_SUCCESS);
    EXPECT_EQ(dnn_stream, stream);
  }
#endif
  // Another device has its own context, stream and handle.
  if (cuda_device_count() > 1) {
    CudaContext& other = cuda_context(1);
    EXPECT_NE(&other, &ctx);
    EXPECT_NE(other.stream(), stream);
    EXPECT_NE(other.cublas(), blas);
  }
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
  if (cuda_available())
    GTEST_SKIP() << "tests the no-GPU case, and a CUDA device is present: " << cuda_status();
  EXPECT_THROW(cuda_context(0), Error);
  EXPECT_THROW(memory_pool(Device::cuda()), Error);
  EXPECT_THROW(Tensor::empty({4}, DType::Float32, Device::cuda()), Error);
  EXPECT_THROW(Tensor::zeros({4}).to(Device::cuda()), Error);
}

}  // namespace
}  // namespace dlfs
