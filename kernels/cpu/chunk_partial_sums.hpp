#pragma once
// Weight gradients summed over chunks of a batch. Each chunk writes its own dW partial (chunk 0
// straight into dW) and the partials are added in chunk order, so dW's bits depend on the shapes
// only, not on which thread ran which chunk. Both CPU convolution paths (per-image im2col + GEMM
// and oneDNN) follow this one rule, under one memory cap.
#include <algorithm>
#include <cstdint>

namespace dlfs::kernels::cpu {

// The partials of one layer stay under this: layers with large weights (ResNet-18's last stage,
// VGG at 224x224: 9.4 MB each) take fewer chunks.
constexpr std::int64_t kMaxPartialWeightGradBytes = std::int64_t{32} << 20;

// `most` chunks, halved while their partials would pass the cap, but never fewer than `fewest`.
// Halving keeps power-of-two counts, which load 2 and 4 threads evenly. A function of the shapes
// only, like everything that decides the chunks.
inline std::int64_t chunks_within_partial_cap(std::int64_t most, std::int64_t fewest,
                                              std::int64_t weight_bytes) {
  std::int64_t chunks = most;
  while (chunks > fewest && chunks * weight_bytes > kMaxPartialWeightGradBytes) chunks /= 2;
  return std::max(chunks, std::min(most, fewest));
}

// dw[i] += others[0][i] + others[1][i] + ..., in that order: dw holds chunk 0's partial, `others`
// the following chunks' partials of `size` elements each.
template <typename T>
void add_partials_in_chunk_order(T* dw, const T* others, std::int64_t count, std::int64_t size) {
  if (count == 0) return;
#pragma omp parallel for simd schedule(static) if (size >= 65536)
  for (std::int64_t i = 0; i < size; ++i) {
    T total = dw[i];
    for (std::int64_t chunk = 0; chunk < count; ++chunk) total += others[chunk * size + i];
    dw[i] = total;
  }
}

}  // namespace dlfs::kernels::cpu
