#pragma once
// Nesterov's accelerated gradient. The book's form (common/optimizer.py) is kept as written:
//   v = momentum * v - lr * g;  W += momentum^2 * v - (1 + momentum) * lr * g   ("velocity")
// Note that it uses the velocity after this step's update. The reformulation it cites
// (Bengio et al., arXiv:1212.0901) uses the velocity before it, and that one is exactly
// torch.optim.SGD(momentum=m, nesterov=True), which pytorch_style selects:
//   b = momentum * b + g;       W -= lr * (g + momentum * b)                   ("momentum_buffer")
// The book's form therefore takes slightly different steps (see docs/optimizers.md).
#include "dlfs/optim/momentum.hpp"
#include "dlfs/optim/optimizer.hpp"

namespace dlfs::optim {

class Nesterov : public Optimizer {
 public:
  explicit Nesterov(std::vector<Parameter*> parameters, const MomentumOptions& options = {});
  std::string name() const override { return "Nesterov"; }
  const MomentumOptions& options() const { return options_; }

 protected:
  void update(std::size_t index, Parameter& parameter) override;

 private:
  MomentumOptions options_;
};

}  // namespace dlfs::optim
