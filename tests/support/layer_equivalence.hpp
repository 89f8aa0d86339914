#pragma once
// One layer on the GPU against the same layer on the CPU, forward (Train mode) and backward.
#include <gtest/gtest.h>

#include <cstdint>

#include "dlfs/layers/layer.hpp"
#include "support/elementwise_testing.hpp"
#include "support/equivalence.hpp"

namespace dlfs::testing {

// Runs `cpu` on x and `gpu` (a layer made like it) on x's copy on the GPU, forward in Train mode
// and then backward from dy, N(0, 1) values of the output's shape drawn from Generator(dy_seed).
// The GPU's output and input gradient stay on the GPU and match the CPU's within `tolerance`
// (max_difference; 0: the same values), the gradient within `gradient_tolerance` if given.
inline void expect_layer_matches_on_gpu(Layer& cpu, Layer& gpu, const Tensor& x,
                                        std::uint64_t dy_seed, double tolerance,
                                        double gradient_tolerance = -1.0) {
  const Tensor y = cpu.forward({x}, Mode::Train);
  const Tensor y_gpu = gpu.forward({x.to(Device::cuda())}, Mode::Train);
  EXPECT_TRUE(y_gpu.device().is_cuda());
  EXPECT_TENSORS_CLOSE(y, y_gpu, tolerance);
  const Tensor dy = random_normal(y.shape(), dy_seed);
  // Held in locals: the macro binds references, and backward() returns a temporary vector.
  const Tensor dx = cpu.backward(dy)[0];
  const Tensor dx_gpu = gpu.backward(dy.to(Device::cuda()))[0];
  EXPECT_TRUE(dx_gpu.device().is_cuda());
  EXPECT_TENSORS_CLOSE(dx, dx_gpu, gradient_tolerance >= 0.0 ? gradient_tolerance : tolerance);
}

}  // namespace dlfs::testing
