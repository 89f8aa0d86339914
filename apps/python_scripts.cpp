#include "dlfs/apps/python_scripts.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <vector>

extern char** environ;

namespace dlfs::app {

namespace {

bool is_file(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string parent(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

}  // namespace

pid_t spawn_quietly(std::vector<std::string> args, bool own_process_group) {
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&files, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  if (own_process_group) {
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attributes, 0);
  }
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, argv[0], &files, &attributes, argv.data(), environ);
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&files);
  return rc == 0 ? pid : -1;
}

int wait_exit_status(pid_t pid, bool block) {
  if (pid <= 0) return 127;
  int status = 0;
  pid_t done;
  while ((done = ::waitpid(pid, &status, block ? 0 : WNOHANG)) < 0)
    if (errno != EINTR) return 127;
  if (done == 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int run_quietly(std::vector<std::string> args) {
  return wait_exit_status(spawn_quietly(std::move(args), false), true);
}

std::string find_script(const std::string& name) {
  const std::string relative = "scripts/" + name;
  if (is_file(relative)) return relative;
  char exe[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = '\0';
    // build/dlfs -> build -> the source tree; build/tests/x -> build/tests -> build -> source.
    std::string dir = parent(exe);
    for (int up = 0; up < 3; ++up) {
      dir = parent(dir);
      if (is_file(dir + "/" + relative)) return dir + "/" + relative;
    }
  }
  // The source tree this binary was built from (a build folder elsewhere).
  const std::string source = std::string(DLFS_SOURCE_DIR) + "/" + relative;
  return is_file(source) ? source : "";
}

std::string python_with_matplotlib() {
  static const std::string found = [] {
    for (const char* python : {"python3", "/usr/bin/python3"})
      if (run_quietly({python, "-c", "import matplotlib"}) == 0) return std::string(python);
    return std::string();
  }();
  return found;
}

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace dlfs::app
