#include "dlfs/models/catalog.hpp"

namespace dlfs {

const std::vector<ModelInfo>& model_catalog() {
  static const std::vector<ModelInfo> catalog = {
      {"two-layer-net", "the book's TwoLayerNet: 784-100-10 MLP with ReLU", {"28"}, build_mlp},
      {"mlp", "the book's MultiLayerNet: 4 hidden layers of 100, ReLU", {"28"}, build_mlp},
      {"mlp-bn", "MultiLayerNet with BatchNorm after each hidden Affine", {"28"}, build_mlp},
      {"mlp-dropout", "MultiLayerNet with Dropout(0.2) after each hidden ReLU", {"28"}, build_mlp},
      {"simple-convnet",
       "the book's SimpleConvNet: conv 30x5x5, pool, 100, 10",
       {"28"},
       build_book_convnet},
      {"deep-convnet",
       "the book's DeepConvNet: 6 conv 3x3 (16-64), 3 pools, 50, dropout after fc1 and fc2",
       {"28"},
       build_book_convnet},
      {"lenet5",
       "LeNet-5 (ReLU, max-pool): 6 and 16 5x5 convs, 120-84-10",
       {"28", "32"},
       build_lenet5},
      {"alexnet", "AlexNet as torchvision (28: a small variant)", {"28", "224"}, build_alexnet},
      {"vgg11", "VGG-11 (28: widths / 4, 3 pools)", {"28", "224"}, build_vgg},
      {"vgg11-bn", "VGG-11 with BatchNorm (28: widths / 4, 3 pools)", {"28", "224"}, build_vgg},
      {"vgg16", "VGG-16 (28: widths / 4, 3 pools)", {"28", "224"}, build_vgg},
      {"vgg16-bn", "VGG-16 with BatchNorm (28: widths / 4, 3 pools)", {"28", "224"}, build_vgg},
      {"vgg-small-bn",
       "a BN-VGG for 28x28: 2x32, 2x64, 2x128 3x3 convs, 3 pools, dropout, 256",
       {"28"},
       build_vgg_small},
      {"googlenet",
       "GoogLeNet (Inception v1) as torchvision, no auxiliary classifiers (28: 3x3 stem, no "
       "first max-pool)",
       {"28", "224"},
       build_googlenet},
      {"googlenet-aux",
       "GoogLeNet with the two auxiliary classifiers, their losses 0.3 each in training",
       {"28", "224"},
       build_googlenet},
      {"resnet18",
       "ResNet-18, basic blocks (28: 3x3 stem, no max-pool)",
       {"28", "224"},
       build_resnet},
      {"resnet34",
       "ResNet-34, basic blocks (28: 3x3 stem, no max-pool)",
       {"28", "224"},
       build_resnet},
      {"resnet50",
       "ResNet-50, bottleneck blocks (28: 3x3 stem, no max-pool)",
       {"28", "224"},
       build_resnet},
      {"resnet20",
       "CIFAR-style ResNet-20: 16-32-64 channels, 3 blocks each",
       {"28", "32"},
       build_resnet},
      {"resnet32",
       "CIFAR-style ResNet-32: 16-32-64 channels, 5 blocks each",
       {"28", "32"},
       build_resnet},
      {"resnet56",
       "CIFAR-style ResNet-56: 16-32-64 channels, 9 blocks each",
       {"28", "32"},
       build_resnet},
      {"resnet14-w2",
       "CIFAR-style ResNet-14 twice as wide: 32-64-128 channels, 2 blocks each",
       {"28", "32"},
       build_resnet},
      {"resnet-small",
       "vgg-small-bn as a ResNet: basic blocks of 32, 64, 128 channels, each with pool and dropout",
       {"28"},
       build_resnet_small},
  };
  return catalog;
}

Model build_model(const std::string& name, const std::string& variant_in, int classes_in) {
  const ModelInfo* info = nullptr;
  std::string names;
  for (const auto& m : model_catalog()) {
    if (m.name == name) info = &m;
    names += (names.empty() ? "" : ", ") + m.name;
  }
  if (!info) throw InputError("unknown model '" + name + "'; models: " + names);
  const std::string variant = variant_in.empty() ? info->variants.front() : variant_in;
  bool known = false;
  std::string variants;
  for (const auto& v : info->variants) {
    known = known || v == variant;
    variants += (variants.empty() ? "" : ", ") + v;
  }
  if (!known)
    throw InputError("model '" + name + "' has no input size '" + variant +
                     "'; sizes: " + variants);
  const int classes = classes_in > 0 ? classes_in : (variant == "224" ? 1000 : 10);

  return info->build(name, variant, classes);
}

}  // namespace dlfs
