#include "dlfs/train/interrupt.hpp"

#include <atomic>

namespace dlfs::train {

namespace {

// Lock-free atomics are async-signal-safe; -1 marks a request that came from no signal.
std::atomic<int> g_requested{0};
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs a lock-free flag");

extern "C" void on_interrupt(int signal_number) {
  g_requested.store(signal_number);
  // The next signal of this kind takes its default action (terminate): a user who presses
  // Ctrl-C twice does not wait for the checkpoint.
  std::signal(signal_number, SIG_DFL);
}

}  // namespace

InterruptGuard::InterruptGuard() {
  clear_interrupt();
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;
  sigaction(SIGINT, &action, &previous_int_);
  sigaction(SIGTERM, &action, &previous_term_);
}

InterruptGuard::~InterruptGuard() {
  sigaction(SIGINT, &previous_int_, nullptr);
  sigaction(SIGTERM, &previous_term_, nullptr);
}

bool interrupt_requested() {
  return g_requested.load() != 0;
}

int interrupt_signal() {
  const int s = g_requested.load();
  return s > 0 ? s : 0;
}

void request_interrupt() {
  g_requested.store(-1);
}

void clear_interrupt() {
  g_requested.store(0);
}

}  // namespace dlfs::train
