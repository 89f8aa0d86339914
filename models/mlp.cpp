// The book's fully connected nets: TwoLayerNet (chapter 5) and MultiLayerNet (chapter 6),
// optionally with BatchNorm or Dropout.
#include "dlfs/models/catalog.hpp"
#include "dlfs/models/layer_factory.hpp"

namespace dlfs {

Model build_mlp(const std::string& name, const std::string& /*variant*/, int classes) {
  Model m;
  begin_model(m, name, "28", {1, 28, 28}, classes);
  SequentialBuilder b(m.graph, Model::kInput);
  b.add("flatten", make::flatten());
  const bool two_layer = name == "two-layer-net";
  const int hidden_layers = two_layer ? 1 : 4;
  int width = 784;
  for (int i = 1; i <= hidden_layers; ++i) {
    const std::string k = std::to_string(i);
    b.add("fc" + k, make::linear(width, 100));
    if (name == "mlp-bn") b.add("bn" + k, make::batch_norm(100));
    b.add("relu" + k, make::relu());
    if (name == "mlp-dropout") b.add("dropout" + k, make::dropout(0.2, 1000 + i));
    width = 100;
  }
  const std::string out = "fc" + std::to_string(hidden_layers + 1);
  b.add(out, make::linear(width, classes));
  finish_model(m, out);
  return m;
}

}  // namespace dlfs
