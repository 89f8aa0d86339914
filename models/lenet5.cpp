// LeNet-5 (LeCun et al. 1998) with ReLU and max-pooling, as it is usually trained today.
// At 32x32 it is the original geometry; at 28x28 the first convolution pads by 2.
#include "dlfs/models/catalog.hpp"
#include "dlfs/models/layer_factory.hpp"

namespace dlfs {

Model build_lenet5(const std::string& /*name*/, const std::string& variant, int classes) {
  Model m;
  const int size = variant == "32" ? 32 : 28;
  begin_model(m, "lenet5", variant, {1, size, size}, classes);
  SequentialBuilder b(m.graph, Model::kInput);
  b.add("conv1", make::conv(1, 6, 5, 1, size == 28 ? 2 : 0))  // -> 28
      .add("relu1", make::relu())
      .add("pool1", make::max_pool(2, 2))  // -> 14
      .add("conv2", make::conv(6, 16, 5))  // -> 10
      .add("relu2", make::relu())
      .add("pool2", make::max_pool(2, 2))  // -> 5
      .add("flatten", make::flatten())
      .add("fc1", make::linear(16 * 5 * 5, 120))
      .add("relu3", make::relu())
      .add("fc2", make::linear(120, 84))
      .add("relu4", make::relu())
      .add("fc3", make::linear(84, classes));
  finish_model(m, "fc3");
  return m;
}

}  // namespace dlfs
