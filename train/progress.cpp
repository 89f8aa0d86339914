#include "dlfs/train/progress.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace dlfs::train {

namespace {

// The terminal's width now (it is read at every redraw, so a resized window is followed), or 80
// where the terminal does not say.
int terminal_columns() {
  winsize size{};
  if (::ioctl(2, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return 80;
}

std::string formatted(const char* format, std::int64_t done, std::int64_t total, double loss,
                      double images_per_second) {
  char buf[160];
  std::snprintf(buf, sizeof buf, format, static_cast<long long>(done),
                static_cast<long long>(total), loss, images_per_second);
  return buf;
}

}  // namespace

std::string duration_text(double seconds) {
  const long long total = std::llround(std::clamp(seconds, 0.0, 1e12));
  char buf[64];
  if (total < 60) {
    std::snprintf(buf, sizeof buf, "%llds", total);
  } else if (total < 3600) {
    std::snprintf(buf, sizeof buf, "%lldm %02llds", total / 60, total % 60);
  } else {
    const long long minutes = (total + 30) / 60;  // hours and minutes: the seconds rounded away
    std::snprintf(buf, sizeof buf, "%lldh %02lldm", minutes / 60, minutes % 60);
  }
  return buf;
}

double run_seconds_left(double elapsed, std::int64_t epochs_run, double first_epoch_done_before,
                        std::int64_t epochs_left) {
  if (epochs_run <= 0 || epochs_left <= 0) return 0.0;
  const double epochs_timed =
      static_cast<double>(epochs_run) - std::clamp(first_epoch_done_before, 0.0, 1.0);
  // An epoch resumed at its very end took only its validation's time: no mean to go on yet.
  if (epochs_timed < 0.05) return 0.0;
  return elapsed / epochs_timed * static_cast<double>(epochs_left);
}

ProgressBar::ProgressBar(std::string label, std::int64_t total, bool enabled)
    : label_(std::move(label)),
      total_(total),
      enabled_(enabled),
      tty_(::isatty(2) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

std::string ProgressBar::line(std::int64_t done, double loss, double images_per_second, double eta,
                              int columns) const {
  const std::string stats =
      formatted(" %lld/%lld loss %.4f %.0f img/s ETA ", done, total_, loss, images_per_second) +
      duration_text(eta);
  // The line must stay shorter than the terminal: a line that wraps leaves a trail of copies,
  // since \r returns to the start of the last row only. The bar shrinks first, then goes, then
  // the text is cut.
  const int room = columns - 1 - static_cast<int>(label_.size() + stats.size()) - 3;
  const int width = std::min(24, room);
  std::string text = label_;
  if (width >= 5) {
    const int filled = static_cast<int>(width * done / total_);
    text += " [" + std::string(static_cast<std::size_t>(filled), '#') +
            std::string(static_cast<std::size_t>(width - filled), '.') + "]";
  }
  text += stats;
  if (static_cast<int>(text.size()) > columns - 1)
    text.resize(static_cast<std::size_t>(std::max(0, columns - 1)));
  return text;
}

void ProgressBar::update(std::int64_t done, double loss, double images_per_second) {
  if (!enabled_ || total_ <= 0) return;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double eta = done > 0 ? elapsed * static_cast<double>(total_ - done) / done : 0.0;
  const int decile = static_cast<int>(10 * done / total_);
  if (tty_) {
    if (done < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    const int columns = terminal_columns();
    const std::string text = line(done, loss, images_per_second, eta, columns);
    // Pad over what a longer earlier line left, without reaching the last column.
    const int pad = std::max(0, std::min(drawn_, columns - 1) - static_cast<int>(text.size()));
    std::fprintf(stderr, "\r%s%*s", text.c_str(), pad, "");
    drawn_ = static_cast<int>(text.size());
  } else if (decile != last_decile_ && decile > 0 && decile < 10) {
    last_decile_ = decile;
    std::fprintf(stderr, "%s %3d%% %lld/%lld batches, loss %.4f, %.0f img/s, ETA %s\n",
                 label_.c_str(), decile * 10, static_cast<long long>(done),
                 static_cast<long long>(total_), loss, images_per_second,
                 duration_text(eta).c_str());
  }
  std::fflush(stderr);
}

void ProgressBar::finish() {
  if (enabled_ && tty_ && drawn_ > 0) {
    const int clear = std::min(drawn_, terminal_columns() - 1);
    std::fprintf(stderr, "\r%*s\r", clear, "");
    std::fflush(stderr);
    drawn_ = 0;
  }
}

}  // namespace dlfs::train
