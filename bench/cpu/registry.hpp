#pragma once
// What the results file needs to know about each registered benchmark beyond its timing: its
// group, whether it is measured in bytes (against the copy ceiling) or FLOPs (against SGEMM),
// and the useful work one iteration does.
#include <functional>
#include <map>
#include <string>

#include <benchmark/benchmark.h>

namespace dlfs::bench {

enum class Measure { Bytes, Flops };

struct BenchmarkInfo {
  std::string group;  // "softmax", "conv fwd+bwd", ...
  Measure measure = Measure::Bytes;
  double work_per_iteration = 0.0;  // useful bytes read + written, or floating-point operations
};

// The counter each benchmark sets, as a rate (bytes/s or FLOP/s).
constexpr const char* kBytesCounter = "bytes";
constexpr const char* kFlopsCounter = "flop";

// Registers `body` under `name` with Google Benchmark (real time, milliseconds) and records its
// info. `body` runs the timed loop; the registry adds the work counter after it.
void register_benchmark(const std::string& name, BenchmarkInfo info,
                        std::function<void(benchmark::State&)> body);

// Registered benchmarks by name (the name given above).
const std::map<std::string, BenchmarkInfo>& registered_benchmarks();

// Every kernel benchmark of bench/cpu/kernel_benchmarks.cpp.
void register_kernel_benchmarks();

}  // namespace dlfs::bench
