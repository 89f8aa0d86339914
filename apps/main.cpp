// The `dlfs` command.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "runtime/device.hpp"
#include "runtime/device_pools.hpp"
#include "runtime/error.hpp"
#include "runtime/tensor.hpp"

namespace {

void print_help() {
  std::puts(
      "dlfs: a deep learning runtime in C++17 and CUDA\n"
      "\n"
      "usage: dlfs COMMAND [options]\n"
      "\n"
      "commands:\n"
      "  info     the build (CUDA, cuDNN) and the devices this machine has\n"
      "  train    train the default model (until training lands: a runtime smoke run)\n"
      "  --help   this text");
}

int run_info() {
  std::printf("dlfs %s\n", "0.1.0");
  std::printf("CUDA path: %s, cuDNN: %s\n", dlfs::built_with_cuda() ? "built" : "not built",
              dlfs::built_with_cudnn() ? "built" : "not built");
  std::printf("%s\n", dlfs::cuda_status().c_str());
  return 0;
}

int run_smoke(const std::string& device_name) {
  const dlfs::Device device = dlfs::Device::parse(device_name);
  std::printf("device: %s (%s)\n", device.str().c_str(), dlfs::cuda_status().c_str());
  dlfs::Generator gen(0);
  for (int step = 0; step < 10; ++step) {
    dlfs::Tensor x = dlfs::Tensor::empty({128, 1, 28, 28}, dlfs::DType::Float32, device);
    x.normal_(gen);
    dlfs::Tensor y = x.clone();
  }
  std::printf("pool: %s\n", dlfs::memory_pool(device).stats().str().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
      print_help();
      return argc < 2 ? 2 : 0;
    }
    const std::string command = argv[1];
    if (command == "info") return run_info();
    if (command == "train")
      return run_smoke(argc > 3 && !std::strcmp(argv[2], "--device") ? argv[3] : "auto");
    std::fprintf(stderr, "dlfs: unknown command '%s'; see dlfs --help\n", command.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dlfs: %s\n", e.what());
    return 1;
  }
}
