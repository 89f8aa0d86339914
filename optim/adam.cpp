#include "dlfs/optim/adam.hpp"

#include <cmath>

#include "dlfs/kernels/optimizer_update.hpp"

namespace dlfs::optim {

Adam::Adam(std::vector<Parameter*> parameters, const AdamOptions& options)
    : Optimizer(std::move(parameters), options.lr, options.weight_decay),
      options_(options),
      eps_(options.eps.value_or(options.pytorch_style ? 1e-8 : 1e-7)) {
  check_hyperparameter(name(), "beta1", options.beta1, 0.0, 1.0);
  check_hyperparameter(name(), "beta2", options.beta2, 0.0, 1.0);
  check_hyperparameter(name(), "eps", eps_, 0.0, INFINITY);
  add_state_slot("exp_avg");
  add_state_slot("exp_avg_sq");
  add_step_slot("step");
}

void Adam::update(std::size_t index, Parameter& p) {
  std::int64_t& t = slot(index, 2).data<std::int64_t>()[0];
  t += 1;
  const double bias_correction1 = 1.0 - std::pow(options_.beta1, static_cast<double>(t));
  const double bias_correction2 = 1.0 - std::pow(options_.beta2, static_cast<double>(t));
  kernels::AdamStep s;
  s.beta1 = options_.beta1;
  s.beta2 = options_.beta2;
  s.eps = eps_;
  s.weight_decay = weight_decay();
  if (options_.pytorch_style) {
    s.step_size = learning_rate() / bias_correction1;
    s.sqrt_bias_correction2 = std::sqrt(bias_correction2);
  } else {
    s.step_size = learning_rate() * std::sqrt(bias_correction2) / bias_correction1;
    s.sqrt_bias_correction2 = 1.0;
  }
  kernels::adam_update_(p.value, p.grad, slot(index, 0), slot(index, 1), s);
}

}  // namespace dlfs::optim
