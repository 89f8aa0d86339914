// Learning curves: `dlfs train` draws RUN_DIR/curves.png after every epoch and at the end, an
// interrupted run keeps its picture, `dlfs plot` overlays runs, and training goes on without
// matplotlib. Runs the real binary (tests/support/process.hpp).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "dlfs/apps/python_scripts.hpp"
#include "dlfs/runtime/json.hpp"
#include "support/process.hpp"

namespace dlfs::app {
namespace {

using testing::dlfs_binary;
using testing::read_text_file;
using testing::run_process;

std::string scratch(const std::string& name) {
  return testing::fresh_temp_path("plot", name);
}

std::vector<std::string> train_args(const std::string& out, const std::string& optimizer,
                                    const std::string& epochs) {
  return {dlfs_binary(),   "train",       "--model",  "two-layer-net", "--data",  "synthetic",
          "--limit-train", "300",         "--epochs", epochs,          "--quiet", "--device",
          "cpu",           "--optimizer", optimizer,  "--out",         out};
}

// Width and height from a PNG's IHDR chunk; {0, 0} unless the file is a PNG.
std::pair<std::uint32_t, std::uint32_t> png_size(const std::string& path) {
  const std::string bytes = read_text_file(path);
  if (bytes.size() < 24 || bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0 ||
      bytes.compare(12, 4, "IHDR") != 0)
    return {0, 0};
  const auto be32 = [&](std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) v = v << 8 | static_cast<unsigned char>(bytes[at + i]);
    return v;
  };
  return {be32(16), be32(20)};
}

#define REQUIRE_MATPLOTLIB()                                                                   \
  do {                                                                                         \
    if (python_with_matplotlib().empty())                                                      \
      GTEST_SKIP() << "python3 with matplotlib is not installed (Debian: python3-matplotlib)"; \
  } while (0)

TEST(TrainCurves, EveryRunDrawsItsCurves) {
  REQUIRE_MATPLOTLIB();
  const std::string out = scratch("two_epochs");
  const auto r = run_process(train_args(out, "adam", "2"), out + "-log");
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.out << r.err;
  EXPECT_NE(r.out.find("curves.png}"), std::string::npos) << r.out;
  EXPECT_EQ(png_size(out + "/curves.png"), std::make_pair(1200u, 400u));
  const JsonValue sidecar = parse_json(read_text_file(out + "/curves.json"));
  const std::string title = sidecar.find("title")->string;
  for (const char* part : {"two-layer-net", "Adam", "seed 0", "test accuracy 0."})
    EXPECT_NE(title.find(part), std::string::npos) << title;
  EXPECT_EQ(sidecar.find("epochs")->integer, 2);
  const auto& legend = sidecar.find("legend")->array;
  ASSERT_EQ(legend.size(), 4u);
  EXPECT_EQ(legend[0].string, "loss: training");
  EXPECT_EQ(legend[1].string, "loss: validation");
}

TEST(TrainCurves, PlotOffDrawsNothing) {
  const std::string out = scratch("plot_off");
  std::vector<std::string> args = train_args(out, "sgd", "1");
  args.insert(args.end(), {"--plot", "off"});
  const auto r = run_process(args, out + "-log");
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.out << r.err;
  EXPECT_FALSE(std::filesystem::exists(out + "/curves.png"));
  EXPECT_TRUE(std::filesystem::exists(out + "/metrics.csv"));
}

TEST(TrainCurves, AnInterruptedRunHasItsPicture) {
  REQUIRE_MATPLOTLIB();
  const std::string out = scratch("interrupted");
  std::filesystem::create_directories(out);
  const pid_t pid = testing::spawn_process(train_args(out, "sgd", "500"), out + "/../i.stdout",
                                           out + "/../i.stderr");
  ASSERT_GT(pid, 0);
  // Wait for two finished epochs (two metrics rows), then Ctrl-C.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    const std::string metrics = read_text_file(out + "/metrics.csv");
    if (std::count(metrics.begin(), metrics.end(), '\n') >= 3) break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "no epoch finished in 60 s";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid, SIGINT);
  const auto r = testing::wait_process(pid, std::chrono::seconds(60));
  ASSERT_TRUE(r.exited) << "killed by signal " << r.signal;
  EXPECT_EQ(r.exit_code, 130);
  EXPECT_EQ(png_size(out + "/curves.png"), std::make_pair(1200u, 400u));
  const JsonValue sidecar = parse_json(read_text_file(out + "/curves.json"));
  EXPECT_GE(sidecar.find("epochs")->integer, 1);
  EXPECT_NE(sidecar.find("title")->string.find("epoch "), std::string::npos);
  // No half-written picture is left behind.
  for (const auto& entry : std::filesystem::directory_iterator(out))
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos) << entry.path();
}

TEST(PlotCommand, OverlaysRunsAndNamesEachInTheLegend) {
  REQUIRE_MATPLOTLIB();
  const std::string sgd = scratch("sgd"), adam = scratch("adam");
  std::vector<std::string> off = {"--plot", "off"};
  for (auto [dir, optimizer] : {std::pair{sgd, "sgd"}, std::pair{adam, "adam"}}) {
    std::vector<std::string> args = train_args(dir, optimizer, "2");
    args.insert(args.end(), off.begin(), off.end());
    const auto r = run_process(args, dir + "-log");
    ASSERT_TRUE(r.exited && r.exit_code == 0) << r.out << r.err;
  }
  const std::string picture = scratch("overlay") + ".png";
  const auto r =
      run_process({dlfs_binary(), "plot", sgd, adam, "--out", picture, "--metric", "train_loss"},
                  picture + "-log");
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.out << r.err;
  EXPECT_EQ(png_size(picture), std::make_pair(900u, 500u));
  const JsonValue sidecar = parse_json(read_text_file(picture + ".json"));
  EXPECT_EQ(sidecar.find("metric")->string, "train_loss");
  const auto& legend = sidecar.find("legend")->array;
  ASSERT_EQ(legend.size(), 2u);
  // Only the settings that differ name a run.
  EXPECT_EQ(legend[0].string, "optimizer SGD, learning rate 0.01");
  EXPECT_EQ(legend[1].string, "optimizer Adam, learning rate 0.003");

  const auto table = run_process({dlfs_binary(), "plot", "--list", sgd, adam}, picture + "-list");
  ASSERT_TRUE(table.exited && table.exit_code == 0) << table.err;
  EXPECT_NE(table.out.find(sgd), std::string::npos) << table.out;
  EXPECT_NE(table.out.find(adam), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("test acc"), std::string::npos) << table.out;
  // The last column: the run's training seconds, metrics.csv's seconds summed.
  for (const std::string& run : {sgd, adam}) {
    std::istringstream metrics(read_text_file(run + "/metrics.csv"));
    std::string line;
    std::getline(metrics, line);
    double seconds = 0.0;
    while (std::getline(metrics, line)) seconds += std::stod(line.substr(line.rfind(',') + 1));
    char expected[32];
    std::snprintf(expected, sizeof expected, "%.1f\n", seconds);
    const auto row = table.out.find(run + " ");
    ASSERT_NE(row, std::string::npos) << table.out;
    EXPECT_EQ(table.out.substr(table.out.find('\n', row) - std::strlen(expected) + 1,
                               std::strlen(expected)),
              expected)
        << table.out;
  }
}

TEST(PlotCommand, ABadRunFolderOrMetricIsOneSentence) {
  const std::string missing = scratch("missing");
  auto r = run_process({dlfs_binary(), "plot", missing}, missing + "-log");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("run folder " + missing + " does not exist"), std::string::npos) << r.err;
  const std::string empty = scratch("empty");
  std::filesystem::create_directories(empty);
  r = run_process({dlfs_binary(), "plot", "--list", empty}, empty + "-log");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no metrics.csv"), std::string::npos) << r.err;
  r = run_process({dlfs_binary(), "plot", empty, "--metric", "speed"}, empty + "-log2");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--metric"), std::string::npos) << r.err;
}

TEST(TrainCurves, WithoutMatplotlibTrainingSaysSoOnceAndGoesOn) {
  // A matplotlib that cannot be imported, first on every python3's path.
  const std::string hide = scratch("hide_matplotlib");
  std::filesystem::create_directories(hide + "/matplotlib");
  std::ofstream(hide + "/matplotlib/__init__.py") << "raise ImportError('hidden by the test')\n";
  const std::string out = scratch("no_matplotlib");
  ::setenv("PYTHONPATH", hide.c_str(), 1);
  const auto r = run_process(train_args(out, "sgd", "2"), out + "-log");
  ::unsetenv("PYTHONPATH");
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.out << r.err;
  const std::string note = "curves.png is not drawn: python3 with matplotlib is not available";
  const std::size_t first = r.out.find(note);
  EXPECT_NE(first, std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(note, first + 1), std::string::npos) << "said more than once:\n" << r.out;
  EXPECT_FALSE(std::filesystem::exists(out + "/curves.png"));
  EXPECT_TRUE(std::filesystem::exists(out + "/summary.json"));
}

}  // namespace
}  // namespace dlfs::app
