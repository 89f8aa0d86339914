#include "dlfs/comm/mpi_communicator.hpp"

#include <cstdlib>
#include <exception>
#include <map>

#include "dlfs/comm/launch.hpp"

#if DLFS_HAVE_MPI
#include <mpi.h>
#endif

namespace dlfs::comm {

bool have_mpi() {
  return DLFS_HAVE_MPI != 0;
}

#if DLFS_HAVE_MPI

namespace {

std::string mpi_error_text(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS)
    return "MPI error " + std::to_string(code);
  return std::string(text, static_cast<std::size_t>(length));
}

class MpiCommunicator : public Communicator {
 public:
  MpiCommunicator(int rank, int world_size, int local_rank, double timeout_seconds)
      : Communicator(rank, world_size, local_rank, timeout_seconds) {}

  ~MpiCommunicator() override {
    // Requests still running (an exception left a step half done) are let go, not waited for.
    for (auto& [id, request] : requests_)
      if (request != MPI_REQUEST_NULL) MPI_Request_free(&request);
    // Leaving by an exception, the caller ends every rank (abort_world): MPI_Finalize would
    // wait for ranks that are still in a collective.
    if (std::uncaught_exceptions() > 0) return;
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
  }

  std::string backend() const override { return "mpi"; }

  int start_sum(Tensor& buffer) override {
    if (buffer.dtype() != DType::Float32)
      throw Error("sums are of float32 tensors, not " + buffer.str());
    if (!buffer.device().is_cpu())
      throw Error("the MPI backend sums CPU tensors; " + buffer.str() + " is on " +
                  buffer.device().str());
    MPI_Request request = MPI_REQUEST_NULL;
    check(MPI_Iallreduce(MPI_IN_PLACE, buffer.raw_data(), static_cast<int>(buffer.numel()),
                         MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &request),
          "MPI_Iallreduce");
    const int id = next_id_++;
    requests_[id] = request;
    return id;
  }

  void progress() override {
    for (auto& [id, request] : requests_) {
      if (request == MPI_REQUEST_NULL) continue;
      int done = 0;
      check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), "MPI_Test");
    }
  }

  void wait(int id, const std::string& what) override {
    auto it = requests_.find(id);
    if (it == requests_.end()) throw Error("MPI backend: no request " + std::to_string(id));
    MPI_Request request = it->second;
    requests_.erase(it);
    finish(request, what);
  }

  void broadcast(Tensor& tensor, int root, const std::string& what) override {
    if (!tensor.device().is_cpu())
      throw Error("the MPI backend broadcasts CPU tensors; " + tensor.str() + " is on " +
                  tensor.device().str());
    MPI_Request request = MPI_REQUEST_NULL;
    check(MPI_Ibcast(tensor.raw_data(), static_cast<int>(tensor.nbytes()), MPI_BYTE, root,
                     MPI_COMM_WORLD, &request),
          "MPI_Ibcast");
    finish(request, what);
  }

  void sum_host(std::vector<double>& values, const std::string& what) override {
    MPI_Request request = MPI_REQUEST_NULL;
    check(MPI_Iallreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()), MPI_DOUBLE,
                         MPI_SUM, MPI_COMM_WORLD, &request),
          "MPI_Iallreduce");
    finish(request, what);
  }

  std::vector<std::uint64_t> gather_host(std::uint64_t value, const std::string& what) override {
    std::vector<std::uint64_t> all(static_cast<std::size_t>(world_size()));
    MPI_Request request = MPI_REQUEST_NULL;
    check(MPI_Iallgather(&value, 1, MPI_UINT64_T, all.data(), 1, MPI_UINT64_T, MPI_COMM_WORLD,
                         &request),
          "MPI_Iallgather");
    finish(request, what);
    return all;
  }

  void barrier(const std::string& what) override {
    MPI_Request request = MPI_REQUEST_NULL;
    check(MPI_Ibarrier(MPI_COMM_WORLD, &request), "MPI_Ibarrier");
    finish(request, what);
  }

 private:
  void check(int code, const char* call) const {
    if (code != MPI_SUCCESS)
      throw CommunicationError(describe() + ": " + call + " failed: " + mpi_error_text(code));
  }

  // Waits for one request with the timeout: MPI_Test in wait_until's loop, since MPI_Wait
  // would wait forever for a rank that died without its launcher noticing.
  void finish(MPI_Request& request, const std::string& what) {
    int code = MPI_SUCCESS;
    const bool done = wait_until(
        [&] {
          int flag = 0;
          code = MPI_Test(&request, &flag, MPI_STATUS_IGNORE);
          return code != MPI_SUCCESS || flag != 0;
        },
        timeout_seconds());
    if (code != MPI_SUCCESS)
      throw CommunicationError(describe() + ": " + what + " failed: " + mpi_error_text(code));
    if (!done) throw CommunicationError(timeout_message(what));
  }

  std::map<int, MPI_Request> requests_;
  int next_id_ = 1;
};

}  // namespace

std::unique_ptr<Communicator> make_mpi_communicator(double timeout_seconds) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) throw Error("MPI is already running in this process; dlfs starts it once");
  int provided = 0;
  if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
    throw CommunicationError("MPI_Init_thread failed");
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  // The ranks sharing this machine: the local rank picks the GPU and divides the cores.
  MPI_Comm node = MPI_COMM_NULL;
  int local_rank = 0;
  if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node) ==
      MPI_SUCCESS) {
    MPI_Comm_rank(node, &local_rank);
    MPI_Comm_free(&node);
  }
  LaunchInfo mpi;
  mpi.launched = true, mpi.rank = rank, mpi.world_size = size, mpi.local_rank = local_rank;
  const EnvironmentReader environment = process_environment();
  check_environment_agrees(mpi, environment);
  // A LOCAL_RANK the user set wins, read (and checked) as detect_launch reads it.
  if (environment("LOCAL_RANK")) local_rank = detect_launch(environment).local_rank;
  return std::make_unique<MpiCommunicator>(rank, size, local_rank, timeout_seconds);
}

void abort_world(int exit_code) {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) MPI_Abort(MPI_COMM_WORLD, exit_code);
}

bool world_is_running() {
  int initialized = 0, finalized = 0, size = 1;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (!initialized || finalized) return false;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return size > 1;
}

std::string rank_label() {
  if (!world_is_running()) return "";
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return "rank " + std::to_string(rank) + " of " + std::to_string(size);
}

#else  // no MPI in this build

std::unique_ptr<Communicator> make_mpi_communicator(double) {
  throw Error(
      "this dlfs was built without MPI, so it trains in one process; install libopenmpi-dev "
      "and build again (cmake finds it) to train with several ranks");
}

void abort_world(int) {}
bool world_is_running() {
  return false;
}
std::string rank_label() {
  return "";
}

#endif

}  // namespace dlfs::comm
