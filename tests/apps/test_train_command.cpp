// End-to-end runs of `dlfs train` and `dlfs eval` on small synthetic data.
#include <gtest/gtest.h>
#include <omp.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "dlfs/apps/commands.hpp"
#include "dlfs/models/safetensors.hpp"
#include "dlfs/runtime/error.hpp"
#include "dlfs/runtime/json.hpp"
#include "support/app_testing.hpp"

namespace dlfs::app {
namespace {

int run(std::vector<std::string> args) {
  const std::string command = args[1];
  if (command == "train") return testing::call_command(train_command, std::move(args));
  if (command == "eval") return testing::call_command(eval_command, std::move(args));
  return testing::call_command(models_command, std::move(args));
}

using testing::read_text_file;

std::string temp_dir(const std::string& name) {
  return testing::temp_path("train", name);
}

std::vector<std::string> small_run(const std::string& out,
                                   const std::string& model = "two-layer-net") {
  return {"dlfs",    "train",    "--model", model,          "--data", "synthetic", "--limit-train",
          "600",     "--epochs", "4",       "--batch-size", "50",     "--device",  "cpu",
          "--quiet", "--out",    out};
}

TEST(TrainCommand, LearnsSyntheticDataAndWritesItsFiles) {
  const std::string out = temp_dir("train");
  ASSERT_EQ(run(small_run(out)), 0);
  const JsonValue summary = parse_json(read_text_file(out + "/summary.json"));
  EXPECT_EQ(summary.find("model")->string, "two-layer-net");
  EXPECT_GT(summary.find("test_accuracy")->number, 0.6) << "synthetic blobs are learnable";
  EXPECT_EQ(summary.find("train_images")->integer, 540);
  EXPECT_EQ(summary.find("validation_images")->integer, 60);
  // The training loop's steady state makes no raw allocations.
  EXPECT_EQ(summary.find("warmup_epochs")->integer, 2);
  EXPECT_EQ(summary.find("raw_allocations_after_warmup")->find("host")->integer, 0);
  const std::string metrics = read_text_file(out + "/metrics.csv");
  EXPECT_EQ(std::count(metrics.begin(), metrics.end(), '\n'), 5) << metrics;

  // The checkpoint reloads to the same test accuracy.
  ::testing::internal::CaptureStdout();
  ASSERT_EQ(run({"dlfs", "eval", "--checkpoint", out + "/model.safetensors", "--data", "synthetic",
                 "--device", "cpu", "--json"}),
            0);
  const JsonValue eval = parse_json(::testing::internal::GetCapturedStdout());
  EXPECT_DOUBLE_EQ(eval.find("test_accuracy")->number, summary.find("test_accuracy")->number);
}

TEST(TrainCommand, SameSeedSameMetricsOnTheCpu) {
  const std::string a = temp_dir("seed_a"), b = temp_dir("seed_b");
  auto args_a = small_run(a, "lenet5"), args_b = small_run(b, "lenet5");
  ASSERT_EQ(run(args_a), 0);
  ASSERT_EQ(run(args_b), 0);
  // Column 8 (seconds) and 7 (images/s) differ run to run; the rest must be identical.
  auto strip_timing = [](const std::string& csv) {
    std::stringstream in(csv), out;
    std::string line;
    while (std::getline(in, line)) {
      std::stringstream fields(line);
      std::string f;
      for (int i = 0; i < 6 && std::getline(fields, f, ','); ++i) out << f << ',';
      out << '\n';
    }
    return out.str();
  };
  EXPECT_EQ(strip_timing(read_text_file(a + "/metrics.csv")),
            strip_timing(read_text_file(b + "/metrics.csv")));
  EXPECT_EQ(read_text_file(a + "/model.safetensors"), read_text_file(b + "/model.safetensors"));
}

// Every CPU kernel sums in an order fixed by the shapes (oneDNN's convolutions and OpenBLAS's
// GEMMs in fixed blocks, each on one thread): vgg-small-bn trained at batch 128 on 1 thread and
// on 2 ends with the same weights bit for bit. Both had differed before.
TEST(TrainCommand, SameWeightsOnOneAndTwoThreads) {
  const int threads = omp_get_max_threads();
  std::vector<std::string> weights;
  for (int t : {1, 2}) {
    const std::string out = temp_dir("threads_" + std::to_string(t));
    auto args = small_run(out, "vgg-small-bn");
    args[7] = "400";   // --limit-train: 360 training images, three steps
    args[9] = "1";     // --epochs
    args[11] = "128";  // --batch-size
    omp_set_num_threads(t);
    ASSERT_EQ(run(args), 0);
    weights.push_back(read_text_file(out + "/model.safetensors"));
  }
  omp_set_num_threads(threads);
  ASSERT_FALSE(weights[0].empty());
  EXPECT_TRUE(weights[0] == weights[1]) << "the weights differ between 1 and 2 threads";
}

// --keep best tests the first epoch with the best validation accuracy and writes its weights to
// best.safetensors. With a constant learning rate a run's first k epochs are those of a k-epoch
// run, so the k-epoch run's last weights must be the longer run's best.safetensors, and their
// test figures equal. SGD at a constant 0.1 on these blobs peaks on validation at epoch 5 of 6.
TEST(TrainCommand, KeepBestTestsTheEpochBestOnValidation) {
  const auto args = [](const std::string& out, const std::string& epochs, const std::string& keep) {
    return std::vector<std::string>{
        "dlfs",        "train",         "--model", "mlp",      "--data",
        "synthetic",   "--limit-train", "2000",    "--epochs", epochs,
        "--optimizer", "sgd",           "--lr",    "0.1",      "--schedule",
        "constant",    "--keep",        keep,      "--device", "cpu",
        "--quiet",     "--plot",        "off",     "--out",    out};
  };
  const std::string longer = temp_dir("keep_best"), shorter = temp_dir("keep_best_k");
  ::testing::internal::CaptureStdout();
  ASSERT_EQ(run(args(longer, "6", "best")), 0);
  const std::string printed = ::testing::internal::GetCapturedStdout();

  // The best epoch from metrics.csv: the first with the highest validation accuracy.
  std::istringstream metrics(read_text_file(longer + "/metrics.csv"));
  std::string line;
  std::getline(metrics, line);
  int best_epoch = 0, epoch = 0;
  double best = -1.0;
  while (std::getline(metrics, line)) {
    ++epoch;
    std::istringstream fields(line);
    std::string field;
    for (int column = 0; column < 5; ++column) std::getline(fields, field, ',');
    if (std::stod(field) > best) best = std::stod(field), best_epoch = epoch;
  }
  ASSERT_EQ(epoch, 6);
  ASSERT_LT(best_epoch, 6)
      << "the run should peak before its last epoch for this test to mean much";
  const JsonValue summary = parse_json(read_text_file(longer + "/summary.json"));
  EXPECT_EQ(summary.find("best_validation_epoch")->integer, best_epoch);
  EXPECT_EQ(summary.find("tested_weights")->string, "best");
  EXPECT_NE(printed.find("testing the weights of epoch " + std::to_string(best_epoch)),
            std::string::npos)
      << printed;

  ASSERT_EQ(run(args(shorter, std::to_string(best_epoch), "last")), 0);
  const JsonValue reference = parse_json(read_text_file(shorter + "/summary.json"));
  EXPECT_EQ(reference.find("tested_weights")->string, "last");
  EXPECT_EQ(summary.find("test_accuracy")->number, reference.find("test_accuracy")->number);
  EXPECT_EQ(summary.find("test_loss")->number, reference.find("test_loss")->number);
  const SafetensorsContents kept = load_safetensors(longer + "/best.safetensors");
  const SafetensorsContents last = load_safetensors(shorter + "/model.safetensors");
  ASSERT_EQ(kept.tensors.size(), last.tensors.size());
  for (std::size_t i = 0; i < kept.tensors.size(); ++i) {
    const Tensor& a = kept.tensors[i].second;
    const Tensor& b = last.tensors[i].second;
    ASSERT_EQ(a.nbytes(), b.nbytes()) << kept.tensors[i].first;
    EXPECT_EQ(std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()), 0) << kept.tensors[i].first;
  }
  // The last epoch's weights stay in model.safetensors, and they are not the best's.
  EXPECT_NE(read_text_file(longer + "/model.safetensors"),
            read_text_file(longer + "/best.safetensors"));
}

TEST(TrainCommand, BadOptionsAreOneSentenceInputErrors) {
  auto expect_error = [](std::vector<std::string> args, const std::string& fragment) {
    try {
      run(args);
      ADD_FAILURE() << "accepted " << args.back();
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  expect_error({"dlfs", "train", "--model", "resnet9000", "--data", "synthetic"},
               "unknown model 'resnet9000'");
  expect_error({"dlfs", "train", "--batch-size", "0", "--data", "synthetic"},
               "option --batch-size: 0 is out of range");
  expect_error({"dlfs", "train", "--epochs", "-1", "--data", "synthetic"},
               "option --epochs: -1 is out of range");
  expect_error({"dlfs", "train", "--lr", "nan", "--data", "synthetic"}, "--lr");
  expect_error({"dlfs", "train", "--optimizer", "lion", "--data", "synthetic"}, "lion");
  expect_error({"dlfs", "train", "--device", "tpu"}, "device 'tpu'");
  expect_error({"dlfs", "train", "--frobnicate"}, "unknown option '--frobnicate'");
  expect_error({"dlfs", "train", "--data", "/nonexistent/dir"}, "/nonexistent/dir");
  expect_error({"dlfs", "train", "--model", "lenet5", "--data", "synthetic", "--shuffle", "maybe"},
               "--shuffle");
  expect_error({"dlfs", "eval", "--data", "synthetic"}, "--checkpoint");
  expect_error({"dlfs", "train", "--data", "synthetic", "--keep", "worst"}, "--keep");
  expect_error({"dlfs", "train", "--data", "synthetic", "--keep", "best", "--val-split", "0"},
               "--keep best chooses an epoch on validation, and --val-split 0 leaves no validation "
               "images");
}

TEST(ModelsCommand, ListsEveryModelAsJson) {
  ::testing::internal::CaptureStdout();
  ASSERT_EQ(run({"dlfs", "models", "--json"}), 0);
  const JsonValue list = parse_json(::testing::internal::GetCapturedStdout());
  ASSERT_TRUE(list.is_array());
  EXPECT_GE(list.array.size(), 16u);
  bool found = false;
  for (const auto& m : list.array)
    if (m.find("name")->string == "resnet18")
      for (const auto& v : m.find("variants")->array)
        if (v.find("input")->string == "224") {
          EXPECT_EQ(v.find("parameters")->integer, 11689512);
          found = true;
        }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace dlfs::app
