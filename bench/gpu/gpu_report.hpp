#pragma once
// Results of dlfs_bench_gpu: one row per measured kernel, its ceiling and vendor twin, printed
// as a table and written as the common results JSON of the dlfs benchmarks (kind "gpu-kernels").
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dlfs::bench {

struct Measurement {
  std::string group;   // "softmax"
  std::string name;    // "softmax 65536x1024"
  std::string metric;  // "GB/s" or "GFLOP/s"
  double value = 0.0;
  std::optional<double> ceiling;  // the measured copy bandwidth, or the fp32 peak
  std::optional<std::string> vendor;
  std::optional<double> vendor_value;  // same metric, same bytes/FLOPs model
  // Extra fields, each value already JSON ("1.5", "\"text\"").
  std::vector<std::pair<std::string, std::string>> extra;

  std::optional<double> percent_of_ceiling() const;
  // value / vendor_value: above 1 means the dlfs kernel is faster.
  std::optional<double> ratio_to_vendor() const;
};

struct MachineInfo {
  std::string cpu;
  int cores = 0;
  std::string gpu;
  std::string compiler, cuda, cudnn;
};

class Report {
 public:
  void add(Measurement m) { rows_.push_back(std::move(m)); }
  const std::vector<Measurement>& rows() const { return rows_; }

  std::optional<double> copy_GBps;
  std::optional<double> sgemm_GFLOPs;  // best cuBLAS SGEMM measured
  std::optional<double> fp32_peak_GFLOPs;

  // The table on stdout.
  void print_table() const;
  // The common schema; throws dlfs::Error naming the file when it cannot be written.
  void write_json(const std::string& path, const MachineInfo& machine) const;

 private:
  std::vector<Measurement> rows_;
};

// The results file of a run that measured nothing: {"kind": "gpu-kernels", ..., "skipped": why}.
void write_skipped_json(const std::string& path, const MachineInfo& machine,
                        const std::string& reason);

// JSON text of a number (null when not finite) and of a string.
std::string json_number(double v);
std::string json_string(const std::string& s);

}  // namespace dlfs::bench
