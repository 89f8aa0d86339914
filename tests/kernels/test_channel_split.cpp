#include <gtest/gtest.h>

#include "dlfs/kernels/channel_split.hpp"

namespace dlfs::kernels {
namespace {

TEST(ChannelSplit, RunsCoverEveryValueOnceAndNoneIsEmpty) {
  for (std::int64_t channels : {1, 2, 3, 63, 64, 100, 1023, 1024, 5000}) {
    for (std::int64_t m : {0, 1, 2, 4095, 4096, 4097, 8193, 12544, 200704, 1 << 22, 123456789}) {
      const ChannelSplit s = channel_split(channels, m);
      SCOPED_TRACE(std::to_string(channels) + " channels of " + std::to_string(m));
      ASSERT_GE(s.splits, 1);
      EXPECT_GE(s.splits * s.per_split, m);  // every value in some run
      if (m > 0) {
        EXPECT_LT((s.splits - 1) * s.per_split, m);  // the last run has values
      }
      if (s.splits > 1) {
        EXPECT_GE(m - (s.splits - 1) * s.per_split, kMinValuesPerSplit / 2);  // the last one too
        EXPECT_GE(s.per_split, kMinValuesPerSplit);  // no run too small to pay off
        EXPECT_LE(channels * (s.splits - 1), kChannelSplitTargetBlocks);
      }
    }
  }
}

TEST(ChannelSplit, FillsALargeGpuForFewChannels) {
  // ResNet's first stage (64 channels of 64 x 56 x 56): 16 runs each, 1024 blocks.
  EXPECT_EQ(channel_split(64, 64 * 56 * 56).splits, 16);
  EXPECT_EQ(channel_split(64, 64 * 56 * 56).per_split, 12544);
  // Many channels or few values: one block per channel, as before.
  EXPECT_EQ(channel_split(1024, 1 << 20).splits, 1);
  EXPECT_EQ(channel_split(4096, 100).splits, 1);
  EXPECT_EQ(channel_split(3, 8191).splits, 1);
  EXPECT_EQ(channel_split(3, 8192).splits, 2);
}

}  // namespace
}  // namespace dlfs::kernels
