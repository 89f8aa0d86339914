#include <gtest/gtest.h>

#include <cstring>

#include "dlfs/layers/add.hpp"
#include "dlfs/layers/affine.hpp"
#include "dlfs/layers/batch_norm.hpp"
#include "dlfs/layers/convolution.hpp"
#include "dlfs/layers/max_pool.hpp"
#include "dlfs/layers/relu.hpp"
#include "dlfs/models/graph.hpp"
#include "dlfs/runtime/device_pools.hpp"
#include "support/gpu.hpp"
#include "support/gradient_check.hpp"
#include "support/sum_all_layer.hpp"

namespace dlfs {
namespace {

// y = w * x with a one-element parameter "weight"; any floating dtype on the CPU.
class Scale : public Layer {
 public:
  explicit Scale(double w) { weight_.value = Tensor::full({1}, w, DType::Float64); }
  std::string type() const override { return "Scale"; }
  Tensor forward(const std::vector<Tensor>& in, Mode mode) override {
    x_ = mode == Mode::Train ? in[0] : Tensor();
    Tensor y = in[0].to(DType::Float64).clone();
    const double w = weight_.value.data<double>()[0];
    for (std::int64_t i = 0; i < y.numel(); ++i) y.data<double>()[i] *= w;
    return y;
  }
  std::vector<Tensor> backward(const Tensor& dy) override {
    const double w = weight_.value.data<double>()[0];
    Tensor dx = dy.clone();
    double dw = 0;
    for (std::int64_t i = 0; i < dy.numel(); ++i) {
      dx.data<double>()[i] *= w;
      dw += dy.data<double>()[i] * x_.to(DType::Float64).data<double>()[i];
    }
    weight_.grad = Tensor::full({1}, dw, DType::Float64);
    return {dx};
  }
  std::vector<Parameter*> parameters() override { return {&weight_}; }

 private:
  Parameter weight_{"weight", {}, {}};
  Tensor x_;
};

// y = a + b; backward hands the same tensor to both inputs.
class Sum2 : public Layer {
 public:
  std::string type() const override { return "Sum2"; }
  Tensor forward(const std::vector<Tensor>& in, Mode) override {
    Tensor y = in[0].clone();
    for (std::int64_t i = 0; i < y.numel(); ++i) y.data<double>()[i] += in[1].data<double>()[i];
    return y;
  }
  std::vector<Tensor> backward(const Tensor& dy) override { return {dy, dy}; }
};

using testing::SumAll;

// Wraps a graph as one layer so the gradient checker can check the whole graph.
class GraphAsLayer : public Layer {
 public:
  GraphAsLayer(Graph& g, std::string out) : g_(g), out_(std::move(out)) {}
  std::string type() const override { return "Graph"; }
  Tensor forward(const std::vector<Tensor>& in, Mode mode) override {
    return g_.run({{"input", in[0]}}, out_, mode);
  }
  std::vector<Tensor> backward(const Tensor& dy) override {
    g_.backward(out_, dy);
    return {g_.input_gradient("input")};
  }
  std::vector<Parameter*> parameters() override {
    std::vector<Parameter*> out;
    for (auto& p : g_.parameters()) out.push_back(p.parameter);
    return out;
  }

 private:
  Graph& g_;
  std::string out_;
};

Graph residual_graph() {
  // a = 2x; r = relu(a); s = a + r (a used twice); out = 3s
  Graph g;
  g.add_input("input");
  g.add("out", std::make_unique<Scale>(3.0), {"s"});  // added before its inputs on purpose
  g.add("a", std::make_unique<Scale>(2.0), {"input"});
  g.add("r", std::make_unique<ReLU>(), {"a"});
  g.add("s", std::make_unique<Sum2>(), {"a", "r"});
  return g;
}

TEST(Graph, RunsInTopologicalOrderWhateverTheInsertionOrder) {
  Graph g = residual_graph();
  EXPECT_EQ(g.order(), (std::vector<std::string>{"a", "r", "s", "out"}));
  Tensor x = Tensor::from_vector<double>({-1, 2}, {2});
  Tensor y = g.run({{"input", x}}, "out", Mode::Inference);
  // a = (-2, 4); r = (0, 4); s = (-2, 8); out = (-6, 24)
  EXPECT_EQ(y.to_vector<double>(), std::vector<double>({-6, 24}));
}

TEST(Graph, NamesParametersByNodePath) {
  Graph g = residual_graph();
  auto params = g.parameters();
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params[0].name, "a.weight");
  EXPECT_EQ(params[1].name, "out.weight");
  EXPECT_EQ(g.parameter_count(), 2);
}

TEST(Graph, SumsGradientsOfATensorUsedTwice) {
  Graph g = residual_graph();
  Tensor x = Tensor::from_vector<double>({-1, 2}, {2});
  g.run({{"input", x}}, "out", Mode::Train);
  g.backward("out");
  // d out/d s = 3; ds/da = 1 + relu'(a): (1, 2); da/dx = 2  ->  dx = (6, 12)
  EXPECT_EQ(g.input_gradient("input").to_vector<double>(), std::vector<double>({6, 12}));
  // d/dw_a: sum(3 * (1 + mask) * x) = 3*(-1) + 6*2 = 9 ; d/dw_out: sum(s) = 6
  EXPECT_DOUBLE_EQ(g.parameters()[0].parameter->grad.to_vector<double>()[0], 9.0);
  EXPECT_DOUBLE_EQ(g.parameters()[1].parameter->grad.to_vector<double>()[0], 6.0);
}

// Passes x through and notes, at each backward, whether the graph asked for its input gradient;
// returns none when not asked.
class Probe : public Layer {
 public:
  explicit Probe(std::vector<bool>& asked) : asked_(asked) {}
  std::string type() const override { return "Probe"; }
  Tensor forward(const std::vector<Tensor>& in, Mode) override { return in[0].clone(); }
  std::vector<Tensor> backward(const Tensor& dy) override {
    asked_.push_back(input_gradient_needed());
    return {input_gradient_needed() ? dy.clone() : Tensor()};
  }

 private:
  std::vector<bool>& asked_;
};

// Without input gradients (training), a node takes one only where something with parameters
// lies upstream, as PyTorch's requires_grad: here "pre" and "a" read nothing of the kind, "r"
// and "out" do. The parameters' gradients are the same either way.
TEST(Graph, WithoutInputGradientsOnlyNodesBelowAParameterComputeThem) {
  std::vector<bool> pre_asked, r_asked;
  auto build = [&]() {
    Graph g;
    g.add_input("input");
    g.add("pre", std::make_unique<Probe>(pre_asked), {"input"});
    g.add("a", std::make_unique<Scale>(2.0), {"pre"});
    g.add("r", std::make_unique<Probe>(r_asked), {"a"});
    g.add("out", std::make_unique<Scale>(3.0), {"r"});
    return g;
  };
  const Tensor x = Tensor::from_vector<double>({-1, 2}, {2});
  Graph with = build();
  with.run({{"input", x}}, "out", Mode::Train);
  with.backward("out");
  EXPECT_EQ(pre_asked, std::vector<bool>{true});
  EXPECT_EQ(r_asked, std::vector<bool>{true});
  EXPECT_EQ(with.input_gradient("input").to_vector<double>(), std::vector<double>({6, 6}));

  Graph without = build();
  without.set_input_gradients(false);
  without.run({{"input", x}}, "out", Mode::Train);
  without.backward("out");
  EXPECT_EQ(pre_asked, (std::vector<bool>{true, false}));
  EXPECT_EQ(r_asked, (std::vector<bool>{true, true}));
  EXPECT_FALSE(without.input_gradient("input").defined());
  EXPECT_FALSE(without.layer("a").input_gradient_needed());  // Scale computes it anyway
  for (std::size_t i = 0; i < 2; ++i)
    EXPECT_EQ(without.parameters()[i].parameter->grad.to_vector<double>(),
              with.parameters()[i].parameter->grad.to_vector<double>());
}

TEST(GraphGradCheck, ResidualGraphMatchesCentralDifferences) {
  Graph g = residual_graph();
  GraphAsLayer layer(g, "out");
  Generator gen(4);
  testing::GradCheckOptions options;
  options.kink = 1e-3;
  auto r = testing::check_gradients(layer, {testing::random_tensor({3, 7}, gen)}, options);
  EXPECT_GRADIENTS_MATCH(r);
}

TEST(Graph, NodesOffThePathGetZeroGradients) {
  Graph g;
  g.add_input("input");
  g.add("a", std::make_unique<Scale>(2.0), {"input"});
  g.add("side", std::make_unique<Scale>(5.0), {"a"});
  g.add("loss", std::make_unique<SumAll>(), {"a"});
  g.add("both", std::make_unique<Sum2>(), {"side", "a"});
  g.run({{"input", Tensor::full({2}, 1.0, DType::Float64)}}, "both", Mode::Train);
  g.backward("a");
  EXPECT_EQ(g.layer("side").parameters()[0]->grad.to_vector<double>()[0], 0.0);
  EXPECT_EQ(g.layer("a").parameters()[0]->grad.to_vector<double>()[0], 2.0);
}

TEST(Graph, ReportsMissingInputsCyclesAndUnfedInputs) {
  Graph g;
  g.add_input("input");
  g.add("a", std::make_unique<ReLU>(), {"nowhere"});
  try {
    g.order();
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "graph: node 'a' reads 'nowhere', which is neither a graph input nor a node");
  }
  Graph c;
  c.add_input("input");
  c.add("p", std::make_unique<ReLU>(), {"q"});
  c.add("q", std::make_unique<ReLU>(), {"p"});
  EXPECT_THROW(c.order(), Error);
  Graph h;
  h.add_input("input");
  h.add("r", std::make_unique<ReLU>(), {"input"});
  EXPECT_THROW(h.run({}, "r", Mode::Inference), Error);
  EXPECT_THROW(h.add("r", std::make_unique<ReLU>(), {"input"}), Error);
  EXPECT_THROW(h.backward("r"), Error);
}

TEST(Graph, InferenceReleasesActivationsAfterTheirLastReader) {
  // A chain of 12 ReLUs over 1 MiB tensors: held at once are the input, one value and its
  // successor, so peak memory stays far below 12 MiB.
  Graph g;
  g.add_input("input");
  std::string prev = "input";
  for (int i = 0; i < 12; ++i) {
    const std::string name = "relu" + std::to_string(i);
    g.add(name, std::make_unique<ReLU>(), {prev});
    prev = name;
  }
  Tensor x = Tensor::full({256 * 1024}, 1.0);
  CachingPool& pool = memory_pool(Device::cpu());
  pool.reset_peaks();
  const std::size_t base = pool.stats().allocated_bytes;
  g.run({{"input", x}}, prev, Mode::Inference);
  const std::size_t peak = pool.stats().peak_allocated_bytes - base;
  EXPECT_LT(peak, 4u << 20) << "peak " << peak;
  pool.reset_peaks();
  g.run({{"input", x}}, prev, Mode::Train);  // Train keeps every mask for backward
  EXPECT_GT(pool.stats().peak_allocated_bytes - base, 3u << 20);
}

// A ReLU that records the shape of every input it is given.
class ShapeRecordingReLU : public ReLU {
 public:
  explicit ShapeRecordingReLU(std::vector<Shape>* seen) : seen_(seen) {}
  Tensor forward(const std::vector<Tensor>& in, Mode mode) override {
    seen_->push_back(in[0].shape());
    return ReLU::forward(in, mode);
  }

 private:
  std::vector<Shape>* seen_;
};

TEST(Graph, AnActivationRunsAfterTheMaxPoolItAloneFeedsWithTheSameBits) {
  std::vector<Shape> seen;
  Graph g;
  g.add_input("input");
  g.add("relu", std::make_unique<ShapeRecordingReLU>(&seen), {"input"});
  g.add("pool", std::make_unique<MaxPool>(2, 2), {"relu"});
  Generator gen(3);
  Tensor x = Tensor::empty({2, 3, 6, 7});  // odd width: the last column is dropped
  x.normal_(gen);
  x.data<float>()[0] = -0.0f;
  x.data<float>()[1] = 0.0f;
  Tensor dy = Tensor::empty({2, 3, 3, 3});
  dy.normal_(gen);

  // The reference: ReLU, then the pool, and back, layer by layer.
  ReLU relu;
  MaxPool pool(2, 2);
  const Tensor y = pool.forward({relu.forward({x}, Mode::Train)}, Mode::Train);
  const Tensor dx = relu.backward(pool.backward(dy).at(0)).at(0);
  const auto same_bits = [](const Tensor& a, const Tensor& b) {
    return a.shape() == b.shape() && std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
  };

  const Tensor trained = g.run({{"input", x}}, "pool", Mode::Train);
  EXPECT_EQ(seen, std::vector<Shape>({Shape({2, 3, 3, 3})}));  // applied to the pooled map
  EXPECT_TRUE(same_bits(y, trained));
  g.backward("pool", dy);
  EXPECT_TRUE(same_bits(dx, g.input_gradient("input")));
  EXPECT_THROW(g.backward("relu"), Error);

  const Tensor inferred = g.run({{"input", x}}, "pool", Mode::Inference);
  EXPECT_EQ(seen.back(), Shape({2, 3, 3, 3}));
  EXPECT_TRUE(same_bits(y, inferred));
  EXPECT_EQ(g.output_shape("relu"), Shape({2, 3, 6, 7}));

  // As the target, or with a second reader, the activation runs before the pool.
  seen.clear();
  g.run({{"input", x}}, "relu", Mode::Inference);
  g.add("pool2", std::make_unique<MaxPool>(2, 2), {"relu"});
  g.add("sum", std::make_unique<Add>(), {"pool", "pool2"});
  g.run({{"input", x}}, "sum", Mode::Train);
  EXPECT_EQ(seen, std::vector<Shape>({Shape({2, 3, 6, 7}), Shape({2, 3, 6, 7})}));
}

// Random weights and, for a BatchNorm, random running statistics (variances 0.05-0.3); its
// scales (weight) then have both signs.
void randomize(Layer& layer, Generator& gen) {
  for (Parameter* p : layer.parameters()) p->value.uniform_(gen, -0.5, 0.5);
  if (auto* bn = dynamic_cast<BatchNorm*>(&layer)) {
    bn->running_mean().value.uniform_(gen, -0.2, 0.2);
    bn->running_var().value.uniform_(gen, 0.05, 0.3);
  }
}

// Records what the graph hands it to do itself: "pool", "batchnorm+relu", "batchnorm+pool", ...
class FusingConvolution : public Convolution {
 public:
  using Convolution::Convolution;
  Tensor forward_fused(const std::vector<Tensor>& inputs, const kernels::ChannelEpilogue& epilogue,
                       const kernels::PoolWindow* max_pool, Shape* unpooled_shape,
                       Tensor* pool_argmax) override {
    std::vector<std::string> parts;
    if (epilogue.normalizes()) parts.push_back("batchnorm");
    if (epilogue.relu) parts.push_back("relu");
    if (max_pool) parts.push_back(pool_argmax ? "pool+argmax" : "pool");
    std::string what;
    for (const std::string& part : parts) what += (what.empty() ? "" : "+") + part;
    passes.push_back(what);
    return Convolution::forward_fused(inputs, epilogue, max_pool, unpooled_shape, pool_argmax);
  }
  std::vector<std::string> passes;
};

// A convolution pools its own output for the max-pool after it (the ReLU between them moved
// after the pool), in training and in inference: the same output and gradients, bit for bit, as
// the three layers one by one, with the pool's backward taking the argmax the convolution made.
TEST(Graph, AConvolutionPoolsItsOwnOutputInTrainingAndInference) {
  Generator gen(7);
  for (int in_channels : {1, 8}) {  // the Direct path; oneDNN
    SCOPED_TRACE(std::to_string(in_channels) + " input channels");
    auto conv = std::make_unique<FusingConvolution>(in_channels, 4, 3, 3);
    Convolution reference(in_channels, 4, 3, 3);
    randomize(*conv, gen);
    for (std::size_t k = 0; k < 2; ++k)
      reference.parameters()[k]->value = conv->parameters()[k]->value.clone();
    ReLU relu;
    MaxPool pool(2, 2);
    Tensor x = Tensor::empty({5, in_channels, 11, 12});
    x.uniform_(gen, -1.0, 1.0);
    Tensor dy = Tensor::empty({5, 4, 4, 5});
    dy.normal_(gen);
    const Tensor expected = pool.forward(
        {relu.forward({reference.forward({x}, Mode::Train)}, Mode::Train)}, Mode::Train);
    reference.backward(relu.backward(pool.backward(dy).at(0)).at(0));

    FusingConvolution* counting = conv.get();
    Graph g;
    g.add_input("input");
    g.add("conv", std::move(conv), {"input"});
    g.add("relu", std::make_unique<ReLU>(), {"conv"});
    g.add("pool", std::make_unique<MaxPool>(2, 2), {"relu"});
    const Tensor trained = g.run({{"input", x}}, "pool", Mode::Train);
    EXPECT_EQ(counting->passes, std::vector<std::string>({"pool+argmax"}));
    ASSERT_EQ(trained.shape(), Shape({5, 4, 4, 5}));
    EXPECT_EQ(0, std::memcmp(expected.raw_data(), trained.raw_data(), expected.nbytes()));
    g.backward("pool", dy);
    for (std::size_t k = 0; k < 2; ++k) {
      const Tensor& want = reference.parameters()[k]->grad;
      const Tensor& got = counting->parameters()[k]->grad;
      ASSERT_EQ(want.shape(), got.shape());
      EXPECT_EQ(0, std::memcmp(want.raw_data(), got.raw_data(), want.nbytes()))
          << "parameter " << k;
    }

    const Tensor inferred = g.run({{"input", x}}, "pool", Mode::Inference);
    EXPECT_EQ(counting->passes, std::vector<std::string>({"pool+argmax", "pool"}));
    EXPECT_EQ(0, std::memcmp(expected.raw_data(), inferred.raw_data(), expected.nbytes()));
    EXPECT_EQ(g.output_shape("conv"), Shape({5, 4, 9, 10}));
    EXPECT_EQ(g.output_shape("relu"), Shape({5, 4, 9, 10}));
    EXPECT_EQ(g.output_shape("pool"), Shape({5, 4, 4, 5}));
    // Without the pool, the ReLU is the target: the convolution applies it as its epilogue.
    const Tensor activated = g.run({{"input", x}}, "relu", Mode::Inference);
    EXPECT_EQ(counting->passes, std::vector<std::string>({"pool+argmax", "pool", "relu"}));
    EXPECT_EQ(activated.shape(), Shape({5, 4, 9, 10}));
  }
}

class EpilogueCountingAdd : public Add {
 public:
  Tensor forward_fused(const std::vector<Tensor>& inputs, const kernels::ChannelEpilogue& epilogue,
                       const kernels::PoolWindow* max_pool, Shape* unpooled_shape,
                       Tensor* pool_argmax) override {
    fused += 1;
    return Add::forward_fused(inputs, epilogue, max_pool, unpooled_shape, pool_argmax);
  }
  int fused = 0;
};

// In inference, a ResNet block's BatchNorms and ReLUs are applied by the convolution or the sum
// before them as they make their output, the same bits as the layers one by one.
TEST(Graph, InferenceAppliesBatchNormAndReluInTheLayerBefore) {
  Generator gen(11);
  auto conv1 = std::make_unique<FusingConvolution>(16, 16, 3, 3, 1, 1);
  auto conv2 = std::make_unique<FusingConvolution>(16, 16, 3, 3, 1, 1);
  auto bn1 = std::make_unique<BatchNorm>(16), bn2 = std::make_unique<BatchNorm>(16);
  auto relu1 = std::make_unique<ReLU>(), relu2 = std::make_unique<ReLU>();
  auto add = std::make_unique<EpilogueCountingAdd>();
  for (Layer* layer : std::initializer_list<Layer*>{conv1.get(), conv2.get(), bn1.get(), bn2.get()})
    randomize(*layer, gen);
  Tensor x = Tensor::empty({9, 16, 8, 8});
  x.uniform_(gen, -1.0, 1.0);

  // The layers one by one.
  const Mode inference = Mode::Inference;
  const Tensor a =
      relu1->forward({bn1->forward({conv1->forward({x}, inference)}, inference)}, inference);
  const Tensor b = bn2->forward({conv2->forward({a}, inference)}, inference);
  const Tensor expected = relu2->forward({add->forward({b, a}, inference)}, inference);

  FusingConvolution *c1 = conv1.get(), *c2 = conv2.get();
  EpilogueCountingAdd* counting_add = add.get();
  Graph g;
  g.add_input("input");
  g.add("conv1", std::move(conv1), {"input"});
  g.add("bn1", std::move(bn1), {"conv1"});
  g.add("relu1", std::move(relu1), {"bn1"});
  g.add("conv2", std::move(conv2), {"relu1"});
  g.add("bn2", std::move(bn2), {"conv2"});
  g.add("add", std::move(add), {"bn2", "relu1"});
  g.add("relu2", std::move(relu2), {"add"});
  const Tensor y = g.run({{"input", x}}, "relu2", inference);
  EXPECT_EQ(0, std::memcmp(expected.raw_data(), y.raw_data(), expected.nbytes()));
  EXPECT_EQ(c1->passes, std::vector<std::string>({"batchnorm+relu"}));
  EXPECT_EQ(c2->passes, std::vector<std::string>({"batchnorm"}));
  EXPECT_EQ(counting_add->fused, 1);
  EXPECT_EQ(g.output_shape("relu1"), Shape({9, 16, 8, 8}));

  // A value read twice, or the target, ends an epilogue: bn1 is the target here.
  const Tensor normalized = g.run({{"input", x}}, "bn1", inference);
  EXPECT_EQ(c1->passes.back(), "batchnorm");
  EXPECT_EQ(normalized.shape(), Shape({9, 16, 8, 8}));
  const Tensor trained = g.run({{"input", x}}, "relu2", Mode::Train);  // never in training
  EXPECT_EQ(trained.shape(), Shape({9, 16, 8, 8}));
  EXPECT_EQ(c1->passes.size(), 2u);
  EXPECT_EQ(counting_add->fused, 1);
}

class FusingBatchNorm : public BatchNorm {
 public:
  using BatchNorm::BatchNorm;
  Tensor forward_fused(const std::vector<Tensor>& inputs, const kernels::ChannelEpilogue& epilogue,
                       const kernels::PoolWindow* max_pool, Shape* unpooled_shape,
                       Tensor* pool_argmax) override {
    Tensor y = BatchNorm::forward_fused(inputs, epilogue, max_pool, unpooled_shape, pool_argmax);
    if (y.defined()) fused += 1;
    return y;
  }
  int fused = 0;
};

// An Affine cannot take the BatchNorm and ReLU after it: the BatchNorm then applies the ReLU.
TEST(Graph, InferenceGivesTheReluToTheBatchNormWhenTheLayerBeforeCannotTakeBoth) {
  Generator gen(17);
  auto affine = std::make_unique<Affine>(6, 5);
  auto bn = std::make_unique<FusingBatchNorm>(5);
  auto relu = std::make_unique<ReLU>();
  randomize(*affine, gen);
  randomize(*bn, gen);
  Tensor x = Tensor::empty({7, 6});
  x.uniform_(gen, -1.0, 1.0);
  const Mode inference = Mode::Inference;
  const Tensor expected =
      relu->forward({bn->forward({affine->forward({x}, inference)}, inference)}, inference);

  FusingBatchNorm* fusing = bn.get();
  Graph g;
  g.add_input("input");
  g.add("fc", std::move(affine), {"input"});
  g.add("bn", std::move(bn), {"fc"});
  g.add("relu", std::move(relu), {"bn"});
  const Tensor y = g.run({{"input", x}}, "relu", inference);
  ASSERT_EQ(y.shape(), Shape({7, 5}));
  EXPECT_EQ(0, std::memcmp(expected.raw_data(), y.raw_data(), expected.nbytes()));
  EXPECT_EQ(fusing->fused, 1);
  EXPECT_EQ(g.output_shape("relu"), Shape({7, 5}));
}

// Counts the forwards in which it applied the ReLU after it itself.
class ReluApplyingBatchNorm : public BatchNorm {
 public:
  using BatchNorm::BatchNorm;
  Tensor forward_with_relu(const std::vector<Tensor>& inputs) override {
    Tensor y = BatchNorm::forward_with_relu(inputs);
    if (y.defined()) applied += 1;
    return y;
  }
  int applied = 0;
};

// A ResNet block's first half in training: the BatchNorm applies the ReLU that alone reads it
// and takes the ReLU's mask in backward, the same bits as the layers one by one, each way.
TEST(Graph, TrainingGivesTheReluToTheBatchNormBeforeIt) {
  Generator gen(23);
  auto conv = std::make_unique<Convolution>(3, 4, 3, 3, 1, 1, false);
  auto bn = std::make_unique<ReluApplyingBatchNorm>(4);
  randomize(*conv, gen);
  randomize(*bn, gen);
  Convolution ref_conv(3, 4, 3, 3, 1, 1, false);
  BatchNorm ref_bn(4);
  ReLU ref_relu;
  ref_conv.parameters()[0]->value.copy_from(conv->parameters()[0]->value);
  ref_bn.weight().value.copy_from(bn->weight().value);
  ref_bn.bias().value.copy_from(bn->bias().value);
  ref_bn.running_mean().value.copy_from(bn->running_mean().value);
  ref_bn.running_var().value.copy_from(bn->running_var().value);
  Tensor x = Tensor::empty({3, 3, 5, 7});
  x.uniform_(gen, -1.0, 1.0);
  Tensor dy = Tensor::empty({3, 4, 5, 7});
  dy.normal_(gen);
  const Tensor y_expected = ref_relu.forward(
      {ref_bn.forward({ref_conv.forward({x}, Mode::Train)}, Mode::Train)}, Mode::Train);
  const Tensor dx_expected =
      ref_conv.backward(ref_bn.backward(ref_relu.backward(dy).at(0)).at(0)).at(0);

  ReluApplyingBatchNorm* applying = bn.get();
  Graph g;
  g.add_input("input");
  g.add("conv", std::move(conv), {"input"});
  g.add("bn", std::move(bn), {"conv"});
  g.add("relu", std::make_unique<ReLU>(), {"bn"});
  const auto same_bits = [](const Tensor& a, const Tensor& b) {
    return a.shape() == b.shape() && std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
  };
  const Tensor y = g.run({{"input", x}}, "relu", Mode::Train);
  EXPECT_EQ(applying->applied, 1);
  EXPECT_TRUE(same_bits(y_expected, y));
  EXPECT_EQ(g.output_shape("relu"), Shape({3, 4, 5, 7}));
  g.backward("relu", dy);
  EXPECT_TRUE(same_bits(dx_expected, g.input_gradient("input")));
  EXPECT_TRUE(same_bits(ref_bn.weight().grad, applying->weight().grad));
  EXPECT_TRUE(same_bits(ref_bn.bias().grad, applying->bias().grad));
  EXPECT_TRUE(same_bits(ref_bn.running_var().value, applying->running_var().value));
  // The BatchNorm's own output gradient would skip the ReLU it applied.
  EXPECT_THROW(g.backward("bn"), Error);

  // As the target, or read twice, the BatchNorm leaves the ReLU to itself.
  g.run({{"input", x}}, "bn", Mode::Train);
  g.backward("bn");
  g.add("relu2", std::make_unique<ReLU>(), {"bn"});
  g.add("sum", std::make_unique<Add>(), {"relu", "relu2"});
  g.run({{"input", x}}, "sum", Mode::Train);
  g.backward("sum");
  EXPECT_EQ(applying->applied, 1);
}

// A ResNet block's end in training: the Add applies the ReLU after it and masks the gradient
// both inputs get, the same bits as the two layers one by one.
TEST(Graph, TrainingGivesTheReluToTheAddBeforeIt) {
  Generator gen(29);
  Tensor a = Tensor::empty({2, 3, 4, 5}), b = Tensor::empty({2, 3, 4, 5});
  a.uniform_(gen, -1.0, 1.0);
  b.uniform_(gen, -1.0, 1.0);
  b.data<float>()[0] = -a.data<float>()[0];  // a sum of +0
  Tensor dy = Tensor::empty({2, 3, 4, 5});
  dy.normal_(gen);
  Add ref_add;
  ReLU ref_relu;
  const Tensor y_expected = ref_relu.forward({ref_add.forward({a, b}, Mode::Train)}, Mode::Train);
  const Tensor dx_expected = ref_add.backward(ref_relu.backward(dy).at(0)).at(0);

  Graph g;
  g.add_input("a");
  g.add_input("b");
  g.add("sum", std::make_unique<Add>(), {"a", "b"});
  g.add("relu", std::make_unique<ReLU>(), {"sum"});
  const auto same_bits = [](const Tensor& p, const Tensor& q) {
    return p.shape() == q.shape() && std::memcmp(p.raw_data(), q.raw_data(), p.nbytes()) == 0;
  };
  EXPECT_TRUE(same_bits(y_expected, g.run({{"a", a}, {"b", b}}, "relu", Mode::Train)));
  g.backward("relu", dy);
  EXPECT_TRUE(same_bits(dx_expected, g.input_gradient("a")));
  EXPECT_TRUE(same_bits(dx_expected, g.input_gradient("b")));
  EXPECT_THROW(g.backward("sum"), Error);  // the Add applied the ReLU
}

// A BN-VGG block in inference: the convolution normalises and pools each chunk itself, and the
// ReLU runs after the pool, the same bits as the four layers one by one.
TEST(Graph, InferenceFusesAConvolutionItsBatchNormAndTheMaxPool) {
  Generator gen(13);
  auto conv = std::make_unique<FusingConvolution>(16, 8, 3, 3, 1, 1, false);
  auto bn = std::make_unique<BatchNorm>(8);
  auto relu = std::make_unique<ReLU>();
  auto pool = std::make_unique<MaxPool>(2, 2);
  randomize(*conv, gen);
  randomize(*bn, gen);
  Tensor x = Tensor::empty({11, 16, 7, 9});
  x.uniform_(gen, -1.0, 1.0);
  const Mode inference = Mode::Inference;
  const Tensor expected = pool->forward(
      {relu->forward({bn->forward({conv->forward({x}, inference)}, inference)}, inference)},
      inference);

  FusingConvolution* fusing = conv.get();
  Graph g;
  g.add_input("input");
  g.add("conv", std::move(conv), {"input"});
  g.add("bn", std::move(bn), {"conv"});
  g.add("relu", std::move(relu), {"bn"});
  g.add("pool", std::move(pool), {"relu"});
  const Tensor y = g.run({{"input", x}}, "pool", inference);
  ASSERT_EQ(y.shape(), Shape({11, 8, 3, 4}));
  EXPECT_EQ(0, std::memcmp(expected.raw_data(), y.raw_data(), expected.nbytes()));
  EXPECT_EQ(fusing->passes, std::vector<std::string>({"batchnorm+pool"}));
  for (const char* name : {"conv", "bn", "relu"})
    EXPECT_EQ(g.output_shape(name), Shape({11, 8, 7, 9}));
  EXPECT_EQ(g.output_shape("pool"), Shape({11, 8, 3, 4}));
}

// A layer without a CUDA kernel runs on the CPU with transfers done for it.
class CpuOnlyReLU : public ReLU {
 public:
  bool supports(const Device& d) const override { return d.is_cpu(); }
};

TEST(GraphGpu, FallsBackToTheCpuForLayersWithoutCudaKernels) {
  DLFS_REQUIRE_GPU();
  Graph g;
  g.add_input("input");
  g.add("gpu", std::make_unique<ReLU>(), {"input"});
  g.add("cpu", std::make_unique<CpuOnlyReLU>(), {"gpu"});
  g.to(Device::cuda());
  Tensor x = Tensor::from_vector<float>({-1, 2, -3, 4}, {4});
  Tensor y = g.run({{"input", x}}, "cpu", Mode::Train);
  EXPECT_EQ(y.to_vector<float>(), std::vector<float>({0, 2, 0, 4}));
  EXPECT_GE(g.fallback_transfers(), 2);  // input to the GPU, then to the CPU for "cpu"
  g.backward("cpu");
  EXPECT_EQ(g.input_gradient("input").to_vector<float>(), std::vector<float>({0, 1, 0, 1}));
}

}  // namespace
}  // namespace dlfs
