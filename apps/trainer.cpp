#include "apps/trainer.hpp"

#include <chrono>
#include <cmath>

#include "apps/batch_metrics.hpp"

namespace dlfs::app {

namespace {
double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}
}  // namespace

EpochResult Trainer::train_epoch(data::BatchIterator& batches, std::int64_t epoch,
                                 ProgressBar* progress) {
  EpochResult result;
  const auto start = std::chrono::steady_clock::now();
  double loss_sum = 0.0;
  std::int64_t correct = 0, batch_index = 0;
  data::Batch batch;
  while (batches.next(batch)) {
    const std::int64_t n = batch.size();
    Tensor loss = model_.graph.run({{Model::kInput, batch.images}, {Model::kLabels, batch.labels}},
                                   Model::kLossNode, Mode::Train);
    // One small copy to the host per batch: the loss for the progress bar and the NaN check.
    const double loss_value = loss.to_vector<float>()[0];
    if (!std::isfinite(loss_value))
      throw DivergenceError("the loss became " +
                            std::string(std::isnan(loss_value) ? "NaN" : "infinite") +
                            " at epoch " + std::to_string(epoch + 1) + ", batch " +
                            std::to_string(batch_index + 1) + "; try a smaller --lr");
    correct += training_batch_correct(model_, batch.labels);
    model_.graph.backward(Model::kLossNode);
    optimizer_.step();

    loss_sum += loss_value * static_cast<double>(n);
    result.samples += n;
    batch_index += 1;
    if (progress)
      progress->update(batch_index, loss_sum / static_cast<double>(result.samples),
                       static_cast<double>(result.samples) / seconds_since(start));
  }
  result.seconds = seconds_since(start);
  if (result.samples > 0) {
    result.loss = loss_sum / static_cast<double>(result.samples);
    result.accuracy = static_cast<double>(correct) / static_cast<double>(result.samples);
    result.images_per_second = static_cast<double>(result.samples) / result.seconds;
  }
  return result;
}

EvalResult evaluate(Model& model, const data::Dataset& dataset, std::int64_t batch_size) {
  EvalResult result;
  data::BatchIterator batches(dataset, batch_size, /*shuffle=*/false);
  batches.start_epoch(0);
  data::Batch batch;
  double loss_sum = 0.0;
  std::int64_t correct = 0;
  while (batches.next(batch)) {
    Tensor logits =
        model.graph.run({{Model::kInput, batch.images}}, model.logits_node, Mode::Inference);
    const BatchMetrics m = batch_metrics(logits, batch.labels);
    loss_sum += m.loss_sum;
    correct += m.correct;
    result.samples += batch.size();
  }
  if (result.samples > 0) {
    result.loss = loss_sum / static_cast<double>(result.samples);
    result.accuracy = static_cast<double>(correct) / static_cast<double>(result.samples);
  }
  return result;
}

}  // namespace dlfs::app
