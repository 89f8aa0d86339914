// apps/openmp_waiting.hpp: `dlfs` restarts itself with a short OpenMP spin when the user set no
// wait policy, and leaves the user's own settings alone. Read from the running process's
// environment (/proc/PID/environ), as libgomp reads it at load time.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "support/app_testing.hpp"
#include "support/process.hpp"

namespace dlfs::app {
namespace {

// The environment of a running `dlfs train` (long enough to be read), as NAME=VALUE lines.
std::string environment_of_a_run(const std::string& scratch) {
  const pid_t pid = testing::spawn_process(
      {testing::dlfs_binary(), "train", "--model", "two-layer-net", "--data", "synthetic",
       "--epochs", "1000", "--quiet", "--plot", "off", "--overwrite", "--out", scratch + "-run"},
      scratch + ".out", scratch + ".err");
  std::string environment;
  // After the restart the process image reads its training data: by then the environment is final.
  for (int i = 0; i < 500 && testing::read_text_file(scratch + ".out").empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  environment = testing::read_text_file("/proc/" + std::to_string(pid) + "/environ");
  ::kill(pid, SIGKILL);
  testing::wait_process(pid, std::chrono::seconds(10));
  for (char& c : environment)
    if (c == '\0') c = '\n';
  return "\n" + environment;
}

using testing::ScopedEnvironment;

TEST(OpenMpWaiting, WithoutAUserSettingDlfsSpinsShortly) {
  ScopedEnvironment policy("OMP_WAIT_POLICY", nullptr), spin("GOMP_SPINCOUNT", nullptr);
  const std::string env = environment_of_a_run(testing::fresh_temp_path("omp_wait", "default"));
  EXPECT_NE(env.find("\nGOMP_SPINCOUNT=1000\n"), std::string::npos) << env;
}

TEST(OpenMpWaiting, TheUsersOwnSettingIsKept) {
  ScopedEnvironment policy("OMP_WAIT_POLICY", "active"), spin("GOMP_SPINCOUNT", nullptr);
  const std::string env = environment_of_a_run(testing::fresh_temp_path("omp_wait", "user"));
  EXPECT_NE(env.find("\nOMP_WAIT_POLICY=active\n"), std::string::npos) << env;
  EXPECT_EQ(env.find("GOMP_SPINCOUNT"), std::string::npos) << env;
}

}  // namespace
}  // namespace dlfs::app
