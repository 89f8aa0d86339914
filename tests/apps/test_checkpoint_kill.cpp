// kill -9 at random moments during `dlfs train`: whatever is left in the output directory is a
// whole checkpoint (the old one or the new one), never a broken file.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "dlfs/models/checkpoint.hpp"
#include "dlfs/models/safetensors.hpp"
#include "dlfs/train/epoch_commit.hpp"
#include "support/app_testing.hpp"
#include "support/process.hpp"

namespace dlfs {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using dlfs::testing::dlfs_binary;

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

TEST(CheckpointKill, KillNineAtRandomMomentsLeavesOnlyWholeCheckpoints) {
  const std::string dir = ::testing::TempDir() + "dlfs_kill_" + std::to_string(::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  // Tiny epochs (180 images, 4 batches) so a checkpoint is written every few milliseconds and
  // the kills land inside writes as well as between them. One OpenMP thread: the test runs
  // beside others on small machines. No plot: its helper process outlives a kill -9 of dlfs and
  // went on writing curves.png into the directory while the test read and removed it.
  const std::vector<std::string> train = {
      dlfs_binary(), "train",         "--model", "two-layer-net", "--data", "synthetic", "--epochs",
      "1000000",     "--limit-train", "200",     "--batch-size",  "50",     "--device",  "cpu",
      "--quiet",     "--overwrite",   "--plot",  "off",           "--out",  dir};
  ::setenv("OMP_NUM_THREADS", "1", 0);
  std::mt19937 rng(20240607);  // fixed: the same kill times on every run
  // Each kill comes at a random moment after the run has saved its first epoch (its stdout says
  // "epoch 2/" once that save is done): waiting for that, rather than a fixed time from the
  // start, keeps a loaded machine's slow start from turning rounds into kills before any save.
  std::uniform_int_distribution<int> delay_ms(0, 300);
  int kills = 0, rounds_with_checkpoint = 0, checkpoints_loaded = 0;
  for (int round = 0; round < 10; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const pid_t pid = testing::spawn_process(train, dir + ".stdout", "/dev/null");
    ASSERT_GT(pid, 0);
    const auto give_up = std::chrono::steady_clock::now() + 60s;
    while (testing::read_text_file(dir + ".stdout").find("epoch 2/") == std::string::npos &&
           std::chrono::steady_clock::now() < give_up)
      std::this_thread::sleep_for(5ms);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    ASSERT_EQ(::kill(pid, SIGKILL), 0) << "dlfs train ended before it was killed";
    const testing::ProcessResult r = testing::wait_process(pid, 10s);
    ASSERT_EQ(r.signal, SIGKILL);
    ++kills;

    bool found_model = false;
    for (const auto& entry : fs::directory_iterator(dir)) {
      const std::string path = entry.path().string();
      if (!ends_with(path, ".safetensors")) continue;
      // Every tensor of the file reads back: a broken file is an InputError here.
      try {
        const SafetensorsContents c = load_safetensors(path);
        EXPECT_FALSE(c.tensors.empty()) << path;
        if (entry.path().filename() == "model.safetensors") {
          found_model = true;
          EXPECT_EQ(load_model(path).name, "two-layer-net");
        }
      } catch (const std::exception& e) {
        ADD_FAILURE() << "a broken checkpoint was left after kill -9: " << e.what();
      }
      ++checkpoints_loaded;
    }
    rounds_with_checkpoint += found_model;
    // The epoch's files are one set: after the next reader completes (or discards) a commit the
    // kill cut short, metrics.csv, the model and the training state all speak of one epoch.
    train::recover_epoch_commit(dir);
    if (found_model) {
      const std::string metrics = testing::read_text_file(dir + "/metrics.csv");
      const auto rows = std::count(metrics.begin(), metrics.end(), '\n') - 1;
      EXPECT_EQ(std::to_string(rows),
                load_safetensors(dir + "/model.safetensors").metadata.at("dlfs_epoch"));
      EXPECT_EQ(std::to_string(rows),
                load_safetensors(dir + "/train_state.safetensors").metadata.at("dlfs_state_epoch"));
    }
    // A killed save leaves at most its own temporary; the next run's first save removes it.
    int temporaries = 0;
    for (const auto& entry : fs::directory_iterator(dir))
      temporaries +=
          entry.path().filename().string().find(".safetensors.tmp.") != std::string::npos;
    EXPECT_LE(temporaries, 1);
  }
  EXPECT_EQ(kills, 10);
  // Every kill came after the first save: the test really checked checkpoints each round.
  EXPECT_EQ(rounds_with_checkpoint, 10);
  EXPECT_GE(checkpoints_loaded, 10);
  fs::remove_all(dir);
  std::remove((dir + ".stdout").c_str());
}

}  // namespace
}  // namespace dlfs
