#pragma once
// One row of the results file (the common schema of bench/, docs/benchmarks.md) per benchmark,
// built from Google Benchmark's runs and the ceilings measured in the same process.
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench/cpu/ceilings.hpp"

namespace dlfs::bench {

struct Result {
  std::string group, name, metric;  // metric: "GB/s" or "GFLOP/s"
  double value = 0.0;
  double ceiling = 0.0;  // copy_GBps or sgemm_GFLOPs
  double percent_of_ceiling = 0.0;
  double time_ms = 0.0;  // real time per iteration
  std::int64_t iterations = 0;
  double work_per_iteration = 0.0;  // bytes or FLOPs
};

// Keeps every run while printing Google Benchmark's usual console lines.
class CollectingReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override;
  const std::vector<Run>& runs() const { return runs_; }

 private:
  std::vector<Run> runs_;
};

// One result per benchmark: the median aggregate where repetitions were asked for, else the run.
std::vector<Result> make_results(const std::vector<benchmark::BenchmarkReporter::Run>& runs,
                                 const Ceilings& ceilings);

void print_table(std::ostream& out, const std::vector<Result>& results, const Ceilings& ceilings);

struct RunDescription {
  std::string date;  // ISO-8601, UTC
  std::string cpu;
  int cores = 0, threads = 0;
  std::string compiler, openblas, cuda, cudnn;  // empty: null
  Ceilings ceilings;
  std::int64_t copy_bytes = 0, sgemm_n = 0;
};

// Writes the results file; throws dlfs::InputError naming the path when it cannot be written.
void write_results_json(const std::string& path, const RunDescription& run,
                        const std::vector<Result>& results);

}  // namespace dlfs::bench
