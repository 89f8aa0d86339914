#pragma once
// The emulated runtime's state that the rest of the emulator consults: the calling thread's last
// error (with the emulator's sentence about it, which cudaGetErrorString returns), devices,
// streams and kernel attributes.
#include <string>

#include <cuda_runtime.h>

namespace dlfs::emulation {

// Records `error` as the thread's last error with `detail` and returns it.
cudaError_t fail(cudaError_t error, const std::string& detail);
// The current device of the calling thread and the number of emulated devices
// (DLFS_EMULATED_DEVICES, 1 by default).
int current_device();
int device_count();
// The device a stream belongs to (the null stream: the current device).
int stream_device(cudaStream_t stream);
// The dynamic shared memory a kernel may use: 48 KiB unless cudaFuncSetAttribute raised it.
int max_dynamic_shared_bytes(const void* kernel);

}  // namespace dlfs::emulation
