// Interrupting and resuming `dlfs train`: the real binary gets SIGINT or SIGKILL part-way, and
// `--resume` must finish the run with the same weights, bit for bit, as a run never interrupted.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "dlfs/apps/commands.hpp"
#include "dlfs/models/safetensors.hpp"
#include "dlfs/runtime/error.hpp"
#include "dlfs/runtime/json.hpp"
#include "support/process.hpp"

namespace dlfs::app {
namespace {

using testing::read_text_file;

// What a spawned run printed: its stdout log, then its stderr.
std::string output(const std::string& log) {
  return read_text_file(log) + read_text_file(log + ".stderr");
}

std::string temp_dir(const std::string& name) {
  return testing::temp_path("resume", name);
}

bool exists(const std::string& path) {
  return ::access(path.c_str(), F_OK) == 0;
}

// Starts build/dlfs with `args`, stdout and stderr to `log`.
pid_t spawn_dlfs(const std::vector<std::string>& args, const std::string& log) {
  std::vector<std::string> all = {dlfs::testing::dlfs_binary()};
  all.insert(all.end(), args.begin(), args.end());
  return dlfs::testing::spawn_process(all, log, log + ".stderr");
}

// The exit status as a shell reports it: the code, or 128 + the signal that ended it.
int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int run_dlfs(const std::vector<std::string>& args, const std::string& log) {
  return wait_for(spawn_dlfs(args, log));
}

// Lines in a file (0 when it does not exist yet).
int count_lines(const std::string& path) {
  const std::string text = read_text_file(path);
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

// Polls until `done` holds or the process exits; false when it exited first, or when 5 minutes
// passed (a hang: the process is killed). The limit is generous because a loaded 2-core machine
// once took over 2 minutes to reach a ResNet-50 validation pass.
template <typename Condition>
bool wait_until(pid_t pid, Condition done) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  while (std::chrono::steady_clock::now() < give_up) {
    if (done()) return true;
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return false;
}

// Every tensor of two safetensors files, compared byte for byte.
void expect_same_tensors(const std::string& a, const std::string& b) {
  const SafetensorsContents x = load_safetensors(a), y = load_safetensors(b);
  ASSERT_EQ(x.tensors.size(), y.tensors.size());
  for (std::size_t i = 0; i < x.tensors.size(); ++i) {
    const auto& [name, tx] = x.tensors[i];
    const Tensor* ty = y.find(name);
    ASSERT_NE(ty, nullptr) << name;
    ASSERT_EQ(tx.shape(), ty->shape()) << name;
    ASSERT_EQ(tx.nbytes(), ty->nbytes()) << name;
    EXPECT_EQ(std::memcmp(tx.raw_data(), ty->raw_data(), tx.nbytes()), 0)
        << name << " differs between " << a << " and " << b;
  }
}

// The metrics columns that do not depend on timing: epoch, losses, accuracies, learning rate.
std::string deterministic_metrics(const std::string& path) {
  std::istringstream in(read_text_file(path));
  std::string line, out;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string field;
    for (int column = 0; column < 6 && std::getline(fields, field, ','); ++column)
      out += field + ",";
    out += "\n";
  }
  return out;
}

// The seconds column of metrics.csv, summed.
double metrics_seconds(const std::string& path) {
  std::istringstream in(read_text_file(path));
  std::string line;
  std::getline(in, line);  // the header
  double total = 0.0;
  while (std::getline(in, line)) total += std::stod(line.substr(line.rfind(',') + 1));
  return total;
}

// summary.json's training_seconds: every epoch's, those of the processes before --resume too.
void expect_training_seconds_of_every_epoch(const std::string& run) {
  const JsonValue summary = parse_json(read_text_file(run + "/summary.json"));
  const JsonValue* seconds = summary.find("training_seconds");
  ASSERT_NE(seconds, nullptr);
  const double expected = metrics_seconds(run + "/metrics.csv");
  EXPECT_GT(expected, 0.0);
  EXPECT_NEAR(seconds->number, expected, 0.02 + 1e-4 * expected) << run;
}

// Synthetic blobs, an MLP with dropout (so the dropout streams must resume too), Adam with a
// cosine schedule (so the step counts and the epoch's learning rate must too).
// --keep best: the best epoch and its weights must come through the interruptions too.
std::vector<std::string> run_args(const std::string& out, const std::string& model) {
  return {"train",  "--model",  model, "--data",       "synthetic", "--limit-train",
          "3000",   "--epochs", "3",   "--batch-size", "8",         "--seed",
          "7",      "--device", "cpu", "--quiet",      "--out",     out,
          "--keep", "best"};
}

TEST(TrainResume, InterruptedTwiceAndResumedEndsWithTheSameWeights) {
  const std::string reference = temp_dir("reference"), resumed = temp_dir("interrupted");
  ASSERT_EQ(run_dlfs(run_args(reference, "mlp-dropout"), reference + ".log"), 0)
      << output(reference + ".log");

  // First interrupt: as soon as epoch 1 is in metrics.csv, i.e. early in epoch 2.
  const std::string log = resumed + ".log";
  pid_t pid = spawn_dlfs(run_args(resumed, "mlp-dropout"), log);
  ASSERT_TRUE(wait_until(pid, [&] { return count_lines(resumed + "/metrics.csv") >= 2; }))
      << "the run ended before its first epoch was written: " << output(log);
  ::kill(pid, SIGINT);
  ASSERT_EQ(wait_for(pid), 128 + SIGINT) << output(log);
  EXPECT_NE(read_text_file(log).find("interrupted at epoch"), std::string::npos) << output(log);
  const std::string state = resumed + "/train_state.safetensors";
  ASSERT_TRUE(exists(state));

  // Second interrupt: part-way through the resumed run, wherever it is by then.
  pid = spawn_dlfs({"train", "--resume", state, "--quiet"}, log);
  ASSERT_TRUE(wait_until(pid, [&] {
    return read_text_file(log).find("resuming") != std::string::npos;
  })) << output(log);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  ::kill(pid, SIGINT);
  const int second = wait_for(pid);
  ASSERT_TRUE(second == 128 + SIGINT || second == 0) << output(log);

  if (second != 0) {
    ASSERT_EQ(run_dlfs({"train", "--resume", state, "--quiet"}, log), 0) << output(log);
  }
  expect_same_tensors(reference + "/model.safetensors", resumed + "/model.safetensors");
  expect_same_tensors(reference + "/train_state.safetensors", state);
  expect_same_tensors(reference + "/best.safetensors", resumed + "/best.safetensors");
  EXPECT_EQ(deterministic_metrics(reference + "/metrics.csv"),
            deterministic_metrics(resumed + "/metrics.csv"));
  const JsonValue a = parse_json(read_text_file(reference + "/summary.json"));
  const JsonValue b = parse_json(read_text_file(resumed + "/summary.json"));
  EXPECT_GE(a.find("best_validation_epoch")->integer, 1);
  EXPECT_EQ(a.find("best_validation_epoch")->integer, b.find("best_validation_epoch")->integer);
  EXPECT_EQ(a.find("test_accuracy")->number, b.find("test_accuracy")->number);
  expect_training_seconds_of_every_epoch(reference);
  expect_training_seconds_of_every_epoch(resumed);
}

TEST(TrainResume, KilledRunResumesFromItsLastEpochWithTheSameWeights) {
  // BatchNorm's running statistics are buffers that must come back too.
  const std::string reference = temp_dir("kill_reference"), killed = temp_dir("killed");
  ASSERT_EQ(run_dlfs(run_args(reference, "mlp-bn"), reference + ".log"), 0)
      << output(reference + ".log");
  const std::string log = killed + ".log";
  const pid_t pid = spawn_dlfs(run_args(killed, "mlp-bn"), log);
  // Killed once the first epoch's state is on disk (metrics.csv is written just before it).
  ASSERT_TRUE(wait_until(pid, [&] { return exists(killed + "/train_state.safetensors"); }))
      << output(log);
  ::kill(pid, SIGKILL);
  ASSERT_EQ(wait_for(pid), 128 + SIGKILL);
  ASSERT_EQ(run_dlfs({"train", "--resume", killed + "/train_state.safetensors", "--quiet"}, log), 0)
      << output(log);
  expect_same_tensors(reference + "/model.safetensors", killed + "/model.safetensors");
}

int run_in_process(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return train_command(static_cast<int>(argv.size()), argv.data());
}

// A finished small run to resume from.
const std::string& finished_run() {
  static const std::string dir = [] {
    const std::string out = temp_dir("finished");
    std::vector<std::string> args = run_args(out, "two-layer-net");
    args.insert(args.begin(), "dlfs");
    auto limit = std::find(args.begin(), args.end(), "--limit-train");
    *(limit + 1) = "300";
    if (run_in_process(args) != 0) throw Error("the small run failed");
    return out;
  }();
  return dir;
}

std::string input_error(std::vector<std::string> args) {
  try {
    run_in_process(std::move(args));
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no InputError)";
}

TEST(TrainResume, RefusesToChangeTheRunsSettings) {
  const std::string state = finished_run() + "/train_state.safetensors";
  const std::string message =
      input_error({"dlfs", "train", "--resume", state, "--batch-size", "16"});
  EXPECT_NE(message.find("--batch-size 16 differs from the run in " + state + " (8)"),
            std::string::npos)
      << message;
  // The run did not give --optimizer: it used the declared default, and the message says so.
  EXPECT_NE(
      input_error({"dlfs", "train", "--resume", state, "--optimizer", "sgd"})
          .find("--optimizer sgd differs from the run in " + state + " (adam, the default then)"),
      std::string::npos);
  EXPECT_NE(input_error({"dlfs", "train", "--resume", state, "--init-from", state})
                .find("--init-from and --resume exclude each other"),
            std::string::npos);
}

TEST(TrainResume, ExplainsThatAWeightsFileIsNotATrainingState) {
  const std::string weights = finished_run() + "/model.safetensors";
  const std::string message = input_error({"dlfs", "train", "--resume", weights});
  EXPECT_NE(message.find(weights + " is not a training state"), std::string::npos) << message;
}

TEST(TrainResume, AFinishedRunIsOnlyTestedAgain) {
  const std::string dir = finished_run();
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(run_in_process({"dlfs", "train", "--resume", dir + "/train_state.safetensors",
                            "--quiet", "--out", dir + "_again"}),
            0);
  const std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_NE(out.find("has finished its 3 epochs; testing it"), std::string::npos) << out;
  EXPECT_EQ(out.find("epoch 1/3"), std::string::npos) << out;
  // A new --out gets the run's metrics, as they were: no epoch ran again.
  EXPECT_EQ(read_text_file(dir + "_again/metrics.csv"), read_text_file(dir + "/metrics.csv"));
  expect_training_seconds_of_every_epoch(dir + "_again");
}

// A state saved before training_seconds was recorded resumes, and the summary says the time is
// unknown (null) rather than counting only this process's epochs.
TEST(TrainResume, AStateWithoutTrainingSecondsGivesNoneInTheSummary) {
  const std::string dir = finished_run(), old = temp_dir("old_state");
  std::filesystem::create_directories(old);
  SafetensorsContents state = load_safetensors(dir + "/train_state.safetensors");
  ASSERT_EQ(state.metadata.erase("dlfs_state_training_seconds"), 1u);
  save_safetensors(old + "/train_state.safetensors", state.tensors, state.metadata);
  // The run keeps its best weights (run_args): without them it says so and trains nothing.
  EXPECT_EQ(input_error({"dlfs", "train", "--resume", old + "/train_state.safetensors", "--quiet",
                         "--out", old + "/again"}),
            "the run in " + old + "/train_state.safetensors keeps its best weights, and " + old +
                "/best.safetensors (epoch " + state.metadata.at("dlfs_state_best_epoch") +
                ") is missing");
  std::filesystem::copy_file(dir + "/best.safetensors", old + "/best.safetensors");
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(run_in_process({"dlfs", "train", "--resume", old + "/train_state.safetensors",
                            "--quiet", "--out", old + "/again"}),
            0);
  ::testing::internal::GetCapturedStdout();
  const JsonValue summary = parse_json(read_text_file(old + "/again/summary.json"));
  ASSERT_NE(summary.find("training_seconds"), nullptr);
  EXPECT_EQ(summary.find("training_seconds")->kind, JsonValue::Kind::Null);
  EXPECT_NE(summary.find("test_accuracy"), nullptr);

  // Nor did such a state record its best epoch or --keep: the epoch is unknown (0), and the
  // last weights are tested. A fourth epoch, under the recorded best accuracy (set to 1 here),
  // does not become the best.
  ASSERT_EQ(state.metadata.erase("dlfs_state_best_epoch"), 1u);
  ASSERT_EQ(state.metadata.erase("dlfs_option.keep"), 1u);
  state.metadata["dlfs_state_best_val"] = "0x1p+0";
  const std::string older = temp_dir("older_state");
  std::filesystem::create_directories(older);
  save_safetensors(older + "/train_state.safetensors", state.tensors, state.metadata);
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(run_in_process({"dlfs", "train", "--resume", older + "/train_state.safetensors",
                            "--epochs", "4", "--quiet", "--out", older + "/again"}),
            0);
  ::testing::internal::GetCapturedStdout();
  const JsonValue last = parse_json(read_text_file(older + "/again/summary.json"));
  EXPECT_EQ(last.find("best_validation_epoch")->integer, 0);
  EXPECT_EQ(last.find("best_validation_accuracy")->number, 1.0);
  EXPECT_EQ(last.find("tested_weights")->string, "last");
}

// The default weight decay went from 0 to 0.0005 (2026-12-07). A state records the value the run
// used, given or not; one written before, which recorded only given options, ran with 0 and keeps
// it when resumed, whatever today's default.
TEST(TrainResume, AStateFromBeforeTheWeightDecayDefaultKeepsNoDecay) {
  const std::string dir = finished_run();
  SafetensorsContents state = load_safetensors(dir + "/train_state.safetensors");
  ASSERT_EQ(state.metadata.count("dlfs_option.weight-decay"), 1u);
  EXPECT_EQ(state.metadata.at("dlfs_option.weight-decay"), "0.0005");
  EXPECT_EQ(parse_json(read_text_file(dir + "/summary.json")).find("weight_decay")->number, 0.0005);

  const std::string old = temp_dir("state_before_weight_decay_default");
  std::filesystem::create_directories(old);
  state.metadata.erase("dlfs_option.weight-decay");
  save_safetensors(old + "/train_state.safetensors", state.tensors, state.metadata);
  std::filesystem::copy_file(dir + "/best.safetensors", old + "/best.safetensors");
  EXPECT_NE(input_error({"dlfs", "train", "--resume", old + "/train_state.safetensors",
                         "--weight-decay", "0.0005"})
                .find("--weight-decay 0.0005 differs from the run in " + old +
                      "/train_state.safetensors (0)"),
            std::string::npos);
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(run_in_process({"dlfs", "train", "--resume", old + "/train_state.safetensors",
                            "--epochs", "4", "--quiet", "--out", old + "/again"}),
            0);
  ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(parse_json(read_text_file(old + "/again/summary.json")).find("weight_decay")->number,
            0.0);
  EXPECT_EQ(load_safetensors(old + "/again/train_state.safetensors")
                .metadata.at("dlfs_option.weight-decay"),
            "0");
}

// Ctrl-C while a pass with no training runs (validation, the final test) is acknowledged too:
// the run stops at the next batch, says where, and leaves what continues it.
TEST(TrainResume, CtrlCDuringValidationSavesTheEpochAndResumesThere) {
  const std::string dir = temp_dir("interrupt_validation");
  const std::string log = dir + ".log";
  // ResNet-50 makes each validation batch slow enough to be interrupted part-way: one training
  // batch of 32 images, then four validation batches.
  const std::vector<std::string> args = {"train",     "--model",       "resnet50", "--data",
                                         "synthetic", "--limit-train", "160",      "--val-split",
                                         "0.8",       "--batch-size",  "32",       "--epochs",
                                         "1",         "--device",      "cpu",      "--plot",
                                         "off",       "--overwrite",   "--out",    dir};
  const pid_t pid = spawn_dlfs(args, log);
  ASSERT_TRUE(wait_until(pid, [&] {
    return read_text_file(log + ".stderr").find("validation ") != std::string::npos;
  })) << output(log);
  ::kill(pid, SIGINT);
  ASSERT_EQ(wait_for(pid), 128 + SIGINT) << output(log);
  EXPECT_NE(
      read_text_file(log).find("interrupted at epoch 1, batch 1 of 1, during validation; saved " +
                               dir + "/train_state.safetensors"),
      std::string::npos)
      << output(log);
  // The resumed run trains no batch again: it validates and tests.
  ASSERT_EQ(run_dlfs({"train", "--resume", dir + "/train_state.safetensors", "--quiet"}, log), 0)
      << output(log);
  EXPECT_NE(
      read_text_file(log).find("resuming " + dir + "/train_state.safetensors at epoch 1, batch 1"),
      std::string::npos)
      << output(log);
  EXPECT_NE(read_text_file(log).find("val loss"), std::string::npos) << output(log);
}

TEST(TrainResume, CtrlCDuringTheTestPassSaysWhereTheModelIs) {
  const std::string dir = temp_dir("interrupt_test");
  const std::string log = dir + ".log";
  const std::vector<std::string> args = {"train",     "--model",       "resnet50", "--data",
                                         "synthetic", "--limit-train", "32",       "--val-split",
                                         "0",         "--batch-size",  "32",       "--epochs",
                                         "1",         "--device",      "cpu",      "--plot",
                                         "off",       "--overwrite",   "--out",    dir};
  const pid_t pid = spawn_dlfs(args, log);
  ASSERT_TRUE(wait_until(pid, [&] {
    return read_text_file(log + ".stderr").find("test ") != std::string::npos;
  })) << output(log);
  ::kill(pid, SIGINT);
  ASSERT_EQ(wait_for(pid), 128 + SIGINT) << output(log);
  EXPECT_NE(
      read_text_file(log).find("interrupted during the test pass; the trained model is in " + dir +
                               "/model.safetensors\ntest it with: dlfs eval "
                               "--checkpoint " +
                               dir + "/model.safetensors"),
      std::string::npos)
      << output(log);
  EXPECT_TRUE(exists(dir + "/model.safetensors"));
  EXPECT_FALSE(exists(dir + "/summary.json"));  // no test figure was measured
}

}  // namespace
}  // namespace dlfs::app
