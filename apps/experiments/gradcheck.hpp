#pragma once
// The book's gradient check (section 5.7.3): backpropagation's gradients against central
// differences of the loss, parameter by parameter, on the whole model graph.
#include <cstdint>
#include <string>
#include <vector>

#include "dlfs/models/model.hpp"

namespace dlfs::app::experiment {

struct GradientDifference {
  std::string parameter;  // "fc1.weight"
  std::int64_t elements = 0;
  double mean_abs_difference = 0.0;  // mean |backprop - numerical|, the book's figure
  double max_abs_difference = 0.0;
  double mean_abs_gradient = 0.0;  // mean |backprop|, for scale
};

// The book's TwoLayerNet: Affine, ReLU, Affine, SoftmaxWithLoss.
Model build_two_layer_net(const Shape& input_shape, int hidden, int classes);
// The book's SimpleConvNet as its gradient check builds it: conv `filters` of 3x3 (no padding),
// ReLU, 2x2 max pooling, Affine to `hidden`, ReLU, Affine to `classes`.
Model build_small_convnet(const Shape& input_shape, int filters, int hidden, int classes);

// Converts the model's parameters to `dtype` (Float64 or Float32, on the CPU), then compares
// backward()'s gradient of the loss on (images, labels) with (L(w + h) - L(w - h)) / 2h for
// every element of every parameter. `images` is converted to `dtype` too.
std::vector<GradientDifference> compare_gradients(Model& model, const Tensor& images,
                                                  const Tensor& labels, DType dtype, double step);

}  // namespace dlfs::app::experiment
