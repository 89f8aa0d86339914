#pragma once
// A one-line progress bar on stderr: batches done, running loss, images/s and ETA. On a
// terminal it redraws in place, fitted to the terminal's width (read again at every redraw, so a
// resized window is followed); otherwise (logs, CI) it prints a line every tenth of the work.
#include <chrono>
#include <cstdint>
#include <string>

namespace dlfs::train {

// A time span as people read it, rounded to the second: "42s", "7m 05s", "2h 03m".
std::string duration_text(double seconds);

// The seconds a run has left: the mean wall time of the epochs this process ran, times
// `epochs_left`. `elapsed` covers `epochs_run` epochs, the first of which a resumed run had
// already done `first_epoch_done_before` of (a share, 0 to 1), so that part of an epoch does not
// count as a whole one and make the mean look short.
double run_seconds_left(double elapsed, std::int64_t epochs_run, double first_epoch_done_before,
                        std::int64_t epochs_left);

class ProgressBar {
 public:
  ProgressBar(std::string label, std::int64_t total, bool enabled = true);
  void update(std::int64_t done, double loss, double images_per_second);
  // Clears the line on a terminal so the caller's summary line replaces it.
  void finish();
  // The terminal line for `done` batches on a terminal `columns` wide: shorter than `columns`.
  std::string line(std::int64_t done, double loss, double images_per_second, double eta,
                   int columns) const;

 private:
  std::string label_;
  std::int64_t total_;
  bool enabled_, tty_;
  int last_decile_ = -1;
  int drawn_ = 0;  // characters of the line on the terminal now
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace dlfs::train
