#pragma once
// metrics.csv of a training run: one row per finished epoch. The whole file is written again at
// each epoch's end, as part of that epoch's set of files (epoch_commit.hpp), so it always agrees
// with the model and the training state beside it. Columns:
//   epoch,train_loss,train_accuracy,val_loss,val_accuracy,learning_rate,images_per_second,seconds
// A run without a validation split writes "n/a" for the two validation columns: nothing was
// measured, and zeros would look as if something had been.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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
  // A new run starts with no rows. A resumed run (`resuming`) keeps the rows of `path` for the
  // epochs it had completed (`epochs_done`; later rows belong to work it is about to redo).
  MetricsLog(const std::string& path, bool resuming, std::int64_t epochs_done);
  void append(const EpochRow& row);
  // Writes the header and every row to `path`, synced to disk; throws InputError naming the file
  // when it cannot.
  void write(const std::string& path) const;
  std::size_t rows() const { return rows_.size(); }

 private:
  std::vector<std::string> rows_;  // as written, without the newline
};

}  // namespace dlfs::train
