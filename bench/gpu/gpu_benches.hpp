#pragma once
// The benchmark groups of dlfs_bench_gpu (one file each) and what they share.
#include <cstdint>
#include <optional>
#include <string>

#include "gpu_harness.hpp"
#include "gpu_report.hpp"

namespace dlfs::bench {

struct BenchContext {
  GpuTimer& timer;
  Report& report;
  CudaStream stream;
  std::int64_t elementwise_bytes;  // size of the big tensors (>= 256 MiB for the targets)
  std::int64_t conv_batch;         // batch of the ResNet convolution shapes
};

// One timed launch sequence: its time and the bytes (or FLOPs) it is charged with.
struct Timed {
  double ms = 0.0;
  double work = 0.0;  // bytes for GB/s, FLOPs for GFLOP/s
  // work per second in the metric's unit (1e9 bytes or FLOPs)
  double rate() const { return ms > 0.0 ? work / (ms * 1e-3) / 1e9 : 0.0; }
};

// A GB/s row against the copy ceiling, with the vendor twin when there is one. Times and bytes
// go into extra so the numbers can be re-derived.
Measurement bandwidth_row(const BenchContext& ctx, const std::string& group,
                          const std::string& name, const Timed& dlfs,
                          const std::optional<std::string>& vendor = std::nullopt,
                          const std::optional<Timed>& vendor_timed = std::nullopt);
// "65536x1024" and "256 MiB".
std::string dims_text(std::int64_t a, std::int64_t b);
std::string mib_text(double bytes);

// SMs x fp32 lanes x 2 x clock of cuda:0, in GFLOP/s.
double fp32_peak_gflops();

// Sets ctx.report.copy_GBps (cudaMemcpyAsync device-to-device, bytes read + written) and adds
// the copy rows.
void measure_copy_ceiling(BenchContext& ctx);
void bench_relu(BenchContext& ctx);
void bench_softmax(BenchContext& ctx);
void bench_losses(BenchContext& ctx);
void bench_pooling(BenchContext& ctx);
void bench_batch_norm(BenchContext& ctx);
// Sets ctx.report.sgemm_GFLOPs and fp32_peak_GFLOPs.
void bench_gemm(BenchContext& ctx);
void bench_convolution(BenchContext& ctx);

}  // namespace dlfs::bench
