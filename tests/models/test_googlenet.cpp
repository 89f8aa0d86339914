// GoogLeNet's training loss with the auxiliary classifiers: main + 0.3 * (aux1 + aux2), and
// backward reaching the auxiliary classifiers' weights; inference needs none of them.
#include <gtest/gtest.h>

#include "dlfs/models/catalog.hpp"
#include "dlfs/models/init.hpp"
#include "dlfs/runtime/generator.hpp"

namespace dlfs {
namespace {

struct Batch {
  Tensor images = Tensor::empty({2, 1, 28, 28});
  Tensor labels = Tensor::from_vector<std::int32_t>({3, 7}, {2});
  Batch() {
    Generator gen(5);
    images.normal_(gen);
  }
};

float loss_of(Model& m, const Batch& b, const std::string& node) {
  return m.graph.run({{Model::kInput, b.images}, {Model::kLabels, b.labels}}, node, Mode::Inference)
      .to_vector<float>()[0];
}

TEST(GoogLeNetAux, TrainingLossAddsEachAuxiliaryLossTimesPointThree) {
  Model m = build_model("googlenet-aux", "28");
  Generator gen(11);
  initialize(m, InitScheme::He, gen);
  const Batch b;
  const float main = loss_of(m, b, "main_loss");
  const float aux1 = loss_of(m, b, "aux1.loss"), aux2 = loss_of(m, b, "aux2.loss");
  const float total = loss_of(m, b, Model::kLossNode);
  EXPECT_GT(aux1, 0.0f);
  EXPECT_NE(aux1, aux2);
  // The graph's order: (main + 0.3 aux1) + 0.3 aux2, each step rounded to float.
  const float weight = 0.3f;
  EXPECT_EQ(total, (main + weight * aux1) + weight * aux2);
  EXPECT_EQ(m.logits_node, "fc");
}

TEST(GoogLeNetAux, BackwardReachesTheAuxiliaryClassifiers) {
  Model m = build_model("googlenet-aux", "28");
  Generator gen(12);
  initialize(m, InitScheme::He, gen);
  const Batch b;
  m.graph.run({{Model::kInput, b.images}, {Model::kLabels, b.labels}}, Model::kLossNode,
              Mode::Train);
  m.graph.backward(Model::kLossNode);
  for (NamedParameter& p : m.graph.parameters()) {
    if (p.name != "aux1.fc2.weight" && p.name != "aux2.conv.conv.weight" &&
        p.name != "conv1.conv.weight" && p.name != "fc.weight")
      continue;
    double sum = 0;
    for (float g : p.parameter->grad.to_vector<float>()) sum += std::abs(g);
    EXPECT_GT(sum, 0.0) << p.name << " got no gradient";
  }
}

TEST(GoogLeNet, WithoutAuxiliaryClassifiersTheLossIsTheMainOne) {
  Model plain = build_model("googlenet", "28");
  EXPECT_FALSE(plain.graph.has_node("aux1.fc2"));
  EXPECT_FALSE(plain.graph.has_node("main_loss"));
  // The auxiliary classifiers hold 2 x (128 x in + 256 + 2048 x 1024 + 1024 + 1024 x 10 + 10)
  // more parameters (in = 512 and 528), the rest being the same network.
  Model aux = build_model("googlenet-aux", "28");
  const std::int64_t head = 256 + 2048 * 1024 + 1024 + 1024 * 10 + 10;
  EXPECT_EQ(aux.graph.parameter_count() - plain.graph.parameter_count(),
            (128 * 512 + head) + (128 * 528 + head));
}

}  // namespace
}  // namespace dlfs
