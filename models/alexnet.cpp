// AlexNet as torchvision defines it (features / classifier; its adaptive 6x6 average pool is
// the identity at 224x224 and is omitted). The 28 variant keeps the five convolutions with 3x3
// kernels and 2x2 pools and a 1024-wide classifier.
#include "dlfs/models/catalog.hpp"
#include "dlfs/models/layer_factory.hpp"

namespace dlfs {

Model build_alexnet(const std::string& /*name*/, const std::string& variant, int classes) {
  Model m;
  const bool imagenet = variant == "224";
  begin_model(m, "alexnet", variant, imagenet ? Shape{3, 224, 224} : Shape{1, 28, 28}, classes);
  SequentialBuilder b(m.graph, Model::kInput);
  if (imagenet) {
    b.add("features.0", make::conv(3, 64, 11, 4, 2))  // 224 -> 55
        .add("features.1", make::relu())
        .add("features.2", make::max_pool(3, 2))  // -> 27
        .add("features.3", make::conv(64, 192, 5, 1, 2))
        .add("features.4", make::relu())
        .add("features.5", make::max_pool(3, 2));  // -> 13
  } else {
    b.add("features.0", make::conv(1, 64, 3, 1, 1))
        .add("features.1", make::relu())
        .add("features.2", make::max_pool(2, 2))  // 28 -> 14
        .add("features.3", make::conv(64, 192, 3, 1, 1))
        .add("features.4", make::relu())
        .add("features.5", make::max_pool(2, 2));  // -> 7
  }
  b.add("features.6", make::conv(192, 384, 3, 1, 1))
      .add("features.7", make::relu())
      .add("features.8", make::conv(384, 256, 3, 1, 1))
      .add("features.9", make::relu())
      .add("features.10", make::conv(256, 256, 3, 1, 1))
      .add("features.11", make::relu())
      .add("features.12", make::max_pool(3, 2))  // 13 -> 6, or 7 -> 3
      .add("flatten", make::flatten());
  const int spatial = imagenet ? 6 : 3;
  const int hidden = imagenet ? 4096 : 1024;
  b.add("classifier.0", make::dropout(0.5, 3001))
      .add("classifier.1", make::linear(256 * spatial * spatial, hidden))
      .add("classifier.2", make::relu())
      .add("classifier.3", make::dropout(0.5, 3002))
      .add("classifier.4", make::linear(hidden, hidden))
      .add("classifier.5", make::relu())
      .add("classifier.6", make::linear(hidden, classes));
  finish_model(m, "classifier.6");
  return m;
}

}  // namespace dlfs
