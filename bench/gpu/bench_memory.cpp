// The bandwidth ceiling: cudaMemcpyAsync device-to-device, charged with the bytes it reads and
// writes, at the elementwise size and at four times it. Also the helpers every group shares.
#include <algorithm>
#include <cstdio>
#include <utility>
#include <vector>

#include "dlfs/runtime/cuda_check.hpp"
#include "gpu_benches.hpp"

namespace dlfs::bench {

std::string dims_text(std::int64_t a, std::int64_t b) {
  return std::to_string(a) + "x" + std::to_string(b);
}

std::string mib_text(double bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.0f MiB", bytes / (1 << 20));
  return text;
}

Measurement bandwidth_row(const BenchContext& ctx, const std::string& group,
                          const std::string& name, const Timed& dlfs,
                          const std::optional<std::string>& vendor,
                          const std::optional<Timed>& vendor_timed) {
  Measurement m;
  m.group = group;
  m.name = name;
  m.metric = "GB/s";
  m.value = dlfs.rate();
  m.ceiling = ctx.report.copy_GBps;
  m.extra = {{"ms", json_number(dlfs.ms)}, {"bytes", json_number(dlfs.work)}};
  if (vendor && vendor_timed) {
    m.vendor = vendor;
    m.vendor_value = vendor_timed->rate();
    m.extra.push_back({"vendor_ms", json_number(vendor_timed->ms)});
    m.extra.push_back({"vendor_bytes", json_number(vendor_timed->work)});
  }
  return m;
}

void measure_copy_ceiling(BenchContext& ctx) {
  std::vector<std::pair<std::int64_t, Timed>> runs;
  for (std::int64_t bytes : {ctx.elementwise_bytes, 4 * ctx.elementwise_bytes}) {
    const std::int64_t n = bytes / 4;
    Tensor src = random_device_tensor(Shape{n}, -1.0, 1.0, 1);
    Tensor dst = Tensor::empty(Shape{n}, DType::Float32, Device::cuda(0));
    Timed t;
    t.work = 2.0 * static_cast<double>(bytes);
    t.ms = ctx.timer.median_ms([&] {
      DLFS_CUDA_CHECK(cudaMemcpyAsync(dst.raw_data(), src.raw_data(),
                                      static_cast<std::size_t>(bytes), cudaMemcpyDeviceToDevice,
                                      ctx.stream));
    });
    runs.emplace_back(bytes, t);
  }
  double best = 0.0;
  for (const auto& run : runs) best = std::max(best, run.second.rate());
  ctx.report.copy_GBps = best;
  for (const auto& run : runs) {
    Measurement m = bandwidth_row(ctx, "copy", "cudaMemcpy D2D " + mib_text(run.first), run.second);
    m.extra.push_back({"note", json_string("bytes = read + written; the best row is the ceiling")});
    ctx.report.add(m);
  }
}

}  // namespace dlfs::bench
