#include "dlfs/models/residual_block.hpp"

#include "dlfs/layers/add.hpp"
#include "dlfs/models/layer_factory.hpp"
#include "dlfs/models/model.hpp"

namespace dlfs {

std::string add_residual_block(Graph& g, const std::string& prefix, const std::string& input,
                               int in, int planes, int stride, bool bottleneck) {
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

}  // namespace dlfs
