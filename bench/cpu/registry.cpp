#include "bench/cpu/registry.hpp"

#include <utility>

namespace dlfs::bench {
namespace {

std::map<std::string, BenchmarkInfo>& registry() {
  static std::map<std::string, BenchmarkInfo> benchmarks;
  return benchmarks;
}

}  // namespace

void register_benchmark(const std::string& name, BenchmarkInfo info,
                        std::function<void(benchmark::State&)> body) {
  const Measure measure = info.measure;
  const double work = info.work_per_iteration;
  registry()[name] = std::move(info);
  benchmark::RegisterBenchmark(
      name.c_str(),
      [body = std::move(body), measure, work](benchmark::State& state) {
        body(state);
        state.counters[measure == Measure::Bytes ? kBytesCounter : kFlopsCounter] =
            benchmark::Counter(work, benchmark::Counter::kIsIterationInvariantRate);
      })
      // The kernels run on every OpenMP thread: the calling thread's CPU time would undercount.
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
}

const std::map<std::string, BenchmarkInfo>& registered_benchmarks() {
  return registry();
}

}  // namespace dlfs::bench
