#include "dlfs/layers/scale.hpp"

#include <cstdio>

#include "dlfs/kernels/scale.hpp"

namespace dlfs {

std::string Scale::describe() const {
  char text[32];
  std::snprintf(text, sizeof text, "x%g", factor_);
  return text;
}

Tensor Scale::forward(const std::vector<Tensor>& inputs, Mode mode) {
  if (inputs.size() != 1 || !inputs[0].defined())
    throw Error("Scale takes one defined input, got " + std::to_string(inputs.size()));
  trained_ = mode == Mode::Train;
  return kernels::scale(inputs[0], factor_);
}

std::vector<Tensor> Scale::backward(const Tensor& grad_output) {
  if (!trained_) throw Error("Scale::backward called without a Train-mode forward");
  return {kernels::scale(grad_output, factor_)};
}

}  // namespace dlfs
