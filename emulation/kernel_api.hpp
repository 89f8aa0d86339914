#pragma once
// The one header that makes a .cu file host C++ on the emulated device: the build force-includes
// it into every .cu file, as nvcc implicitly includes cuda_runtime.h. Types and host API
// declarations come from the CUDA toolkit's own <cuda_runtime.h> (the emulator implements those
// functions: runtime_api.cpp); this adds what device code sees: the built-in index variables,
// barriers, warp collectives, atomics and float intrinsics that dlfs's kernels use, checked
// shared arrays, and the launch behind DLFS_LAUNCH (runtime/cuda_launch.hpp).
//
// Every thread of a block runs as a fiber on the launching host thread; a fiber switches only at
// __syncthreads, __syncwarp and the warp collectives, which therefore keep their real semantics
// (block_runner.cpp). Faults found while a kernel runs end the launch and surface, like a real
// launch failure, through cudaGetLastError with a message naming the kernel, block and thread.
#include <math.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include <cuda_runtime.h>

// The toolkit's headers define the qualifiers as nothing for a host compiler; in case not:
#ifndef __global__
#define __global__
#endif
#ifndef __device__
#define __device__
#endif
#ifndef __host__
#define __host__
#endif
#ifndef __forceinline__
#define __forceinline__ inline
#endif
#ifndef __launch_bounds__
#define __launch_bounds__(...)
#endif

// The running thread's coordinates, set by the scheduler before it resumes the thread's fiber.
extern thread_local uint3 threadIdx;
extern thread_local uint3 blockIdx;
extern thread_local dim3 blockDim;
extern thread_local dim3 gridDim;

namespace dlfs::emulation {

// A fault in device code (a race, a divergent collective, an index out of range): thrown inside
// the thread's fiber and turned into the launch's error.
struct KernelFault {
  std::string message;
};

enum class WarpOp { ShuffleIndex, ShuffleUp, ShuffleDown, ShuffleXor, Ballot, Any, All, Sync };

// Parks the calling thread until every lane named in `mask` has reached a collective of the same
// kind and mask, then returns this lane's result (a shuffled value's bits, or the vote).
std::uint64_t warp_collective(const char* name, WarpOp op, unsigned mask, std::uint64_t value,
                              int arg, int width);
void block_barrier();

template <typename T>
std::uint64_t to_bits(T value) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>, "shuffles move up to 8 bytes");
  std::uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof(T));
  return bits;
}
template <typename T>
T from_bits(std::uint64_t bits) {
  T value;
  std::memcpy(&value, &bits, sizeof(T));
  return value;
}

// Shared memory: one SharedSite per declaration (DLFS_SHARED_ARRAY), one array per block.
struct SharedSite {
  const char* name;
  const char* file;
  int line;
};
struct SharedCell;  // the shadow of one element: who wrote and read it since which barrier
struct SharedBlockArray {
  void* data;
  SharedCell* cells;
  std::int64_t count;
};
constexpr std::int64_t kDynamicShared = -1;
// This block's array for `site` (created on first use); count kDynamicShared means the launch's
// dynamic shared memory, cut into elements of `element_bytes`.
SharedBlockArray shared_array(const SharedSite* site, std::size_t element_bytes,
                              std::size_t alignment, std::int64_t count);
// Checks an element access against the block's barriers and the index against the array.
void shared_access(const SharedSite* site, const SharedBlockArray& array, std::int64_t index,
                   bool write);

template <typename T>
class SharedRef {
 public:
  SharedRef(const SharedSite* site, const SharedBlockArray& array, std::int64_t index)
      : site_(site), array_(array), index_(index) {}
  operator T() const {
    shared_access(site_, array_, index_, false);
    return static_cast<const T*>(array_.data)[index_];
  }
  const SharedRef& operator=(const T& value) const {
    shared_access(site_, array_, index_, true);
    static_cast<T*>(array_.data)[index_] = value;
    return *this;
  }
  const SharedRef& operator=(const SharedRef& other) const { return *this = static_cast<T>(other); }
  template <typename U>
  const SharedRef& operator+=(const U& value) const {
    return *this = static_cast<T>(static_cast<T>(*this) + value);
  }

 private:
  const SharedSite* site_;
  SharedBlockArray array_;
  std::int64_t index_;
};

template <typename T>
class SharedArray {
 public:
  SharedArray(const SharedSite* site, std::int64_t count)
      : site_(site), array_(shared_array(site, sizeof(T), alignof(T), count)) {}
  SharedRef<T> operator[](std::int64_t index) const { return SharedRef<T>(site_, array_, index); }

 private:
  const SharedSite* site_;
  SharedBlockArray array_;
};

struct LaunchShape {
  const char* kernel_name;
  const void* kernel_address;
  dim3 grid;
  dim3 block;
  std::size_t dynamic_shared_bytes;
  cudaStream_t stream;
};

// Runs body(context) as every thread of the grid; errors go to cudaGetLastError.
void launch_kernel(const LaunchShape& shape, void (*body)(void*), void* context);

// DLFS_LAUNCH(grid, block, shared, stream, kernel)(args...): the arguments are converted to the
// kernel's parameter types once, as a real launch copies them, and every thread gets a copy.
template <typename... Params>
class Launcher {
 public:
  Launcher(const char* name, void (*kernel)(Params...), dim3 grid, dim3 block,
           std::size_t shared_bytes, cudaStream_t stream)
      : kernel_(kernel), shape_{name,         reinterpret_cast<const void*>(kernel),
                                grid,         block,
                                shared_bytes, stream} {}

  template <typename... Args>
  void operator()(Args&&... args) const {
    static_assert(sizeof...(Args) == sizeof...(Params), "kernel launched with the wrong arity");
    using Values = std::tuple<std::decay_t<Params>...>;
    struct Call {
      void (*kernel)(Params...);
      Values values;
    };
    Call call{kernel_, Values(std::forward<Args>(args)...)};
    launch_kernel(
        shape_,
        [](void* p) {
          auto* c = static_cast<Call*>(p);
          std::apply(c->kernel, c->values);
        },
        &call);
  }

 private:
  void (*kernel_)(Params...);
  LaunchShape shape_;
};
template <typename... Params>
Launcher(const char*, void (*)(Params...), dim3, dim3, std::size_t, cudaStream_t)
    -> Launcher<Params...>;

}  // namespace dlfs::emulation

// nvcc's templated overload (cuda_runtime.h declares it only for CUDA compilers).
template <typename... Params>
cudaError_t cudaFuncSetAttribute(void (*kernel)(Params...), cudaFuncAttribute attr, int value) {
  return cudaFuncSetAttribute(reinterpret_cast<const void*>(kernel), attr, value);
}

// Barriers and warp collectives.
inline void __syncthreads() {
  dlfs::emulation::block_barrier();
}
inline void __syncwarp(unsigned mask = 0xffffffffu) {
  dlfs::emulation::warp_collective("__syncwarp", dlfs::emulation::WarpOp::Sync, mask, 0, 0, 32);
}
template <typename T>
T __shfl_sync(unsigned mask, T value, int src_lane, int width = 32) {
  using namespace dlfs::emulation;
  return from_bits<T>(
      warp_collective("__shfl_sync", WarpOp::ShuffleIndex, mask, to_bits(value), src_lane, width));
}
template <typename T>
T __shfl_up_sync(unsigned mask, T value, unsigned delta, int width = 32) {
  using namespace dlfs::emulation;
  return from_bits<T>(warp_collective("__shfl_up_sync", WarpOp::ShuffleUp, mask, to_bits(value),
                                      static_cast<int>(delta), width));
}
template <typename T>
T __shfl_down_sync(unsigned mask, T value, unsigned delta, int width = 32) {
  using namespace dlfs::emulation;
  return from_bits<T>(warp_collective("__shfl_down_sync", WarpOp::ShuffleDown, mask, to_bits(value),
                                      static_cast<int>(delta), width));
}
template <typename T>
T __shfl_xor_sync(unsigned mask, T value, int lane_mask, int width = 32) {
  using namespace dlfs::emulation;
  return from_bits<T>(warp_collective("__shfl_xor_sync", WarpOp::ShuffleXor, mask, to_bits(value),
                                      lane_mask, width));
}
inline unsigned __ballot_sync(unsigned mask, int predicate) {
  using namespace dlfs::emulation;
  return static_cast<unsigned>(
      warp_collective("__ballot_sync", WarpOp::Ballot, mask, predicate != 0, 0, 32));
}
inline int __any_sync(unsigned mask, int predicate) {
  using namespace dlfs::emulation;
  return static_cast<int>(warp_collective("__any_sync", WarpOp::Any, mask, predicate != 0, 0, 32));
}
inline int __all_sync(unsigned mask, int predicate) {
  using namespace dlfs::emulation;
  return static_cast<int>(warp_collective("__all_sync", WarpOp::All, mask, predicate != 0, 0, 32));
}

// Atomics. Blocks run one at a time, but the builtins keep them right even if that changes.
template <typename T>
T atomicAdd(T* address, T value) {
  if constexpr (std::is_integral_v<T>) {
    return __atomic_fetch_add(address, value, __ATOMIC_SEQ_CST);
  } else {
    T old = *address;
    T sum = old + value;
    while (
        !__atomic_compare_exchange(address, &old, &sum, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
      sum = old + value;
    return old;
  }
}
namespace dlfs::emulation {
// Stores `value` while `replaces(old, value)` holds for the current `old`; returns the old value.
template <typename T, typename Replaces>
T atomic_replace_if(T* address, T value, Replaces replaces) {
  T old = *address;
  while (replaces(old, value) && !__atomic_compare_exchange(address, &old, &value, false,
                                                            __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
  }
  return old;
}
}  // namespace dlfs::emulation
template <typename T>
T atomicMax(T* address, T value) {
  return dlfs::emulation::atomic_replace_if(address, value, [](T a, T b) { return a < b; });
}
template <typename T>
T atomicMin(T* address, T value) {
  return dlfs::emulation::atomic_replace_if(address, value, [](T a, T b) { return b < a; });
}
template <typename T>
T atomicExch(T* address, T value) {
  T old;
  __atomic_exchange(address, &value, &old, __ATOMIC_SEQ_CST);
  return old;
}
template <typename T>
T atomicCAS(T* address, T compare, T value) {
  __atomic_compare_exchange(address, &compare, &value, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  return compare;
}

// Float intrinsics: the _rn forms round each operation (the host compiler contracts nothing in
// ISO C++ mode); the fast forms are computed exactly, which the tests' tolerances allow for.
inline float __fadd_rn(float a, float b) {
  return a + b;
}
inline float __fsub_rn(float a, float b) {
  return a - b;
}
inline float __fmul_rn(float a, float b) {
  return a * b;
}
inline float __fdiv_rn(float a, float b) {
  return a / b;
}
inline float __fmaf_rn(float a, float b, float c) {
  return fmaf(a, b, c);
}
inline float __frcp_rn(float a) {
  return 1.0f / a;
}
inline float __fsqrt_rn(float a) {
  return sqrtf(a);
}
inline float __fdividef(float a, float b) {
  return a / b;
}
inline float __expf(float a) {
  return expf(a);
}
inline float __logf(float a) {
  return logf(a);
}
inline float __powf(float a, float b) {
  return powf(a, b);
}
inline float __saturatef(float a) {
  return a < 0.0f ? 0.0f : (a > 1.0f ? 1.0f : a);
}
inline float rsqrtf(float a) {
  return 1.0f / sqrtf(a);
}
inline int __float_as_int(float a) {
  return dlfs::emulation::from_bits<int>(dlfs::emulation::to_bits(a));
}
inline unsigned __float_as_uint(float a) {
  return dlfs::emulation::from_bits<unsigned>(dlfs::emulation::to_bits(a));
}
inline float __int_as_float(int a) {
  return dlfs::emulation::from_bits<float>(dlfs::emulation::to_bits(a));
}
inline float __uint_as_float(unsigned a) {
  return dlfs::emulation::from_bits<float>(dlfs::emulation::to_bits(a));
}
inline int __popc(unsigned a) {
  return __builtin_popcount(a);
}
inline int __clz(int a) {
  return a == 0 ? 32 : __builtin_clz(static_cast<unsigned>(a));
}
inline int __ffs(int a) {
  return __builtin_ffs(a);
}
template <typename T>
T __ldg(const T* p) {
  return *p;
}

// CUDA's global min/max overloads for device code.
#define DLFS_EMULATION_MIN_MAX(T) \
  inline T min(T a, T b) {        \
    return b < a ? b : a;         \
  }                               \
  inline T max(T a, T b) {        \
    return a < b ? b : a;         \
  }
DLFS_EMULATION_MIN_MAX(int)
DLFS_EMULATION_MIN_MAX(unsigned int)
DLFS_EMULATION_MIN_MAX(long)
DLFS_EMULATION_MIN_MAX(unsigned long)
DLFS_EMULATION_MIN_MAX(long long)
DLFS_EMULATION_MIN_MAX(unsigned long long)
#undef DLFS_EMULATION_MIN_MAX
inline float min(float a, float b) {
  return fminf(a, b);
}
inline float max(float a, float b) {
  return fmaxf(a, b);
}
inline double min(double a, double b) {
  return fmin(a, b);
}
inline double max(double a, double b) {
  return fmax(a, b);
}
