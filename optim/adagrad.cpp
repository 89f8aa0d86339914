#include "dlfs/optim/adagrad.hpp"

#include <cmath>

#include "dlfs/kernels/optimizer_update.hpp"

namespace dlfs::optim {

AdaGrad::AdaGrad(std::vector<Parameter*> parameters, const AdaGradOptions& options)
    : Optimizer(std::move(parameters), options.lr, options.weight_decay),
      eps_(options.eps.value_or(options.pytorch_style ? 1e-10 : 1e-7)) {
  check_hyperparameter(name(), "eps", eps_, 0.0, INFINITY);
  add_state_slot("sum");
}

void AdaGrad::update(std::size_t index, Parameter& p) {
  kernels::AdaGradStep s;
  s.lr = learning_rate();
  s.eps = eps_;
  s.weight_decay = weight_decay();
  kernels::adagrad_update_(p.value, p.grad, slot(index, 0), s);
}

}  // namespace dlfs::optim
