#include "dlfs/optim/momentum.hpp"

#include "dlfs/kernels/optimizer_update.hpp"

namespace dlfs::optim {

Momentum::Momentum(std::vector<Parameter*> parameters, const MomentumOptions& options)
    : Optimizer(std::move(parameters), options.lr, options.weight_decay), options_(options) {
  check_hyperparameter(name(), "momentum", options.momentum, 0.0, 1.0);
  add_state_slot(options.pytorch_style ? "momentum_buffer" : "velocity");
}

void Momentum::update(std::size_t index, Parameter& p) {
  kernels::MomentumStep s;
  s.lr = learning_rate();
  s.momentum = options_.momentum;
  s.weight_decay = weight_decay();
  s.pytorch_style = options_.pytorch_style;
  kernels::momentum_update_(p.value, p.grad, slot(index, 0), s);
}

}  // namespace dlfs::optim
