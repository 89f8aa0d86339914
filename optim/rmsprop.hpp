#pragma once
// RMSprop, the book's form: h = decay * h + (1 - decay) * g * g;  W -= lr * g / (sqrt(h) + eps)
// with decay 0.99 and eps = 1e-7. h is PyTorch's "square_avg" (decay is its alpha);
// pytorch_style only changes eps's default to torch.optim.RMSprop's 1e-8.
#include <optional>

#include "dlfs/optim/optimizer.hpp"

namespace dlfs::optim {

struct RmspropOptions {
  double lr = 0.01;
  double decay = 0.99;
  std::optional<double> eps;  // unset: 1e-7 (book) or 1e-8 (pytorch_style)
  double weight_decay = 0.0;
  bool pytorch_style = false;
};

class Rmsprop : public Optimizer {
 public:
  explicit Rmsprop(std::vector<Parameter*> parameters, const RmspropOptions& options = {});
  std::string name() const override { return "RMSprop"; }
  double eps() const { return eps_; }

 protected:
  void update(std::size_t index, Parameter& parameter) override;

 private:
  double decay_;
  double eps_;
};

}  // namespace dlfs::optim
