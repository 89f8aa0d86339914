#pragma once
// The classifier head of vgg-small-bn and resnet-small: flatten, Affine to 256, ReLU,
// Dropout(0.5), Affine to the classes, named as torchvision's VGG classifier ("flatten",
// "classifier.0" ... "classifier.3") so that the PyTorch twins load the checkpoints.
#include <cstdint>
#include <string>

#include "dlfs/models/graph.hpp"

namespace dlfs {

// Adds the head reading `input` (`features` values per image); returns its logits node.
std::string add_small_classifier(Graph& g, const std::string& input, int features, int classes,
                                 std::uint64_t dropout_seed);

}  // namespace dlfs
