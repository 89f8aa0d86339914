#pragma once
// Where a tensor lives. CPU is always there; CUDA devices are there when the build has CUDA
// and the machine has a driver and a GPU.
#include <string>

namespace dlfs {

enum class DeviceType { CPU, CUDA };

struct Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;

  static Device cpu() { return {DeviceType::CPU, 0}; }
  static Device cuda(int index = 0) { return {DeviceType::CUDA, index}; }
  // Parses "cpu", "cuda", "cuda:N" or "auto" (the first GPU when there is one, else the CPU).
  // Throws InputError naming the text when it is none of these or names a missing GPU.
  static Device parse(const std::string& text);

  bool is_cpu() const { return type == DeviceType::CPU; }
  bool is_cuda() const { return type == DeviceType::CUDA; }
  std::string str() const;  // "cpu" or "cuda:0"

  bool operator==(const Device& o) const { return type == o.type && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
};

// True when this build has CUDA and at least one GPU answers. Never throws and never prints;
// a missing driver ("insufficient driver") or no device both mean false.
bool cuda_available() noexcept;
// Number of usable CUDA devices (0 when cuda_available() is false).
int cuda_device_count() noexcept;
// One line saying why CUDA is unavailable ("no CUDA device: ..."), or naming the GPUs.
std::string cuda_status() noexcept;
// True when the library was compiled with the CUDA path (nvcc found at configure time).
bool built_with_cuda() noexcept;
bool built_with_cudnn() noexcept;

// Waits until every stream of CUDA device `index` is idle: memory handed to or taken from
// another library (DLPack) may have work pending on a stream dlfs does not know. Nothing to do
// in a build without CUDA.
void synchronize_cuda_device(int index);

}  // namespace dlfs
