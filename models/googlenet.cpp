// GoogLeNet (Szegedy et al. 2014, Inception v1) as torchvision builds it: BasicConv2d = conv
// (no bias) + BatchNorm (eps 0.001) + ReLU; nine Inception blocks whose four branches (1x1;
// 1x1 then 3x3; 1x1 then 3x3, torchvision's stand-in for the paper's 5x5; 3x3 max-pool then
// 1x1) are joined by Concat; global average pool, dropout 0.2, fc. "googlenet-aux" adds the two
// auxiliary classifiers after inception4a and 4d (avg-pool to 4x4, 1x1 conv 128, fc 2048-1024,
// ReLU, dropout 0.7, fc), whose losses count 0.3 each in training; inference uses the main
// classifier only. Parameter counts at 224 equal torchvision's (6,624,904; with the auxiliary
// classifiers 13,004,888). Two differences from torchvision that change no parameter:
//  - torchvision's stem pools use ceil_mode; here they are padded by 1, which gives the same
//    sizes at 224 (112 -> 56 -> 28 -> 14 -> 7);
//  - the auxiliary classifiers' adaptive 4x4 average pool is a fixed window: 5x5 stride 3 on
//    the 14x14 maps at 224 (the paper's), 3x3 stride 2 padding 1 on the 7x7 maps at 28.
// The 28 variant (1x28x28, Fashion-MNIST): a 3x3 stride-1 first convolution and no first
// max-pool, so the Inception blocks see 14x14 (3a, 3b), 7x7 (4a-4e) and 3x3 (5a, 5b) maps where
// at 224 they see 28, 14 and 7.
#include "dlfs/layers/add.hpp"
#include "dlfs/layers/batch_norm.hpp"
#include "dlfs/layers/concat.hpp"
#include "dlfs/layers/scale.hpp"
#include "dlfs/layers/softmax_with_loss.hpp"
#include "dlfs/models/catalog.hpp"
#include "dlfs/models/layer_factory.hpp"

namespace dlfs {

namespace {

// BasicConv2d: nodes <prefix>.conv, <prefix>.bn, <prefix>.relu; returns the last.
std::string basic_conv(Graph& g, const std::string& prefix, const std::string& input, int in,
                       int out, int kernel, int stride = 1, int padding = 0) {
  SequentialBuilder b(g, input);
  b.add(prefix + ".conv", make::conv(in, out, kernel, stride, padding, false))
      .add(prefix + ".bn", std::make_unique<BatchNorm>(out, 0.001))
      .add(prefix + ".relu", make::relu());
  return b.last();
}

struct InceptionWidths {
  int ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj;
  int out() const { return ch1x1 + ch3x3 + ch5x5 + pool_proj; }
};

// One Inception block reading `input` (`in` channels); returns its Concat node.
std::string inception(Graph& g, const std::string& p, const std::string& input, int in,
                      const InceptionWidths& w) {
  const std::string b1 = basic_conv(g, p + ".branch1", input, in, w.ch1x1, 1);
  const std::string b2 =
      basic_conv(g, p + ".branch2.1", basic_conv(g, p + ".branch2.0", input, in, w.ch3x3red, 1),
                 w.ch3x3red, w.ch3x3, 3, 1, 1);
  const std::string b3 =
      basic_conv(g, p + ".branch3.1", basic_conv(g, p + ".branch3.0", input, in, w.ch5x5red, 1),
                 w.ch5x5red, w.ch5x5, 3, 1, 1);
  g.add(p + ".branch4.0", make::max_pool(3, 1, 1), {input});
  const std::string b4 = basic_conv(g, p + ".branch4.1", p + ".branch4.0", in, w.pool_proj, 1);
  g.add(p + ".concat", std::make_unique<Concat>(), {b1, b2, b3, b4});
  return p + ".concat";
}

// An auxiliary classifier reading `input` (`in` channels); returns its logits node.
std::string auxiliary(Graph& g, const std::string& p, const std::string& input, int in,
                      bool imagenet, int classes, std::uint64_t dropout_seed) {
  g.add(p + ".pool", imagenet ? make::avg_pool(5, 3) : make::avg_pool(3, 2, 1), {input});
  SequentialBuilder b(g, basic_conv(g, p + ".conv", p + ".pool", in, 128, 1));
  b.add(p + ".flatten", make::flatten())
      .add(p + ".fc1", make::linear(2048, 1024))
      .add(p + ".relu", make::relu())
      .add(p + ".dropout", make::dropout(0.7, dropout_seed))
      .add(p + ".fc2", make::linear(1024, classes));
  return b.last();
}

}  // namespace

Model build_googlenet(const std::string& name, const std::string& variant, int classes) {
  Model m;
  const bool imagenet = variant == "224";
  const bool aux = name == "googlenet-aux";
  const Shape input = imagenet ? Shape{3, 224, 224} : Shape{1, 28, 28};
  begin_model(m, name, variant, input, classes);
  Graph& g = m.graph;
  const int in_channels = static_cast<int>(input[0]);

  std::string x;
  if (imagenet) {
    x = basic_conv(g, "conv1", Model::kInput, in_channels, 64, 7, 2, 3);
    g.add("maxpool1", make::max_pool(3, 2, 1), {x});
    x = "maxpool1";
  } else {
    x = basic_conv(g, "conv1", Model::kInput, in_channels, 64, 3, 1, 1);
  }
  x = basic_conv(g, "conv2", x, 64, 64, 1);
  x = basic_conv(g, "conv3", x, 64, 192, 3, 1, 1);
  g.add("maxpool2", make::max_pool(3, 2, 1), {x});

  x = inception(g, "inception3a", "maxpool2", 192, {64, 96, 128, 16, 32, 32});
  x = inception(g, "inception3b", x, 256, {128, 128, 192, 32, 96, 64});
  g.add("maxpool3", make::max_pool(3, 2, 1), {x});
  x = inception(g, "inception4a", "maxpool3", 480, {192, 96, 208, 16, 48, 64});
  std::string aux1, aux2;
  if (aux) aux1 = auxiliary(g, "aux1", x, 512, imagenet, classes, 3101);
  x = inception(g, "inception4b", x, 512, {160, 112, 224, 24, 64, 64});
  x = inception(g, "inception4c", x, 512, {128, 128, 256, 24, 64, 64});
  x = inception(g, "inception4d", x, 512, {112, 144, 288, 32, 64, 64});
  if (aux) aux2 = auxiliary(g, "aux2", x, 528, imagenet, classes, 3102);
  x = inception(g, "inception4e", x, 528, {256, 160, 320, 32, 128, 128});
  g.add("maxpool4", make::max_pool(2, 2), {x});
  x = inception(g, "inception5a", "maxpool4", 832, {256, 160, 320, 32, 128, 128});
  x = inception(g, "inception5b", x, 832, {384, 192, 384, 48, 128, 128});

  SequentialBuilder head(g, x);
  head.add("avgpool", make::global_avg_pool())
      .add("flatten", make::flatten())
      .add("dropout", make::dropout(0.2, 3100))
      .add("fc", make::linear(1024, classes));
  if (!aux) {
    finish_model(m, "fc");
    return m;
  }
  // Training loss = main + 0.3 * (aux1 + aux2), as torchvision trains it.
  m.logits_node = "fc";
  g.add("main_loss", std::make_unique<SoftmaxWithLoss>(), {"fc", Model::kLabels});
  for (const std::string& a : {std::string("aux1"), std::string("aux2")}) {
    g.add(a + ".loss", std::make_unique<SoftmaxWithLoss>(), {a + ".fc2", Model::kLabels});
    g.add(a + ".weighted_loss", std::make_unique<Scale>(0.3), {a + ".loss"});
  }
  g.add(Model::kLossNode, std::make_unique<Add>(),
        {"main_loss", "aux1.weighted_loss", "aux2.weighted_loss"});
  return m;
}

}  // namespace dlfs
