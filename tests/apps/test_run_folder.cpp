// Where a run writes, and what it reports when there is nothing to report: the real binary, as a
// user meets it.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

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

}  // namespace
}  // namespace dlfs::app
