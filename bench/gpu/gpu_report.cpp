#include "gpu_report.hpp"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

#include "dlfs/runtime/error.hpp"
#include "dlfs/runtime/json.hpp"

namespace dlfs::bench {

namespace {

std::string optional_number(const std::optional<double>& v) {
  return v ? json_number(*v) : "null";
}

std::string optional_string(const std::optional<std::string>& v) {
  return v ? json_string(*v) : "null";
}

std::string iso8601_now() {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

// Everything before "results": kind, date, machine, versions, ceilings.
std::string json_header(const MachineInfo& m, const std::string& ceilings) {
  std::ostringstream out;
  out << "{\n  \"kind\": \"gpu-kernels\",\n  \"date\": " << json_string(iso8601_now()) << ",\n"
      << "  \"machine\": {\"cpu\": " << json_string(m.cpu) << ", \"cores\": " << m.cores
      << ", \"gpu\": " << (m.gpu.empty() ? "null" : json_string(m.gpu)) << "},\n"
      << "  \"versions\": {\"dlfs\": \"0.1.0\", \"compiler\": " << json_string(m.compiler)
      << ", \"cuda\": " << json_string(m.cuda)
      << ", \"cudnn\": " << (m.cudnn.empty() ? "null" : json_string(m.cudnn))
      << ", \"openblas\": null, \"torch\": null},\n"
      << "  \"ceilings\": " << ceilings << ",\n";
  return out.str();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream file(path);
  if (!file) throw Error("dlfs_bench_gpu: cannot write " + path);
  file << text;
  if (!file) throw Error("dlfs_bench_gpu: writing " + path + " failed");
}

}  // namespace

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char text[64];
  std::snprintf(text, sizeof text, "%.6g", v);
  return text;
}

std::string json_string(const std::string& s) {
  return json_quote(s);
}

std::optional<double> Measurement::percent_of_ceiling() const {
  if (!ceiling || *ceiling <= 0.0) return std::nullopt;
  return 100.0 * value / *ceiling;
}

std::optional<double> Measurement::ratio_to_vendor() const {
  if (!vendor_value || *vendor_value <= 0.0) return std::nullopt;
  return value / *vendor_value;
}

void Report::print_table() const {
  std::printf("\n%-17s %-58s %12s %-8s %7s %12s %7s  %s\n", "group", "name", "value", "metric",
              "%ceil", "vendor", "ratio", "vendor name");
  std::string last_group;
  for (const Measurement& m : rows_) {
    if (m.group != last_group && !last_group.empty()) std::printf("\n");
    last_group = m.group;
    const auto pct = m.percent_of_ceiling();
    const auto ratio = m.ratio_to_vendor();
    char pct_text[16] = "-", vendor_text[24] = "-", ratio_text[16] = "-";
    if (pct) std::snprintf(pct_text, sizeof pct_text, "%.1f", *pct);
    if (m.vendor_value) std::snprintf(vendor_text, sizeof vendor_text, "%.1f", *m.vendor_value);
    if (ratio) std::snprintf(ratio_text, sizeof ratio_text, "%.2f", *ratio);
    std::printf("%-17s %-58s %12.1f %-8s %7s %12s %7s  %s\n", m.group.c_str(), m.name.c_str(),
                m.value, m.metric.c_str(), pct_text, vendor_text, ratio_text,
                m.vendor ? m.vendor->c_str() : "");
  }
  std::printf("\nceilings: copy %s GB/s (cudaMemcpy device-to-device, read + write)",
              copy_GBps ? json_number(*copy_GBps).c_str() : "-");
  if (fp32_peak_GFLOPs) std::printf(", fp32 peak %.0f GFLOP/s", *fp32_peak_GFLOPs);
  if (sgemm_GFLOPs) std::printf(", best cuBLAS SGEMM %.0f GFLOP/s", *sgemm_GFLOPs);
  std::printf("\nratio = dlfs / vendor on the same metric (above 1: dlfs faster)\n");
}

void Report::write_json(const std::string& path, const MachineInfo& machine) const {
  std::ostringstream out;
  out << json_header(machine, "{\"copy_GBps\": " + optional_number(copy_GBps) +
                                  ", \"sgemm_GFLOPs\": " + optional_number(sgemm_GFLOPs) +
                                  ", \"fp32_peak_GFLOPs\": " + optional_number(fp32_peak_GFLOPs) +
                                  "}")
      << "  \"results\": [";
  for (std::size_t i = 0; i < rows_.size(); ++i) {
    const Measurement& m = rows_[i];
    out << (i ? ",\n" : "\n") << "    {\"group\": " << json_string(m.group)
        << ", \"name\": " << json_string(m.name) << ", \"metric\": " << json_string(m.metric)
        << ", \"value\": " << json_number(m.value)
        << ", \"ceiling\": " << optional_number(m.ceiling)
        << ", \"percent_of_ceiling\": " << optional_number(m.percent_of_ceiling())
        << ", \"vendor\": " << optional_string(m.vendor)
        << ", \"vendor_value\": " << optional_number(m.vendor_value)
        << ", \"ratio_to_vendor\": " << optional_number(m.ratio_to_vendor()) << ", \"extra\": {";
    for (std::size_t j = 0; j < m.extra.size(); ++j)
      out << (j ? ", " : "") << json_string(m.extra[j].first) << ": " << m.extra[j].second;
    out << "}}";
  }
  out << "\n  ]\n}\n";
  write_file(path, out.str());
}

void write_skipped_json(const std::string& path, const MachineInfo& machine,
                        const std::string& reason) {
  write_file(path, json_header(machine, "{\"copy_GBps\": null, \"sgemm_GFLOPs\": null}") +
                       "  \"skipped\": " + json_string(reason) + ",\n  \"results\": []\n}\n");
}

}  // namespace dlfs::bench
