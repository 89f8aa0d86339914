#pragma once
// The training loop: mini-batches through the model's graph, backward, one optimizer step, and
// evaluation in inference mode. Used by `dlfs train`, `dlfs eval` and the benchmarks.
#include <cstdint>
#include <string>

#include "dlfs/data/batch_iterator.hpp"
#include "dlfs/models/model.hpp"
#include "dlfs/optim/optimizer.hpp"
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
  Trainer(Model& model, optim::Optimizer& optimizer) : model_(model), optimizer_(optimizer) {}

  // One pass over `batches` (already started for `epoch`); `progress` may be null. With
  // `resume_from`, the epoch continues from there (the caller has skipped the batches done).
  // Between batches it checks interrupt_requested() and, when set, returns early with
  // `interrupted` and the progress so far.
  EpochResult train_epoch(data::BatchIterator& batches, std::int64_t epoch, ProgressBar* progress,
                          const EpochProgress& resume_from = {});

 private:
  Model& model_;
  optim::Optimizer& optimizer_;
};

// Loss and accuracy of the model over `dataset` in inference mode, batch by batch; `progress`
// (may be null) is updated after each batch. Stops early, with `interrupted`, when an interrupt
// was requested (train/interrupt.hpp).
EvalResult evaluate(Model& model, const data::Dataset& dataset, std::int64_t batch_size,
                    ProgressBar* progress = nullptr);

}  // namespace dlfs::train
