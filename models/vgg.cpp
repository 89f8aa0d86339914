// VGG-11 and VGG-16 (Simonyan and Zisserman 2014), with and without BatchNorm, named as
// torchvision's vgg11/vgg16(_bn) (its adaptive 7x7 average pool is the identity at 224x224).
// The 28 variant divides every width by 4, keeps the first three poolings (28 -> 3) and uses
// a 256-wide classifier.
#include "dlfs/models/catalog.hpp"
#include "dlfs/models/layer_factory.hpp"

namespace dlfs {

Model build_vgg(const std::string& name, const std::string& variant, int classes) {
  constexpr int M = 0;  // a 2x2 max-pool in the configuration lists
  const std::vector<int> vgg11 = {64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M};
  const std::vector<int> vgg16 = {64, 64,  M,   128, 128, M,   256, 256, 256,
                                  M,  512, 512, 512, M,   512, 512, 512, M};
  const bool imagenet = variant == "224";
  const bool bn = name.size() > 3 && name.substr(name.size() - 3) == "-bn";
  const std::vector<int>& config = name.rfind("vgg16", 0) == 0 ? vgg16 : vgg11;

  Model m;
  begin_model(m, name, variant, imagenet ? Shape{3, 224, 224} : Shape{1, 28, 28}, classes);
  SequentialBuilder b(m.graph, Model::kInput);
  int index = 0, channels = imagenet ? 3 : 1, pools = 0, size = imagenet ? 224 : 28;
  auto next = [&] { return "features." + std::to_string(index++); };
  for (int v : config) {
    if (v == M) {
      if (!imagenet && pools == 3) continue;  // 3x3 maps are not pooled further
      b.add(next(), make::max_pool(2, 2));
      pools += 1;
      size /= 2;
      continue;
    }
    const int width = imagenet ? v : v / 4;
    b.add(next(), make::conv(channels, width, 3, 1, 1));
    if (bn) b.add(next(), make::batch_norm(width));
    b.add(next(), make::relu());
    channels = width;
  }
  b.add("flatten", make::flatten());
  const int hidden = imagenet ? 4096 : 256;
  b.add("classifier.0", make::linear(channels * size * size, hidden))
      .add("classifier.1", make::relu())
      .add("classifier.2", make::dropout(0.5, 4001))
      .add("classifier.3", make::linear(hidden, hidden))
      .add("classifier.4", make::relu())
      .add("classifier.5", make::dropout(0.5, 4002))
      .add("classifier.6", make::linear(hidden, classes));
  finish_model(m, "classifier.6");
  return m;
}

}  // namespace dlfs
