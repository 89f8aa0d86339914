// ResNets (He et al. 2015) named as torchvision's resnet18/34/50: conv1, bn1, layer1..4 of
// basic or bottleneck blocks with 1x1-conv+BN downsampling, global average pool, fc.
// The 28 variant (1x28x28) uses a 3x3 stride-1 stem without max-pool, as is usual for small
// images. ResNet-20 is the CIFAR network of the paper's section 4.2 (16-32-64 channels,
// 3 blocks per stage), with 1x1-conv downsampling (option B).
#include "dlfs/layers/add.hpp"
#include "dlfs/models/catalog.hpp"
#include "dlfs/models/layer_factory.hpp"

namespace dlfs {

namespace {

// Adds one residual block reading `input`; returns the name of its output node.
std::string add_block(Graph& g, const std::string& prefix, const std::string& input, int in,
                      int planes, int stride, bool bottleneck) {
  const int expansion = bottleneck ? 4 : 1;
  const int out = planes * expansion;
  SequentialBuilder b(g, input);
  if (bottleneck) {
    b.add(prefix + ".conv1", make::conv(in, planes, 1, 1, 0, false))
        .add(prefix + ".bn1", make::batch_norm(planes))
        .add(prefix + ".relu1", make::relu())
        .add(prefix + ".conv2", make::conv(planes, planes, 3, stride, 1, false))
        .add(prefix + ".bn2", make::batch_norm(planes))
        .add(prefix + ".relu2", make::relu())
        .add(prefix + ".conv3", make::conv(planes, out, 1, 1, 0, false))
        .add(prefix + ".bn3", make::batch_norm(out));
  } else {
    b.add(prefix + ".conv1", make::conv(in, planes, 3, stride, 1, false))
        .add(prefix + ".bn1", make::batch_norm(planes))
        .add(prefix + ".relu1", make::relu())
        .add(prefix + ".conv2", make::conv(planes, planes, 3, 1, 1, false))
        .add(prefix + ".bn2", make::batch_norm(planes));
  }
  std::string shortcut = input;
  if (stride != 1 || in != out) {
    SequentialBuilder d(g, input);
    d.add(prefix + ".downsample.0", make::conv(in, out, 1, stride, 0, false))
        .add(prefix + ".downsample.1", make::batch_norm(out));
    shortcut = d.last();
  }
  g.add(prefix + ".add", std::make_unique<Add>(), {b.last(), shortcut});
  g.add(prefix + ".relu", make::relu(), {prefix + ".add"});
  return prefix + ".relu";
}

}  // namespace

Model build_resnet(const std::string& name, const std::string& variant, int classes) {
  Model m;
  const bool imagenet = variant == "224";
  const bool cifar = name == "resnet20";
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
  if (cifar) blocks = {3, 3, 3}, widths = {16, 32, 64};
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
      last = add_block(g, prefix, last, channels, widths[stage], stride, bottleneck);
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
