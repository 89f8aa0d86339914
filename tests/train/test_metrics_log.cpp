#include <gtest/gtest.h>

#include <string>

#include "dlfs/runtime/error.hpp"
#include "dlfs/train/metrics_log.hpp"
#include "support/app_testing.hpp"

namespace dlfs::train {
namespace {

using testing::fresh_temp_path;
using testing::read_text_file;

constexpr const char* kHeader =
    "epoch,train_loss,train_accuracy,val_loss,val_accuracy,learning_rate,images_per_second,"
    "seconds\n";

TEST(MetricsLog, WritesOneRowPerEpochAndNaWithoutValidation) {
  const std::string path = fresh_temp_path("metrics_log", "new.csv");
  MetricsLog log(path, false, 0);
  log.write(path);
  EXPECT_EQ(read_text_file(path), kHeader);
  log.append({1, 0.5, 0.75, 0.625, 0.8, 0.001, 1234.5, 2.25});
  log.append({2, 0.25, 0.875, std::nullopt, std::nullopt, 0.0005, 1000, 2});
  log.write(path);
  EXPECT_EQ(read_text_file(path), std::string(kHeader) +
                                      "1,0.5,0.75,0.625,0.8,0.001,1234.5,2.25\n"
                                      "2,0.25,0.875,n/a,n/a,0.0005,1000,2\n");
}

TEST(MetricsLog, ResumingKeepsTheFinishedEpochsOnly) {
  const std::string path = fresh_temp_path("metrics_log", "resume.csv");
  {
    MetricsLog log(path, false, 0);
    for (int epoch = 1; epoch <= 3; ++epoch) log.append({epoch, 1.0, 0.5, 1.0, 0.5, 0.1, 10, 1});
    log.write(path);
  }
  MetricsLog resumed(path, true, 2);  // epoch 3 is about to be redone
  EXPECT_EQ(resumed.rows(), 2u);
  resumed.append({3, 0.5, 0.9, 0.5, 0.9, 0.1, 10, 1});
  resumed.write(path);
  EXPECT_EQ(read_text_file(path), std::string(kHeader) +
                                      "1,1,0.5,1,0.5,0.1,10,1\n"
                                      "2,1,0.5,1,0.5,0.1,10,1\n"
                                      "3,0.5,0.9,0.5,0.9,0.1,10,1\n");
  // A new (not resumed) run starts with no rows, whatever the file holds.
  EXPECT_EQ(MetricsLog(path, false, 0).rows(), 0u);
}

TEST(MetricsLog, NamesTheFileItCannotWrite) {
  MetricsLog log("/nonexistent-folder/metrics.csv", false, 0);
  try {
    log.write("/nonexistent-folder/metrics.csv");
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-folder/metrics.csv"), std::string::npos);
  }
}

}  // namespace
}  // namespace dlfs::train
