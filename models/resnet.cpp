// ResNets (He et al. 2015) named as torchvision's resnet18/34/50: conv1, bn1, layer1..4 of
// basic or bottleneck blocks with 1x1-conv+BN downsampling, global average pool, fc.
// The 28 variant (1x28x28) uses a 3x3 stride-1 stem without max-pool, as is usual for small
// images. ResNet-20, -32 and -56 are the CIFAR networks of the paper's section 4.2 (16-32-64
// channels, n = 3, 5 and 9 blocks per stage, 6n + 2 layers), with 1x1-conv downsampling
// (option B). resnet14-w2 is the same design with 2 blocks per stage at twice the width (32-64-128
// channels), the shape of a wide ResNet (Zagoruyko and Komodakis 2016, WRN-16-2) with
// post-activation blocks, to try width where more depth (resnet32, resnet56) did not raise
// Fashion-MNIST accuracy (docs/results.md).
#include "dlfs/models/catalog.hpp"
#include "dlfs/models/layer_factory.hpp"
#include "dlfs/models/residual_block.hpp"

namespace dlfs {

Model build_resnet(const std::string& name, const std::string& variant, int classes) {
  Model m;
  const bool imagenet = variant == "224";
  const int cifar_blocks = name == "resnet20"      ? 3
                           : name == "resnet32"    ? 5
                           : name == "resnet56"    ? 9
                           : name == "resnet14-w2" ? 2
                                                   : 0;
  const bool cifar = cifar_blocks > 0;
  const Shape input =
      imagenet ? Shape{3, 224, 224} : (variant == "32" ? Shape{3, 32, 32} : Shape{1, 28, 28});
  begin_model(m, name, variant, input, classes);
  Graph& g = m.graph;
  const int in_channels = static_cast<int>(input[0]);

  std::vector<int> blocks;
  std::vector<int> widths = {64, 128, 256, 512};
  bool bottleneck = false;
  if (name == "resnet18") blocks = {2, 2, 2, 2};
  if (name == "resnet34") blocks = {3, 4, 6, 3};
  if (name == "resnet50") blocks = {3, 4, 6, 3}, bottleneck = true;
  if (cifar) blocks = {cifar_blocks, cifar_blocks, cifar_blocks}, widths = {16, 32, 64};
  if (name == "resnet14-w2") widths = {32, 64, 128};
  if (blocks.empty()) throw InputError("unknown ResNet '" + name + "'");

  SequentialBuilder stem(g, Model::kInput);
  if (imagenet) {
    stem.add("conv1", make::conv(in_channels, 64, 7, 2, 3, false))
        .add("bn1", make::batch_norm(64))
        .add("relu", make::relu())
        .add("maxpool", make::max_pool(3, 2, 1));
  } else {
    stem.add("conv1", make::conv(in_channels, widths[0], 3, 1, 1, false))
        .add("bn1", make::batch_norm(widths[0]))
        .add("relu", make::relu());
  }
  std::string last = stem.last();
  int channels = widths[0];
  for (std::size_t stage = 0; stage < blocks.size(); ++stage) {
    for (int i = 0; i < blocks[stage]; ++i) {
      const int stride = (stage > 0 && i == 0) ? 2 : 1;
      const std::string prefix = "layer" + std::to_string(stage + 1) + "." + std::to_string(i);
      last = add_residual_block(g, prefix, last, channels, widths[stage], stride, bottleneck);
      channels = widths[stage] * (bottleneck ? 4 : 1);
    }
  }
  SequentialBuilder head(g, last);
  head.add("avgpool", make::global_avg_pool())
      .add("flatten", make::flatten())
      .add("fc", make::linear(channels, classes));
  finish_model(m, "fc");
  return m;
}

}  // namespace dlfs
