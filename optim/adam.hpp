#pragma once
// Adam (Kingma and Ba). The book's form folds both bias corrections into the learning rate:
//   t += 1;  lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
//   m += (1 - beta1) * (g - m);  v += (1 - beta2) * (g * g - v)
//   W -= lr_t * m / (sqrt(v) + eps)                            eps = 1e-7
// pytorch_style is torch.optim.Adam, which corrects v before adding eps:
//   W -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)    eps = 1e-8
// The two differ only in how much eps counts early in training. State slots (PyTorch's names):
// "exp_avg" (m), "exp_avg_sq" (v) and "step" (t, an int64 [1] host tensor per parameter).
// weight_decay is L2 added to the gradient, as torch.optim.Adam's (not AdamW's decoupled decay).
#include <optional>

#include "dlfs/optim/optimizer.hpp"

namespace dlfs::optim {

struct AdamOptions {
  double lr = 0.001;
  double beta1 = 0.9;
  double beta2 = 0.999;
  std::optional<double> eps;  // unset: 1e-7 (book) or 1e-8 (pytorch_style)
  double weight_decay = 0.0;
  bool pytorch_style = false;
};

class Adam : public Optimizer {
 public:
  explicit Adam(std::vector<Parameter*> parameters, const AdamOptions& options = {});
  std::string name() const override { return "Adam"; }
  const AdamOptions& options() const { return options_; }
  double eps() const { return eps_; }

 protected:
  void update(std::size_t index, Parameter& parameter) override;

 private:
  AdamOptions options_;
  double eps_;
};

}  // namespace dlfs::optim
