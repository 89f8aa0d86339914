// dlfs info: how this dlfs was built and which devices it sees.
#include <cstdio>

#include "dlfs/apps/commands.hpp"
#include "dlfs/apps/options.hpp"
#include "dlfs/kernels/cpu/onednn_conv2d.hpp"
#include "dlfs/runtime/device.hpp"

namespace dlfs::app {

int info_command(int argc, char** argv) {
  Options options("info",
                  "Shows the build (CUDA path, cuDNN, oneDNN) and the GPUs this machine has.");
  if (!options.parse(argc, argv, 2)) return 0;
  std::printf("dlfs 0.1.0\n");
  std::printf("CUDA path: %s; cuDNN: %s\n",
              DLFS_CUDA_EMULATION ? "emulated (kernels run on the host CPU; a test build)"
              : built_with_cuda() ? "built"
                                  : "not built",
              built_with_cudnn() ? "built" : "not built");
  std::printf("CPU convolutions: %s\n",
              kernels::onednn::available()
                  ? "oneDNN where it pays, dlfs's im2col + GEMM elsewhere (DLFS_CONV picks)"
                  : "dlfs's im2col + GEMM (this build has no oneDNN)");
  std::printf("%s\n", cuda_status().c_str());
  std::printf("--device auto runs on: %s\n", Device::parse("auto").str().c_str());
  return 0;
}

}  // namespace dlfs::app
