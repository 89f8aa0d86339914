// vgg-small-bn: a BN-VGG built for 28x28 images rather than cut down from the 224 one. Three
// blocks of two 3x3 convolutions (32, 64, 128 channels) with BatchNorm and ReLU, each block ending
// in a 2x2 max-pool (28 -> 14 -> 7 -> 3) and Dropout(0.25), then a 256-wide classifier with
// Dropout(0.5). Against vgg11-bn's 28 variant (widths / 4: 16 and 32 channels at 28 and 14) it
// spends its width where the image still is large, which is what Fashion-MNIST's textures need,
// and regularises the convolutions too. Node names follow torchvision's VGG (features.N,
// classifier.N), so its PyTorch twin (bench/pytorch_models.py) loads the checkpoint.
#include "dlfs/models/catalog.hpp"
#include "dlfs/models/layer_factory.hpp"
#include "dlfs/models/small_classifier.hpp"

namespace dlfs {

Model build_vgg_small(const std::string& /*name*/, const std::string& /*variant*/, int classes) {
  Model m;
  begin_model(m, "vgg-small-bn", "28", Shape{1, 28, 28}, classes);
  SequentialBuilder b(m.graph, Model::kInput);
  int index = 0, channels = 1;
  auto next = [&] { return "features." + std::to_string(index++); };
  std::uint64_t dropout_seed = 5001;
  for (int width : {32, 64, 128}) {
    for (int conv = 0; conv < 2; ++conv) {
      b.add(next(), make::conv(channels, width, 3, 1, 1));
      b.add(next(), make::batch_norm(width));
      b.add(next(), make::relu());
      channels = width;
    }
    b.add(next(), make::max_pool(2, 2));
    b.add(next(), make::dropout(0.25, dropout_seed++));
  }
  finish_model(m, add_small_classifier(m.graph, b.last(), channels * 3 * 3, classes, dropout_seed));
  return m;
}

}  // namespace dlfs
