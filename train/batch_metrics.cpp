#include "dlfs/train/batch_metrics.hpp"

#include "dlfs/kernels/loss_targets.hpp"
#include "dlfs/kernels/reduce.hpp"
#include "dlfs/kernels/softmax_with_loss.hpp"
#include "dlfs/layers/softmax_with_loss.hpp"

namespace dlfs::train {

BatchMetrics batch_metrics(const Tensor& logits, const Tensor& labels) {
  const Tensor targets = labels.to(logits.device());
  Tensor probabilities;
  const Tensor mean_loss = kernels::softmax_with_loss_forward(logits, targets, &probabilities);
  BatchMetrics m;
  m.loss_sum =
      static_cast<double>(mean_loss.to_vector<float>()[0]) * static_cast<double>(logits.dim(0));
  kernels::report_label_errors(logits.device());
  m.correct = kernels::accuracy_count(logits, targets);
  return m;
}

std::int64_t training_batch_correct(Model& model, const Tensor& labels) {
  auto* loss = dynamic_cast<SoftmaxWithLoss*>(&model.graph.layer(Model::kLossNode));
  if (!loss) throw Error("model " + model.name + ": node 'loss' is not a SoftmaxWithLoss");
  const Tensor& probabilities = loss->probabilities();
  return kernels::accuracy_count(probabilities, labels.to(probabilities.device()));
}

}  // namespace dlfs::train
