#include "apps/run_curves.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <vector>

#include "apps/python_scripts.hpp"

extern char** environ;

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

void CurvePlotter::collect(int status) {
  last_failed_ = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
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
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&files, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attributes, 0);  // its own group: Ctrl-C goes to training only
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, argv[0], &files, &attributes, argv.data(), environ);
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&files);
  if (rc != 0) {
    collect(1 << 8);  // reported like a failed drawing
    return;
  }
  child_ = pid;
}

void CurvePlotter::epoch_done(const std::string& title) {
  if (!available()) return;
  if (child_ > 0) {
    int status = 0;
    const pid_t done = ::waitpid(child_, &status, WNOHANG);
    if (done == 0) return;  // still drawing the previous epoch
    child_ = -1;
    if (done > 0) collect(status);
  }
  start(title);
}

void CurvePlotter::wait() {
  if (child_ <= 0) return;
  int status = 0;
  pid_t done;
  do {
    done = ::waitpid(child_, &status, 0);
  } while (done < 0 && errno == EINTR);
  child_ = -1;
  if (done > 0) collect(status);
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
