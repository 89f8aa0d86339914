#pragma once
// A trainable tensor and its gradient, named as in a PyTorch state_dict ("conv1.weight").
// Layers own them; optimizers update them; checkpoints save them by name.
#include <string>

#include "dlfs/runtime/tensor.hpp"

namespace dlfs {

struct Parameter {
  std::string name;  // local to its layer ("weight"); models prefix the layer's path
  Tensor value;
  Tensor grad;  // same shape, dtype and device as value; written by backward()
};

// A named tensor that is state but not trained (BatchNorm's running mean and variance).
struct Buffer {
  std::string name;
  Tensor value;
};

}  // namespace dlfs
