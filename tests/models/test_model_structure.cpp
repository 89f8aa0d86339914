// The architecture of every catalog model, checked without PyTorch: the node sequence with each
// node's inputs (the graph's edges), layer kind, hyperparameters and output shape on a batch of
// two, against a reviewed golden text per model in tests/models/golden/<model>-<size>.txt; and
// the residual wiring of the ResNets asserted by hand (the Add of a block sums the branch and
// the block's input or its downsample shortcut, never the branch twice).
//
// Regenerate the goldens after an intended architecture change, then review the diff:
//   DLFS_UPDATE_GOLDEN=1 build/tests/dlfs_models_tests --gtest_filter='ModelStructure.*'
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "dlfs/models/catalog.hpp"
#include "dlfs/runtime/generator.hpp"

namespace dlfs {
namespace {

constexpr std::int64_t kBatch = 2;

// One line per node in topological order: "name <- inputs : Type(describe) -> shape".
std::string structure_text(Model& m) {
  Tensor images =
      Tensor::zeros({kBatch, m.input_shape[0], m.input_shape[1], m.input_shape[2]}, DType::Float32);
  Tensor labels = Tensor::zeros({kBatch}, DType::Int32);
  m.graph.run({{Model::kInput, images}, {Model::kLabels, labels}}, Model::kLossNode, Mode::Train);
  std::ostringstream out;
  out << "# " << m.name << " at " << m.variant << " (" << m.input_shape.str() << " input, "
      << m.classes << " classes), batch " << kBatch << "; logits: " << m.logits_node << "\n";
  for (const std::string& node : m.graph.order()) {
    out << node << " <-";
    const auto& inputs = m.graph.inputs(node);
    for (std::size_t i = 0; i < inputs.size(); ++i) out << (i ? ", " : " ") << inputs[i];
    Layer& layer = m.graph.layer(node);
    out << " : " << layer.type() << "(" << layer.describe() << ") -> "
        << m.graph.output_shape(node).str() << "\n";
  }
  return out.str();
}

std::string golden_path(const std::string& model, const std::string& variant) {
  return std::string(DLFS_GOLDEN_DIR) + "/" + model + "-" + variant + ".txt";
}

struct Variant {
  std::string model, size;
};

void PrintTo(const Variant& v, std::ostream* os) {
  *os << v.model << " at " << v.size;
}

std::vector<Variant> small_variants() {
  std::vector<Variant> out;
  for (const auto& info : model_catalog())
    for (const auto& v : info.variants)
      if (v != "224") out.push_back({info.name, v});  // 224: too slow to run here
  return out;
}

class ModelStructure : public ::testing::TestWithParam<Variant> {};

TEST_P(ModelStructure, MatchesTheReviewedGolden) {
  const Variant& v = GetParam();
  Model m = build_model(v.model, v.size);
  const std::string text = structure_text(m);
  const std::string path = golden_path(v.model, v.size);
  if (const char* update = std::getenv("DLFS_UPDATE_GOLDEN");
      update && std::string(update) == "1") {
    std::ofstream(path) << text;
    GTEST_SKIP() << "wrote " << path << "; review it before committing";
  }
  std::ifstream in(path);
  ASSERT_TRUE(in) << "no golden " << path << " (DLFS_UPDATE_GOLDEN=1 writes it)";
  std::stringstream golden;
  golden << in.rdbuf();
  // Line by line, so that a failure names the first node that differs.
  std::stringstream want(golden.str()), got(text);
  std::string w, g;
  int line = 0;
  while (true) {
    const bool more_w = static_cast<bool>(std::getline(want, w));
    const bool more_g = static_cast<bool>(std::getline(got, g));
    ++line;
    if (!more_w && !more_g) break;
    ASSERT_EQ(g, w) << path << ":" << line << " differs (expected the golden's line)";
  }
}

INSTANTIATE_TEST_SUITE_P(EveryModel, ModelStructure, ::testing::ValuesIn(small_variants()),
                         [](const ::testing::TestParamInfo<Variant>& info) {
                           std::string name = info.param.model + "_" + info.param.size;
                           for (char& c : name)
                             if (c == '-') c = '_';
                           return name;
                         });

// The residual wiring of every ResNet, by hand: block `prefix` reads X (the previous block's
// output, or the stem's), and its Add takes the branch's last BatchNorm and either X itself or
// the downsample shortcut, which reads X.
void expect_residual_wiring(const std::string& name, const std::string& variant,
                            int expected_blocks) {
  SCOPED_TRACE(name + " at " + variant);
  Model m = build_model(name, variant);
  (void)structure_text(m);  // runs it, so output shapes are known
  const bool bottleneck = name == "resnet50";
  int blocks = 0, downsamples = 0;
  std::string previous_output = "relu";  // the stem's last node
  for (const std::string& node : m.graph.order()) {
    if (m.graph.layer(node).type() != "Add") continue;
    ++blocks;
    const std::string prefix = node.substr(0, node.size() - 4);  // "layer2.0"
    ASSERT_EQ(node, prefix + ".add");
    const auto& in = m.graph.inputs(node);
    ASSERT_EQ(in.size(), 2u) << node;
    EXPECT_NE(in[0], in[1]) << node << " adds a value to itself";
    EXPECT_EQ(in[0], prefix + (bottleneck ? ".bn3" : ".bn2")) << node;
    const std::string block_input = m.graph.inputs(prefix + ".conv1").at(0);
    EXPECT_EQ(block_input, previous_output) << prefix << " does not read the previous block";
    if (m.graph.has_node(prefix + ".downsample.0")) {
      ++downsamples;
      EXPECT_EQ(in[1], prefix + ".downsample.1") << node;
      EXPECT_EQ(m.graph.inputs(prefix + ".downsample.1").at(0), prefix + ".downsample.0");
      EXPECT_EQ(m.graph.inputs(prefix + ".downsample.0").at(0), block_input) << node;
      // A shortcut only where the identity cannot be added.
      EXPECT_NE(m.graph.output_shape(block_input), m.graph.output_shape(node)) << node;
    } else {
      EXPECT_EQ(in[1], block_input) << node << ": the identity shortcut is missing";
      EXPECT_EQ(m.graph.output_shape(block_input), m.graph.output_shape(node)) << node;
    }
    EXPECT_EQ(m.graph.output_shape(in[0]), m.graph.output_shape(in[1])) << node;
    // The block's output is ReLU(add), read by the next block.
    EXPECT_EQ(m.graph.inputs(prefix + ".relu").at(0), node);
    previous_output = prefix + ".relu";
  }
  EXPECT_EQ(blocks, expected_blocks);
  // One downsample per stage after the first; ResNet-50's first stage needs one too (64 -> 256).
  const bool cifar =
      name == "resnet20" || name == "resnet32" || name == "resnet56" || name == "resnet14-w2";
  const int stages = cifar ? 3 : 4;
  EXPECT_EQ(downsamples, stages - 1 + (bottleneck ? 1 : 0));
  EXPECT_EQ(m.graph.inputs("avgpool").at(0), previous_output);
}

TEST(ModelStructureResidual, EveryBlockAddsItsInputOrItsShortcut) {
  expect_residual_wiring("resnet20", "28", 9);
  expect_residual_wiring("resnet20", "32", 9);
  expect_residual_wiring("resnet32", "28", 15);
  expect_residual_wiring("resnet56", "32", 27);
  expect_residual_wiring("resnet14-w2", "28", 6);
  expect_residual_wiring("resnet18", "28", 8);
  expect_residual_wiring("resnet34", "28", 16);
  expect_residual_wiring("resnet50", "28", 16);
}

// resnet-small: each stage's block reads the previous stage's dropout (the image for the first),
// adds its branch to a 1x1-conv shortcut of that input, and feeds the stage's pool.
TEST(ModelStructureResidual, ResNetSmallBlocksAddTheirShortcutOfThePreviousStage) {
  Model m = build_model("resnet-small");
  (void)structure_text(m);
  std::string stage_input = Model::kInput;
  for (const std::string stage : {"layer1", "layer2", "layer3"}) {
    SCOPED_TRACE(stage);
    const std::string block = stage + ".0";
    EXPECT_EQ(m.graph.inputs(block + ".conv1").at(0), stage_input);
    EXPECT_EQ(m.graph.inputs(block + ".downsample.0").at(0), stage_input);
    EXPECT_EQ(m.graph.inputs(block + ".add"),
              (std::vector<std::string>{block + ".bn2", block + ".downsample.1"}));
    EXPECT_EQ(m.graph.output_shape(block + ".bn2"), m.graph.output_shape(block + ".downsample.1"));
    EXPECT_EQ(m.graph.inputs(stage + ".1").at(0), block + ".relu");
    EXPECT_EQ(m.graph.layer(stage + ".1").type(), "MaxPool");
    EXPECT_EQ(m.graph.layer(stage + ".2").type(), "Dropout");
    stage_input = stage + ".2";
  }
  EXPECT_EQ(m.graph.inputs("flatten").at(0), "layer3.2");
}

// The skip path really carries the input: with the branch's last BatchNorm scaled to zero
// (gamma = beta = 0), an identity block outputs ReLU(its input) exactly.
TEST(ModelStructureResidual, ZeroBranchPassesTheInputThrough) {
  Model m = build_model("resnet20", "28");
  for (const std::string bn : {"layer1.0.bn2"})
    for (Parameter* p : m.graph.layer(bn).parameters()) p->value.zero_();
  Tensor images = Tensor::empty({kBatch, 1, 28, 28}, DType::Float32);
  Generator gen(7);
  images.normal_(gen, 0.0, 1.0);
  // Block input = stem output (non-negative after ReLU); block output = ReLU(0 + input) = input.
  const Tensor stem = m.graph.run({{Model::kInput, images}}, "relu", Mode::Inference).clone();
  const Tensor block = m.graph.run({{Model::kInput, images}}, "layer1.0.relu", Mode::Inference);
  EXPECT_EQ(block.to_vector<float>(), stem.to_vector<float>());
}

}  // namespace
}  // namespace dlfs
