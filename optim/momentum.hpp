#pragma once
// Momentum SGD. The book's form keeps a velocity that already includes the learning rate:
//   v = momentum * v - lr * g;  W += v                       (state slot "velocity")
// pytorch_style uses torch.optim.SGD(momentum=m)'s form, whose buffer excludes it:
//   b = momentum * b + g;       W -= lr * b                  (state slot "momentum_buffer")
// With a constant learning rate both give the same weights (v = -lr * b); they differ when the
// learning rate changes during training. g includes weight decay: g + weight_decay * W.
#include "dlfs/optim/optimizer.hpp"

namespace dlfs::optim {

struct MomentumOptions {
  double lr = 0.01;
  double momentum = 0.9;
  double weight_decay = 0.0;
  bool pytorch_style = false;
};

class Momentum : public Optimizer {
 public:
  explicit Momentum(std::vector<Parameter*> parameters, const MomentumOptions& options = {});
  std::string name() const override { return "Momentum"; }
  const MomentumOptions& options() const { return options_; }

 protected:
  void update(std::size_t index, Parameter& parameter) override;

 private:
  MomentumOptions options_;
};

}  // namespace dlfs::optim
