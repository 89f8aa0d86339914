#pragma once
// The residual block of He et al. 2015 as the catalog's ResNets build it, with torchvision's
// node names: a basic block (two 3x3 convolutions) or a bottleneck (1x1, 3x3, 1x1 to four times
// the width), each convolution without bias and followed by BatchNorm, the branch added to the
// block's input, or to a 1x1-conv + BatchNorm shortcut ("downsample") where the shape changes
// (option B), then ReLU.
#include <string>

#include "dlfs/models/graph.hpp"

namespace dlfs {

// Adds the block "<prefix>.conv1" ... "<prefix>.relu" reading node `input` (`in` channels);
// the first 3x3 convolution takes `stride`. Returns the name of the block's output node.
std::string add_residual_block(Graph& g, const std::string& prefix, const std::string& input,
                               int in, int planes, int stride, bool bottleneck);

}  // namespace dlfs
