// Work for the second GPU while the first one is current: the op must make its tensors' GPU
// current before it launches, and a copy between GPUs must be ordered on both streams. Runs on
// two real GPUs, or on the emulated device with DLFS_EMULATED_DEVICES=2, which rejects a kernel
// launched on another device's stream as CUDA does.
#include <gtest/gtest.h>

#include <cstdlib>

#include "dlfs/kernels/add.hpp"
#include "dlfs/kernels/relu.hpp"
#include "dlfs/runtime/cuda_context.hpp"
#include "support/gpu.hpp"

namespace dlfs::kernels {
namespace {

bool second_gpu_round_trip() {
  const Tensor x = Tensor::from_vector<float>({-1.0f, 2.0f, -3.0f, 4.0f}, {4});
  Tensor x1 = x.to(Device::cuda(1));
  cuda_context(0).activate();  // device 0 is current, the work is for device 1
  Tensor mask;
  Tensor y1 = relu_forward(x1, &mask);
  cuda_context(0).activate();
  Tensor sum1 = add(y1, x1);
  Tensor sum0 = sum1.to(Device::cuda(0));  // peer copy
  cuda_context(1).activate();
  Tensor twice0 = add(sum0, sum0);
  return y1.to_vector<float>() == std::vector<float>{0.0f, 2.0f, 0.0f, 4.0f} &&
         twice0.to_vector<float>() == std::vector<float>{-2.0f, 8.0f, -6.0f, 16.0f};
}

TEST(MultiGpuDeathTest, OpsRunOnTheirTensorsGpuWhateverDeviceIsCurrent) {
  if (!testing::kEmulatedGpu && cuda_device_count() < 2)
    GTEST_SKIP() << "needs two GPUs or the emulated device: " << cuda_status();
  // A fresh process, so that the emulated device count is read with the variable set.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  setenv("DLFS_EMULATED_DEVICES", "2", 1);
  EXPECT_EXIT(std::exit(second_gpu_round_trip() ? 0 : 3), ::testing::ExitedWithCode(0), "");
  unsetenv("DLFS_EMULATED_DEVICES");
}

}  // namespace
}  // namespace dlfs::kernels
