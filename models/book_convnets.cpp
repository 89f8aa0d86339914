// The book's convolutional nets: SimpleConvNet (chapter 7) and DeepConvNet (chapter 8).
#include "dlfs/models/catalog.hpp"
#include "dlfs/models/layer_factory.hpp"

namespace dlfs {

Model build_book_convnet(const std::string& name, const std::string& /*variant*/, int classes) {
  Model m;
  begin_model(m, name, "28", {1, 28, 28}, classes);
  SequentialBuilder b(m.graph, Model::kInput);
  if (name == "simple-convnet") {
    b.add("conv1", make::conv(1, 30, 5))  // 28 -> 24
        .add("relu1", make::relu())
        .add("pool1", make::max_pool(2, 2))  // -> 12
        .add("flatten", make::flatten())
        .add("fc1", make::linear(30 * 12 * 12, 100))
        .add("relu2", make::relu())
        .add("fc2", make::linear(100, classes));
    finish_model(m, "fc2");
    return m;
  }
  // DeepConvNet: every conv 3x3; the fourth pads 2, as in the book, so 14 -> 16 before pooling.
  b.add("conv1", make::conv(1, 16, 3, 1, 1))
      .add("relu1", make::relu())
      .add("conv2", make::conv(16, 16, 3, 1, 1))
      .add("relu2", make::relu())
      .add("pool1", make::max_pool(2, 2))  // 28 -> 14
      .add("conv3", make::conv(16, 32, 3, 1, 1))
      .add("relu3", make::relu())
      .add("conv4", make::conv(32, 32, 3, 1, 2))  // 14 -> 16
      .add("relu4", make::relu())
      .add("pool2", make::max_pool(2, 2))  // -> 8
      .add("conv5", make::conv(32, 64, 3, 1, 1))
      .add("relu5", make::relu())
      .add("conv6", make::conv(64, 64, 3, 1, 1))
      .add("relu6", make::relu())
      .add("pool3", make::max_pool(2, 2))  // -> 4
      .add("flatten", make::flatten())
      .add("fc1", make::linear(64 * 4 * 4, 50))
      .add("relu7", make::relu())
      .add("dropout1", make::dropout(0.5, 2001))
      .add("fc2", make::linear(50, classes))
      // As in the book's deep_convnet.py, dropout also follows the last Affine (on the logits).
      .add("dropout2", make::dropout(0.5, 2002));
  finish_model(m, "dropout2");
  return m;
}

}  // namespace dlfs
