#include "dlfs/comm/fault_injection.hpp"

#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <string>

#include "dlfs/runtime/error.hpp"

namespace dlfs::comm {

namespace {

// The step S of "R:S" when R is `rank`; 0 when unset or for another rank.
std::int64_t step_for(const char* variable, int rank) {
  const char* value = std::getenv(variable);
  if (!value) return 0;
  const std::string text = value;
  const auto colon = text.find(':');
  char* end = nullptr;
  const long r = std::strtol(text.c_str(), &end, 10);
  const long long s =
      colon == std::string::npos ? 0 : std::strtoll(text.c_str() + colon + 1, nullptr, 10);
  if (colon == std::string::npos || end != text.c_str() + colon || r < 0 || s < 1)
    throw InputError(std::string(variable) + "='" + text + "' is not RANK:STEP (STEP from 1)");
  return r == rank ? s : 0;
}

}  // namespace

FaultInjection::FaultInjection(int rank)
    : kill_at_(step_for("DLFS_TEST_KILL_RANK", rank)),
      stall_at_(step_for("DLFS_TEST_STALL_RANK", rank)),
      skip_sum_from_(step_for("DLFS_TEST_SKIP_SUM_RANK", rank)) {}

void FaultInjection::before_step(std::int64_t step) const {
  if (kill_at_ > 0 && step == kill_at_) std::raise(SIGKILL);
  if (stall_at_ > 0 && step == stall_at_)
    for (;;) pause();  // a rank that hangs: alive, silent
}

bool FaultInjection::skip_sum(std::int64_t step) const {
  return skip_sum_from_ > 0 && step >= skip_sum_from_;
}

}  // namespace dlfs::comm
