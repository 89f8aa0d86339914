#pragma once
// Stochastic gradient descent, the book's SGD: W -= lr * (g + weight_decay * W).
// PyTorch's SGD without momentum is the same rule.
#include "dlfs/optim/optimizer.hpp"

namespace dlfs::optim {

struct SgdOptions {
  double lr = 0.01;  // the book's default
  double weight_decay = 0.0;
};

class Sgd : public Optimizer {
 public:
  explicit Sgd(std::vector<Parameter*> parameters, const SgdOptions& options = {});
  std::string name() const override { return "SGD"; }

 protected:
  void update(std::size_t index, Parameter& parameter) override;
};

}  // namespace dlfs::optim
