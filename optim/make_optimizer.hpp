#pragma once
// Optimizers by name, for the command line: sgd, momentum, nesterov, adagrad, rmsprop, adam.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dlfs/optim/optimizer.hpp"

namespace dlfs::optim {

struct OptimizerConfig {
  std::string name = "sgd";
  std::optional<double> lr;        // unset: the optimizer's default (the book's)
  std::optional<double> momentum;  // momentum and nesterov; unset: 0.9
  std::optional<double> eps;       // adagrad, rmsprop, adam; unset: the form's default
  double weight_decay = 0.0;
  bool pytorch_style = false;
};

// The names make_optimizer accepts, in the book's order.
const std::vector<std::string>& optimizer_names();

// Throws InputError naming the optimizer when the name is unknown or a hyperparameter is out of
// range, or when momentum/eps is given to an optimizer that has no such hyperparameter.
std::unique_ptr<Optimizer> make_optimizer(const OptimizerConfig& config,
                                          std::vector<Parameter*> parameters);

}  // namespace dlfs::optim
