#include "gpu_harness.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "dlfs/runtime/cuda_check.hpp"
#include "dlfs/runtime/generator.hpp"

namespace dlfs::bench {

namespace {

constexpr std::int64_t kMinFlushBytes = std::int64_t{256} << 20;
constexpr std::int64_t kTileElements = std::int64_t{1} << 20;

cudaEvent_t as_event(void* e) {
  return static_cast<cudaEvent_t>(e);
}

// Fills dst (count elements of `bytes_per_element`) by copying the host tile once and then
// doubling the initialised prefix with device-to-device copies.
void tile_fill(void* dst, const void* tile, std::int64_t tile_count, std::int64_t count,
               std::size_t bytes_per_element) {
  CudaStream stream = cuda_context(0).stream();
  auto* base = static_cast<char*>(dst);
  const std::int64_t first = std::min(tile_count, count);
  DLFS_CUDA_CHECK(cudaMemcpyAsync(base, tile, static_cast<std::size_t>(first) * bytes_per_element,
                                  cudaMemcpyHostToDevice, stream));
  for (std::int64_t done = first; done < count;) {
    const std::int64_t chunk = std::min(done, count - done);
    DLFS_CUDA_CHECK(cudaMemcpyAsync(base + static_cast<std::size_t>(done) * bytes_per_element, base,
                                    static_cast<std::size_t>(chunk) * bytes_per_element,
                                    cudaMemcpyDeviceToDevice, stream));
    done += chunk;
  }
  DLFS_CUDA_CHECK(cudaStreamSynchronize(stream));
}

}  // namespace

GpuTimer::GpuTimer(CudaStream stream, const TimingOptions& options)
    : stream_(stream), options_(options) {
  int device = 0, l2_bytes = 0;
  DLFS_CUDA_CHECK(cudaGetDevice(&device));
  DLFS_CUDA_CHECK(cudaDeviceGetAttribute(&l2_bytes, cudaDevAttrL2CacheSize, device));
  flush_bytes_ = std::max(kMinFlushBytes, std::int64_t{4} * l2_bytes);
  DLFS_CUDA_CHECK(cudaMalloc(&flush_buffer_, static_cast<std::size_t>(flush_bytes_)));
  cudaEvent_t start = nullptr, stop = nullptr;
  DLFS_CUDA_CHECK(cudaEventCreate(&start));
  DLFS_CUDA_CHECK(cudaEventCreate(&stop));
  start_ = start;
  stop_ = stop;
}

GpuTimer::~GpuTimer() {
  if (start_) cudaEventDestroy(as_event(start_));
  if (stop_) cudaEventDestroy(as_event(stop_));
  if (flush_buffer_) cudaFree(flush_buffer_);
}

double GpuTimer::median_ms(const std::function<void()>& timed, const std::function<void()>& setup) {
  std::vector<double> times;
  const int runs = options_.warmup + std::max(1, options_.repetitions);
  for (int run = 0; run < runs; ++run) {
    if (setup) setup();
    DLFS_CUDA_CHECK(cudaMemsetAsync(flush_buffer_, run & 0xff,
                                    static_cast<std::size_t>(flush_bytes_), stream_));
    DLFS_CUDA_CHECK(cudaEventRecord(as_event(start_), stream_));
    timed();
    DLFS_CUDA_CHECK(cudaEventRecord(as_event(stop_), stream_));
    DLFS_CUDA_CHECK(cudaEventSynchronize(as_event(stop_)));
    float ms = 0.0f;
    DLFS_CUDA_CHECK(cudaEventElapsedTime(&ms, as_event(start_), as_event(stop_)));
    if (run >= options_.warmup) times.push_back(ms);
  }
  std::sort(times.begin(), times.end());
  const std::size_t mid = times.size() / 2;
  return times.size() % 2 ? times[mid] : 0.5 * (times[mid - 1] + times[mid]);
}

Tensor random_device_tensor(const Shape& shape, double low, double high, std::uint64_t seed) {
  Tensor t = Tensor::empty(shape, DType::Float32, Device::cuda(0));
  Generator gen(seed);
  const std::int64_t tile_count = std::min(kTileElements, t.numel());
  std::vector<float> tile(static_cast<std::size_t>(tile_count));
  for (float& v : tile) v = static_cast<float>(low + (high - low) * gen.uniform());
  tile_fill(t.raw_data(), tile.data(), tile_count, t.numel(), sizeof(float));
  return t;
}

Tensor random_device_labels(std::int64_t rows, std::int64_t classes, std::uint64_t seed) {
  Tensor t = Tensor::empty(Shape{rows}, DType::Int32, Device::cuda(0));
  Generator gen(seed);
  const std::int64_t tile_count = std::min(kTileElements, rows);
  std::vector<std::int32_t> tile(static_cast<std::size_t>(tile_count));
  for (auto& v : tile)
    v = static_cast<std::int32_t>(gen.below(static_cast<std::uint64_t>(classes)));
  tile_fill(t.raw_data(), tile.data(), tile_count, rows, sizeof(std::int32_t));
  return t;
}

double sampled_max_abs_diff(const Tensor& a, const Tensor& b) {
  const std::int64_t n = std::min({a.numel(), b.numel(), kTileElements});
  std::vector<float> ha(static_cast<std::size_t>(n)), hb(static_cast<std::size_t>(n));
  DLFS_CUDA_CHECK(cudaStreamSynchronize(cuda_context(0).stream()));
  DLFS_CUDA_CHECK(
      cudaMemcpy(ha.data(), a.raw_data(), ha.size() * sizeof(float), cudaMemcpyDeviceToHost));
  DLFS_CUDA_CHECK(
      cudaMemcpy(hb.data(), b.raw_data(), hb.size() * sizeof(float), cudaMemcpyDeviceToHost));
  double worst = 0.0;
  for (std::size_t i = 0; i < ha.size(); ++i) {
    const double d = std::fabs(static_cast<double>(ha[i]) - hb[i]);
    if (std::isnan(d)) return NAN;
    worst = std::max(worst, d);
  }
  return worst;
}

}  // namespace dlfs::bench
