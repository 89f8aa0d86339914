#pragma once
// The timing harness of dlfs_bench_gpu: device tensors filled fast, and a timer that measures
// one launch sequence with CUDA events on the dlfs stream, with the L2 cache flushed before
// every timed run, and reports the median over repeated runs after a warm-up.
#include <cstdint>
#include <functional>

#include "dlfs/runtime/cuda_context.hpp"
#include "dlfs/runtime/tensor.hpp"

namespace dlfs::bench {

struct TimingOptions {
  int warmup = 3;
  int repetitions = 20;
};

class GpuTimer {
 public:
  GpuTimer(CudaStream stream, const TimingOptions& options);
  ~GpuTimer();
  GpuTimer(const GpuTimer&) = delete;
  GpuTimer& operator=(const GpuTimer&) = delete;

  // Median milliseconds of `timed` over the repetitions. Before each run (warm-up included)
  // `setup` runs untimed (e.g. the forward pass a backward needs), then the L2 is flushed by
  // writing a buffer larger than it, then `timed` runs between two events on the stream.
  double median_ms(const std::function<void()>& timed,
                   const std::function<void()>& setup = nullptr);

  std::int64_t flush_bytes() const { return flush_bytes_; }

 private:
  CudaStream stream_;
  TimingOptions options_;
  void* flush_buffer_ = nullptr;
  std::int64_t flush_bytes_ = 0;
  void* start_ = nullptr;  // cudaEvent_t
  void* stop_ = nullptr;
};

// A float32 tensor on cuda:0 with values in [low, high): a 4 MiB random tile made on the host,
// repeated over the tensor with device copies (host RNG over GiBs would take seconds).
Tensor random_device_tensor(const Shape& shape, double low, double high, std::uint64_t seed);
// An int32 tensor on cuda:0 holding class labels in [0, classes).
Tensor random_device_labels(std::int64_t rows, std::int64_t classes, std::uint64_t seed);
// Largest |a - b| over the first (at most) 1 Mi elements of two float32 device tensors: a check
// that a custom kernel and its vendor twin computed the same thing.
double sampled_max_abs_diff(const Tensor& a, const Tensor& b);

}  // namespace dlfs::bench
