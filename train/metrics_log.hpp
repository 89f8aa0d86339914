#pragma once
// metrics.csv of a training run: one row per finished epoch, appended and flushed as the epoch
// ends, so the file is current whenever a run stops. Columns:
//   epoch,train_loss,train_accuracy,val_loss,val_accuracy,learning_rate,images_per_second,seconds
// A run without a validation split writes "n/a" for the two validation columns: nothing was
// measured, and zeros would look as if something had been.
#include <cstdint>
#include <fstream>
#include <optional>
#include <string>

namespace dlfs::train {

struct EpochRow {
  std::int64_t epoch = 0;  // 1-based
  double train_loss = 0.0;
  double train_accuracy = 0.0;
  std::optional<double> validation_loss, validation_accuracy;  // nullopt: no validation split
  double learning_rate = 0.0;
  double images_per_second = 0.0;
  double seconds = 0.0;
};

class MetricsLog {
 public:
  // Opens `path` for writing. A resumed run keeps the header and the rows of the epochs it had
  // completed (`epochs_done`; later rows belong to work it is about to redo); a new run starts
  // afresh. Throws InputError naming the file when it cannot be written.
  MetricsLog(const std::string& path, bool resuming, std::int64_t epochs_done);
  void append(const EpochRow& row);

 private:
  std::string path_;
  std::ofstream out_;
};

}  // namespace dlfs::train
