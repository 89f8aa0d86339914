#pragma once
// The two CUDA constructs whose spelling differs between nvcc and the emulated device
// (emulation/, -DDLFS_CUDA_EMULATION=ON), so that every .cu file compiles unchanged in both:
//
//   DLFS_LAUNCH(grid, block, shared_bytes, stream, kernel)(args...)
//       kernel<<<grid, block, shared_bytes, stream>>>(args...) under nvcc; the emulator's
//       launch on the host otherwise. The kernel comes last so that template arguments with
//       commas need no parentheses.
//   DLFS_SHARED_ARRAY(T, name, count)
//       __shared__ T name[count] under nvcc; a checked array in the emulator, which flags an
//       index out of range and two threads touching one element with no barrier between.
//   DLFS_DYNAMIC_SHARED_ARRAY(T, name)
//       extern __shared__ T name[] under nvcc: the launch's dynamic shared memory.
//   dlfs::SharedArray<T>
//       how a __device__ helper takes such an array (T* under nvcc).
#if DLFS_CUDA_EMULATION
#include "dlfs/emulation/kernel_api.hpp"

#define DLFS_LAUNCH(grid, block, shared_bytes, stream, ...) \
  ::dlfs::emulation::Launcher(#__VA_ARGS__, __VA_ARGS__, grid, block, shared_bytes, stream)
#define DLFS_SHARED_ARRAY(T, name, count)                                             \
  static const ::dlfs::emulation::SharedSite name##_site_{#name, __FILE__, __LINE__}; \
  const ::dlfs::emulation::SharedArray<T> name(&name##_site_, count)
#define DLFS_DYNAMIC_SHARED_ARRAY(T, name) \
  DLFS_SHARED_ARRAY(T, name, ::dlfs::emulation::kDynamicShared)
namespace dlfs {
template <typename T>
using SharedArray = emulation::SharedArray<T>;
}
#else
#define DLFS_LAUNCH(grid, block, shared_bytes, stream, ...) \
  __VA_ARGS__<<<grid, block, shared_bytes, stream>>>
#define DLFS_SHARED_ARRAY(T, name, count) __shared__ T name[count]
#define DLFS_DYNAMIC_SHARED_ARRAY(T, name) extern __shared__ T name[]
namespace dlfs {
template <typename T>
using SharedArray = T*;
}
#endif
