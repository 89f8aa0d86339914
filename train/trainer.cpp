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

EpochResult Trainer::train_epoch(data::BatchIterator& batches, std::int64_t epoch,
                                 ProgressBar* progress, const EpochProgress& resume_from) {
  EpochResult result;
  EpochProgress& p = result.progress;
  p = resume_from;
  const auto start = std::chrono::steady_clock::now();
  const double seconds_before = p.seconds;
  const std::int64_t samples_before = p.samples;
  data::Batch batch;
  while (!interrupt_requested() && batches.next(batch)) {
    const std::int64_t n = batch.size();
    Tensor loss = model_.graph.run({{Model::kInput, batch.images}, {Model::kLabels, batch.labels}},
                                   Model::kLossNode, Mode::Train);
    // One small copy to the host per batch: the loss for the progress bar and the NaN check.
    const double loss_value = loss.to_vector<float>()[0];
    kernels::report_label_errors(loss.device());  // the GPU is idle now: no extra wait
    if (!std::isfinite(loss_value))
      throw DivergenceError("the loss became " +
                            std::string(std::isnan(loss_value) ? "NaN" : "infinite") +
                            " at epoch " + std::to_string(epoch + 1) + ", batch " +
                            std::to_string(p.batches_done + 1) + "; try a smaller --lr");
    p.correct += training_batch_correct(model_, batch.labels);
    model_.graph.backward(Model::kLossNode);
    optimizer_.step();

    p.loss_sum += loss_value * static_cast<double>(n);
    p.samples += n;
    p.batches_done += 1;
    if (progress)
      progress->update(p.batches_done, p.loss_sum / static_cast<double>(p.samples),
                       static_cast<double>(p.samples - samples_before) / seconds_since(start));
  }
  result.interrupted = p.batches_done < batches.batches_per_epoch();
  p.seconds = seconds_before + seconds_since(start);
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
                    ProgressBar* progress) {
  EvalResult result;
  data::BatchIterator batches(dataset, batch_size, /*shuffle=*/false);
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
  if (result.samples > 0) {
    result.loss = loss_sum / static_cast<double>(result.samples);
    result.accuracy = static_cast<double>(correct) / static_cast<double>(result.samples);
  }
  return result;
}

}  // namespace dlfs::train
