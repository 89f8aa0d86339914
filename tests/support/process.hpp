#pragma once
// Runs the real `dlfs` binary in a child process (posix_spawn: fork + exec, safe with OpenMP
// threads in the test process), with stdout and stderr captured in files.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/app_testing.hpp"

extern char** environ;

namespace dlfs::testing {

// The dlfs binary: tests/CMakeLists.txt defines DLFS_BINARY_PATH as $<TARGET_FILE:dlfs>.
inline std::string dlfs_binary() {
  return DLFS_BINARY_PATH;
}

// Starts `args` (args[0] is the program) with stdout and stderr going to the given files.
inline pid_t spawn_process(const std::vector<std::string>& args, const std::string& stdout_path,
                           const std::string& stderr_path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 2, stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    ADD_FAILURE() << "cannot start " << args[0] << ": " << std::strerror(rc);
    return -1;
  }
  return pid;
}

struct ProcessResult {
  bool exited = false;     // ended by exit(), not by a signal
  int exit_code = -1;      // when exited
  int signal = 0;          // when killed by a signal
  bool timed_out = false;  // still running at the deadline (then killed)
  std::string out, err;
};

// Waits for `pid` up to `timeout`; kills it with SIGKILL if it runs longer.
inline ProcessResult wait_process(pid_t pid, std::chrono::milliseconds timeout) {
  ProcessResult r;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    const pid_t got = ::waitpid(pid, &status, WNOHANG);
    if (got == pid) break;
    if (got < 0) return r;
    if (std::chrono::steady_clock::now() > deadline) {
      r.timed_out = true;
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  r.exited = WIFEXITED(status);
  if (r.exited) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  return r;
}

// Runs `args` to the end (at most `timeout`), returning its exit and output.
inline ProcessResult run_process(const std::vector<std::string>& args, const std::string& scratch,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  const std::string out = scratch + ".stdout", err = scratch + ".stderr";
  const pid_t pid = spawn_process(args, out, err);
  if (pid < 0) return {};
  ProcessResult r = wait_process(pid, timeout);
  r.out = read_text_file(out);
  r.err = read_text_file(err);
  std::remove(out.c_str());
  std::remove(err.c_str());
  return r;
}

}  // namespace dlfs::testing
