#include "bench/cpu/results.hpp"

#include <cstdio>
#include <map>

#include "bench/cpu/registry.hpp"

namespace dlfs::bench {

void CollectingReporter::ReportRuns(const std::vector<Run>& runs) {
  ConsoleReporter::ReportRuns(runs);
  runs_.insert(runs_.end(), runs.begin(), runs.end());
}

std::vector<Result> make_results(const std::vector<benchmark::BenchmarkReporter::Run>& runs,
                                 const Ceilings& ceilings) {
  // Prefer the median of repetitions; otherwise the (last) plain run of each benchmark.
  std::map<std::string, const benchmark::BenchmarkReporter::Run*> chosen;
  std::vector<std::string> order;
  for (const auto& run : runs) {
    if (run.error_occurred) continue;
    const bool median = run.run_type == benchmark::BenchmarkReporter::Run::RT_Aggregate &&
                        run.aggregate_name == "median";
    const bool plain = run.run_type == benchmark::BenchmarkReporter::Run::RT_Iteration;
    if (!median && !plain) continue;
    const std::string& name = run.run_name.function_name;
    auto it = chosen.find(name);
    if (it == chosen.end()) {
      order.push_back(name);
      chosen[name] = &run;
    } else if (median || it->second->run_type != benchmark::BenchmarkReporter::Run::RT_Aggregate) {
      it->second = &run;
    }
  }
  std::vector<Result> results;
  const auto& infos = registered_benchmarks();
  for (const std::string& name : order) {
    auto info = infos.find(name);
    if (info == infos.end()) continue;
    const auto& run = *chosen[name];
    const bool bytes = info->second.measure == Measure::Bytes;
    auto counter = run.counters.find(bytes ? kBytesCounter : kFlopsCounter);
    if (counter == run.counters.end()) continue;
    Result r;
    r.group = info->second.group;
    r.name = name;
    r.metric = bytes ? "GB/s" : "GFLOP/s";
    r.value = counter->second.value / 1e9;
    r.ceiling = bytes ? ceilings.copy_GBps : ceilings.sgemm_GFLOPs;
    r.percent_of_ceiling = 100.0 * r.value / r.ceiling;
    // Real time in the benchmarks' unit (milliseconds, see registry.cpp).
    r.time_ms = run.GetAdjustedRealTime();
    r.iterations = run.iterations;
    r.work_per_iteration = info->second.work_per_iteration;
    results.push_back(r);
  }
  return results;
}

void print_table(std::ostream& out, const std::vector<Result>& results, const Ceilings& ceilings) {
  char line[256];
  std::snprintf(line, sizeof line,
                "\nCeilings: copy %.2f GB/s (read + write), SGEMM %.2f GFLOP/s\n\n",
                ceilings.copy_GBps, ceilings.sgemm_GFLOPs);
  out << line;
  std::snprintf(line, sizeof line, "%-18s %-58s %10s %-8s %8s %10s\n", "group", "benchmark",
                "value", "metric", "% ceil", "ms/iter");
  out << line << std::string(117, '-') << "\n";
  for (const Result& r : results) {
    std::snprintf(line, sizeof line, "%-18s %-58s %10.2f %-8s %7.1f%% %10.3f\n", r.group.c_str(),
                  r.name.c_str(), r.value, r.metric.c_str(), r.percent_of_ceiling, r.time_ms);
    out << line;
  }
}

}  // namespace dlfs::bench
