// The results file in the common schema of bench/ (docs/benchmarks.md).
#include <fstream>
#include <iomanip>
#include <sstream>

#include "bench/cpu/results.hpp"
#include "dlfs/runtime/error.hpp"
#include "dlfs/runtime/json.hpp"

namespace dlfs::bench {
namespace {

std::string string_or_null(const std::string& text) {
  return text.empty() ? "null" : json_quote(text);
}

std::string number(double value) {
  std::ostringstream out;
  out << std::setprecision(6) << value;
  return out.str();
}

}  // namespace

void write_results_json(const std::string& path, const RunDescription& run,
                        const std::vector<Result>& results) {
  std::ostringstream out;
  out << "{\n  \"kind\": \"cpu-kernels\",\n  \"date\": " << json_quote(run.date) << ",\n"
      << "  \"machine\": {\"cpu\": " << json_quote(run.cpu) << ", \"cores\": " << run.cores
      << ", \"threads\": " << run.threads << ", \"gpu\": null},\n"
      << "  \"versions\": {\"dlfs\": \"0.1.0\", \"compiler\": " << string_or_null(run.compiler)
      << ", \"cuda\": " << string_or_null(run.cuda) << ", \"cudnn\": " << string_or_null(run.cudnn)
      << ", \"openblas\": " << string_or_null(run.openblas) << ", \"torch\": null},\n"
      << "  \"ceilings\": {\"copy_GBps\": " << number(run.ceilings.copy_GBps)
      << ", \"sgemm_GFLOPs\": " << number(run.ceilings.sgemm_GFLOPs)
      << ", \"copy_bytes\": " << run.copy_bytes << ", \"sgemm_n\": " << run.sgemm_n << "},\n"
      << "  \"results\": [";
  for (std::size_t i = 0; i < results.size(); ++i) {
    const Result& r = results[i];
    out << (i ? ",\n" : "\n") << "    {\"group\": " << json_quote(r.group)
        << ", \"name\": " << json_quote(r.name) << ", \"metric\": " << json_quote(r.metric)
        << ", \"value\": " << number(r.value) << ", \"ceiling\": " << number(r.ceiling)
        << ", \"percent_of_ceiling\": " << number(r.percent_of_ceiling)
        << ", \"vendor\": null, \"vendor_value\": null, \"ratio_to_vendor\": null"
        << ", \"extra\": {\"time_ms\": " << number(r.time_ms)
        << ", \"iterations\": " << r.iterations << ", \""
        << (r.metric == "GB/s" ? "bytes_per_iteration" : "flop_per_iteration")
        << "\": " << number(r.work_per_iteration) << "}}";
  }
  out << "\n  ]\n}\n";
  std::ofstream file(path);
  if (!file) throw InputError("dlfs_bench_cpu: cannot write the results file " + path);
  file << out.str();
  if (!file.flush()) throw InputError("dlfs_bench_cpu: cannot write the results file " + path);
}

}  // namespace dlfs::bench
