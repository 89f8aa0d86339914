#include "dlfs/models/small_classifier.hpp"

#include "dlfs/models/layer_factory.hpp"
#include "dlfs/models/model.hpp"

namespace dlfs {

std::string add_small_classifier(Graph& g, const std::string& input, int features, int classes,
                                 std::uint64_t dropout_seed) {
  SequentialBuilder b(g, input);
  b.add("flatten", make::flatten())
      .add("classifier.0", make::linear(features, 256))
      .add("classifier.1", make::relu())
      .add("classifier.2", make::dropout(0.5, dropout_seed))
      .add("classifier.3", make::linear(256, classes));
  return b.last();
}

}  // namespace dlfs
