#include "train/progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace dlfs::train {

ProgressBar::ProgressBar(std::string label, std::int64_t total, bool enabled)
    : label_(std::move(label)),
      total_(total),
      enabled_(enabled),
      tty_(::isatty(2) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

void ProgressBar::update(std::int64_t done, double loss, double images_per_second) {
  if (!enabled_ || total_ <= 0) return;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double eta = done > 0 ? elapsed * static_cast<double>(total_ - done) / done : 0.0;
  const int decile = static_cast<int>(10 * done / total_);
  if (tty_) {
    if (done < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    const int width = 24;
    const int filled = static_cast<int>(width * done / total_);
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar += std::string(static_cast<std::size_t>(width - filled), '.');
    std::fprintf(stderr, "\r%s [%s] %lld/%lld loss %.4f %.0f img/s ETA %.0fs   ", label_.c_str(),
                 bar.c_str(), static_cast<long long>(done), static_cast<long long>(total_), loss,
                 images_per_second, eta);
  } else if (decile != last_decile_ && decile > 0 && decile < 10) {
    last_decile_ = decile;
    std::fprintf(stderr, "%s %3d%% %lld/%lld batches, loss %.4f, %.0f img/s, ETA %.0fs\n",
                 label_.c_str(), decile * 10, static_cast<long long>(done),
                 static_cast<long long>(total_), loss, images_per_second, eta);
  }
  std::fflush(stderr);
}

void ProgressBar::finish() {
  if (enabled_ && tty_) std::fprintf(stderr, "\r%*s\r", 100, "");
}

}  // namespace dlfs::train
