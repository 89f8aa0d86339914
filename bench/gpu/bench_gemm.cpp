// GEMM: dlfs's matmul is cuBLAS SGEMM (kernels/gemm.hpp), so there is no custom kernel to race;
// its GFLOP/s are reported against the GPU's fp32 peak (SMs x fp32 lanes x 2 x boost clock,
// no tensor cores, no TF32), at square sizes and at the GEMMs the im2col convolution runs.
#include <algorithm>
#include <cstdint>

#include "dlfs/kernels/gemm.hpp"
#include "dlfs/runtime/cuda_check.hpp"
#include "gpu_benches.hpp"

namespace dlfs::bench {

namespace {

// fp32 FMA lanes per SM by compute capability (Volta and A100: 64; Ampere consumer parts,
// Ada, Hopper, Blackwell: 128).
int fp32_lanes_per_sm(int major, int minor) {
  if (major < 8 || (major == 8 && minor == 0)) return 64;
  return 128;
}

}  // namespace

double fp32_peak_gflops() {
  int device = 0, sms = 0, clock_khz = 0, major = 0, minor = 0;
  DLFS_CUDA_CHECK(cudaGetDevice(&device));
  DLFS_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  DLFS_CUDA_CHECK(cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, device));
  DLFS_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device));
  DLFS_CUDA_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device));
  return static_cast<double>(sms) * fp32_lanes_per_sm(major, minor) * 2.0 * clock_khz / 1e6;
}

namespace {

struct GemmCase {
  const char* what;
  std::int64_t m, n, k;
};

}  // namespace

void bench_gemm(BenchContext& ctx) {
  const double peak = fp32_peak_gflops();
  ctx.report.fp32_peak_GFLOPs = peak;
  CublasHandle handle = cuda_context(0).cublas();
  const std::int64_t batch = ctx.conv_batch;
  const GemmCase cases[] = {
      {"square", 4096, 4096, 4096},
      {"square", 8192, 8192, 8192},
      {"conv 64->64 k3 56x56 forward", 64, batch * 56 * 56, 64 * 9},
      {"conv 256->256 k3 14x14 forward", 256, batch * 14 * 14, 256 * 9},
      {"conv 512->512 k3 7x7 forward", 512, batch * 7 * 7, 512 * 9},
      {"affine 4096 batch 256", 256, 4096, 4096},
  };
  double best = 0.0;
  for (const GemmCase& c : cases) {
    Tensor a = random_device_tensor(Shape{c.m, c.k}, -1.0, 1.0, 15);
    Tensor b = random_device_tensor(Shape{c.k, c.n}, -1.0, 1.0, 16);
    Tensor out = Tensor::empty(Shape{c.m, c.n}, DType::Float32, Device::cuda(0));
    Timed t{0.0, 2.0 * static_cast<double>(c.m) * c.n * c.k};
    t.ms = ctx.timer.median_ms([&] {
      kernels::cuda::gemm(false, false, c.m, c.n, c.k, 1.0f, a.data<float>(), c.k, b.data<float>(),
                          c.n, 0.0f, out.data<float>(), c.n, handle);
    });
    best = std::max(best, t.rate());
    Measurement m;
    m.group = "gemm";
    m.name = std::string("sgemm ") + c.what + " " + std::to_string(c.m) + "x" +
             std::to_string(c.n) + "x" + std::to_string(c.k);
    m.metric = "GFLOP/s";
    m.value = t.rate();
    m.ceiling = peak;
    m.extra = {{"ms", json_number(t.ms)},
               {"flops", json_number(t.work)},
               {"note", json_string("dlfs matmul is cuBLAS SGEMM; ceiling = fp32 peak")}};
    ctx.report.add(m);
  }
  ctx.report.sgemm_GFLOPs = best;
}

}  // namespace dlfs::bench
