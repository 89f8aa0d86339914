#pragma once
// A loss for graph tests: the sum of the input's elements, shape [1], in the input's dtype
// (float32 or float64, on the CPU); its gradient is dy's value everywhere.
#include <string>
#include <vector>

#include "dlfs/layers/layer.hpp"

namespace dlfs::testing {

class SumAll : public Layer {
 public:
  std::string type() const override { return "SumAll"; }
  Tensor forward(const std::vector<Tensor>& in, Mode) override {
    shape_ = in[0].shape();
    dtype_ = in[0].dtype();
    double s = 0;
    for (double v : in[0].to(DType::Float64).to_vector<double>()) s += v;
    return Tensor::full({1}, s, dtype_);
  }
  std::vector<Tensor> backward(const Tensor& dy) override {
    return {Tensor::full(shape_, dy.to(DType::Float64).to_vector<double>()[0], dtype_)};
  }

 private:
  Shape shape_;
  DType dtype_ = DType::Float64;
};

}  // namespace dlfs::testing
