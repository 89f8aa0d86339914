#include "dlfs/models/model.hpp"

#include "dlfs/layers/softmax_with_loss.hpp"

namespace dlfs {

SequentialBuilder& SequentialBuilder::add(const std::string& name, LayerPtr layer) {
  graph_.add(name, std::move(layer), {last_});
  last_ = name;
  return *this;
}

void begin_model(Model& model, const std::string& name, const std::string& variant,
                 const Shape& input_shape, int classes) {
  model.name = name;
  model.variant = variant;
  model.input_shape = input_shape;
  model.classes = classes;
  model.graph.add_input(Model::kInput);
  model.graph.add_input(Model::kLabels);
}

void finish_model(Model& model, const std::string& logits_node) {
  model.logits_node = logits_node;
  model.graph.add(Model::kLossNode, std::make_unique<SoftmaxWithLoss>(),
                  {logits_node, Model::kLabels});
}

}  // namespace dlfs
