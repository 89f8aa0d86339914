// dlfs_bench_gpu: times each custom dlfs CUDA kernel beside its vendor twin (cuDNN, cuBLAS) and
// the device-to-device copy that bounds them, prints a table, and writes the common results
// JSON with --json-out. With no usable GPU it says so and exits 0 (after writing a JSON that
// records why nothing was measured).
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "dlfs/runtime/cuda_check.hpp"
#include "dlfs/runtime/device.hpp"
#include "gpu_benches.hpp"

namespace {

using namespace dlfs;
using namespace dlfs::bench;

struct Group {
  const char* name;
  void (*run)(BenchContext&);
};

const Group kGroups[] = {
    {"relu", bench_relu},
    {"softmax", bench_softmax},
    {"losses", bench_losses},
    {"pooling", bench_pooling},
    {"batch_norm", bench_batch_norm},
    {"gemm", bench_gemm},
    {"convolution", bench_convolution},
};

struct Options {
  std::string json_out;
  TimingOptions timing;
  std::int64_t size_mib = 256;
  std::int64_t conv_batch = 32;
  std::vector<std::string> only;  // empty: every group
};

void print_usage() {
  std::printf(
      "usage: dlfs_bench_gpu [--json-out FILE] [--reps N] [--warmup N] [--size-mib N]\n"
      "                      [--conv-batch N] [--only GROUP,GROUP...]\n"
      "Times dlfs's CUDA kernels beside cuDNN/cuBLAS with CUDA events (L2 flushed before each\n"
      "run, median of --reps after --warmup). The copy ceiling is always measured.\n"
      "  --size-mib N    size of the elementwise/softmax/loss tensors (default 256)\n"
      "  --conv-batch N  batch of the ResNet-18 convolution shapes (default 32)\n"
      "groups:");
  for (const Group& g : kGroups) std::printf(" %s", g.name);
  std::printf("\n");
}

std::int64_t parse_positive(const std::string& option, const std::string& text) {
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || v <= 0)
    throw InputError(option + " needs a positive integer, not '" + text + "'");
  return v;
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      print_usage();
      std::exit(0);
    }
    if (i + 1 >= argc) throw InputError("unknown option or missing value: " + arg);
    const std::string value = argv[++i];
    if (arg == "--json-out") {
      o.json_out = value;
    } else if (arg == "--reps") {
      o.timing.repetitions = static_cast<int>(parse_positive(arg, value));
    } else if (arg == "--warmup") {
      o.timing.warmup = value == "0" ? 0 : static_cast<int>(parse_positive(arg, value));
    } else if (arg == "--size-mib") {
      o.size_mib = parse_positive(arg, value);
    } else if (arg == "--conv-batch") {
      o.conv_batch = parse_positive(arg, value);
    } else if (arg == "--only") {
      std::stringstream list(value);
      for (std::string name; std::getline(list, name, ',');) {
        bool known = false;
        for (const Group& g : kGroups) known = known || name == g.name;
        if (!known) throw InputError("--only: unknown group '" + name + "'");
        o.only.push_back(name);
      }
    } else {
      throw InputError("unknown option: " + arg);
    }
  }
  return o;
}

bool selected(const Options& o, const char* group) {
  if (o.only.empty()) return true;
  for (const std::string& name : o.only)
    if (name == group) return true;
  return false;
}

std::string cpu_model() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return "unknown";
}

std::string version_text(int v, int major_unit, int minor_unit) {
  return std::to_string(v / major_unit) + "." + std::to_string(v % major_unit / minor_unit);
}

MachineInfo machine_info(bool have_gpu) {
  MachineInfo m;
  m.cpu = cpu_model();
  m.cores = static_cast<int>(std::thread::hardware_concurrency());
#if defined(__clang__)
  m.compiler = std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  m.compiler = std::string("gcc ") + __VERSION__;
#endif
  int runtime = 0, driver = 0;
  cudaRuntimeGetVersion(&runtime);
  cudaDriverGetVersion(&driver);
  m.cuda = "runtime " + version_text(runtime, 1000, 10) + ", driver " +
           (driver ? version_text(driver, 1000, 10) : std::string("none"));
#if DLFS_HAVE_CUDNN
  const std::size_t cudnn = cudnnGetVersion();  // major * 10000 + minor * 100 + patch
  m.cudnn = std::to_string(cudnn / 10000) + "." + std::to_string(cudnn / 100 % 100) + "." +
            std::to_string(cudnn % 100);
#endif
  if (have_gpu) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess)
      m.gpu = std::string(prop.name) + " (sm_" + std::to_string(prop.major) +
              std::to_string(prop.minor) + ", " + std::to_string(prop.totalGlobalMem >> 30) +
              " GiB)";
  }
  return m;
}

int run(const Options& o) {
  if (!cuda_available()) {
    const std::string why = cuda_status();
    std::printf("dlfs_bench_gpu: %s; nothing to measure\n", why.c_str());
    if (!o.json_out.empty()) write_skipped_json(o.json_out, machine_info(false), why);
    return 0;
  }
  const MachineInfo machine = machine_info(true);
  std::printf("dlfs_bench_gpu on %s, cuDNN %s; median of %d runs after %d warm-up, L2 flushed\n",
              machine.gpu.c_str(), machine.cudnn.empty() ? "absent" : machine.cudnn.c_str(),
              o.timing.repetitions, o.timing.warmup);
  CudaStream stream = cuda_context(0).stream();
  GpuTimer timer(stream, o.timing);
  Report report;
  BenchContext ctx{timer, report, stream, o.size_mib << 20, o.conv_batch};
  int failures = 0;
  const auto guarded = [&](const char* name, const std::function<void()>& body) {
    std::printf("[%s]\n", name);
    std::fflush(stdout);
    try {
      body();
    } catch (const std::exception& e) {
      ++failures;
      std::printf("dlfs_bench_gpu: group %s failed: %s\n", name, e.what());
    }
  };
  guarded("copy", [&] { measure_copy_ceiling(ctx); });
  for (const Group& g : kGroups)
    if (selected(o, g.name)) guarded(g.name, [&] { g.run(ctx); });
  report.print_table();
  if (!o.json_out.empty()) {
    report.write_json(o.json_out, machine);
    std::printf("wrote %s\n", o.json_out.c_str());
  }
  return failures ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse_options(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dlfs_bench_gpu: %s\n", e.what());
    return 2;
  }
}
