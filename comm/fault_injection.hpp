#pragma once
// Faults a test injects into a data-parallel run through the environment, to prove that the
// run ends (or its checks fire) as it should. Each variable names a rank and a step (counted
// by the process from 1, a resumed run counting again):
//   DLFS_TEST_KILL_RANK=R:S       rank R kills itself (SIGKILL) before step S
//   DLFS_TEST_STALL_RANK=R:S      rank R stops answering (sleeps for good) before step S
//   DLFS_TEST_SKIP_SUM_RANK=R:S   from step S on, rank R steps with its own gradients instead
//                                 of the sum (the replicas drift apart)
// Unset, nothing happens. A malformed value is an InputError naming the variable.
#include <cstdint>

namespace dlfs::comm {

class FaultInjection {
 public:
  // Reads the variables for this `rank`.
  explicit FaultInjection(int rank);
  // Called before each step, with the step about to run (from 1).
  void before_step(std::int64_t step) const;
  // Whether this rank keeps its own gradients at `step`.
  bool skip_sum(std::int64_t step) const;

 private:
  std::int64_t kill_at_ = 0, stall_at_ = 0, skip_sum_from_ = 0;
};

}  // namespace dlfs::comm
