#pragma once
// Data-parallel training of one model replicated on every rank: each rank runs forward and
// backward on its own shard of the global batch, and the gradients are summed over the ranks
// before the optimizer step, so every replica takes the same step and keeps the same weights.
//
// Gradients travel in flat buckets of about `bucket_bytes`, filled in reverse layer order (the
// order backward produces them). A bucket is launched (comm::Communicator::start_sum) as soon as
// its last gradient is in and every bucket before it has been launched, so every rank starts the
// same collectives in the same order while the rest of backward goes on. finish_step() waits
// for them and writes the sums back.
//
// Each rank seeds backward with local / global (its share of the global batch), so the sum over
// the ranks is the mean gradient over the global batch even when the last batch splits
// unevenly, and a rank whose shard is empty adds zeros.
//
// BatchNorm normalizes with its own rank's batch statistics (as PyTorch's DDP does by default);
// broadcast_state() makes the running statistics rank 0's before they are used or saved.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "dlfs/comm/communicator.hpp"
#include "dlfs/comm/fault_injection.hpp"
#include "dlfs/models/model.hpp"

namespace dlfs::train {

class DataParallel {
 public:
  // Hooks into the model's backward (Graph::set_gradients_ready_hook) until destroyed.
  DataParallel(comm::Communicator& communicator, Model& model, std::size_t bucket_bytes);
  ~DataParallel();
  DataParallel(const DataParallel&) = delete;
  DataParallel& operator=(const DataParallel&) = delete;

  comm::Communicator& communicator() { return communicator_; }

  // Copies rank 0's weights and buffers to every rank (at the start, and the running
  // statistics before evaluation and checkpoints).
  void broadcast_state();
  // Starts a step in which this rank has `local` of the `global` samples; `stop_requested`
  // is this rank's wish to stop after the step (Ctrl-C). Returns the weight that seeds
  // backward: local / global.
  double begin_step(std::int64_t local, std::int64_t global, bool stop_requested);
  // Waits for every bucket and writes the summed gradients into the parameters. Returns true
  // when any rank asked to stop, so that all stop after the same step.
  bool finish_step();
  // Copies rank 0's buffers (BatchNorm's running statistics) to every rank.
  void broadcast_buffers();
  // Throws comm::CommunicationError when the ranks' weights (and, with `buffers`, their buffers)
  // are not the same bits, naming `when` ("after epoch 3") and the ranks that differ from rank 0.
  // Between broadcast_buffers() calls, each rank's running statistics are its own.
  void check_replicas(const std::string& when, bool buffers = true);
  // Whether the replicas are compared after every step (DLFS_CHECK_REPLICAS=step) rather than
  // at every epoch's end only; a debugging aid that costs a hash of the weights per step.
  bool check_every_step() const { return check_every_step_; }
  // Steps begun so far by this process.
  std::int64_t steps() const { return step_; }
  // A global batch that would give some rank fewer samples is skipped by every rank (no step):
  // synchronised BatchNorm needs each rank to run every step, with at least 2 samples.
  void set_min_samples_per_rank(std::int64_t samples) { min_samples_per_rank_ = samples; }
  // Whether every rank skips a global batch of `global` samples.
  bool skips(std::int64_t global) const {
    return global < min_samples_per_rank_ * communicator_.world_size();
  }

  // Floats per bucket, in launch order (the last holds one more: the stop flag).
  std::vector<std::int64_t> bucket_sizes() const;

 private:
  struct Slot {
    std::size_t bucket = 0;
    std::int64_t offset = 0;  // in floats, within the bucket
    bool ready = false;
  };
  struct Bucket {
    std::vector<Parameter*> parameters;
    std::int64_t floats = 0;
    std::int64_t ready = 0;
    Tensor flat;
    int request = -1;
  };

  void gradients_ready(Layer& layer);
  void parameter_ready(Parameter* parameter);
  void launch_complete_buckets();
  void launch(std::size_t index);
  std::string bucket_name(std::size_t index) const;

  comm::Communicator& communicator_;
  Model& model_;
  std::vector<Bucket> buckets_;
  std::map<Parameter*, Slot> slots_;
  std::size_t next_launch_ = 0;
  bool stop_requested_ = false;
  bool in_step_ = false;
  std::int64_t step_ = 0;
  bool check_every_step_ = false;
  std::int64_t min_samples_per_rank_ = 0;
  comm::FaultInjection faults_;
};

// A hash of the bytes of the model's weights and, with `buffers`, its buffers (FNV-1a, 64
// bits): equal on two ranks when their replicas are the same bits.
std::uint64_t replica_hash(Model& model, bool buffers = true);

}  // namespace dlfs::train
