#pragma once
// The networks and training loops of the book's chapter 6 experiments: MultiLayerNet(Extend)
// with a chosen activation, weight-init std, BatchNorm or Dropout, trained iteration by
// iteration on mini-batches drawn afresh each epoch, with optimizers from optim/.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dlfs/data/batch_iterator.hpp"
#include "dlfs/models/model.hpp"
#include "dlfs/optim/make_optimizer.hpp"
#include "dlfs/runtime/generator.hpp"

namespace dlfs::app::experiment {

// How the weights of a network are drawn: a fixed std, or Xavier / He from each fan-in.
struct WeightInit {
  enum class Kind { FixedStd, Xavier, He };
  Kind kind = Kind::He;
  double std = 0.01;  // FixedStd only

  static WeightInit fixed(double std) { return {Kind::FixedStd, std}; }
  static WeightInit xavier() { return {Kind::Xavier, 0.0}; }
  static WeightInit he() { return {Kind::He, 0.0}; }
  double std_for(std::int64_t fan_in) const;
  std::string label() const;  // "std=0.01", "Xavier", "He"
};

// The book's MultiLayerNet / MultiLayerNetExtend for flattened images.
struct MlpSpec {
  std::vector<int> hidden;          // units per hidden layer
  std::string activation = "relu";  // relu, sigmoid or tanh
  bool batch_norm = false;          // BatchNorm after each hidden Affine
  double dropout = 0.0;             // Dropout after each hidden activation when > 0
  std::uint64_t dropout_seed = 0;
};

// Nodes: flatten, fc1, [bn1], act1, [dropout1], ..., fcK (the logits), loss.
Model build_mlp_model(const MlpSpec& spec, const Shape& input_shape, int classes);

// Draws every weight of `model` (Affine and Convolution) from N(0, std_for(fan_in)^2); biases
// zero; BatchNorm keeps gamma 1, beta 0.
void initialize_weights(Model& model, const WeightInit& init, Generator& gen);

// Parameters named "weight" of non-BatchNorm layers, and the rest: the book's weight decay
// applies to the first set only.
struct ParameterGroups {
  std::vector<Parameter*> weights;
  std::vector<Parameter*> others;
};
ParameterGroups parameter_groups(Model& model);

// The model's optimizers: `config` for the weights, and the same without weight decay for
// biases and BatchNorm parameters.
std::vector<std::unique_ptr<optim::Optimizer>> make_optimizers(Model& model,
                                                               optim::OptimizerConfig config);

// Mini-batches without end: a fresh shuffled epoch (seeded) whenever one runs out, as the
// book's np.random.choice per iteration but without repeats inside an epoch.
class BatchStream {
 public:
  BatchStream(const data::Dataset& dataset, std::int64_t batch_size, std::uint64_t seed);
  const data::Batch& next();
  std::int64_t batches_per_epoch() const { return batches_.batches_per_epoch(); }

 private:
  data::BatchIterator batches_;
  data::Batch batch_;
  std::int64_t epoch_ = 0;
};

// One training step: forward to the loss, backward, every optimizer's step. Returns the loss
// (NaN or infinity are returned, not thrown: diverging is a result in these experiments).
double train_step(Model& model, const data::Batch& batch,
                  std::vector<std::unique_ptr<optim::Optimizer>>& optimizers);

// Fraction of `dataset` the model classifies correctly (inference mode).
double accuracy(Model& model, const data::Dataset& dataset, std::int64_t batch_size = 500);

// Mean of the last `count` values (all when fewer).
double tail_mean(const std::vector<double>& values, std::size_t count);
// How many values tail_mean(values, count) averages, for printing it truthfully.
std::size_t tail_length(const std::vector<double>& values, std::size_t count);

}  // namespace dlfs::app::experiment
