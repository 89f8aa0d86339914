#pragma once
// Short constructors for the layers model builders use, so each builder reads like its paper.
#include <memory>

#include "dlfs/layers/affine.hpp"
#include "dlfs/layers/avg_pool.hpp"
#include "dlfs/layers/batch_norm.hpp"
#include "dlfs/layers/convolution.hpp"
#include "dlfs/layers/dropout.hpp"
#include "dlfs/layers/flatten.hpp"
#include "dlfs/layers/global_avg_pool.hpp"
#include "dlfs/layers/max_pool.hpp"
#include "dlfs/layers/relu.hpp"

namespace dlfs::make {

inline LayerPtr conv(int in, int out, int kernel, int stride = 1, int padding = 0,
                     bool bias = true) {
  return std::make_unique<Convolution>(in, out, kernel, kernel, stride, padding, bias);
}
inline LayerPtr linear(int in, int out) {
  return std::make_unique<Affine>(in, out);
}
inline LayerPtr relu() {
  return std::make_unique<ReLU>();
}
inline LayerPtr max_pool(int kernel, int stride, int padding = 0) {
  return std::make_unique<MaxPool>(kernel, stride, padding);
}
inline LayerPtr avg_pool(int kernel, int stride, int padding = 0) {
  return std::make_unique<AvgPool>(kernel, stride, padding);
}
inline LayerPtr global_avg_pool() {
  return std::make_unique<GlobalAvgPool>();
}
inline LayerPtr batch_norm(int features) {
  return std::make_unique<BatchNorm>(features);
}
inline LayerPtr dropout(double p, std::uint64_t seed) {
  return std::make_unique<Dropout>(p, seed);
}
inline LayerPtr flatten() {
  return std::make_unique<Flatten>();
}

}  // namespace dlfs::make
