#pragma once
// Flatten: [N, d1, d2, ...] -> [N, d1 * d2 * ...], the reshape between convolutional and
// fully connected layers. No data moves: the output shares the input's storage.
#include "dlfs/layers/layer.hpp"

namespace dlfs {

class Flatten : public Layer {
 public:
  std::string type() const override { return "Flatten"; }
  Tensor forward(const std::vector<Tensor>& inputs, Mode mode) override;
  // grad_output reshaped to the last Train-mode input's shape (shares its storage).
  std::vector<Tensor> backward(const Tensor& grad_output) override;

 private:
  Shape input_shape_;
  bool has_input_ = false;
};

}  // namespace dlfs
