#include "dlfs/train/metrics_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "dlfs/runtime/error.hpp"

namespace dlfs::train {

namespace {
constexpr const char* kMetricsHeader =
    "epoch,train_loss,train_accuracy,val_loss,val_accuracy,learning_rate,images_per_second,"
    "seconds\n";
}  // namespace

MetricsLog::MetricsLog(const std::string& path, bool resuming, std::int64_t epochs_done) {
  if (!resuming) return;
  std::ifstream in(path);
  std::string line;
  for (int row = 0; std::getline(in, line); ++row)
    if (row > 0 && !line.empty() && std::atoll(line.c_str()) <= epochs_done) rows_.push_back(line);
}

void MetricsLog::append(const EpochRow& row) {
  // ostream's default format (6 significant digits), as the file has always had.
  std::ostringstream out;
  out << row.epoch << "," << row.train_loss << "," << row.train_accuracy << ",";
  if (row.validation_loss && row.validation_accuracy)
    out << *row.validation_loss << "," << *row.validation_accuracy;
  else
    out << "n/a,n/a";
  out << "," << row.learning_rate << "," << row.images_per_second << "," << row.seconds;
  rows_.push_back(out.str());
}

void MetricsLog::write(const std::string& path) const {
  std::string text = kMetricsHeader;
  for (const std::string& row : rows_) text += row + "\n";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  bool ok = fd >= 0;
  const char* p = text.data();
  std::size_t left = text.size();
  while (ok && left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) p += n, left -= static_cast<std::size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  const std::string why = std::strerror(errno);
  if (fd >= 0 && ::close(fd) != 0) ok = false;
  if (!ok) throw InputError("cannot write " + path + " (" + why + ")");
}

}  // namespace dlfs::train
