#pragma once
// The collectives data-parallel training needs, over the ranks of one run. Two backends:
// MPI (mpi_communicator.hpp) for CPU tensors and NCCL (nccl_communicator.hpp) for CUDA
// tensors, and a one-rank stand-in (this file) for a run in one process.
//
// Every collective is entered by every rank in the same order. Results are the same, bit for
// bit, on every rank (each backend says why). None waits forever: a rank that does not answer
// within the timeout makes the waiting call throw CommunicationError naming what it waited
// for, and the caller ends the run (abort_world) instead of hanging.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "dlfs/runtime/error.hpp"
#include "dlfs/runtime/tensor.hpp"

namespace dlfs::comm {

class CommunicationError : public Error {
 public:
  using Error::Error;
};

class Communicator {
 public:
  Communicator(int rank, int world_size, int local_rank, double timeout_seconds);
  virtual ~Communicator() = default;
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  int local_rank() const { return local_rank_; }
  double timeout_seconds() const { return timeout_seconds_; }
  // "mpi", "nccl" or "local".
  virtual std::string backend() const = 0;
  // "rank 1 of 2": how messages name this process.
  std::string describe() const;

  // Starts summing the float32 `buffer` over all ranks, in place; the tensor must stay alive
  // and untouched until wait() returns. Returns the request for wait().
  virtual int start_sum(Tensor& buffer) = 0;
  // Lets started requests advance (MPI moves data only inside its calls).
  virtual void progress() = 0;
  // Waits for a request; `what` names it in a timeout message ("gradient bucket 2 of 5").
  virtual void wait(int request, const std::string& what) = 0;

  // Copies `tensor` (any dtype, this backend's device) from rank `root` to every rank.
  virtual void broadcast(Tensor& tensor, int root, const std::string& what) = 0;
  // Sums host numbers over the ranks (metrics); the result is the same on every rank.
  virtual void sum_host(std::vector<double>& values, const std::string& what) = 0;
  // Every rank's `value`, in rank order (replica checks, agreement on a flag).
  virtual std::vector<std::uint64_t> gather_host(std::uint64_t value, const std::string& what) = 0;
  virtual void barrier(const std::string& what) = 0;

 protected:
  // The message for a wait that ran out of time.
  std::string timeout_message(const std::string& what) const;

 private:
  int rank_, world_size_, local_rank_;
  double timeout_seconds_;
};

// The only rank of a one-process run: every collective returns at once with its input.
class LocalCommunicator : public Communicator {
 public:
  LocalCommunicator() : Communicator(0, 1, 0, 0.0) {}
  std::string backend() const override { return "local"; }
  int start_sum(Tensor&) override { return 0; }
  void progress() override {}
  void wait(int, const std::string&) override {}
  void broadcast(Tensor&, int, const std::string&) override {}
  void sum_host(std::vector<double>&, const std::string&) override {}
  std::vector<std::uint64_t> gather_host(std::uint64_t value, const std::string&) override {
    return {value};
  }
  void barrier(const std::string&) override {}
};

// Waits for `done()` to say true, spinning briefly and then sleeping between checks so a
// waiting rank leaves its core to the others; false when `timeout_seconds` passed first.
template <typename Done>
bool wait_until(Done done, double timeout_seconds);

// Ends every rank of the run now (MPI_Abort when MPI is running), after the caller printed why;
// in a one-process run it does nothing and returns.
void abort_world(int exit_code);
// True while MPI is running in this process with more than one rank.
bool world_is_running();
// "rank 1 of 2" while world_is_running(), else "": how error messages name the process.
std::string rank_label();

template <typename Done>
bool wait_until(Done done, double timeout_seconds) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(timeout_seconds);
  for (long spins = 0;; ++spins) {
    if (done()) return true;
    const auto now = Clock::now();
    if (now >= deadline) return false;
    // About the first millisecond spins (a collective between steps is usually that quick);
    // after it the waiting rank sleeps, 50 microseconds at first and up to 2 milliseconds.
    if (now - start > std::chrono::milliseconds(1)) {
      const auto waited = std::chrono::duration_cast<std::chrono::microseconds>(now - start);
      const long sleep_us = std::min<long>(2000, std::max<long>(50, waited.count() / 20));
      struct timespec ts {
        0, sleep_us * 1000
      };
      nanosleep(&ts, nullptr);
    }
  }
}

}  // namespace dlfs::comm
