// train/progress.hpp: the terminal line never reaches the terminal's last column (a wrapped line
// leaves a trail of copies at every redraw).
#include <gtest/gtest.h>

#include "dlfs/train/progress.hpp"

namespace dlfs::train {
namespace {

TEST(ProgressBar, TheLineFitsEveryTerminalWidth) {
  const ProgressBar bar("epoch 12/100", 1000, true);
  for (int columns : {200, 100, 80, 50, 40, 20, 5, 1}) {
    const std::string line = bar.line(500, 0.123456, 12345.6, 42.0, columns);
    EXPECT_LT(static_cast<int>(line.size()), std::max(columns, 1)) << columns << ": " << line;
  }
}

TEST(ProgressBar, TheBarShrinksBeforeTheNumbersGo) {
  const ProgressBar bar("epoch 1/5", 100, true);
  const std::string wide = bar.line(50, 0.5, 1000, 10, 120);
  EXPECT_NE(wide.find("[############............]"), std::string::npos) << wide;
  EXPECT_NE(wide.find("50/100 loss 0.5000 1000 img/s ETA 10s"), std::string::npos) << wide;
  // At 60 columns the numbers still fit whole, with a shorter bar.
  const std::string narrow = bar.line(50, 0.5, 1000, 10, 60);
  EXPECT_NE(narrow.find("50/100 loss 0.5000 1000 img/s ETA 10s"), std::string::npos) << narrow;
  EXPECT_EQ(narrow.find("[############............]"), std::string::npos) << narrow;
  // At 50 there is no room for a bar: none is drawn.
  EXPECT_EQ(bar.line(50, 0.5, 1000, 10, 50).find('['), std::string::npos);
}

TEST(DurationText, SecondsThenMinutesThenHours) {
  EXPECT_EQ(duration_text(0), "0s");
  EXPECT_EQ(duration_text(-3), "0s");
  EXPECT_EQ(duration_text(42.4), "42s");
  EXPECT_EQ(duration_text(59.6), "1m 00s");
  EXPECT_EQ(duration_text(425), "7m 05s");
  EXPECT_EQ(duration_text(3599), "59m 59s");
  EXPECT_EQ(duration_text(3600), "1h 00m");
  EXPECT_EQ(duration_text(7409), "2h 03m");
  EXPECT_EQ(duration_text(7411), "2h 04m");
  EXPECT_EQ(duration_text(360000), "100h 00m");
}

TEST(RunSecondsLeft, MeanEpochTimesEpochsLeftCountingAResumedEpochsPartOnly) {
  // Three whole epochs in 300 s: 100 s each, 7 to go.
  EXPECT_DOUBLE_EQ(run_seconds_left(300, 3, 0.0, 7), 700);
  // Resumed 3/4 of the way through its first epoch: 25 s of it and one more epoch of 100 s
  // are 1.25 epochs in 125 s, still 100 s each (counted whole: 62.5 s, half the truth).
  EXPECT_DOUBLE_EQ(run_seconds_left(125, 2, 0.75, 10), 1000);
  EXPECT_DOUBLE_EQ(run_seconds_left(25, 1, 0.75, 4), 400);
  // Nothing left, nothing run, or a first epoch resumed at its end: no estimate.
  EXPECT_EQ(run_seconds_left(300, 3, 0.0, 0), 0.0);
  EXPECT_EQ(run_seconds_left(0, 0, 0.0, 5), 0.0);
  EXPECT_EQ(run_seconds_left(2, 1, 1.0, 5), 0.0);
}

TEST(ProgressBar, LongEtasReadAsMinutesAndHours) {
  const ProgressBar bar("epoch 1/80", 844, true);
  EXPECT_NE(bar.line(10, 0.5, 100, 425, 120).find("ETA 7m 05s"), std::string::npos);
  EXPECT_NE(bar.line(10, 0.5, 100, 7409, 120).find("ETA 2h 03m"), std::string::npos);
}

}  // namespace
}  // namespace dlfs::train
