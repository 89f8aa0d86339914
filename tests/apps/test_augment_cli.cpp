// `dlfs train --augment` through the real binary: what a run records (summary.json, the
// checkpoints' metadata), that augmentation changes what is learned, the refusal of a bad
// value, and a run with crop, flip and erasing interrupted with SIGINT and resumed ending with the
// same model.safetensors, byte for byte, as one never interrupted.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "dlfs/models/safetensors.hpp"
#include "dlfs/runtime/json.hpp"
#include "support/process.hpp"

namespace dlfs {
namespace {

namespace fs = std::filesystem;
using testing::ProcessResult;
using testing::read_text_file;

std::vector<std::string> with_binary(std::vector<std::string> args) {
  args.insert(args.begin(), testing::dlfs_binary());
  return args;
}

class AugmentCli : public ::testing::Test {
 protected:
  std::string dir = testing::fresh_temp_path("augment", "cli");
  void SetUp() override { fs::create_directories(dir); }
  void TearDown() override { fs::remove_all(dir); }

  // The arguments of `dlfs train` on synthetic blobs with an MLP (fast: the images go through the
  // same batch iterator whatever the model), `extra` appended, writing to dir/out_name. Without
  // --quiet: its progress lines (stderr, not a terminal) say how far an epoch has gone.
  std::vector<std::string> train_args(const std::string& out_name, const std::string& images,
                                      const std::string& epochs, std::vector<std::string> extra) {
    const std::string out = dir + "/" + out_name;
    std::vector<std::string> args = {
        "train", "--model",  "mlp-dropout", "--data",       "synthetic", "--limit-train",
        images,  "--epochs", epochs,        "--batch-size", "8",         "--seed",
        "7",     "--device", "cpu",         "--plot",       "off",       "--out",
        out};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  // Runs `dlfs` with `args` (no program name) to its end.
  ProcessResult run(const std::vector<std::string>& args) {
    return testing::run_process(with_binary(args), dir + "/run", std::chrono::seconds(300));
  }
  std::string summary_augment(const std::string& out_name) {
    const JsonValue summary = parse_json(read_text_file(dir + "/" + out_name + "/summary.json"));
    const JsonValue* augment = summary.find("augment");
    return augment && augment->is_string() ? augment->string : "(missing)";
  }
  std::string metadata_augment(const std::string& path) {
    const auto metadata = load_safetensors(path).metadata;
    const auto it = metadata.find("dlfs_augment");
    return it == metadata.end() ? "(missing)" : it->second;
  }
};

TEST_F(AugmentCli, RecordsTheAugmentationAndTrainsOnAugmentedImages) {
  const ProcessResult on = run(train_args("on", "300", "1", {"--augment", "on"}));
  ASSERT_EQ(on.exit_code, 0) << on.out << on.err;
  EXPECT_EQ(summary_augment("on"), "crop:4,flip");
  EXPECT_EQ(metadata_augment(dir + "/on/model.safetensors"), "crop:4,flip");
  EXPECT_EQ(metadata_augment(dir + "/on/train_state.safetensors"), "crop:4,flip");

  const ProcessResult off = run(train_args("off", "300", "1", {}));
  ASSERT_EQ(off.exit_code, 0) << off.out << off.err;
  EXPECT_EQ(summary_augment("off"), "off");
  EXPECT_EQ(metadata_augment(dir + "/off/model.safetensors"), "off");
  // Same seed, data and batches: only the augmentation can make the weights differ.
  EXPECT_NE(read_text_file(dir + "/on/model.safetensors"),
            read_text_file(dir + "/off/model.safetensors"));

  // Erasing is recorded in its canonical text and changes the weights again.
  const ProcessResult erase = run(train_args("erase", "300", "1", {"--augment", "flip,erase:.25"}));
  ASSERT_EQ(erase.exit_code, 0) << erase.out << erase.err;
  EXPECT_EQ(summary_augment("erase"), "flip,erase:0.25");
  EXPECT_EQ(metadata_augment(dir + "/erase/model.safetensors"), "flip,erase:0.25");
  const ProcessResult flip = run(train_args("flip", "300", "1", {"--augment", "flip"}));
  ASSERT_EQ(flip.exit_code, 0) << flip.out << flip.err;
  EXPECT_NE(read_text_file(dir + "/erase/model.safetensors"),
            read_text_file(dir + "/flip/model.safetensors"));
}

TEST_F(AugmentCli, ABadValueExitsWithOneSentenceAndLeavesNothing) {
  for (const std::string bad : {"crop:0", "crop:4,crop:2", "mirror", "erase:1.5"}) {
    SCOPED_TRACE(bad);
    const ProcessResult r = run(train_args("bad", "300", "1", {"--augment", bad}));
    EXPECT_TRUE(r.exited);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "dlfs train: option --augment: '" + bad +
                         "' is not off, on (crop:4,flip) or a comma list of crop:P (P from 1 to "
                         "1024), flip and erase[:p] (p from 0.000001 to 1), each at most once, "
                         "such as crop:2,flip,erase:0.25\n");
    EXPECT_FALSE(fs::exists(dir + "/bad"));
  }
}

TEST_F(AugmentCli, InterruptedAndResumedRunEndsWithTheSameModelBytes) {
  // 3 epochs of 338 batches: the interrupt lands part-way through the second, so the resumed run
  // must skip into the epoch and still give each image its transform.
  const std::vector<std::string> augment = {"--augment", "crop:2,flip,erase"};
  const ProcessResult reference = run(train_args("reference", "3000", "3", augment));
  ASSERT_EQ(reference.exit_code, 0) << reference.out << reference.err;

  const std::string out = dir + "/interrupted", log = dir + "/interrupted.log";
  const pid_t pid = testing::spawn_process(
      with_binary(train_args("interrupted", "3000", "3", augment)), log, log + ".stderr");
  ASSERT_GT(pid, 0);
  // SIGINT once epoch 2 has done a tenth of its batches, so the run stops part-way through it.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (read_text_file(log + ".stderr").find("epoch 2/3  10%") == std::string::npos &&
         std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ::kill(pid, SIGINT);
  const ProcessResult stopped = testing::wait_process(pid, std::chrono::seconds(120));
  ASSERT_EQ(stopped.exit_code, 128 + SIGINT)
      << read_text_file(log) << read_text_file(log + ".stderr");
  const std::string stop_line = read_text_file(log);
  ASSERT_NE(stop_line.find("interrupted at epoch 2, batch "), std::string::npos) << stop_line;
  ASSERT_EQ(stop_line.find("interrupted at epoch 2, batch 338 of"), std::string::npos) << stop_line;

  // --augment comes back from the state file; a different value is refused.
  const std::string state = out + "/train_state.safetensors";
  const ProcessResult changed = run({"train", "--resume", state, "--quiet", "--augment", "flip"});
  EXPECT_EQ(changed.exit_code, 2);
  EXPECT_EQ(changed.err, "dlfs train: --augment flip differs from the run in " + state +
                             " (crop:2,flip,erase); a resumed run keeps its settings\n");
  const ProcessResult resumed = run({"train", "--resume", state, "--quiet"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  EXPECT_EQ(summary_augment("interrupted"), "crop:2,flip,erase:0.5");
  const std::string expected = read_text_file(dir + "/reference/model.safetensors");
  ASSERT_FALSE(expected.empty());
  EXPECT_TRUE(read_text_file(out + "/model.safetensors") == expected)
      << "the resumed run's weights differ from the uninterrupted run's";
}

}  // namespace
}  // namespace dlfs
