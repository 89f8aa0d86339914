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
  // A loss that sums several (GoogLeNet's auxiliary classifiers): the logits' own
  // SoftmaxWithLoss has the probabilities.
  for (const std::string& node : loss ? std::vector<std::string>{} : model.graph.order()) {
    const std::vector<std::string>& inputs = model.graph.inputs(node);
    if (!inputs.empty() && inputs[0] == model.logits_node)
      if ((loss = dynamic_cast<SoftmaxWithLoss*>(&model.graph.layer(node)))) break;
  }
  if (!loss)
    throw Error("model " + model.name + ": no SoftmaxWithLoss reads the logits node '" +
                model.logits_node + "'");
  const Tensor& probabilities = loss->probabilities();
  return kernels::accuracy_count(probabilities, labels.to(probabilities.device()));
}

}  // namespace dlfs::train
