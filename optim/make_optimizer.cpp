#include "dlfs/optim/make_optimizer.hpp"

#include "dlfs/optim/adagrad.hpp"
#include "dlfs/optim/adam.hpp"
#include "dlfs/optim/momentum.hpp"
#include "dlfs/optim/nesterov.hpp"
#include "dlfs/optim/rmsprop.hpp"
#include "dlfs/optim/sgd.hpp"
#include "dlfs/runtime/error.hpp"

namespace dlfs::optim {

const std::vector<std::string>& optimizer_names() {
  static const std::vector<std::string> names = {"sgd",     "momentum", "nesterov",
                                                 "adagrad", "rmsprop",  "adam"};
  return names;
}

namespace {
void refuse(const OptimizerConfig& c, bool has_momentum, bool has_eps) {
  if (c.momentum && !has_momentum)
    throw InputError("Optimizer '" + c.name + "' has no momentum hyperparameter.");
  if (c.eps && !has_eps) throw InputError("Optimizer '" + c.name + "' has no eps hyperparameter.");
}
}  // namespace

std::unique_ptr<Optimizer> make_optimizer(const OptimizerConfig& c,
                                          std::vector<Parameter*> parameters) {
  if (c.name == "sgd") {
    refuse(c, false, false);
    SgdOptions o;
    o.lr = c.lr.value_or(o.lr);
    o.weight_decay = c.weight_decay;
    return std::make_unique<Sgd>(std::move(parameters), o);
  }
  if (c.name == "momentum" || c.name == "nesterov") {
    refuse(c, true, false);
    MomentumOptions o;
    o.lr = c.lr.value_or(o.lr);
    o.momentum = c.momentum.value_or(o.momentum);
    o.weight_decay = c.weight_decay;
    o.pytorch_style = c.pytorch_style;
    if (c.name == "momentum") return std::make_unique<Momentum>(std::move(parameters), o);
    return std::make_unique<Nesterov>(std::move(parameters), o);
  }
  if (c.name == "adagrad") {
    refuse(c, false, true);
    AdaGradOptions o;
    o.lr = c.lr.value_or(o.lr);
    o.eps = c.eps;
    o.weight_decay = c.weight_decay;
    o.pytorch_style = c.pytorch_style;
    return std::make_unique<AdaGrad>(std::move(parameters), o);
  }
  if (c.name == "rmsprop") {
    refuse(c, false, true);
    RmspropOptions o;
    o.lr = c.lr.value_or(o.lr);
    o.eps = c.eps;
    o.weight_decay = c.weight_decay;
    o.pytorch_style = c.pytorch_style;
    return std::make_unique<Rmsprop>(std::move(parameters), o);
  }
  if (c.name == "adam") {
    refuse(c, false, true);
    AdamOptions o;
    o.lr = c.lr.value_or(o.lr);
    o.eps = c.eps;
    o.weight_decay = c.weight_decay;
    o.pytorch_style = c.pytorch_style;
    return std::make_unique<Adam>(std::move(parameters), o);
  }
  std::string names;
  for (const std::string& n : optimizer_names()) names += (names.empty() ? "" : ", ") + n;
  throw InputError("Unknown optimizer '" + c.name + "'; choose one of " + names + ".");
}

}  // namespace dlfs::optim
