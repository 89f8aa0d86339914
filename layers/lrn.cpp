#include "dlfs/layers/lrn.hpp"

#include <sstream>

namespace dlfs {

LRN::LRN(int size, double alpha, double beta, double k) {
  if (size < 1 || !(k > 0) || alpha < 0 || beta < 0)
    throw Error("LRN: needs size >= 1, k > 0, alpha >= 0 and beta >= 0");
  params_ = {size, alpha, beta, k};
}

std::string LRN::describe() const {
  std::ostringstream s;
  s << "size " << params_.size << ", alpha " << params_.alpha << ", beta " << params_.beta << ", k "
    << params_.k;
  return s.str();
}

Tensor LRN::forward(const std::vector<Tensor>& inputs, Mode mode) {
  const Tensor& x = single_input(inputs, "LRN");
  Tensor scale;
  Tensor y = kernels::lrn_forward(x, params_, &scale);
  if (mode == Mode::Train) {
    input_ = x;
    output_ = y;
    scale_ = scale;
  } else {
    input_ = output_ = scale_ = Tensor();
  }
  return y;
}

std::vector<Tensor> LRN::backward(const Tensor& grad_output) {
  if (!input_.defined()) throw Error("LRN::backward called without a Train-mode forward");
  return {kernels::lrn_backward(grad_output, input_, output_, scale_, params_)};
}

}  // namespace dlfs
