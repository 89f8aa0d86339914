#include "train/metrics_log.hpp"

#include <cstdlib>

#include "runtime/error.hpp"

namespace dlfs::train {

namespace {
constexpr const char* kMetricsHeader =
    "epoch,train_loss,train_accuracy,val_loss,val_accuracy,learning_rate,images_per_second,"
    "seconds\n";
}  // namespace

MetricsLog::MetricsLog(const std::string& path, bool resuming, std::int64_t epochs_done)
    : path_(path) {
  std::string kept = kMetricsHeader;
  if (resuming) {
    std::ifstream in(path);
    std::string line;
    for (int row = 0; std::getline(in, line); ++row)
      if (row > 0 && std::atoll(line.c_str()) <= epochs_done) kept += line + "\n";
  }
  out_.open(path, std::ios::trunc);
  out_ << kept;
  out_.flush();
  if (!out_) throw InputError("cannot write " + path);
}

void MetricsLog::append(const EpochRow& row) {
  out_ << row.epoch << "," << row.train_loss << "," << row.train_accuracy << ",";
  if (row.validation_loss && row.validation_accuracy)
    out_ << *row.validation_loss << "," << *row.validation_accuracy;
  else
    out_ << "n/a,n/a";
  out_ << "," << row.learning_rate << "," << row.images_per_second << "," << row.seconds << "\n";
  out_.flush();
  if (!out_) throw InputError("cannot write " + path_);
}

}  // namespace dlfs::train
