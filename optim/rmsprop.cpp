#include "dlfs/optim/rmsprop.hpp"

#include <cmath>

#include "dlfs/kernels/optimizer_update.hpp"

namespace dlfs::optim {

Rmsprop::Rmsprop(std::vector<Parameter*> parameters, const RmspropOptions& options)
    : Optimizer(std::move(parameters), options.lr, options.weight_decay),
      decay_(options.decay),
      eps_(options.eps.value_or(options.pytorch_style ? 1e-8 : 1e-7)) {
  check_hyperparameter(name(), "decay", decay_, 0.0, 1.0);
  check_hyperparameter(name(), "eps", eps_, 0.0, INFINITY);
  add_state_slot("square_avg");
}

void Rmsprop::update(std::size_t index, Parameter& p) {
  kernels::RmspropStep s;
  s.lr = learning_rate();
  s.decay = decay_;
  s.eps = eps_;
  s.weight_decay = weight_decay();
  kernels::rmsprop_update_(p.value, p.grad, slot(index, 0), s);
}

}  // namespace dlfs::optim
