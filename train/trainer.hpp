#pragma once
// The training loop: mini-batches through the model's graph, backward, one optimizer step, and
// evaluation in inference mode. Used by `dlfs train`, `dlfs eval` and the benchmarks.
#include <cstdint>
#include <string>

#include "dlfs/data/batch_iterator.hpp"
#include "dlfs/models/model.hpp"
#include "dlfs/optim/optimizer.hpp"
#include "dlfs/train/data_parallel.hpp"
#include "dlfs/train/progress.hpp"

namespace dlfs::train {

struct EvalResult {
  double loss = 0.0;      // mean cross-entropy per sample
  double accuracy = 0.0;  // fraction of argmax predictions equal to the label
  std::int64_t samples = 0;
  bool interrupted = false;  // stopped early by an interrupt request; the figures are partial
};

// How far an epoch has got: what a resumed run needs to finish it with the same metrics.
struct EpochProgress {
  std::int64_t batches_done = 0;
  double loss_sum = 0.0;  // sum over the batches done of loss * batch size
  std::int64_t correct = 0;
  std::int64_t samples = 0;
  double seconds = 0.0;
};

struct EpochResult {
  double loss = 0.0;  // mean training loss over the epoch's batches, weighted by batch size
  double accuracy = 0.0;
  double seconds = 0.0;
  double images_per_second = 0.0;
  std::int64_t samples = 0;
  bool interrupted = false;  // stopped early by an interrupt request (see train/interrupt.hpp)
  EpochProgress progress;    // where the epoch stands (all of it unless interrupted)
};

// Thrown when the loss stops being finite; names the epoch and batch.
class DivergenceError : public Error {
 public:
  using Error::Error;
};

class Trainer {
 public:
  // Training needs no gradient with respect to the images: the first layer skips computing it.
  Trainer(Model& model, optim::Optimizer& optimizer) : model_(model), optimizer_(optimizer) {
    model_.graph.set_input_gradients(false);
  }

  // Trains as one rank of a data-parallel run: `batches` must be sharded (set_shard), each step's
  // gradients are summed over the ranks before the optimizer step, a stop request ends the
  // epoch on every rank after the same step, and the epoch's loss, accuracy and sample count are
  // the whole run's (the `resume_from` sums must then be given to one rank only). Null: alone.
  void set_data_parallel(DataParallel* data_parallel) { data_parallel_ = data_parallel; }

  // One pass over `batches` (already started for `epoch`); `progress` may be null. With
  // `resume_from`, the epoch continues from there (the caller has skipped the batches done).
  // Between batches it checks interrupt_requested() and, when set, returns early with
  // `interrupted` and the progress so far.
  EpochResult train_epoch(data::BatchIterator& batches, std::int64_t epoch, ProgressBar* progress,
                          const EpochProgress& resume_from = {});

 private:
  // Runs the batch through the model in Train mode, checks that the loss is finite, adds the
  // loss, correct predictions and size to the epoch's sums and returns the loss.
  Tensor forward(const data::Batch& batch, EpochProgress& p, std::int64_t epoch);
  // One step of a data-parallel run; true when some rank asked to stop after it.
  bool data_parallel_step(const data::Batch& batch, EpochProgress& p, std::int64_t epoch);

  Model& model_;
  optim::Optimizer& optimizer_;
  DataParallel* data_parallel_ = nullptr;
};

// Loss and accuracy of the model over `dataset` in inference mode, batch by batch; `progress`
// (may be null) is updated after each batch. Stops early, with `interrupted`, when an interrupt
// was requested (train/interrupt.hpp).
// With `communicator` (a data-parallel run: every rank calls it, with the same replica) each
// rank takes its share of every batch of batch_size * ranks samples and the figures returned
// are the whole dataset's, the same on every rank.
EvalResult evaluate(Model& model, const data::Dataset& dataset, std::int64_t batch_size,
                    ProgressBar* progress = nullptr, comm::Communicator* communicator = nullptr);

}  // namespace dlfs::train
