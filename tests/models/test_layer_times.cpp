// LayerTimes (dlfs bench --profile): each node is charged its own forward and backward time, a
// node whose forward another did names that node, and nothing is recorded once it is unset.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "dlfs/layers/batch_norm.hpp"
#include "dlfs/layers/convolution.hpp"
#include "dlfs/layers/max_pool.hpp"
#include "dlfs/layers/relu.hpp"
#include "dlfs/models/graph.hpp"
#include "dlfs/models/layer_times.hpp"
#include "support/sum_all_layer.hpp"

namespace dlfs {
namespace {

// Passes its input on, sleeping a set time in forward and in backward.
class Sleeper : public Layer {
 public:
  Sleeper(std::chrono::milliseconds forward, std::chrono::milliseconds backward)
      : forward_(forward), backward_(backward) {}
  std::string type() const override { return "Sleeper"; }
  Tensor forward(const std::vector<Tensor>& in, Mode) override {
    std::this_thread::sleep_for(forward_);
    return in[0];
  }
  std::vector<Tensor> backward(const Tensor& dy) override {
    std::this_thread::sleep_for(backward_);
    return {dy};
  }

 private:
  std::chrono::milliseconds forward_, backward_;
};

using testing::SumAll;

const LayerTime& time_of(const LayerTimes& times, const std::string& node) {
  for (const LayerTime& e : times.entries())
    if (e.node == node) return e;
  throw std::runtime_error("no entry for node " + node);
}

TEST(LayerTimes, SumsEachNodesTimesInTheOrderTheyFirstRan) {
  LayerTimes times;
  times.add_forward("conv", "Convolution", 0.5);
  times.add_forward("relu", "ReLU", 0.25);
  times.add_backward("relu", "ReLU", 0.125);
  times.add_forward("conv", "Convolution", 0.5);
  times.forward_done_by("bn", "BatchNorm", "conv");
  times.add_backward("conv", "Convolution", 2.0);
  ASSERT_EQ(times.entries().size(), 3u);
  EXPECT_EQ(times.entries()[0].node, "conv");
  EXPECT_EQ(times.entries()[1].node, "relu");
  EXPECT_EQ(times.entries()[2].node, "bn");
  EXPECT_EQ(times.entries()[0].forward_seconds, 1.0);
  EXPECT_EQ(times.entries()[0].forward_calls, 2);
  EXPECT_EQ(times.entries()[0].backward_seconds, 2.0);
  EXPECT_EQ(times.entries()[0].backward_calls, 1);
  EXPECT_EQ(times.entries()[1].backward_seconds, 0.125);
  EXPECT_EQ(times.entries()[2].forward_done_by, "conv");
  EXPECT_EQ(times.entries()[2].forward_calls, 0);
  EXPECT_EQ(times.total_seconds(), 3.375);
  const auto by_layer = times.seconds_by_layer();
  ASSERT_EQ(by_layer.size(), 3u);
  EXPECT_EQ(by_layer[0], std::make_pair(std::string("Convolution"), 3.0));
  EXPECT_EQ(by_layer[1], std::make_pair(std::string("ReLU"), 0.375));
  EXPECT_EQ(by_layer[2], std::make_pair(std::string("BatchNorm"), 0.0));
  times.clear();
  EXPECT_TRUE(times.entries().empty());
  EXPECT_EQ(times.total_seconds(), 0.0);
}

TEST(LayerTimes, TheGraphChargesEachNodeItsOwnForwardAndBackward) {
  using std::chrono::milliseconds;
  Graph g;
  g.add_input("input");
  g.add("quick", std::make_unique<Sleeper>(milliseconds(0), milliseconds(0)), {"input"});
  g.add("slow_forward", std::make_unique<Sleeper>(milliseconds(30), milliseconds(0)), {"quick"});
  g.add("slow_backward", std::make_unique<Sleeper>(milliseconds(0), milliseconds(60)),
        {"slow_forward"});
  g.add("loss", std::make_unique<SumAll>(), {"slow_backward"});
  const Tensor x = Tensor::full({2, 3}, 1.0);

  LayerTimes times;
  g.set_layer_times(&times);
  for (int step = 0; step < 2; ++step) {
    g.run({{"input", x}}, "loss", Mode::Train);
    g.backward("loss");
  }
  g.set_layer_times(nullptr);
  g.run({{"input", x}}, "loss", Mode::Train);  // not recorded
  g.backward("loss");

  ASSERT_EQ(times.entries().size(), 4u);
  const char* order[] = {"quick", "slow_forward", "slow_backward", "loss"};
  for (std::size_t i = 0; i < 4; ++i) {
    const LayerTime& e = times.entries()[i];
    EXPECT_EQ(e.node, order[i]);
    EXPECT_EQ(e.forward_calls, 2) << e.node;
    EXPECT_EQ(e.backward_calls, 2) << e.node;
    EXPECT_TRUE(e.forward_done_by.empty()) << e.node;
  }
  EXPECT_EQ(time_of(times, "slow_forward").layer, "Sleeper");
  EXPECT_EQ(time_of(times, "loss").layer, "SumAll");
  // Each sleep lands on its own node and pass. Sleeps last at least what they ask; the other
  // passes copy six floats, so 25 ms leaves room for a loaded machine.
  EXPECT_GE(time_of(times, "slow_forward").forward_seconds, 2 * 0.030);
  EXPECT_LT(time_of(times, "slow_forward").backward_seconds, 0.025);
  EXPECT_GE(time_of(times, "slow_backward").backward_seconds, 2 * 0.060);
  EXPECT_LT(time_of(times, "slow_backward").forward_seconds, 0.025);
  EXPECT_LT(time_of(times, "quick").forward_seconds + time_of(times, "quick").backward_seconds,
            0.025);
}

// conv -> BatchNorm -> ReLU -> max-pool: in inference the convolution applies the BatchNorm and
// pools its own output, and the ReLU runs after the pool; in training (no BatchNorm) the pool
// is again the convolution's, and the ReLU runs after it, forward and backward.
TEST(LayerTimes, ANodeWhoseForwardAnotherDidNamesThatNode) {
  Generator gen(3);
  Graph inference;
  inference.add_input("input");
  inference.add("conv", std::make_unique<Convolution>(8, 8, 3, 3, 1, 1), {"input"});
  inference.add("bn", std::make_unique<BatchNorm>(8), {"conv"});
  inference.add("relu", std::make_unique<ReLU>(), {"bn"});
  inference.add("pool", std::make_unique<MaxPool>(2, 2), {"relu"});
  for (const auto& p : inference.parameters()) p.parameter->value.uniform_(gen, -0.5, 0.5);
  Tensor x = Tensor::empty({4, 8, 10, 10});
  x.uniform_(gen, -1.0, 1.0);

  LayerTimes times;
  inference.set_layer_times(&times);
  inference.run({{"input", x}}, "pool", Mode::Inference);
  ASSERT_EQ(times.entries().size(), 4u);
  EXPECT_EQ(time_of(times, "conv").forward_calls, 1);
  EXPECT_GT(time_of(times, "conv").forward_seconds, 0.0);
  EXPECT_EQ(time_of(times, "bn").forward_done_by, "conv");
  EXPECT_EQ(time_of(times, "bn").forward_calls, 0);
  EXPECT_EQ(time_of(times, "pool").forward_done_by, "conv");
  EXPECT_TRUE(time_of(times, "relu").forward_done_by.empty());  // after the pool, by itself
  EXPECT_EQ(time_of(times, "relu").forward_calls, 1);
  EXPECT_EQ(time_of(times, "relu").layer, "ReLU");

  Graph training;
  training.add_input("input");
  training.add("conv", std::make_unique<Convolution>(8, 8, 3, 3, 1, 1), {"input"});
  training.add("relu", std::make_unique<ReLU>(), {"conv"});
  training.add("pool", std::make_unique<MaxPool>(2, 2), {"relu"});
  training.add("loss", std::make_unique<SumAll>(), {"pool"});
  for (const auto& p : training.parameters()) p.parameter->value.uniform_(gen, -0.5, 0.5);
  times.clear();
  training.set_layer_times(&times);
  training.run({{"input", x}}, "loss", Mode::Train);
  training.backward("loss");
  EXPECT_EQ(time_of(times, "pool").forward_done_by, "conv");
  EXPECT_EQ(time_of(times, "pool").backward_calls, 1);  // the pool's own backward
  EXPECT_EQ(time_of(times, "relu").forward_calls, 1);
  EXPECT_EQ(time_of(times, "relu").backward_calls, 1);
  EXPECT_EQ(time_of(times, "conv").backward_calls, 1);
  EXPECT_GT(time_of(times, "conv").backward_seconds, 0.0);
}

}  // namespace
}  // namespace dlfs
