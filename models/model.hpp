#pragma once
// A model: a layer graph with the inputs "input" ([N, C, H, W]) and "labels" ([N] int32), a
// logits node ([N, classes]) and the node "loss" (SoftmaxWithLoss over logits and labels).
// Node names are PyTorch module paths, so parameter names match a PyTorch state_dict.
#include <string>

#include "dlfs/models/graph.hpp"

namespace dlfs {

struct Model {
  std::string name;     // catalog name, e.g. "lenet5"
  std::string variant;  // input size: "28", "32" or "224"
  Shape input_shape;    // [C, H, W]
  int classes = 10;
  Graph graph;
  std::string logits_node;  // output [N, classes]
  static constexpr const char* kLossNode = "loss";
  static constexpr const char* kInput = "input";
  static constexpr const char* kLabels = "labels";
};

// Adds layers one after another, each reading the previous node's output.
class SequentialBuilder {
 public:
  SequentialBuilder(Graph& graph, std::string input) : graph_(graph), last_(std::move(input)) {}
  // Adds node `name` = layer(last) and makes it the last node.
  SequentialBuilder& add(const std::string& name, LayerPtr layer);
  const std::string& last() const { return last_; }
  void set_last(std::string name) { last_ = std::move(name); }

 private:
  Graph& graph_;
  std::string last_;
};

// Declares the inputs, and after `logits` appends the loss node; fills the model's fields.
void begin_model(Model& model, const std::string& name, const std::string& variant,
                 const Shape& input_shape, int classes);
void finish_model(Model& model, const std::string& logits_node);

}  // namespace dlfs
