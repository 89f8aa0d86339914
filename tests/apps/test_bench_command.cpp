// `dlfs bench` on the CPU with tiny step counts: every model/batch pair gets a positive
// throughput, a peak memory and the process's resident memory in the common results JSON, in
// training and in inference.
#include <gtest/gtest.h>

#include "dlfs/apps/commands.hpp"
#include "dlfs/runtime/error.hpp"
#include "dlfs/runtime/json.hpp"
#include "support/app_testing.hpp"

namespace dlfs::app {
namespace {

int bench(std::vector<std::string> args) {
  return testing::call_command(bench_command, std::move(args));
}

using testing::read_text_file;

TEST(BenchCommand, WritesPositiveThroughputForEachModelAndBatchSize) {
  const std::string out = testing::temp_path("bench", "results.json");
  ::testing::internal::CaptureStdout();
  ASSERT_EQ(bench({"dlfs", "bench", "--models", "two-layer-net,lenet5", "--batch-sizes", "4,8",
                   "--device", "cpu", "--warmup", "1", "--steps", "2", "--json-out", out}),
            0);
  const std::string table = ::testing::internal::GetCapturedStdout();
  EXPECT_NE(table.find("lenet5"), std::string::npos) << table;

  const JsonValue doc = parse_json(read_text_file(out));
  EXPECT_EQ(doc.find("kind")->string, "training");
  ASSERT_NE(doc.find("machine"), nullptr);
  EXPECT_GT(doc.find("machine")->find("cores")->number, 0);
  const JsonValue* results = doc.find("results");
  ASSERT_NE(results, nullptr);
  ASSERT_EQ(results->array.size(), 4u);
  const char* expected_models[] = {"two-layer-net", "two-layer-net", "lenet5", "lenet5"};
  const int expected_batches[] = {4, 8, 4, 8};
  for (std::size_t i = 0; i < 4; ++i) {
    const JsonValue& r = results->array[i];
    EXPECT_EQ(r.find("metric")->string, "images/s");
    EXPECT_GT(r.find("value")->number, 0.0) << r.find("name")->string;
    const JsonValue* extra = r.find("extra");
    ASSERT_NE(extra, nullptr);
    EXPECT_EQ(extra->find("model")->string, expected_models[i]);
    EXPECT_EQ(extra->find("batch_size")->integer, expected_batches[i]);
    EXPECT_EQ(extra->find("device")->string, "cpu");
    EXPECT_EQ(extra->find("timed_steps")->integer, 2);
    // At least the activations of one batch of 28x28 images were live at the peak.
    EXPECT_GT(extra->find("peak_memory_bytes")->integer, expected_batches[i] * 28 * 28 * 4);
    // Resident memory grew past what it was before the model: at least by the pool's peak.
    const std::int64_t before = extra->find("rss_before_model_bytes")->integer;
    EXPECT_GT(before, 0);
    EXPECT_GE(extra->find("peak_rss_bytes")->integer, before);
  }
}

TEST(BenchCommand, InferencePassTimesForwardsOnly) {
  const std::string out = testing::temp_path("bench", "inference.json");
  ::testing::internal::CaptureStdout();
  ASSERT_EQ(bench({"dlfs", "bench", "--models", "lenet5", "--batch-sizes", "16", "--device", "cpu",
                   "--pass", "inference", "--warmup", "1", "--steps", "3", "--json-out", out}),
            0);
  const std::string table = ::testing::internal::GetCapturedStdout();
  EXPECT_NE(table.find("inference throughput"), std::string::npos) << table;
  const JsonValue doc = parse_json(read_text_file(out));
  EXPECT_EQ(doc.find("kind")->string, "inference");
  const JsonValue& r = doc.find("results")->array.at(0);
  EXPECT_EQ(r.find("group")->string, "inference");
  EXPECT_GT(r.find("value")->number, 0.0);
  EXPECT_EQ(r.find("extra")->find("optimizer")->string, "none (inference)");
  EXPECT_EQ(r.find("extra")->find("timed_steps")->integer, 3);
  try {
    bench({"dlfs", "bench", "--pass", "backward", "--device", "cpu"});
    FAIL() << "--pass backward was accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), "option --pass: 'backward' is not train or inference");
  }
}

TEST(BenchCommand, AcceptsAVariantAndRejectsUnknownModels) {
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(bench({"dlfs", "bench", "--models", "lenet5@32", "--batch-sizes", "2", "--device",
                   "cpu", "--warmup", "0", "--steps", "1"}),
            0);
  EXPECT_NE(::testing::internal::GetCapturedStdout().find("lenet5"), std::string::npos);
  EXPECT_THROW(bench({"dlfs", "bench", "--models", "no-such-net", "--device", "cpu"}), InputError);
  EXPECT_THROW(bench({"dlfs", "bench", "--models", "lenet5@99", "--device", "cpu"}), InputError);
  EXPECT_THROW(bench({"dlfs", "bench", "--batch-sizes", "0", "--device", "cpu"}), InputError);
}

// --profile: a row per node of the graph, in the table and in the JSON, with the convolution
// charged the pool it made, and the nodes' and optimizer's times within the profiled step.
TEST(BenchCommand, ProfileTimesEveryNodeOfTheGraph) {
  const std::string out = testing::temp_path("bench", "profile.json");
  ::testing::internal::CaptureStdout();
  ASSERT_EQ(bench({"dlfs", "bench", "--models", "lenet5", "--batch-sizes", "8", "--device", "cpu",
                   "--warmup", "1", "--steps", "3", "--profile", "--json-out", out}),
            0);
  const std::string table = ::testing::internal::GetCapturedStdout();
  EXPECT_NE(table.find("lenet5 batch 8, 3 profiled steps of"), std::string::npos) << table;
  EXPECT_NE(table.find("optimizer step"), std::string::npos) << table;
  const auto by_layer = table.find("by layer: ");
  ASSERT_NE(by_layer, std::string::npos) << table;
  for (const char* layer : {"Convolution ", "MaxPool ", "Affine ", "ReLU "})
    EXPECT_NE(table.find(layer, by_layer), std::string::npos) << layer << " in " << table;

  const JsonValue doc = parse_json(read_text_file(out));
  const JsonValue* profile = doc.find("results")->array.at(0).find("extra")->find("profile");
  ASSERT_NE(profile, nullptr);
  EXPECT_EQ(profile->find("steps")->integer, 3);
  const double step_ms = profile->find("step_ms")->number;
  const double optimizer_ms = profile->find("optimizer_ms")->number;
  EXPECT_GT(optimizer_ms, 0.0);
  const std::vector<std::string> nodes = {"conv1", "pool1",   "relu1", "conv2", "pool2",
                                          "relu2", "flatten", "fc1",   "relu3", "fc2",
                                          "relu4", "fc3",     "loss"};
  const auto& rows = profile->find("nodes")->array;
  ASSERT_EQ(rows.size(), nodes.size());
  double sum_ms = optimizer_ms;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const JsonValue& r = rows[i];
    EXPECT_EQ(r.find("node")->string, nodes[i]);
    EXPECT_GE(r.find("backward_ms")->number, 0.0);
    sum_ms += r.find("forward_ms")->number + r.find("backward_ms")->number;
    if (nodes[i] == "pool1" || nodes[i] == "pool2") {
      EXPECT_EQ(r.find("forward_done_by")->string, nodes[i] == "pool1" ? "conv1" : "conv2");
      EXPECT_EQ(r.find("forward_ms")->number, 0.0);
      EXPECT_EQ(r.find("layer")->string, "MaxPool");
    } else {
      EXPECT_EQ(r.find("forward_done_by")->kind, JsonValue::Kind::Null) << nodes[i];
      EXPECT_GT(r.find("forward_ms")->number, 0.0) << nodes[i];
    }
  }
  EXPECT_EQ(rows[0].find("layer")->string, "Convolution");
  EXPECT_GT(rows[0].find("backward_ms")->number, 0.0);
  EXPECT_LE(sum_ms, step_ms);  // disjoint parts of the profiled steps
}

}  // namespace
}  // namespace dlfs::app
