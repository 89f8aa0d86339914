#pragma once
// SIGINT and SIGTERM while training: the first one asks the training loop to stop after the
// current batch (it then saves its state and exits); a second one ends the process at once, as
// the signal normally would, for a user who does not want to wait.
#include <csignal>

namespace dlfs::train {

// Installs the handlers for its lifetime and clears any earlier request.
class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

 private:
  struct sigaction previous_int_ {};
  struct sigaction previous_term_ {};
};

// True once a signal arrived (or request_interrupt() was called).
bool interrupt_requested();
// The signal that asked to stop (SIGINT, SIGTERM), 0 for none or a programmatic request.
int interrupt_signal();
// Asks the loop to stop as a signal would; for tests and embedding programs.
void request_interrupt();
void clear_interrupt();

}  // namespace dlfs::train
