#pragma once
// How the CUDA per-channel reductions of an [N, C, S] tensor (the bias gradient, the batch-norm
// statistics and the batch-norm backward sums) spread a channel's M = N * S values over blocks.
// One block per channel leaves most of a GPU idle when there are few channels (64 blocks on a
// 132-SM GPU for 64 channels), so a channel is cut into `splits` contiguous runs of `per_split`
// values (the last may be shorter), one block each; a second step combines each channel's
// partial results in a fixed order. The split depends on C and M alone, never on the device, so
// a result is the same on every run and on every GPU.
//
// The callers (kernels/bias.cpp, kernels/batch_norm.cpp) size the partials workspace from it.
#include <cstdint>

namespace dlfs::kernels {

// Blocks the split aims at in all (about 8 blocks of 256 threads on each of 132 SMs), and the
// fewest values a split may hold (so that a block's work outweighs its launch and its
// share of the combining step).
constexpr std::int64_t kChannelSplitTargetBlocks = 1024;
constexpr std::int64_t kMinValuesPerSplit = 4096;

struct ChannelSplit {
  std::int64_t splits = 1;     // blocks per channel
  std::int64_t per_split = 0;  // values of a channel each block sums (its last block: the rest)
};

constexpr ChannelSplit channel_split(std::int64_t channels, std::int64_t per_channel) {
  const std::int64_t wanted =
      channels > 0 ? (kChannelSplitTargetBlocks + channels - 1) / channels : 1;
  const std::int64_t most = per_channel / kMinValuesPerSplit;  // runs of kMinValuesPerSplit or more
  std::int64_t splits = wanted < most ? wanted : most;
  if (splits < 1) splits = 1;
  const std::int64_t per_split = (per_channel + splits - 1) / splits;
  // Rounding per_split up can leave the last splits empty: count only those with values.
  if (per_split > 0) splits = (per_channel + per_split - 1) / per_split;
  return {splits < 1 ? 1 : splits, per_split};
}

}  // namespace dlfs::kernels
