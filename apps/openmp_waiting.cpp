#include "dlfs/apps/openmp_waiting.hpp"

#include <unistd.h>

#include <cstdlib>

namespace dlfs::app {

namespace {
// Spin iterations before an idle thread sleeps: short enough that a thread waiting beside a busy
// process yields its core at once, long enough to catch the next parallel region of a training
// step without a sleep and wake-up (bench/wait_policy.sh measures the choices).
constexpr const char* kSpinCount = "1000";
}  // namespace

void choose_openmp_waiting(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") || std::getenv("GOMP_SPINCOUNT") ||
      std::getenv("DLFS_KEEP_WAIT_POLICY"))
    return;
  ::setenv("GOMP_SPINCOUNT", kSpinCount, 1);
  ::execv("/proc/self/exe", argv);
  // Not restarted (no /proc, say): the environment change is harmless, libgomp has read its own.
}

}  // namespace dlfs::app
