#include "dlfs/train/trainer.hpp"

#include <chrono>
#include <cmath>

#include "dlfs/kernels/loss_targets.hpp"
#include "dlfs/train/batch_metrics.hpp"
#include "dlfs/train/interrupt.hpp"

namespace dlfs::train {

namespace {
double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}
}  // namespace

Tensor Trainer::forward(const data::Batch& batch, EpochProgress& p, std::int64_t epoch) {
  const std::int64_t n = batch.size();
  Tensor loss = model_.graph.run({{Model::kInput, batch.images}, {Model::kLabels, batch.labels}},
                                 Model::kLossNode, Mode::Train);
  // One small copy to the host per batch: the loss for the progress bar and the NaN check.
  const double loss_value = loss.to_vector<float>()[0];
  kernels::report_label_errors(loss.device());  // the GPU is idle now: no extra wait
  if (!std::isfinite(loss_value))
    throw DivergenceError("the loss became " +
                          std::string(std::isnan(loss_value) ? "NaN" : "infinite") + " at epoch " +
                          std::to_string(epoch + 1) + ", batch " +
                          std::to_string(p.batches_done + 1) + "; try a smaller --lr");
  p.correct += training_batch_correct(model_, batch.labels);
  p.loss_sum += loss_value * static_cast<double>(n);
  p.samples += n;
  return loss;
}

bool Trainer::data_parallel_step(const data::Batch& batch, EpochProgress& p, std::int64_t epoch) {
  const std::int64_t n = batch.size();
  const double weight = data_parallel_->begin_step(n, batch.global_size, interrupt_requested());
  // A rank whose shard is empty (the epoch's last batch, split) adds zero gradients.
  if (n > 0) {
    Tensor loss = forward(batch, p, epoch);
    // Seeded with this rank's share, the gradients summed over the ranks are the mean over the
    // global batch.
    model_.graph.backward(Model::kLossNode,
                          Tensor::full(loss.shape(), weight, loss.dtype(), loss.device()));
  }
  const bool stop = data_parallel_->finish_step();
  optimizer_.step();
  if (data_parallel_->check_every_step())
    data_parallel_->check_replicas(
        "after step " + std::to_string(data_parallel_->steps()) + " (epoch " +
            std::to_string(epoch + 1) + ")",
        /*buffers=*/false);  // each rank's running statistics are its own until the epoch's end
  return stop;
}

EpochResult Trainer::train_epoch(data::BatchIterator& batches, std::int64_t epoch,
                                 ProgressBar* progress, const EpochProgress& resume_from) {
  EpochResult result;
  EpochProgress& p = result.progress;
  p = resume_from;
  const auto start = std::chrono::steady_clock::now();
  const double seconds_before = p.seconds;
  const std::int64_t samples_before = p.samples;
  data::Batch batch;
  bool stop = false;
  while (!stop && (data_parallel_ || !interrupt_requested()) && batches.next(batch)) {
    if (data_parallel_ && data_parallel_->skips(batch.global_size)) {
      // Too small to share (an epoch's last batch under synchronised BatchNorm): no step.
    } else if (data_parallel_) {
      stop = data_parallel_step(batch, p, epoch);
    } else {
      forward(batch, p, epoch);
      model_.graph.backward(Model::kLossNode);
      optimizer_.step();
    }
    p.batches_done += 1;
    if (progress && p.samples > 0)
      progress->update(p.batches_done, p.loss_sum / static_cast<double>(p.samples),
                       static_cast<double>(p.samples - samples_before) / seconds_since(start));
  }
  result.interrupted = p.batches_done < batches.batches_per_epoch();
  p.seconds = seconds_before + seconds_since(start);
  if (data_parallel_) {
    // The run's figures: every rank's sums (a resumed epoch's earlier part is on one rank).
    std::vector<double> sums{p.loss_sum, static_cast<double>(p.correct),
                             static_cast<double>(p.samples)};
    data_parallel_->communicator().sum_host(
        sums, "the sum of epoch " + std::to_string(epoch + 1) + "'s training loss");
    p.loss_sum = sums[0];
    p.correct = static_cast<std::int64_t>(sums[1]);
    p.samples = static_cast<std::int64_t>(sums[2]);
  }
  result.seconds = p.seconds;
  result.samples = p.samples;
  if (p.samples > 0) {
    result.loss = p.loss_sum / static_cast<double>(p.samples);
    result.accuracy = static_cast<double>(p.correct) / static_cast<double>(p.samples);
    result.images_per_second = static_cast<double>(p.samples) / p.seconds;
  }
  return result;
}

EvalResult evaluate(Model& model, const data::Dataset& dataset, std::int64_t batch_size,
                    ProgressBar* progress, comm::Communicator* communicator) {
  EvalResult result;
  const int ranks = communicator ? communicator->world_size() : 1;
  data::BatchIterator batches(dataset, batch_size * ranks, /*shuffle=*/false);
  if (communicator) batches.set_shard(communicator->rank(), ranks);
  batches.start_epoch(0);
  data::Batch batch;
  double loss_sum = 0.0;
  std::int64_t correct = 0, done = 0;
  const auto start = std::chrono::steady_clock::now();
  while (batches.next(batch)) {
    if (interrupt_requested()) {
      result.interrupted = true;
      break;
    }
    if (batch.size() == 0) continue;  // this rank's share of a last, small batch
    Tensor logits =
        model.graph.run({{Model::kInput, batch.images}}, model.logits_node, Mode::Inference);
    const BatchMetrics m = batch_metrics(logits, batch.labels);
    loss_sum += m.loss_sum;
    correct += m.correct;
    result.samples += batch.size();
    if (progress) {
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      progress->update(++done, loss_sum / static_cast<double>(result.samples),
                       seconds > 0 ? static_cast<double>(result.samples) / seconds : 0.0);
    }
  }
  if (communicator) {
    // Each rank stopped where it saw an interrupt; the figures are partial if any did.
    std::vector<double> sums{loss_sum, static_cast<double>(correct),
                             static_cast<double>(result.samples), result.interrupted ? 1.0 : 0.0};
    communicator->sum_host(sums, "the sum of the evaluation's figures");
    loss_sum = sums[0];
    correct = static_cast<std::int64_t>(sums[1]);
    result.samples = static_cast<std::int64_t>(sums[2]);
    result.interrupted = sums[3] > 0;
  }
  if (result.samples > 0) {
    result.loss = loss_sum / static_cast<double>(result.samples);
    result.accuracy = static_cast<double>(correct) / static_cast<double>(result.samples);
  }
  return result;
}

}  // namespace dlfs::train
