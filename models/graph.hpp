#pragma once
// The layer graph: named nodes, each a Layer over the outputs of other nodes or of graph inputs
// ("input", "labels"). Forward runs the needed nodes in topological order; backward walks them
// in reverse, summing the gradients of an output that feeds several nodes. The graph knows no
// concrete layer.
//
// Device placement: the graph runs on one device. A layer that has no kernel for it
// (Layer::supports() false) runs on the CPU with its inputs and gradients moved for it; the
// first time this happens for a node it is logged, and every move is counted.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "dlfs/layers/layer.hpp"
#include "dlfs/models/layer_times.hpp"

namespace dlfs {

struct NamedParameter {
  std::string name;  // "features.0.weight"
  Parameter* parameter;
};

struct NamedBuffer {
  std::string name;  // "features.1.running_mean"
  Buffer* buffer;
};

class Graph {
 public:
  Graph();
  ~Graph();
  Graph(Graph&&) noexcept;
  Graph& operator=(Graph&&) noexcept;

  // Declares a graph input that forward() must be fed ("input", "labels").
  void add_input(const std::string& name);
  // Adds node `name` = layer(inputs...). Inputs name graph inputs or other nodes, which may be
  // added later; run() checks that everything resolves and that there is no cycle.
  void add(const std::string& name, LayerPtr layer, const std::vector<std::string>& inputs);

  // Runs what `target` needs and returns its output. In Train mode every node keeps what its
  // backward needs; in Inference mode a tensor is released as soon as its last consumer ran.
  // An activation that feeds only a max-pool (ReLU before MaxPool) runs after the pool, on its
  // smaller output: the same values and gradients, bit for bit (Layer::commutes_with_max).
  Tensor run(const std::map<std::string, Tensor>& feeds, const std::string& target, Mode mode);
  // Backpropagates from `target` (a node run in the last Train-mode run(), usually the loss),
  // seeding its gradient with `seed` (ones when undefined); every parameter on the way gets its
  // gradient written and parameters of nodes off the path get zero gradients.
  void backward(const std::string& target, const Tensor& seed = Tensor());
  // Called by backward() for each node, in the order backward reaches it, once the node's
  // parameters hold their gradients (zeros for a node off the path). Data-parallel training
  // (train/data_parallel.hpp) starts summing a bucket of gradients from it while backward goes
  // on. An empty function removes the hook.
  using GradientsReadyHook = std::function<void(Layer&)>;
  void set_gradients_ready_hook(GradientsReadyHook hook) { gradients_ready_ = std::move(hook); }
  // The gradient with respect to a graph input after backward() (undefined if none reached it).
  Tensor input_gradient(const std::string& name) const;
  // Whether backward() computes the gradients with respect to the graph inputs (the default).
  // Training turns it off: then, as with PyTorch's requires_grad, a node that reads nothing with
  // parameters upstream (the first layer, a Flatten before it) skips its input gradients
  // (Layer::set_input_gradient_needed), and input_gradient() gives undefined tensors.
  void set_input_gradients(bool wanted) { input_gradients_wanted_ = wanted; }

  // Moves parameters and buffers: to `device` for layers that support it, else to the CPU.
  void to(const Device& device);
  const Device& device() const { return device_; }

  std::vector<NamedParameter> parameters();
  std::vector<NamedBuffer> buffers();
  std::int64_t parameter_count();
  Layer& layer(const std::string& name);
  bool has_node(const std::string& name) const;
  // Node names in topological order.
  std::vector<std::string> order();
  // What node `name` reads (graph inputs or other nodes), in the order its layer takes them.
  const std::vector<std::string>& inputs(const std::string& name) const;
  // The shape of node `name`'s output in the last run() that evaluated it (empty before).
  Shape output_shape(const std::string& name) const;

  // While `times` is set (not null), run() and backward() add each node's time to it; the
  // caller keeps it alive. Profiling waits for a GPU after every node (layer_times.hpp).
  void set_layer_times(LayerTimes* times) { layer_times_ = times; }

  // Tensors moved between devices by CPU fallback since construction.
  std::int64_t fallback_transfers() const { return fallback_transfers_; }

 private:
  struct Node;
  const std::vector<Node*>& topological_order();
  Tensor place(const Tensor& t, const Device& device);
  double profile_clock() const;  // seconds, after the device finished its queued work

  std::vector<std::string> graph_inputs_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::map<std::string, Node*> by_name_;
  std::vector<Node*> order_;
  bool order_valid_ = false;
  Device device_ = Device::cpu();
  std::map<std::string, Tensor> input_grads_;
  std::vector<Node*> last_train_run_;  // nodes run in the last Train-mode run, in order
  // Activations the last Train-mode run applied after the max-pool they feed (see run()): by
  // pool, and all of them.
  std::map<const Node*, Node*> after_pool_;
  std::set<const Node*> moved_after_pool_;
  // ReLUs the last Train-mode run had their producer apply (Layer::forward_with_relu): by
  // producer, and all of them.
  std::map<const Node*, Node*> relu_by_producer_;
  std::set<const Node*> relu_in_producer_;
  std::int64_t fallback_transfers_ = 0;
  GradientsReadyHook gradients_ready_;
  bool input_gradients_wanted_ = true;
  LayerTimes* layer_times_ = nullptr;
};

}  // namespace dlfs
