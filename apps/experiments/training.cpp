#include "dlfs/apps/experiments/training.hpp"

#include <cmath>
#include <cstdio>

#include "dlfs/layers/sigmoid.hpp"
#include "dlfs/layers/tanh.hpp"
#include "dlfs/models/layer_factory.hpp"
#include "dlfs/train/trainer.hpp"

namespace dlfs::app::experiment {

double WeightInit::std_for(std::int64_t fan_in) const {
  const double n = static_cast<double>(fan_in);
  switch (kind) {
    case Kind::FixedStd:
      return std;
    case Kind::Xavier:
      return std::sqrt(1.0 / n);
    case Kind::He:
      return std::sqrt(2.0 / n);
  }
  return std;
}

std::string WeightInit::label() const {
  if (kind == Kind::Xavier) return "Xavier";
  if (kind == Kind::He) return "He";
  char buf[32];
  std::snprintf(buf, sizeof buf, "std=%g", std);
  return buf;
}

namespace {

LayerPtr make_activation(const std::string& name) {
  if (name == "relu") return make::relu();
  if (name == "sigmoid") return std::make_unique<Sigmoid>();
  if (name == "tanh") return std::make_unique<Tanh>();
  throw Error("internal: unknown activation '" + name + "'");
}

}  // namespace

Model build_mlp_model(const MlpSpec& spec, const Shape& input_shape, int classes) {
  Model m;
  begin_model(m, "experiment-mlp", "", input_shape, classes);
  SequentialBuilder b(m.graph, Model::kInput);
  b.add("flatten", make::flatten());
  std::int64_t width = input_shape.numel();
  for (std::size_t i = 0; i < spec.hidden.size(); ++i) {
    const std::string k = std::to_string(i + 1);
    b.add("fc" + k, std::make_unique<Affine>(width, spec.hidden[i]));
    if (spec.batch_norm) b.add("bn" + k, make::batch_norm(spec.hidden[i]));
    b.add(spec.activation + k, make_activation(spec.activation));
    if (spec.dropout > 0) b.add("dropout" + k, make::dropout(spec.dropout, spec.dropout_seed + i));
    width = spec.hidden[i];
  }
  const std::string out = "fc" + std::to_string(spec.hidden.size() + 1);
  b.add(out, std::make_unique<Affine>(width, classes));
  finish_model(m, out);
  return m;
}

void initialize_weights(Model& model, const WeightInit& init, Generator& gen) {
  for (const std::string& node : model.graph.order()) {
    Layer& layer = model.graph.layer(node);
    if (layer.type() == "BatchNorm") continue;
    for (Parameter* p : layer.parameters()) {
      if (p->name == "weight" && p->value.ndim() >= 2)
        p->value.normal_(gen, 0.0, init.std_for(p->value.numel() / p->value.dim(0)));
      else
        p->value.zero_();
    }
  }
}

ParameterGroups parameter_groups(Model& model) {
  ParameterGroups groups;
  for (const std::string& node : model.graph.order()) {
    Layer& layer = model.graph.layer(node);
    for (Parameter* p : layer.parameters()) {
      if (p->name == "weight" && layer.type() != "BatchNorm")
        groups.weights.push_back(p);
      else
        groups.others.push_back(p);
    }
  }
  return groups;
}

std::vector<std::unique_ptr<optim::Optimizer>> make_optimizers(Model& model,
                                                               optim::OptimizerConfig config) {
  ParameterGroups groups = parameter_groups(model);
  std::vector<std::unique_ptr<optim::Optimizer>> out;
  out.push_back(optim::make_optimizer(config, groups.weights));
  if (!groups.others.empty()) {
    config.weight_decay = 0.0;
    out.push_back(optim::make_optimizer(config, groups.others));
  }
  return out;
}

BatchStream::BatchStream(const data::Dataset& dataset, std::int64_t batch_size, std::uint64_t seed)
    : batches_(dataset, batch_size, /*shuffle=*/true, seed) {
  batches_.start_epoch(0);
}

const data::Batch& BatchStream::next() {
  if (!batches_.next(batch_)) {
    batches_.start_epoch(++epoch_);
    batches_.next(batch_);
  }
  return batch_;
}

double train_step(Model& model, const data::Batch& batch,
                  std::vector<std::unique_ptr<optim::Optimizer>>& optimizers) {
  Tensor loss = model.graph.run({{Model::kInput, batch.images}, {Model::kLabels, batch.labels}},
                                Model::kLossNode, Mode::Train);
  const double value = loss.to_vector<float>()[0];
  model.graph.backward(Model::kLossNode);
  for (auto& optimizer : optimizers) optimizer->step();
  return value;
}

double accuracy(Model& model, const data::Dataset& dataset, std::int64_t batch_size) {
  return train::evaluate(model, dataset, batch_size).accuracy;
}

std::size_t tail_length(const std::vector<double>& values, std::size_t count) {
  return std::min(count, values.size());
}

double tail_mean(const std::vector<double>& values, std::size_t count) {
  if (values.empty()) return 0.0;
  const std::size_t n = std::min(count, values.size());
  double sum = 0.0;
  for (std::size_t i = values.size() - n; i < values.size(); ++i) sum += values[i];
  return sum / static_cast<double>(n);
}

}  // namespace dlfs::app::experiment
