#include "dlfs/models/graph.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>

#include "dlfs/kernels/add.hpp"
#include "dlfs/runtime/device.hpp"

namespace dlfs {

struct Graph::Node {
  std::string name;
  LayerPtr layer;
  std::vector<std::string> inputs;
  Shape output_shape;
  DType output_dtype = DType::Float32;
  Device output_device;
  bool fallback_logged = false;
};

Graph::Graph() = default;
Graph::~Graph() = default;
Graph::Graph(Graph&&) noexcept = default;
Graph& Graph::operator=(Graph&&) noexcept = default;

void Graph::add_input(const std::string& name) {
  if (has_node(name) ||
      std::find(graph_inputs_.begin(), graph_inputs_.end(), name) != graph_inputs_.end())
    throw Error("graph: the name '" + name + "' is already used");
  graph_inputs_.push_back(name);
}

void Graph::add(const std::string& name, LayerPtr layer, const std::vector<std::string>& inputs) {
  if (name.empty()) throw Error("graph: a node needs a name");
  if (!layer) throw Error("graph: node '" + name + "' has no layer");
  if (has_node(name) ||
      std::find(graph_inputs_.begin(), graph_inputs_.end(), name) != graph_inputs_.end())
    throw Error("graph: the name '" + name + "' is already used");
  if (inputs.empty()) throw Error("graph: node '" + name + "' has no inputs");
  auto node = std::make_unique<Node>();
  node->name = name;
  node->layer = std::move(layer);
  node->inputs = inputs;
  by_name_[name] = node.get();
  nodes_.push_back(std::move(node));
  order_valid_ = false;
}

bool Graph::has_node(const std::string& name) const {
  return by_name_.count(name) > 0;
}

Layer& Graph::layer(const std::string& name) {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) throw Error("graph: no node named '" + name + "'");
  return *it->second->layer;
}

const std::vector<std::string>& Graph::inputs(const std::string& name) const {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) throw Error("graph: no node named '" + name + "'");
  return it->second->inputs;
}

Shape Graph::output_shape(const std::string& name) const {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) throw Error("graph: no node named '" + name + "'");
  return it->second->output_shape;
}

const std::vector<Graph::Node*>& Graph::topological_order() {
  if (order_valid_) return order_;
  // Kahn's algorithm, taking ready nodes in insertion order so the order is stable.
  std::map<const Node*, int> pending;
  for (auto& n : nodes_) {
    int count = 0;
    for (const auto& in : n->inputs) {
      if (by_name_.count(in)) {
        count += 1;
      } else if (std::find(graph_inputs_.begin(), graph_inputs_.end(), in) == graph_inputs_.end()) {
        throw Error("graph: node '" + n->name + "' reads '" + in +
                    "', which is neither a graph input nor a node");
      }
    }
    pending[n.get()] = count;
  }
  std::vector<Node*> order;
  std::set<const Node*> done;
  while (order.size() < nodes_.size()) {
    bool progressed = false;
    for (auto& n : nodes_) {
      if (done.count(n.get()) || pending[n.get()] != 0) continue;
      order.push_back(n.get());
      done.insert(n.get());
      progressed = true;
      for (auto& m : nodes_)
        for (const auto& in : m->inputs)
          if (in == n->name) pending[m.get()] -= 1;
    }
    if (!progressed) {
      std::string stuck;
      for (auto& n : nodes_)
        if (!done.count(n.get())) stuck += (stuck.empty() ? "" : ", ") + n->name;
      throw Error("graph: there is a cycle among the nodes " + stuck);
    }
  }
  order_ = std::move(order);
  order_valid_ = true;
  return order_;
}

std::vector<std::string> Graph::order() {
  std::vector<std::string> names;
  for (Node* n : topological_order()) names.push_back(n->name);
  return names;
}

double Graph::profile_clock() const {
  // On a GPU the work is queued: wait for it, so that each node's time is its own.
  if (device_.is_cuda()) synchronize_cuda_device(device_.index);
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

Tensor Graph::place(const Tensor& t, const Device& device) {
  if (!t.defined() || t.device() == device) return t;
  fallback_transfers_ += 1;
  return t.to(device);
}

Tensor Graph::run(const std::map<std::string, Tensor>& feeds, const std::string& target,
                  Mode mode) {
  const auto& order = topological_order();
  auto target_it = by_name_.find(target);
  if (target_it == by_name_.end()) throw Error("graph: no node named '" + target + "'");

  // The nodes the target depends on, and how many of them read each value.
  std::set<std::string> needed;
  std::vector<std::string> stack = {target};
  while (!stack.empty()) {
    std::string name = stack.back();
    stack.pop_back();
    if (!needed.insert(name).second) continue;
    auto it = by_name_.find(name);
    if (it != by_name_.end())
      for (const auto& in : it->second->inputs) stack.push_back(in);
  }
  std::map<std::string, int> readers;
  std::map<std::string, Node*> last_reader;
  for (Node* n : order)
    if (needed.count(n->name))
      for (const auto& in : n->inputs) {
        readers[in] += 1;
        last_reader[in] = n;
      }

  std::map<std::string, Tensor> values;
  for (const auto& in : graph_inputs_) {
    if (!needed.count(in)) continue;
    auto it = feeds.find(in);
    if (it == feeds.end() || !it->second.defined())
      throw Error("graph: input '" + in + "' was not fed");
    values[in] = place(it->second, device_);  // the batch crosses to the device once
  }

  // An activation that feeds only a max-pool is applied after the pool (Layer::commutes_with_max):
  // the same bits, on a quarter of the elements for 2x2 pools, and one pass less over the large
  // map. In training its mask is the pooled map's, and backward() runs it before the pool's.
  // The layer before them (a convolution) may then pool its own output as it makes it
  // (Layer::forward_fused); in training the pool takes the argmax it made (take_pooled_forward).
  const auto only_reader_of = [&](const std::string& name, const Node* reader) -> Node* {
    auto it = by_name_.find(name);
    if (it == by_name_.end() || name == target || readers[name] != 1) return nullptr;
    Node* node = it->second;
    return node->layer->supports(device_) == reader->layer->supports(device_) ? node : nullptr;
  };
  std::map<const Node*, Node*> after_pool;   // pool -> the activation it applies
  std::set<const Node*> moved_after_pool;    // those activations
  std::map<const Node*, Node*> pooled_by;    // producer -> the pool it tries to run itself
  std::set<const Node*> pooled_by_producer;  // pools whose producer did their work this run
  for (Node* pool : order) {
    if (!needed.count(pool->name) || !pool->layer->max_pool_window() || pool->inputs.size() != 1)
      continue;
    Node* producer = only_reader_of(pool->inputs[0], pool);
    if (producer && producer->layer->commutes_with_max() && producer->inputs.size() == 1) {
      after_pool[pool] = producer;
      moved_after_pool.insert(producer);
      producer = only_reader_of(producer->inputs[0], pool);
    }
    if (producer) pooled_by[producer] = pool;
  }
  if (mode == Mode::Train) {  // for backward()
    after_pool_ = after_pool;
    moved_after_pool_ = moved_after_pool;
  }

  // In inference, the per-channel element-wise layers that alone read a layer's output (a
  // BatchNorm, a ReLU: Layer::join_epilogue) go to that layer as an epilogue, with the max-pool
  // that reads the last of them, if any: the layer finishes its output as it makes it
  // (Layer::forward_fused), the same bits in fewer passes over the batch.
  struct Fusion {
    kernels::ChannelEpilogue epilogue;
    std::vector<Node*> layers;  // the nodes the epilogue stands for, in order
    Node* pool = nullptr;
  };
  std::map<const Node*, Fusion> fusions;      // producer -> what it tries to do itself
  std::set<const Node*> in_epilogue;          // the layers of every such epilogue
  std::set<const Node*> applied_by_producer;  // those whose producer applied them this run
  for (const auto& [producer, pool] : pooled_by) fusions[producer].pool = pool;
  for (Node* producer : order) {
    if (mode != Mode::Inference || !needed.count(producer->name) || in_epilogue.count(producer) ||
        moved_after_pool.count(producer) || after_pool.count(producer) || pooled_by.count(producer))
      continue;
    Fusion f;
    const Node* last = producer;
    while (last->name != target && readers[last->name] == 1) {
      Node* next = last_reader.at(last->name);
      if (next->inputs.size() != 1 || moved_after_pool.count(next) || after_pool.count(next) ||
          next->layer->supports(device_) != producer->layer->supports(device_) ||
          !next->layer->join_epilogue(f.epilogue))
        break;
      f.layers.push_back(next);
      last = next;
    }
    if (f.layers.empty()) continue;
    if (auto pool = pooled_by.find(last); pool != pooled_by.end()) {
      f.pool = pool->second;  // the producer pools, not the epilogue's last layer
      fusions.erase(last);
    }
    in_epilogue.insert(f.layers.begin(), f.layers.end());
    fusions[producer] = std::move(f);
  }

  // In training, a ReLU that alone reads a layer's output (not one run after a pool) is offered
  // to that layer (Layer::forward_with_relu: a BatchNorm), which applies it as it makes its
  // output and takes the ReLU's mask in its backward: a pass less over the map each way.
  std::map<const Node*, Node*> relu_for;  // producer -> the ReLU it is offered
  if (mode == Mode::Train) {
    for (Node* relu : order) {
      kernels::ChannelEpilogue clamp;
      if (!needed.count(relu->name) || relu->inputs.size() != 1 || moved_after_pool.count(relu) ||
          !relu->layer->join_epilogue(clamp) || !clamp.relu || clamp.normalizes())
        continue;
      Node* producer = only_reader_of(relu->inputs[0], relu);
      if (producer && !pooled_by.count(producer) && !moved_after_pool.count(producer) &&
          !after_pool.count(producer))
        relu_for[producer] = relu;
    }
    relu_by_producer_.clear();
    relu_in_producer_.clear();
    last_train_run_.clear();
  }
  for (Node* n : order) {
    if (!needed.count(n->name)) continue;
    Tensor out;
    if (moved_after_pool.count(n)) {
      // A moved activation hands its input to the pool, which applies it.
      out = values.at(n->inputs[0]);
      auto input_node = by_name_.find(n->inputs[0]);
      n->output_shape =
          input_node != by_name_.end() ? input_node->second->output_shape : out.shape();
    } else if (pooled_by_producer.count(n)) {
      // A layer before did the pool's work: its result is the pool's value.
      out = values.at(n->inputs[0]);
      n->output_shape = out.shape();
    } else if (applied_by_producer.count(n)) {
      // The layer before applied this one as part of its epilogue (and set its output shape).
      out = values.at(n->inputs[0]);
    } else {
      const double started = layer_times_ ? profile_clock() : 0.0;
      std::vector<Node*> done_here;  // the nodes whose forward this one did as well
      const bool fallback = !n->layer->supports(device_);
      const Device run_on = fallback ? Device::cpu() : device_;
      if (fallback && !n->fallback_logged) {
        std::fprintf(stderr, "dlfs: %s node '%s' has no %s kernel; running it on the CPU\n",
                     n->layer->type().c_str(), n->name.c_str(), device_.str().c_str());
        n->fallback_logged = true;
      }
      std::vector<Tensor> inputs;
      inputs.reserve(n->inputs.size());
      for (const auto& in : n->inputs) inputs.push_back(place(values.at(in), run_on));
      if (auto relu = relu_for.find(n); relu != relu_for.end()) {
        out = n->layer->forward_with_relu(inputs);
        if (out.defined()) {
          n->output_shape = out.shape();
          Node* applied = relu->second;
          applied_by_producer.insert(applied);
          applied->output_shape = out.shape();
          done_here.push_back(applied);
          relu_by_producer_[n] = applied;
          relu_in_producer_.insert(applied);
        }
      }
      if (auto fusion = fusions.find(n); !out.defined() && fusion != fusions.end()) {
        const Fusion f = fusion->second;
        Tensor argmax;
        out = n->layer->forward_fused(inputs, f.epilogue,
                                      f.pool ? f.pool->layer->max_pool_window() : nullptr,
                                      &n->output_shape, mode == Mode::Train ? &argmax : nullptr);
        if (out.defined()) {
          for (Node* layer : f.layers) {
            applied_by_producer.insert(layer);
            layer->output_shape = n->output_shape;
            done_here.push_back(layer);
          }
          if (f.pool) pooled_by_producer.insert(f.pool);
          if (f.pool) done_here.push_back(f.pool);
          if (f.pool && mode == Mode::Train)
            f.pool->layer->take_pooled_forward(argmax, n->output_shape);
        } else if (!f.layers.empty()) {
          // This layer could not (an Affine before a BatchNorm, a layer on the GPU): the
          // epilogue's first layer gets the rest, and may apply that (a BatchNorm its ReLU).
          Fusion rest;
          for (std::size_t k = 1; k < f.layers.size(); ++k) {
            if (!f.layers[k]->layer->join_epilogue(rest.epilogue)) break;
            rest.layers.push_back(f.layers[k]);
          }
          if (rest.layers.size() + 1 == f.layers.size()) rest.pool = f.pool;
          if (!rest.layers.empty() || rest.pool) fusions[f.layers.front()] = std::move(rest);
        }
      }
      if (!out.defined()) {
        out = n->layer->forward(inputs, mode);
        n->output_shape = out.shape();
      }
      if (layer_times_) {
        layer_times_->add_forward(n->name, n->layer->type(), profile_clock() - started);
        for (Node* done : done_here)
          layer_times_->forward_done_by(done->name, done->layer->type(), n->name);
      }
    }
    if (auto activation = after_pool.find(n); activation != after_pool.end()) {
      const double started = layer_times_ ? profile_clock() : 0.0;
      Node* applied = activation->second;
      out = applied->layer->forward({out}, mode);
      if (layer_times_)
        layer_times_->add_forward(applied->name, applied->layer->type(), profile_clock() - started);
    }
    n->output_dtype = out.dtype();
    n->output_device = out.device();
    values[n->name] = std::move(out);
    if (mode == Mode::Train) last_train_run_.push_back(n);
    if (mode == Mode::Inference) {
      // Release every value whose last reader just ran.
      for (const auto& in : n->inputs)
        if (--readers[in] == 0 && in != target) values.erase(in);
    }
  }
  return values.at(target);
}

void Graph::backward(const std::string& target, const Tensor& seed) {
  auto target_it = std::find_if(last_train_run_.begin(), last_train_run_.end(),
                                [&](Node* n) { return n->name == target; });
  if (target_it == last_train_run_.end())
    throw Error("graph: backward('" + target + "') needs a Train-mode run() of that node first");

  Node* t = *target_it;
  if (moved_after_pool_.count(t))
    throw Error("graph: backward('" + target + "') starts at an activation that the last run " +
                "applied after its max-pool; start at the pool or further on");
  if (auto relu = relu_by_producer_.find(t); relu != relu_by_producer_.end())
    throw Error("graph: backward('" + target + "') starts at a node that applied the ReLU '" +
                relu->second->name +
                "' after it in the last run; start at that ReLU or further on");
  std::map<std::string, Tensor> grads;
  if (seed.defined()) {
    if (seed.shape() != t->output_shape)
      throw Error("graph: backward seed " + seed.shape().str() + " does not match '" + target +
                  "' " + t->output_shape.str());
    grads[target] = place(seed, t->output_device);
  } else {
    grads[target] = Tensor::full(t->output_shape, 1.0, t->output_dtype, t->output_device);
  }
  input_grads_.clear();

  // Nodes off the path to the target get zero gradients, never stale ones.
  auto zero_parameter_grads = [this](Node* n) {
    for (Parameter* p : n->layer->parameters()) {
      if (!p->grad.defined())
        p->grad = Tensor::zeros(p->value.shape(), p->value.dtype(), p->value.device());
      else
        p->grad.zero_();
    }
    if (gradients_ready_) gradients_ready_(*n->layer);
  };
  for (auto it = target_it + 1; it != last_train_run_.end(); ++it) zero_parameter_grads(*it);

  // What takes a gradient, as PyTorch's requires_grad: the graph inputs when their gradients are
  // wanted, nodes with parameters, and nodes that read something that takes one. A node reading
  // nothing of the kind (the first layer, in training) skips its input gradients.
  std::set<std::string> takes_gradient;
  if (input_gradients_wanted_)
    for (const auto& in : graph_inputs_) takes_gradient.insert(in);
  for (auto it = last_train_run_.begin(); it != target_it + 1; ++it) {
    Node* n = *it;
    const bool reads_one =
        std::any_of(n->inputs.begin(), n->inputs.end(),
                    [&](const std::string& in) { return takes_gradient.count(in) > 0; });
    if (reads_one || !n->layer->parameters().empty()) takes_gradient.insert(n->name);
  }

  for (auto it = std::make_reverse_iterator(target_it + 1); it != last_train_run_.rend(); ++it) {
    Node* n = *it;
    auto g = grads.find(n->name);
    if (g == grads.end()) {
      zero_parameter_grads(n);
      continue;
    }
    double started = layer_times_ ? profile_clock() : 0.0;
    const Device run_on = n->layer->supports(device_) ? device_ : Device::cpu();
    Tensor grad_output = place(g->second, run_on);
    grads.erase(g);
    n->layer->set_input_gradient_needed(
        std::any_of(n->inputs.begin(), n->inputs.end(),
                    [&](const std::string& in) { return takes_gradient.count(in) > 0; }));

    if (auto activation = after_pool_.find(n); activation != after_pool_.end()) {
      Node* applied = activation->second;
      grad_output = applied->layer->backward(grad_output).at(0);
      if (layer_times_) {
        const double now = profile_clock();
        layer_times_->add_backward(applied->name, applied->layer->type(), now - started);
        started = now;
      }
    }
    // An activation applied after its pool has run its backward already, and a ReLU applied by
    // its producer leaves its backward to that: they pass the gradient on.
    const bool passes_on = moved_after_pool_.count(n) || relu_in_producer_.count(n);
    std::vector<Tensor> input_grads =
        passes_on ? std::vector<Tensor>{grad_output} : n->layer->backward(grad_output);
    if (gradients_ready_) gradients_ready_(*n->layer);
    for (std::size_t i = 0; i < n->inputs.size() && i < input_grads.size(); ++i) {
      const std::string& in = n->inputs[i];
      if (!input_grads[i].defined()) continue;  // labels take no gradient
      auto& pending = by_name_.count(in) ? grads : input_grads_;
      auto existing = pending.find(in);
      if (existing == pending.end()) {
        pending[in] = input_grads[i];
      } else {
        // Out of place: one layer may hand the same tensor to several inputs (Add does).
        existing->second =
            kernels::add(existing->second, place(input_grads[i], existing->second.device()));
      }
    }
    // An activation applied after its pool timed its backward above, with the pool's; a ReLU
    // applied by its producer is timed with that.
    if (layer_times_ && !passes_on)
      layer_times_->add_backward(n->name, n->layer->type(), profile_clock() - started);
  }
}

Tensor Graph::input_gradient(const std::string& name) const {
  auto it = input_grads_.find(name);
  return it == input_grads_.end() ? Tensor() : it->second;
}

void Graph::to(const Device& device) {
  for (auto& n : nodes_) n->layer->to(n->layer->supports(device) ? device : Device::cpu());
  device_ = device;
}

std::vector<NamedParameter> Graph::parameters() {
  std::vector<NamedParameter> out;
  for (Node* n : topological_order())
    for (Parameter* p : n->layer->parameters()) out.push_back({n->name + "." + p->name, p});
  return out;
}

std::vector<NamedBuffer> Graph::buffers() {
  std::vector<NamedBuffer> out;
  for (Node* n : topological_order())
    for (Buffer* b : n->layer->buffers()) out.push_back({n->name + "." + b->name, b});
  return out;
}

std::int64_t Graph::parameter_count() {
  std::int64_t count = 0;
  for (const auto& p : parameters()) count += p.parameter->value.numel();
  return count;
}

}  // namespace dlfs
