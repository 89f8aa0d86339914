// dlfs_bench_cpu: measures the machine's ceilings (copy bandwidth, OpenBLAS SGEMM), runs the CPU
// kernel benchmarks with Google Benchmark, measures the ceilings again, and reports each kernel
// as a rate and as a percentage of the higher ceiling measurement, on stdout and in a JSON file.
//
//   dlfs_bench_cpu [--json-out FILE] [--threads N] [--copy-mib N] [--sgemm-n N]
//                  [Google Benchmark flags, e.g. --benchmark_filter=conv --benchmark_min_time=0.2]
#include <cblas.h>
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench/cpu/ceilings.hpp"
#include "bench/cpu/registry.hpp"
#include "bench/cpu/results.hpp"
#include "dlfs/runtime/error.hpp"

namespace {

struct Options {
  std::string json_out;
  int threads = 0;  // 0: OpenMP's default (OMP_NUM_THREADS or every core)
  std::int64_t copy_mib = 256;
  std::int64_t sgemm_n = 2048;
};

std::string utc_now(const char* format) {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[64];
  std::strftime(text, sizeof text, format, &utc);
  return text;
}

std::int64_t parse_count(const std::string& option, const std::string& text) {
  char* end = nullptr;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || value <= 0)
    throw dlfs::InputError("dlfs_bench_cpu: " + option + " needs a positive integer, not '" + text +
                           "'");
  return value;
}

// Takes our options out of argv (leaving Google Benchmark's flags for benchmark::Initialize).
Options parse_options(int* argc, char** argv) {
  Options options;
  int kept = 1;
  for (int i = 1; i < *argc; ++i) {
    const std::string arg = argv[i];
    auto value_of = [&](const std::string& flag, std::string* value) {
      if (arg == flag) {
        if (i + 1 >= *argc) throw dlfs::InputError("dlfs_bench_cpu: " + flag + " needs a value");
        *value = argv[++i];
        return true;
      }
      if (arg.rfind(flag + "=", 0) == 0) {
        *value = arg.substr(flag.size() + 1);
        return true;
      }
      return false;
    };
    std::string value;
    if (value_of("--json-out", &value)) {
      options.json_out = value;
    } else if (value_of("--threads", &value)) {
      options.threads = static_cast<int>(parse_count("--threads", value));
    } else if (value_of("--copy-mib", &value)) {
      options.copy_mib = parse_count("--copy-mib", value);
    } else if (value_of("--sgemm-n", &value)) {
      options.sgemm_n = parse_count("--sgemm-n", value);
    } else {
      argv[kept++] = argv[i];
    }
  }
  *argc = kept;
  if (options.json_out.empty()) options.json_out = "cpu-kernels-" + utc_now("%Y-%m-%d") + ".json";
  return options;
}

std::string cpu_model() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return "unknown";
}

std::string compiler() {
#if defined(__clang__)
  return std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  return std::string("gcc ") + __VERSION__;
#else
  return "";
#endif
}

std::string openblas_config() {
  std::string config = openblas_get_config();
  while (!config.empty() && config.back() == ' ') config.pop_back();
  return config;
}

int run(int argc, char** argv) {
  const Options options = parse_options(&argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;

  // The OpenMP build of OpenBLAS shares our OpenMP pool; set both so neither oversubscribes.
  if (options.threads > 0) omp_set_num_threads(options.threads);
  const int threads = omp_get_max_threads();
  openblas_set_num_threads(threads);

  const std::int64_t copy_bytes = options.copy_mib << 20;
  std::printf("dlfs_bench_cpu: %d threads; measuring ceilings (copy %lld MiB, SGEMM %lld^3)...\n",
              threads, static_cast<long long>(options.copy_mib),
              static_cast<long long>(options.sgemm_n));
  std::fflush(stdout);
  const dlfs::bench::Ceilings before = dlfs::bench::measure_ceilings(copy_bytes, options.sgemm_n);
  std::printf("  before: copy %.2f GB/s, SGEMM %.2f GFLOP/s\n", before.copy_GBps,
              before.sgemm_GFLOPs);

  dlfs::bench::register_kernel_benchmarks();
  dlfs::bench::CollectingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  const dlfs::bench::Ceilings after = dlfs::bench::measure_ceilings(copy_bytes, options.sgemm_n);
  std::printf("  after:  copy %.2f GB/s, SGEMM %.2f GFLOP/s\n", after.copy_GBps,
              after.sgemm_GFLOPs);
  const dlfs::bench::Ceilings ceilings = dlfs::bench::best_of(before, after);

  const auto results = dlfs::bench::make_results(reporter.runs(), ceilings);
  dlfs::bench::print_table(std::cout, results, ceilings);

  dlfs::bench::RunDescription description;
  description.date = utc_now("%Y-%m-%dT%H:%M:%SZ");
  description.cpu = cpu_model();
  description.cores = static_cast<int>(std::thread::hardware_concurrency());
  description.threads = threads;
  description.compiler = compiler();
  description.openblas = openblas_config();
  description.ceilings = ceilings;
  description.copy_bytes = copy_bytes;
  description.sgemm_n = options.sgemm_n;
  dlfs::bench::write_results_json(options.json_out, description, results);
  std::cout << "\nwrote " << options.json_out << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
}
