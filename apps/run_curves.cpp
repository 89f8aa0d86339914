#include "dlfs/apps/run_curves.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <vector>

#include "dlfs/apps/python_scripts.hpp"

namespace dlfs::app {

CurvePlotter::CurvePlotter(std::string run_dir, bool enabled)
    : run_dir_(std::move(run_dir)), enabled_(enabled) {
  available();  // says now, before training, when it cannot draw
}

CurvePlotter::~CurvePlotter() {
  wait();
}

bool CurvePlotter::available() {
  if (!enabled_) return false;
  if (!checked_) {
    checked_ = true;
    script_ = find_script("plot_run.py");
    python_ = python_with_matplotlib();
    if (script_.empty()) {
      std::printf(
          "note: curves.png is not drawn: scripts/plot_run.py was not found from here (run dlfs "
          "from its source tree, or draw later with python3 scripts/plot_run.py curves %s)\n",
          run_dir_.c_str());
      enabled_ = false;
    } else if (python_.empty()) {
      std::printf(
          "note: curves.png is not drawn: python3 with matplotlib is not available (Debian: "
          "apt-get install python3-matplotlib); training goes on without it\n");
      enabled_ = false;
    }
    std::fflush(stdout);
  }
  return enabled_;
}

void CurvePlotter::collect(int exit_status) {
  last_failed_ = exit_status != 0;
  if (!last_failed_ || failure_reported_) return;
  failure_reported_ = true;
  std::printf("note: drawing %s/curves.png failed (%s %s curves %s); training goes on\n",
              run_dir_.c_str(), python_.c_str(), script_.c_str(), run_dir_.c_str());
  std::fflush(stdout);
}

void CurvePlotter::start(const std::string& title) {
  std::vector<std::string> args = {python_, script_, "curves", run_dir_};
  if (!title.empty()) {
    args.push_back("--title");
    args.push_back(title);
  }
  // Its own process group: a Ctrl-C meant for training does not cut the drawing short.
  child_ = spawn_quietly(std::move(args), true);
  if (child_ < 0) collect(127);
}

void CurvePlotter::epoch_done(const std::string& title) {
  if (!available()) return;
  if (child_ > 0) {
    const int status = wait_exit_status(child_, false);
    if (status < 0) return;  // still drawing the previous epoch
    child_ = -1;
    collect(status);
  }
  start(title);
}

void CurvePlotter::wait() {
  if (child_ <= 0) return;
  collect(wait_exit_status(child_, true));
  child_ = -1;
}

bool CurvePlotter::drawn() const {
  struct stat st;
  return enabled_ && !last_failed_ && ::stat((run_dir_ + "/curves.png").c_str(), &st) == 0;
}

void CurvePlotter::finish() {
  if (!available()) return;
  wait();
  start("");
  wait();
}

}  // namespace dlfs::app
