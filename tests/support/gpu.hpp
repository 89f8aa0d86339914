#pragma once
// GPU tests are always compiled; without a usable GPU they skip and say why. On the emulated
// device (DLFS_CUDA_EMULATION) they run, with kernels executed on the host: far slower than a
// GPU, so the few tests with GPU-sized problems shrink them through gpu_test_size.
#include <gtest/gtest.h>

#include <cstdint>

#include "dlfs/runtime/device.hpp"

#define DLFS_REQUIRE_GPU()                                                \
  do {                                                                    \
    if (!::dlfs::cuda_available()) GTEST_SKIP() << ::dlfs::cuda_status(); \
  } while (0)

// cuDNN is not emulated: on the emulated device its tests skip with that reason.
#define DLFS_REQUIRE_CUDNN()                                                               \
  do {                                                                                     \
    DLFS_REQUIRE_GPU();                                                                    \
    if (::dlfs::testing::kEmulatedGpu)                                                     \
      GTEST_SKIP() << "needs a real GPU: the emulated CUDA device does not emulate cuDNN"; \
    if (!::dlfs::built_with_cudnn()) GTEST_SKIP() << "this build has no cuDNN";            \
  } while (0)

namespace dlfs::testing {

// True in the emulated-device build.
constexpr bool kEmulatedGpu = DLFS_CUDA_EMULATION != 0;

// `real` on a GPU, `emulated` on the emulated device.
constexpr std::int64_t gpu_test_size(std::int64_t real, std::int64_t emulated) {
  return kEmulatedGpu ? emulated : real;
}

}  // namespace dlfs::testing
