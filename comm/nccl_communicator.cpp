#include "dlfs/comm/nccl_communicator.hpp"

#if DLFS_HAVE_NCCL
#include <cuda_runtime.h>
#include <nccl.h>

#include <cstring>
#include <map>

#include "dlfs/runtime/cuda_context.hpp"
#endif

namespace dlfs::comm {

bool have_nccl() {
  return DLFS_HAVE_NCCL != 0;
}

#if DLFS_HAVE_NCCL

namespace {

void check_cuda(cudaError_t code, const char* call) {
  if (code != cudaSuccess)
    throw CommunicationError(std::string(call) + " failed: " + cudaGetErrorString(code));
}

class NcclCommunicator : public Communicator {
 public:
  NcclCommunicator(std::unique_ptr<Communicator> host, int device_index)
      : Communicator(host->rank(), host->world_size(), host->local_rank(), host->timeout_seconds()),
        host_(std::move(host)),
        context_(cuda_context(device_index)) {
    context_.activate();
    ncclUniqueId id{};
    if (rank() == 0) check(ncclGetUniqueId(&id), "ncclGetUniqueId");
    Tensor id_bytes = Tensor::empty({static_cast<std::int64_t>(sizeof id)}, DType::UInt8);
    std::memcpy(id_bytes.raw_data(), &id, sizeof id);
    host_->broadcast(id_bytes, 0, "the broadcast of the NCCL id");
    std::memcpy(&id, id_bytes.raw_data(), sizeof id);
    check(ncclCommInitRank(&comm_, world_size(), id, rank()), "ncclCommInitRank");
    check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
  }

  ~NcclCommunicator() override {
    for (auto& [id, request] : requests_) release(request);
    if (comm_) ncclCommDestroy(comm_);
    if (stream_) cudaStreamDestroy(stream_);
  }

  std::string backend() const override { return "nccl"; }

  int start_sum(Tensor& buffer) override {
    if (buffer.dtype() != DType::Float32)
      throw Error("sums are of float32 tensors, not " + buffer.str());
    if (!buffer.device().is_cuda())
      throw Error("the NCCL backend sums CUDA tensors; " + buffer.str() + " is on the CPU");
    Request request;
    check_cuda(cudaEventCreateWithFlags(&request.filled, cudaEventDisableTiming),
               "cudaEventCreate");
    check_cuda(cudaEventCreateWithFlags(&request.summed, cudaEventDisableTiming),
               "cudaEventCreate");
    // The bucket was filled on the compute stream; the sum waits for that, not for the host.
    check_cuda(cudaEventRecord(request.filled, context_.stream()), "cudaEventRecord");
    check_cuda(cudaStreamWaitEvent(stream_, request.filled, 0), "cudaStreamWaitEvent");
    check(ncclAllReduce(buffer.raw_data(), buffer.raw_data(), static_cast<size_t>(buffer.numel()),
                        ncclFloat, ncclSum, comm_, stream_),
          "ncclAllReduce");
    check_cuda(cudaEventRecord(request.summed, stream_), "cudaEventRecord");
    const int id = next_id_++;
    requests_[id] = request;
    return id;
  }

  void progress() override {}  // NCCL runs on its stream by itself

  void wait(int id, const std::string& what) override {
    auto it = requests_.find(id);
    if (it == requests_.end()) throw Error("NCCL backend: no request " + std::to_string(id));
    Request request = it->second;
    requests_.erase(it);
    ncclResult_t async_error = ncclSuccess;
    const bool done = wait_until(
        [&] {
          ncclCommGetAsyncError(comm_, &async_error);
          return async_error != ncclSuccess || cudaEventQuery(request.summed) != cudaErrorNotReady;
        },
        timeout_seconds());
    release(request);
    if (async_error != ncclSuccess)
      throw CommunicationError(describe() + ": " + what +
                               " failed: " + ncclGetErrorString(async_error));
    if (!done) {
      ncclCommAbort(comm_);  // frees the GPU from the kernel waiting for the missing rank
      comm_ = nullptr;
      throw CommunicationError(timeout_message(what));
    }
  }

  void broadcast(Tensor& tensor, int root, const std::string& what) override {
    if (!tensor.device().is_cuda()) return host_->broadcast(tensor, root, what);
    check(ncclBroadcast(tensor.raw_data(), tensor.raw_data(), tensor.nbytes(), ncclUint8, root,
                        comm_, context_.stream()),
          "ncclBroadcast");
    const bool done = wait_until(
        [&] { return cudaStreamQuery(context_.stream()) != cudaErrorNotReady; }, timeout_seconds());
    if (!done) throw CommunicationError(timeout_message(what));
  }

  void sum_host(std::vector<double>& values, const std::string& what) override {
    host_->sum_host(values, what);
  }
  std::vector<std::uint64_t> gather_host(std::uint64_t value, const std::string& what) override {
    return host_->gather_host(value, what);
  }
  void barrier(const std::string& what) override { host_->barrier(what); }

 private:
  struct Request {
    cudaEvent_t filled = nullptr;
    cudaEvent_t summed = nullptr;
  };

  static void release(Request& request) {
    if (request.filled) cudaEventDestroy(request.filled);
    if (request.summed) cudaEventDestroy(request.summed);
    request = Request{};
  }

  void check(ncclResult_t code, const char* call) const {
    if (code != ncclSuccess)
      throw CommunicationError(describe() + ": " + call + " failed: " + ncclGetErrorString(code));
  }

  std::unique_ptr<Communicator> host_;
  CudaContext& context_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  std::map<int, Request> requests_;
  int next_id_ = 1;
};

}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(std::unique_ptr<Communicator> host,
                                                     int device_index) {
  return std::make_unique<NcclCommunicator>(std::move(host), device_index);
}

#else  // no NCCL in this build

std::unique_ptr<Communicator> make_nccl_communicator(std::unique_ptr<Communicator>, int) {
  throw Error(
      "this dlfs was built without NCCL, which CUDA ranks need for their gradients; build it "
      "with the CUDA toolkit's NCCL (or set NCCL_ROOT), or train CPU ranks with --device cpu");
}

#endif

}  // namespace dlfs::comm
