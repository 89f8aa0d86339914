#pragma once
// Device helpers shared by the pooling kernels: which outputs' windows cover an input pixel.
#include <cstdint>

namespace dlfs::kernels::cuda_detail {

// The outputs [begin, end) along one axis whose windows (size `kernel`, step `stride`, starting
// at o * stride - pad) contain input coordinate `i`.
struct CoveringRange {
  std::int64_t begin, end;
};

__device__ inline CoveringRange covering_outputs(std::int64_t i, int kernel, int stride, int pad,
                                                 std::int64_t out_size) {
  const std::int64_t shifted = i + pad;  // coordinate in the padded input
  const std::int64_t begin = shifted < kernel ? 0 : (shifted - kernel) / stride + 1;
  std::int64_t end = shifted / stride + 1;
  if (end > out_size) end = out_size;
  return {begin, end};
}

}  // namespace dlfs::kernels::cuda_detail
