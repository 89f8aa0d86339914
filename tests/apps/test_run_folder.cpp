// Where a run writes, and what it reports when there is nothing to report: the real binary, as a
// user meets it.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "dlfs/models/safetensors.hpp"
#include "dlfs/train/epoch_commit.hpp"
#include "support/process.hpp"

namespace dlfs::app {
namespace {

using testing::dlfs_binary;
using testing::read_text_file;
using testing::run_process;

std::string scratch(const std::string& name) {
  return testing::fresh_temp_path("run_folder", name);
}

std::vector<std::string> tiny_train(const std::vector<std::string>& extra) {
  std::vector<std::string> args = {
      dlfs_binary(), "train",    "--model", "two-layer-net", "--data", "synthetic", "--limit-train",
      "200",         "--device", "cpu",     "--quiet",       "--plot", "off"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

void expect_one_line_error(const testing::ProcessResult& r, const std::string& fragment) {
  EXPECT_TRUE(r.exited) << "killed by signal " << r.signal;
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find(fragment), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(RunFolder, AnEmptyOrRootOutIsRefusedBeforeAnythingIsWritten) {
  const std::string log = scratch("refused");
  expect_one_line_error(run_process(tiny_train({"--out", ""}), log),
                        "dlfs train: --out is empty; name the folder for the results");
  expect_one_line_error(run_process(tiny_train({"--out", "/"}), log),
                        "--out / is the root directory");
  expect_one_line_error(run_process(tiny_train({"--out", "/tmp/.."}), log),
                        "--out /tmp/.. is the root directory");
  EXPECT_FALSE(std::filesystem::exists("/metrics.csv"));
  expect_one_line_error(
      run_process({dlfs_binary(), "experiment", "optimizer-paths", "--out", ""}, log),
      "dlfs experiment: --out is empty");
  EXPECT_FALSE(std::filesystem::exists("/optimizer-paths.json"));
}

TEST(RunFolder, AFileWhereTheFolderShouldBeIsNamed) {
  const std::string file = scratch("a_file");
  std::ofstream(file) << "not a folder\n";
  expect_one_line_error(run_process(tiny_train({"--out", file}), file + "-log"),
                        "--out " + file + ": cannot create the folder");
}

TEST(RunFolder, WithoutAValidationSplitNothingPretendsToBeMeasured) {
  const std::string out = scratch("no_validation");
  const auto r =
      run_process(tiny_train({"--val-split", "0", "--epochs", "1", "--out", out}), out + "-log");
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.out << r.err;
  EXPECT_NE(r.out.find("val n/a (--val-split 0)"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("val loss 0.0000"), std::string::npos) << r.out;
  const std::string metrics = read_text_file(out + "/metrics.csv");
  const std::string row = metrics.substr(metrics.find('\n') + 1);
  EXPECT_EQ(row.substr(0, 2), "1,");
  EXPECT_NE(row.find(",n/a,n/a,"), std::string::npos) << metrics;
  // One epoch, said so.
  EXPECT_NE(r.out.find(", 1 epoch\n"), std::string::npos) << r.out;
}

// ---- Another run's results are never replaced or mixed without --overwrite ----

std::string bytes_of(const std::string& path) {
  return read_text_file(path);
}

TEST(RunFolder, ASecondRunIntoAFinishedRunsFolderIsRefusedAndTheResultsStay) {
  const std::string out = scratch("second_run");
  auto r = run_process(tiny_train({"--epochs", "1", "--out", out}), out + "-log");
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.out << r.err;
  const std::string model = bytes_of(out + "/model.safetensors");
  const std::string metrics = bytes_of(out + "/metrics.csv");
  // Another model, another seed: either would have replaced the first run's files.
  r = run_process({dlfs_binary(), "train", "--model", "mlp", "--data", "synthetic", "--limit-train",
                   "200", "--epochs", "1", "--quiet", "--plot", "off", "--out", out},
                  out + "-log");
  expect_one_line_error(r, "dlfs train: --out " + out +
                               " holds the results of an earlier run (metrics.csv, summary.json, "
                               "model.safetensors, train_state.safetensors); pass --overwrite to "
                               "replace them, or choose another --out");
  EXPECT_EQ(bytes_of(out + "/model.safetensors"), model);
  EXPECT_EQ(bytes_of(out + "/metrics.csv"), metrics);
  // --overwrite replaces them: the folder then holds the second run only.
  r = run_process(tiny_train({"--epochs", "2", "--seed", "5", "--overwrite", "--out", out}),
                  out + "-log");
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.out << r.err;
  EXPECT_NE(bytes_of(out + "/model.safetensors"), model);
  const std::string rewritten = bytes_of(out + "/metrics.csv");
  EXPECT_EQ(std::count(rewritten.begin(), rewritten.end(), '\n'), 3) << rewritten;
}

TEST(RunFolder, AnUnfinishedRunIsNamedWithTheCommandThatContinuesIt) {
  const std::string out = scratch("unfinished");
  auto r = run_process(tiny_train({"--epochs", "1", "--out", out}), out + "-log");
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.out << r.err;
  std::filesystem::remove(out + "/summary.json");  // as a run stopped before its end leaves it
  r = run_process(tiny_train({"--epochs", "1", "--out", out}), out + "-log");
  expect_one_line_error(
      r, "--out " + out + " holds an unfinished run; continue it with: dlfs train --resume " + out +
             "/train_state.safetensors (or pass --overwrite to replace it)");
  // The command it names works, in the same folder.
  r = run_process({dlfs_binary(), "train", "--resume", out + "/train_state.safetensors", "--epochs",
                   "2", "--quiet", "--plot", "off"},
                  out + "-log");
  EXPECT_TRUE(r.exited && r.exit_code == 0) << r.out << r.err;
}

TEST(RunFolder, WithoutOutEachRunTakesTheNextFreeFolder) {
  const std::string cwd = scratch("default_out");
  std::filesystem::create_directories(cwd);
  std::vector<std::string> args = tiny_train({"--epochs", "1"});
  const std::string log = cwd + "/log";
  // The process runs in `cwd`: posix_spawn has no chdir, so a shell does it.
  const std::string command = "cd '" + cwd + "' && exec " + [&] {
    std::string joined;
    for (const auto& a : args) joined += "'" + a + "' ";
    return joined;
  }();
  for (int run = 0; run < 3; ++run) {
    const auto r = run_process({"/bin/sh", "-c", command}, log);
    ASSERT_TRUE(r.exited && r.exit_code == 0) << r.out << r.err;
  }
  for (const std::string folder : {"two-layer-net", "two-layer-net-2", "two-layer-net-3"})
    EXPECT_TRUE(std::filesystem::exists(cwd + "/runs/" + folder + "/model.safetensors")) << folder;
}

// ---- An epoch's files change as one set: a full disk or a kill leaves no mix ----

struct EpochSet {
  std::int64_t metrics_rows = -1, model_epoch = -1, state_epoch = -1;
};

EpochSet epoch_set(const std::string& out) {
  EpochSet set;
  const std::string metrics = read_text_file(out + "/metrics.csv");
  set.metrics_rows = std::count(metrics.begin(), metrics.end(), '\n') - 1;
  set.model_epoch =
      std::stoll(load_safetensors(out + "/model.safetensors").metadata.at("dlfs_epoch"));
  set.state_epoch = std::stoll(
      load_safetensors(out + "/train_state.safetensors").metadata.at("dlfs_state_epoch"));
  return set;
}

void expect_whole_set(const std::string& out, std::int64_t epoch) {
  const EpochSet set = epoch_set(out);
  EXPECT_EQ(set.metrics_rows, epoch);
  EXPECT_EQ(set.model_epoch, epoch);
  EXPECT_EQ(set.state_epoch, epoch);
  for (const auto& entry : std::filesystem::directory_iterator(out)) {
    const std::string name = entry.path().filename().string();
    EXPECT_EQ(name.find(".next"), std::string::npos) << name;
    EXPECT_NE(name, train::kEpochCommitJournal);
  }
}

using testing::ScopedEnvironment;

TEST(RunFolder, AFullDiskDuringAnEpochsFilesLeavesThePreviousEpochsWholeSet) {
  // Each file of the set in turn fails to write in epoch 3, as on a full disk.
  for (const std::string file : {"model.safetensors", "train_state.safetensors", "metrics.csv"}) {
    SCOPED_TRACE(file);
    const std::string out = scratch("full_disk");
    const std::string spec = "3:" + file;
    ScopedEnvironment fail("DLFS_TEST_FAIL_EPOCH_WRITE", spec.c_str());
    const auto r = run_process(tiny_train({"--epochs", "4", "--out", out}), out + "-log");
    EXPECT_TRUE(r.exited && r.exit_code == 1) << r.out << r.err;
    EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
    expect_whole_set(out, 2);
  }
}

TEST(RunFolder, AKillBetweenTheRenamesIsCompletedBeforeTheFolderIsRead) {
  const std::string out = scratch("kill_in_commit");
  {
    ScopedEnvironment die("DLFS_TEST_KILL_IN_EPOCH_COMMIT", "2");
    const auto r = run_process(tiny_train({"--epochs", "3", "--out", out}), out + "-log");
    ASSERT_EQ(r.signal, SIGKILL) << r.out << r.err;
  }
  // Killed after the first rename of epoch 2: the journal says the set is decided.
  EXPECT_TRUE(std::filesystem::exists(out + "/" + train::kEpochCommitJournal));
  EXPECT_EQ(epoch_set(out).model_epoch, 2);
  EXPECT_EQ(epoch_set(out).metrics_rows, 1);
  // Resuming reads the folder only after finishing the commit: epoch 2 whole, then epoch 3.
  const auto r = run_process({dlfs_binary(), "train", "--resume", out + "/train_state.safetensors",
                              "--quiet", "--plot", "off"},
                             out + "-log");
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.out << r.err;
  EXPECT_NE(r.out.find("resuming " + out + "/train_state.safetensors at epoch 3, batch 0"),
            std::string::npos)
      << r.out;
  expect_whole_set(out, 3);
}

}  // namespace
}  // namespace dlfs::app
