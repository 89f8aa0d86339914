#pragma once
// AdaGrad, the book's form: h += g * g;  W -= lr * g / (sqrt(h) + eps) with eps = 1e-7.
// h is PyTorch's "sum" state; pytorch_style only changes eps's default to torch.optim.Adagrad's
// 1e-10 (PyTorch's lr_decay and initial_accumulator_value are not offered: both default to 0).
#include <optional>

#include "dlfs/optim/optimizer.hpp"

namespace dlfs::optim {

struct AdaGradOptions {
  double lr = 0.01;
  std::optional<double> eps;  // unset: 1e-7 (book) or 1e-10 (pytorch_style)
  double weight_decay = 0.0;
  bool pytorch_style = false;
};

class AdaGrad : public Optimizer {
 public:
  explicit AdaGrad(std::vector<Parameter*> parameters, const AdaGradOptions& options = {});
  std::string name() const override { return "AdaGrad"; }
  double eps() const { return eps_; }

 protected:
  void update(std::size_t index, Parameter& parameter) override;

 private:
  double eps_;
};

}  // namespace dlfs::optim
