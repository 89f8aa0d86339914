// The real `dlfs` binary on command-line mistakes: the exact stderr line (one line, one
// "dlfs COMMAND: " prefix, the option named), exit status 2, and nothing left behind. Also the
// out-of-memory advice naming the command's own batch option, and quick experiments printing the
// counts they really use.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/idx_test_files.hpp"
#include "support/process.hpp"

namespace dlfs {
namespace {

namespace fs = std::filesystem;
using dlfs::testing::dlfs_binary;
using dlfs::testing::ProcessResult;

class CliErrors : public ::testing::Test {
 protected:
  std::string dir = dlfs::testing::fresh_temp_path("cli", "errors");
  void SetUp() override { fs::create_directories(dir); }
  void TearDown() override { fs::remove_all(dir); }

  ProcessResult run(std::vector<std::string> args) {
    args.insert(args.begin(), dlfs_binary());
    return testing::run_process(args, dir + "/run", std::chrono::seconds(60));
  }
  // Exit 2, nothing on stdout, and stderr exactly `line` (one line, ending in '\n').
  void expect_error(std::vector<std::string> args, const std::string& line) {
    std::string shown;
    for (const auto& a : args) shown += " " + a;
    SCOPED_TRACE("dlfs" + shown);
    const ProcessResult r = run(std::move(args));
    EXPECT_FALSE(r.timed_out);
    EXPECT_TRUE(r.exited) << "killed by signal " << r.signal;
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, line + "\n");
  }
};

TEST_F(CliErrors, EachMessageHasOnePrefix) {
  expect_error({"train", "extra"},
               "dlfs train: unexpected argument 'extra'; see dlfs train --help");
  expect_error({"train", "--frobnicate"},
               "dlfs train: unknown option '--frobnicate'; see dlfs train --help");
  expect_error({"eval"}, "dlfs eval: option --checkpoint FILE is required");
  expect_error({"eval", "--data", "synthetic", "extra"},
               "dlfs eval: unexpected argument 'extra'; see dlfs eval --help");
  expect_error({"bench", "--model", "mlp"},
               "dlfs bench: unknown option '--model'; see dlfs bench --help");
  expect_error({"models", "extra"},
               "dlfs models: unexpected argument 'extra'; see dlfs models --help");
  expect_error({"info", "--json"}, "dlfs info: unknown option '--json'; see dlfs info --help");
  expect_error({"experiment", "optimizer-paths", "--bogus"},
               "dlfs experiment: unknown option '--bogus'; see dlfs experiment optimizer-paths "
               "--help");
}

TEST_F(CliErrors, ARepeatedOptionIsAnErrorNamingItAndBothValues) {
  const std::string out = dir + "/out";
  expect_error({"train", "--epochs", "1", "--epochs", "2", "--out", out},
               "dlfs train: option --epochs is given twice (1 and 2)");
  EXPECT_FALSE(fs::exists(out));
  expect_error({"train", "--epochs=1", "--epochs", "2"},
               "dlfs train: option --epochs is given twice (1 and 2)");
  expect_error({"train", "--batch-size", "64", "--batch-size=64"},
               "dlfs train: option --batch-size is given twice (64 and 64)");
  expect_error({"train", "--quiet", "--quiet"}, "dlfs train: option --quiet is given twice");
  expect_error({"eval", "--checkpoint", "a", "--checkpoint", "b"},
               "dlfs eval: option --checkpoint is given twice (a and b)");
  expect_error({"bench", "--batch-sizes", "64", "--batch-sizes", "128"},
               "dlfs bench: option --batch-sizes is given twice (64 and 128)");
  expect_error({"plot", dir, "--metric", "val_loss", "--metric", "train_loss"},
               "dlfs plot: option --metric is given twice (val_loss and train_loss)");
  expect_error({"models", "--json", "--json"}, "dlfs models: option --json is given twice");
  expect_error({"experiment", "optimizer-paths", "--steps", "5", "--steps", "6"},
               "dlfs experiment: option --steps is given twice (5 and 6)");
}

TEST_F(CliErrors, AnEmptyListEntryIsAnErrorNamingTheOptionAndPosition) {
  expect_error({"bench", "--batch-sizes", "64,,128"},
               "dlfs bench: option --batch-sizes: entry 2 of '64,,128' is empty");
  expect_error({"bench", "--batch-sizes", "64,"},
               "dlfs bench: option --batch-sizes: entry 2 of '64,' is empty");
  expect_error({"bench", "--batch-sizes", ""}, "dlfs bench: option --batch-sizes names nothing");
  expect_error({"bench", "--models", ",mlp"},
               "dlfs bench: option --models: entry 1 of ',mlp' is empty");
  expect_error({"bench", "--models", "mlp,lenet5,,resnet20"},
               "dlfs bench: option --models: entry 3 of 'mlp,lenet5,,resnet20' is empty");
}

TEST_F(CliErrors, AResumedRunNamesTheDefaultItUsed) {
  const std::string run_dir = dir + "/run1";
  const ProcessResult trained =
      run({"train", "--model", "two-layer-net", "--data", "synthetic", "--limit-train", "200",
           "--epochs", "1", "--device", "cpu", "--quiet", "--plot", "off", "--out", run_dir});
  ASSERT_EQ(trained.exit_code, 0) << trained.out << trained.err;
  const std::string state = run_dir + "/train_state.safetensors";
  const std::string again = dir + "/again";
  expect_error({"train", "--resume", state, "--batch-size", "32", "--out", again},
               "dlfs train: --batch-size 32 differs from the run in " + state +
                   " (64, the default then); a resumed run keeps its settings");
  expect_error({"train", "--resume", state, "--pytorch-style", "--out", again},
               "dlfs train: --pytorch-style differs from the run in " + state +
                   " (off, the default then); a resumed run keeps its settings");
  EXPECT_FALSE(fs::exists(again));
  // The default itself is what the run used: no contradiction, the finished run is tested again.
  const ProcessResult same =
      run({"train", "--resume", state, "--batch-size", "64", "--out", again, "--quiet"});
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
  EXPECT_NE(same.out.find("has finished its 1 epoch; testing it"), std::string::npos) << same.out;
}

// Running out of memory is not bad input (exit 1), but the advice names the batch option of the
// command that ran. RLIMIT_AS makes the host allocation fail; one OpenBLAS thread keeps the
// library's own buffers (which it retries forever when they fail) well inside the limit.
TEST_F(CliErrors, OutOfMemoryAdviceNamesTheCommandsBatchOption) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer reserves more address space than the limit allows";
#endif
  auto limited = [&](std::int64_t kib, const std::string& arguments) {
    return testing::run_process({"/bin/sh", "-c",
                                 "ulimit -v " + std::to_string(kib) +
                                     " && OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 exec '" +
                                     dlfs_binary() + "' " + arguments},
                                dir + "/oom", std::chrono::seconds(60));
  };
  // 1,048,576 images of 28x28 floats are 3 GiB, over a 2.5 GB limit.
  const ProcessResult bench =
      limited(2500000, "bench --models mlp --batch-sizes 1048576 --device cpu --warmup 0");
  EXPECT_FALSE(bench.timed_out);
  EXPECT_EQ(bench.exit_code, 1) << bench.err;
  EXPECT_EQ(bench.err.rfind("dlfs bench: Out of memory on cpu: ", 0), 0u) << bench.err;
  EXPECT_EQ(bench.err.find('\n'), bench.err.size() - 1) << bench.err;
  EXPECT_NE(bench.err.find("OOM retries. Try smaller --batch-sizes.\n"), std::string::npos)
      << bench.err;
  EXPECT_EQ(bench.err.find("--batch-size."), std::string::npos) << bench.err;

  // VGG-11 activations for 8,000 images need about 7 GB. The limit leaves room for the
  // binary's own mappings first, which differ from build to build: the CUDA build's libraries
  // (cuBLAS, cuDNN, NCCL) take about 1.2 GB of address space before any work, and OpenBLAS's
  // start-up waits forever when its buffers find no room.
  const ProcessResult train =
      limited(2500000,
              "train --model vgg11-bn --data synthetic --limit-train 9000 --batch-size 8000 "
              "--epochs 1 --device cpu --quiet --plot off --out '" +
                  dir + "/oom-train'");
  EXPECT_FALSE(train.timed_out);
  EXPECT_EQ(train.exit_code, 1) << train.err;
  EXPECT_EQ(train.err.rfind("dlfs train: Out of memory on cpu: ", 0), 0u) << train.err;
  EXPECT_EQ(train.err.find('\n'), train.err.size() - 1) << train.err;
  EXPECT_NE(train.err.find("OOM retries. Try a smaller --batch-size.\n"), std::string::npos)
      << train.err;
}

// A tiny MNIST-format directory (random pixels), so quick experiments run without Fashion-MNIST.
void write_tiny_mnist(const std::string& path) {
  fs::create_directories(path);
  using data::testing::idx_bytes;
  using data::testing::write_raw;
  std::uint32_t state = 12345;
  for (const auto& [prefix, n] : {std::pair<std::string, std::uint32_t>{"train", 300},
                                  std::pair<std::string, std::uint32_t>{"t10k", 100}}) {
    data::testing::Bytes pixels(static_cast<std::size_t>(n) * 28 * 28), labels(n);
    for (auto& p : pixels) {
      state = state * 1664525u + 1013904223u;
      p = static_cast<std::uint8_t>(state >> 24);
    }
    for (std::uint32_t i = 0; i < n; ++i) labels[i] = static_cast<std::uint8_t>(i % 10);
    write_raw(path + "/" + prefix + "-images-idx3-ubyte", idx_bytes({n, 28, 28}, pixels));
    write_raw(path + "/" + prefix + "-labels-idx1-ubyte", idx_bytes({n}, labels));
  }
}

TEST_F(CliErrors, QuickExperimentsPrintTheCountsTheyUse) {
  const std::string data = dir + "/mnist";
  write_tiny_mnist(data);
  for (const char* name : {"optimizer-compare", "weight-init"}) {
    SCOPED_TRACE(name);
    const ProcessResult r = run({"experiment", name, "--quick", "--no-plot", "--device", "cpu",
                                 "--data", data, "--out", dir + "/" + name});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find(", 20 iterations"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("mean of last 20 "), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("2000"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("last 100"), std::string::npos) << r.out;
  }
}

}  // namespace
}  // namespace dlfs
