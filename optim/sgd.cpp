#include "dlfs/optim/sgd.hpp"

#include "dlfs/kernels/optimizer_update.hpp"

namespace dlfs::optim {

Sgd::Sgd(std::vector<Parameter*> parameters, const SgdOptions& options)
    : Optimizer(std::move(parameters), options.lr, options.weight_decay) {}

void Sgd::update(std::size_t, Parameter& p) {
  kernels::SgdStep s;
  s.lr = learning_rate();
  s.weight_decay = weight_decay();
  kernels::sgd_update_(p.value, p.grad, s);
}

}  // namespace dlfs::optim
