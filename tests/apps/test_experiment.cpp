// `dlfs experiment`: the list, errors, the optimizer paths against hand-computed steps, the
// gradient check on a tiny net, and quick runs that write their numbers (no matplotlib needed).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "dlfs/apps/commands.hpp"
#include "dlfs/apps/experiments/gradcheck.hpp"
#include "dlfs/apps/experiments/optimizers.hpp"
#include "dlfs/apps/experiments/training.hpp"
#include "dlfs/runtime/error.hpp"
#include "dlfs/runtime/json.hpp"
#include "support/app_testing.hpp"

namespace dlfs::app {
namespace {

int run_experiment(std::vector<std::string> args) {
  args.insert(args.begin(), {"dlfs", "experiment"});
  return testing::call_command(experiment_command, std::move(args));
}

using testing::read_text_file;

std::string temp_dir(const std::string& name) {
  return testing::temp_path("experiment", name);
}

bool have_fashion_mnist() {
  return std::ifstream("/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte").good() ||
         std::ifstream("/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz").good();
}

TEST(ExperimentCommand, ListNamesEveryExperimentWithALine) {
  ::testing::internal::CaptureStdout();
  ASSERT_EQ(run_experiment({"--list"}), 0);
  const std::string out = ::testing::internal::GetCapturedStdout();
  for (const char* name :
       {"optimizer-paths", "optimizer-compare", "weight-init", "batch-norm", "overfit",
        "hyperparameter-search", "filters", "misclassified", "gradcheck", "device-agreement"})
    EXPECT_NE(out.find(std::string("  ") + name + " "), std::string::npos) << name << "\n" << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 10) << out;
}

TEST(ExperimentCommand, UnknownExperimentIsAnInputErrorNamingIt) {
  try {
    run_experiment({"optimiser-paths"});
    FAIL() << "no error";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("'optimiser-paths'"), std::string::npos) << message;
    EXPECT_NE(message.find("optimizer-paths"), std::string::npos) << message;
  }
}

TEST(ExperimentCommand, HelpListsTheExperimentsOwnOptions) {
  ::testing::internal::CaptureStdout();
  ASSERT_EQ(run_experiment({"hyperparameter-search", "--help"}), 0);
  const std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_NE(out.find("--trials N"), std::string::npos) << out;
  EXPECT_NE(out.find("--quick"), std::string::npos) << out;
  EXPECT_NE(out.find("runs/experiments/hyperparameter-search"), std::string::npos) << out;
  EXPECT_THROW(run_experiment({"gradcheck", "--trials", "3"}), InputError);
}

// Hand-computed with the book's rules from (-7, 2), gradient (x / 10, 2 y).
TEST(ExperimentOptimizerPaths, FirstStepsMatchTheBooksRules) {
  using experiment::optimizer_path;
  auto sgd = optimizer_path("sgd", 0.95, {-7, 2}, 2);
  ASSERT_EQ(sgd.size(), 3u);
  EXPECT_NEAR(sgd[1].first, -6.335, 1e-12);  // -7 - 0.95 * -0.7
  EXPECT_NEAR(sgd[1].second, -1.8, 1e-12);   // 2 - 0.95 * 4
  EXPECT_NEAR(sgd[2].first, -5.733175, 1e-12);
  EXPECT_NEAR(sgd[2].second, 1.62, 1e-12);

  auto momentum = optimizer_path("momentum", 0.1, {-7, 2}, 2);
  EXPECT_NEAR(momentum[1].first, -6.93, 1e-12);  // v = (0.07, -0.4)
  EXPECT_NEAR(momentum[1].second, 1.6, 1e-12);
  EXPECT_NEAR(momentum[2].first, -6.7977, 1e-12);  // v = 0.9 v - 0.1 (-0.693, 3.2)
  EXPECT_NEAR(momentum[2].second, 0.92, 1e-12);

  // AdaGrad's and Adam's first steps move each coordinate by lr against the gradient's sign
  // (less the eps of 1e-7 in the denominator).
  auto adagrad = optimizer_path("adagrad", 1.5, {-7, 2}, 1);
  EXPECT_NEAR(adagrad[1].first, -5.5, 1e-6);
  EXPECT_NEAR(adagrad[1].second, 0.5, 1e-6);
  auto adam = optimizer_path("adam", 0.3, {-7, 2}, 1);
  EXPECT_NEAR(adam[1].first, -6.7, 1e-5);
  EXPECT_NEAR(adam[1].second, 1.7, 1e-5);

  // 30 steps: SGD's final point, checked against a NumPy run of the book's code.
  auto sgd30 = optimizer_path("sgd", 0.95, {-7, 2}, 30);
  EXPECT_NEAR(sgd30.back().first, -0.350393, 1e-6);
  EXPECT_NEAR(sgd30.back().second, 0.0847823, 1e-6);
}

TEST(ExperimentGradCheck, TinyNetsMatchInFloat64) {
  using namespace experiment;
  Generator gen(3);
  Model two_layer = build_two_layer_net(Shape({1, 3, 3}), 4, 3);
  initialize_weights(two_layer, WeightInit::fixed(0.5), gen);
  Tensor x = Tensor::empty(Shape({2, 1, 3, 3}));
  x.uniform_(gen);
  const Tensor labels = Tensor::from_vector<std::int32_t>({0, 2}, Shape({2}));
  const auto diffs = compare_gradients(two_layer, x, labels, DType::Float64, 1e-5);
  ASSERT_EQ(diffs.size(), 4u);
  EXPECT_EQ(diffs[0].parameter, "fc1.weight");
  EXPECT_EQ(diffs[0].elements, 36);
  for (const auto& d : diffs) {
    EXPECT_LT(d.max_abs_difference, 1e-8) << d.parameter;
    EXPECT_GT(d.mean_abs_gradient, 1e-4) << d.parameter << ": nothing to compare";
  }

  Model convnet = build_small_convnet(Shape({1, 6, 6}), 2, 3, 3);
  initialize_weights(convnet, WeightInit::fixed(0.5), gen);
  Tensor image = Tensor::empty(Shape({1, 1, 6, 6}));
  image.uniform_(gen);
  for (const auto& d :
       compare_gradients(convnet, image, Tensor::from_vector<std::int32_t>({1}, Shape({1})),
                         DType::Float64, 1e-6))
    EXPECT_LT(d.max_abs_difference, 1e-7) << d.parameter;
}

TEST(ExperimentCommand, OptimizerPathsWritesItsNumbers) {
  const std::string out = temp_dir("paths");
  ::testing::internal::CaptureStdout();
  ASSERT_EQ(run_experiment({"optimizer-paths", "--out", out, "--no-plot"}), 0);
  const std::string printed = ::testing::internal::GetCapturedStdout();
  EXPECT_NE(printed.find("SGD       lr 0.95  final (x, y) = (-0.350393, +0.084782)"),
            std::string::npos)
      << printed;
  EXPECT_NE(printed.find("plot_experiment.py"), std::string::npos) << "how to draw it later";
  const JsonValue json = parse_json(read_text_file(out + "/optimizer-paths.json"));
  EXPECT_EQ(json.find("experiment")->string, "optimizer-paths");
  const JsonValue* optimizers = json.find("optimizers");
  ASSERT_NE(optimizers, nullptr);
  ASSERT_EQ(optimizers->array.size(), 4u);
  EXPECT_EQ(optimizers->array[3].find("name")->string, "Adam");
  EXPECT_EQ(optimizers->array[0].find("x")->array.size(), 31u);
}

TEST(ExperimentCommand, QuickOptimizerCompareWritesLossCurves) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "Fashion-MNIST is not installed";
  const std::string out = temp_dir("compare");
  ::testing::internal::CaptureStdout();
  ASSERT_EQ(run_experiment(
                {"optimizer-compare", "--quick", "--out", out, "--no-plot", "--device", "cpu"}),
            0);
  ::testing::internal::GetCapturedStdout();
  const JsonValue json = parse_json(read_text_file(out + "/optimizer-compare.json"));
  const JsonValue* optimizers = json.find("optimizers");
  ASSERT_NE(optimizers, nullptr);
  ASSERT_EQ(optimizers->array.size(), 4u);
  for (const JsonValue& o : optimizers->array) {
    EXPECT_EQ(o.find("loss")->array.size(), 20u);
    EXPECT_GT(o.find("loss")->array[0].number, 1.5);  // about ln(10) at the start
  }
}

TEST(ExperimentCommand, QuickRunsAreDeterministicOnTheCpu) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "Fashion-MNIST is not installed";
  const std::string a = temp_dir("overfit_a"), b = temp_dir("overfit_b");
  ::testing::internal::CaptureStdout();
  ASSERT_EQ(run_experiment({"overfit", "--quick", "--out", a, "--no-plot", "--device", "cpu"}), 0);
  ASSERT_EQ(run_experiment({"overfit", "--quick", "--out", b, "--no-plot", "--device", "cpu"}), 0);
  ::testing::internal::GetCapturedStdout();
  const std::string json = read_text_file(a + "/overfit.json");
  EXPECT_EQ(json, read_text_file(b + "/overfit.json"));
  const JsonValue parsed = parse_json(json);
  ASSERT_EQ(parsed.find("runs")->array.size(), 3u);
  EXPECT_EQ(parsed.find("runs")->array[1].find("label")->string, "weight decay 0.1");
  EXPECT_EQ(parsed.find("runs")->array[0].find("test_accuracy")->array.size(), 4u);
}

TEST(ExperimentCommand, DeviceAgreementWithoutAGpuSaysSoAndSucceeds) {
  if (cuda_available())
    GTEST_SKIP() << "tests the no-GPU case, and a CUDA device is present: " << cuda_status();
  const std::string out = temp_dir("agreement");
  ::testing::internal::CaptureStdout();
  ASSERT_EQ(run_experiment({"device-agreement", "--out", out, "--no-plot"}), 0);
  const std::string printed = ::testing::internal::GetCapturedStdout();
  EXPECT_NE(printed.find("needs a CUDA GPU"), std::string::npos) << printed;
  EXPECT_FALSE(std::ifstream(out + "/device-agreement.json").good());
}

}  // namespace
}  // namespace dlfs::app
