// DataParallel over stand-in communicators, in one process: how gradients are bucketed, in
// which order the buckets are launched, what comes back, and the stop flag. The real MPI runs
// are in test_mpi_training.cpp.
#include <gtest/gtest.h>

#include <cstring>

#include "dlfs/models/catalog.hpp"
#include "dlfs/models/init.hpp"
#include "dlfs/runtime/generator.hpp"
#include "dlfs/train/data_parallel.hpp"

namespace dlfs::train {
namespace {

// Rank 0 of two whose partner always holds exactly the same gradients: a sum doubles every
// bucket. Records what was launched and whether the model's first layer had its gradient yet.
class MirrorCommunicator : public comm::Communicator {
 public:
  explicit MirrorCommunicator(Parameter* first_layer_weight)
      : comm::Communicator(0, 2, 0, 5.0), first_layer_weight_(first_layer_weight) {}
  std::string backend() const override { return "mirror"; }
  int start_sum(Tensor& buffer) override {
    launched_sizes.push_back(buffer.numel());
    first_layer_done_at_launch.push_back(first_layer_weight_->grad.defined());
    float* x = buffer.data<float>();
    for (std::int64_t i = 0; i < buffer.numel(); ++i) x[i] *= 2.0f;
    if (partner_stops) x[buffer.numel() - 1] += 1.0f;  // the partner's flag, in the last slot
    return static_cast<int>(launched_sizes.size());
  }
  void progress() override {}
  void wait(int request, const std::string&) override { waited.push_back(request); }
  void broadcast(Tensor&, int, const std::string&) override {}
  void sum_host(std::vector<double>& values, const std::string&) override {
    for (double& v : values) v *= 2;
  }
  std::vector<std::uint64_t> gather_host(std::uint64_t value, const std::string&) override {
    return {value, value + partner_hash_offset};
  }
  void barrier(const std::string&) override {}

  std::vector<std::int64_t> launched_sizes;
  std::vector<bool> first_layer_done_at_launch;
  std::vector<int> waited;
  bool partner_stops = false;
  std::uint64_t partner_hash_offset = 0;

 private:
  Parameter* first_layer_weight_;
};

struct Fixture {
  Model model = build_model("mlp-bn", "28", 10);
  Tensor images = Tensor::empty({8, 1, 28, 28});
  Tensor labels = Tensor::empty({8}, DType::Int32);

  Fixture() {
    Generator gen(7);
    initialize(model, InitScheme::He, gen);
    images.normal_(gen);
    for (int i = 0; i < 8; ++i) labels.data<std::int32_t>()[i] = i % 10;
  }
  Parameter* first_weight() { return model.graph.parameters().front().parameter; }
  Tensor forward() {
    return model.graph.run({{Model::kInput, images}, {Model::kLabels, labels}}, Model::kLossNode,
                           Mode::Train);
  }
  std::vector<std::vector<float>> gradients() {
    std::vector<std::vector<float>> g;
    for (NamedParameter& p : model.graph.parameters())
      g.push_back(p.parameter->grad.to_vector<float>());
    return g;
  }
  void clear_gradients() {
    for (NamedParameter& p : model.graph.parameters()) p.parameter->grad = Tensor();
  }
};

TEST(DataParallel, BucketsFollowBackwardOrderAndHoldEveryGradientOnce) {
  Fixture f;
  MirrorCommunicator mirror(f.first_weight());
  std::int64_t parameters = 0;
  for (NamedParameter& p : f.model.graph.parameters()) parameters += p.parameter->value.numel();
  // 1 byte: every parameter tensor fills a bucket of its own.
  DataParallel one_each(mirror, f.model, 1);
  const std::vector<std::int64_t> sizes = one_each.bucket_sizes();
  const std::vector<NamedParameter> named = f.model.graph.parameters();
  ASSERT_EQ(sizes.size(), named.size());
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    // Reverse order, and the last bucket has one more float: the stop flag.
    const std::int64_t expected =
        named[named.size() - 1 - i].parameter->value.numel() + (i + 1 == sizes.size() ? 1 : 0);
    EXPECT_EQ(sizes[i], expected) << "bucket " << i;
  }
  std::int64_t total = 0;
  DataParallel large(mirror, f.model, 1 << 30);
  for (std::int64_t s : large.bucket_sizes()) total += s;
  EXPECT_EQ(large.bucket_sizes().size(), 1u);
  EXPECT_EQ(total, parameters + 1);
}

TEST(DataParallel, SummedShareOfEachRankIsTheWholeBatchsGradientBitForBit) {
  Fixture f;
  f.forward();
  f.model.graph.backward(Model::kLossNode);
  const auto plain = f.gradients();

  f.clear_gradients();
  MirrorCommunicator mirror(f.first_weight());
  DataParallel dp(mirror, f.model, 16 * 1024);
  // This rank has half the global batch; its partner the same samples. Seeded with 1/2 and
  // summed, the gradient is the plain one: scaling by a power of two is exact.
  const double weight = dp.begin_step(8, 16, false);
  EXPECT_EQ(weight, 0.5);
  Tensor loss = f.forward();
  f.model.graph.backward(Model::kLossNode, Tensor::full(loss.shape(), weight));
  EXPECT_FALSE(dp.finish_step());
  EXPECT_EQ(f.gradients(), plain);

  // Buckets were launched in order, each waited for once, and the first ones while backward
  // had not yet reached the first layer: communication overlaps backward.
  const std::size_t buckets = dp.bucket_sizes().size();
  ASSERT_GE(buckets, 3u);
  EXPECT_EQ(mirror.launched_sizes, dp.bucket_sizes());
  std::vector<int> in_order(buckets);
  for (std::size_t i = 0; i < buckets; ++i) in_order[i] = static_cast<int>(i + 1);
  EXPECT_EQ(mirror.waited, in_order);
  EXPECT_FALSE(mirror.first_layer_done_at_launch.front());
  EXPECT_TRUE(mirror.first_layer_done_at_launch.back());
}

TEST(DataParallel, AnyRanksStopRequestStopsEveryRank) {
  Fixture f;
  MirrorCommunicator mirror(f.first_weight());
  DataParallel dp(mirror, f.model, 1 << 20);
  for (const bool mine : {false, true}) {
    for (const bool partners : {false, true}) {
      mirror.partner_stops = partners;
      const double weight = dp.begin_step(8, 16, mine);
      Tensor loss = f.forward();
      f.model.graph.backward(Model::kLossNode, Tensor::full(loss.shape(), weight));
      EXPECT_EQ(dp.finish_step(), mine || partners) << mine << partners;
    }
  }
  EXPECT_EQ(dp.steps(), 4);
}

TEST(DataParallel, AnEmptyShardAddsZeroGradients) {
  Fixture f;
  MirrorCommunicator mirror(f.first_weight());
  DataParallel dp(mirror, f.model, 4096);
  EXPECT_EQ(dp.begin_step(0, 3, false), 0.0);
  EXPECT_FALSE(dp.finish_step());  // no forward, no backward on this rank
  for (NamedParameter& p : f.model.graph.parameters()) {
    ASSERT_TRUE(p.parameter->grad.defined()) << p.name;
    EXPECT_EQ(p.parameter->grad.shape(), p.parameter->value.shape());
    for (float g : p.parameter->grad.to_vector<float>()) ASSERT_EQ(g, 0.0f) << p.name;
  }
}

TEST(DataParallel, ReplicaCheckNamesTheRankThatDiffers) {
  Fixture f;
  MirrorCommunicator mirror(f.first_weight());
  DataParallel dp(mirror, f.model, 4096);
  EXPECT_NO_THROW(dp.check_replicas("after epoch 1"));
  mirror.partner_hash_offset = 1;
  try {
    dp.check_replicas("after epoch 2");
    FAIL() << "replicas that differ passed the check";
  } catch (const comm::CommunicationError& e) {
    EXPECT_NE(
        std::string(e.what()).find("the replicas differ after epoch 2: the weights of rank 1"),
        std::string::npos)
        << e.what();
  }
}

TEST(DataParallel, ReplicaHashSeesOneFlippedBitOfAWeightOrABuffer) {
  Fixture f;
  const std::uint64_t before = replica_hash(f.model);
  EXPECT_EQ(replica_hash(f.model), before);
  Tensor& w = f.model.graph.parameters().back().parameter->value;
  std::uint32_t bits;
  std::memcpy(&bits, w.data<float>(), sizeof bits);
  bits ^= 1u;
  std::memcpy(w.data<float>(), &bits, sizeof bits);
  const std::uint64_t weight_flipped = replica_hash(f.model);
  EXPECT_NE(weight_flipped, before);
  Tensor& running = f.model.graph.buffers().front().buffer->value;
  const std::uint64_t weights_only = replica_hash(f.model, /*buffers=*/false);
  running.data<float>()[0] += 1.0f;
  EXPECT_NE(replica_hash(f.model), weight_flipped);
  EXPECT_EQ(replica_hash(f.model, /*buffers=*/false), weights_only);
}

TEST(DataParallel, StepsMustBeginAndFinishInTurn) {
  Fixture f;
  comm::LocalCommunicator local;
  DataParallel dp(local, f.model, 4096);
  EXPECT_THROW(dp.finish_step(), Error);
  dp.begin_step(4, 4, false);
  EXPECT_THROW(dp.begin_step(4, 4, false), Error);
  EXPECT_THROW(DataParallel(local, f.model, 4096).begin_step(5, 4, false), Error);
}

}  // namespace
}  // namespace dlfs::train
