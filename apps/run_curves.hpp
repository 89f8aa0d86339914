#pragma once
// A training run's picture: RUN_DIR/curves.png (loss, accuracy and learning rate per epoch, drawn
// by scripts/plot_run.py) after every epoch, so that an interrupted run has one, and once more at
// the end with the test accuracy in its title. Drawing runs beside training (a child process in
// its own process group, so Ctrl-C meant for training does not cut it short) and never fails
// the run: without python3 and matplotlib, or without the script, it says once how to get them
// and training goes on.
#include <sys/types.h>

#include <string>

namespace dlfs::app {

class CurvePlotter {
 public:
  CurvePlotter(std::string run_dir, bool enabled);
  ~CurvePlotter();
  CurvePlotter(const CurvePlotter&) = delete;
  CurvePlotter& operator=(const CurvePlotter&) = delete;

  // After an epoch's metrics.csv row is written: starts a drawing titled `title`, unless the
  // previous one is still running (the next epoch's or the final drawing catches up).
  void epoch_done(const std::string& title);
  // At the end, after summary.json: waits for a drawing in flight, then draws (the title comes
  // from summary.json: model, optimizer, seed, test accuracy) and waits for it.
  void finish();
  // Waits for a drawing in flight (an interrupted run's last picture).
  void wait();
  // True when the last drawing succeeded and RUN_DIR/curves.png exists.
  bool drawn() const;

 private:
  bool available();
  void start(const std::string& title);
  void collect(int exit_status);

  std::string run_dir_;
  bool enabled_;
  bool checked_ = false;
  std::string python_, script_;
  pid_t child_ = -1;
  bool failure_reported_ = false;
  bool last_failed_ = false;
};

}  // namespace dlfs::app
