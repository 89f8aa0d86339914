// The emulated CUDA runtime API (runtime_api.hpp): devices, errors, memory, copies, streams,
// events. Work runs when it is issued, so synchronisation calls only check their handles.
#include <cuda_runtime.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>

#include "dlfs/emulation/device_memory.hpp"
#include "dlfs/emulation/runtime_state.hpp"

struct CUstream_st {
  int device;
  unsigned int flags;
};

struct CUevent_st {
  int device;
  bool recorded;
  std::chrono::steady_clock::time_point when;
};

namespace dlfs::emulation {

namespace {

struct LastError {
  cudaError_t error = cudaSuccess;
  cudaError_t described = cudaSuccess;  // the error `detail` belongs to
  std::string detail;
};

LastError& last_error() {
  static thread_local LastError e;
  return e;
}

thread_local int t_current_device = 0;

std::mutex g_attributes_mutex;
std::map<const void*, int> g_max_dynamic_shared;

const char* plain_message(cudaError_t error) {
  switch (error) {
    case cudaSuccess:
      return "no error";
    case cudaErrorInvalidValue:
      return "invalid argument";
    case cudaErrorMemoryAllocation:
      return "out of memory";
    case cudaErrorInitializationError:
      return "initialization error";
    case cudaErrorInvalidConfiguration:
      return "invalid configuration argument";
    case cudaErrorInvalidDevicePointer:
      return "invalid device pointer";
    case cudaErrorInvalidMemcpyDirection:
      return "invalid copy direction for memcpy";
    case cudaErrorNoDevice:
      return "no CUDA-capable device is detected";
    case cudaErrorInvalidDevice:
      return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle:
      return "invalid resource handle";
    case cudaErrorNotReady:
      return "device not ready";
    case cudaErrorPeerAccessNotEnabled:
      return "peer access has not been enabled";
    case cudaErrorLaunchFailure:
      return "unspecified launch failure";
    default:
      return "unknown error";
  }
}

cudaError_t ok() {
  return cudaSuccess;
}

bool is_device(const void* ptr, std::size_t bytes, int* device) {
  Allocation a;
  if (!find_allocation(ptr, bytes, &a)) return false;
  if (device) *device = a.device;
  return true;
}

std::string describe(const void* ptr) {
  char text[64];
  std::snprintf(text, sizeof text, "%p", ptr);
  return text;
}

// Checks one side of a copy: device memory must lie inside one allocation, host memory must not
// be device memory.
cudaError_t check_side(const char* call, const char* side, const void* ptr, std::size_t bytes,
                       bool device_side) {
  if (bytes == 0) return ok();
  if (device_side && !is_device(ptr, bytes, nullptr))
    return fail(cudaErrorInvalidValue,
                std::string(call) + ": the " + side + " (" + describe(ptr) + ", " +
                    std::to_string(bytes) +
                    " bytes) is not inside one device allocation (wrong pointer, size or copy "
                    "direction)");
  if (!device_side && is_device(ptr, 1, nullptr))
    return fail(cudaErrorInvalidValue, std::string(call) + ": the " + side + " (" + describe(ptr) +
                                           ") is device memory, but the copy direction says host");
  return ok();
}

cudaError_t copy(const char* call, void* dst, const void* src, std::size_t bytes,
                 cudaMemcpyKind kind) {
  if (kind == cudaMemcpyDefault) {
    const bool dst_device = is_device(dst, bytes, nullptr),
               src_device = is_device(src, bytes, nullptr);
    kind = dst_device ? (src_device ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice)
                      : (src_device ? cudaMemcpyDeviceToHost : cudaMemcpyHostToHost);
  }
  if (kind < cudaMemcpyHostToHost || kind > cudaMemcpyDeviceToDevice)
    return fail(cudaErrorInvalidMemcpyDirection,
                std::string(call) + ": copy kind " + std::to_string(static_cast<int>(kind)));
  const bool dst_device = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  const bool src_device = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  if (cudaError_t e = check_side(call, "destination", dst, bytes, dst_device)) return e;
  if (cudaError_t e = check_side(call, "source", src, bytes, src_device)) return e;
  if (bytes == 0) return ok();
  DeviceAccess open;
  std::memmove(dst, src, bytes);
  return ok();
}

int devices_from_environment() {
  const char* text = std::getenv("DLFS_EMULATED_DEVICES");
  const long n = text ? std::strtol(text, nullptr, 10) : 1;
  return n < 0 ? 0 : (n > 8 ? 8 : static_cast<int>(n));
}

cudaError_t check_device(int device) {
  if (device < 0 || device >= device_count())
    return fail(cudaErrorInvalidDevice, "device " + std::to_string(device) + " does not exist (" +
                                            std::to_string(device_count()) +
                                            " emulated device(s); DLFS_EMULATED_DEVICES sets it)");
  return ok();
}

}  // namespace

cudaError_t fail(cudaError_t error, const std::string& detail) {
  LastError& e = last_error();
  e.error = error;
  e.described = error;
  e.detail = std::string(plain_message(error)) + " (dlfs CUDA emulation: " + detail + ")";
  return error;
}

int device_count() {
  static const int n = devices_from_environment();
  return n;
}

int current_device() {
  return t_current_device;
}

int stream_device(cudaStream_t stream) {
  return stream ? stream->device : t_current_device;
}

int max_dynamic_shared_bytes(const void* kernel) {
  std::lock_guard<std::mutex> lock(g_attributes_mutex);
  auto it = g_max_dynamic_shared.find(kernel);
  return it == g_max_dynamic_shared.end() ? 48 * 1024 : it->second;
}

}  // namespace dlfs::emulation

using namespace dlfs::emulation;

cudaError_t cudaGetDeviceCount(int* count) {
  if (!count) return fail(cudaErrorInvalidValue, "cudaGetDeviceCount: count is null");
  *count = device_count();
  if (*count == 0) return fail(cudaErrorNoDevice, "DLFS_EMULATED_DEVICES is 0");
  return cudaSuccess;
}

cudaError_t cudaGetDevice(int* device) {
  *device = current_device();
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
  if (cudaError_t e = check_device(device)) return e;
  t_current_device = device;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (cudaError_t e = check_device(device)) return e;
  *prop = cudaDeviceProp{};
  std::snprintf(prop->name, sizeof prop->name, "dlfs emulated CUDA device %d (host CPU)", device);
  prop->totalGlobalMem = device_capacity();
  prop->sharedMemPerBlock = 48 * 1024;
  prop->sharedMemPerBlockOptin = 227 * 1024;
  prop->warpSize = 32;
  prop->maxThreadsPerBlock = 1024;
  prop->maxThreadsDim[0] = 1024;
  prop->maxThreadsDim[1] = 1024;
  prop->maxThreadsDim[2] = 64;
  prop->maxGridSize[0] = 2147483647;
  prop->maxGridSize[1] = 65535;
  prop->maxGridSize[2] = 65535;
  prop->major = 9;  // the launch limits and shared memory of sm_90
  prop->minor = 0;
  prop->multiProcessorCount = 1;
  prop->l2CacheSize = 4 << 20;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  cudaDeviceProp p;
  if (cudaError_t e = cudaGetDeviceProperties(&p, device)) return e;
  switch (attr) {
    case cudaDevAttrMaxThreadsPerBlock:
      *value = p.maxThreadsPerBlock;
      break;
    case cudaDevAttrMaxSharedMemoryPerBlock:
      *value = static_cast<int>(p.sharedMemPerBlock);
      break;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin:
      *value = static_cast<int>(p.sharedMemPerBlockOptin);
      break;
    case cudaDevAttrWarpSize:
      *value = p.warpSize;
      break;
    case cudaDevAttrClockRate:
      *value = 1000000;  // kHz; CUDA 13 keeps it only as an attribute
      break;
    case cudaDevAttrMultiProcessorCount:
      *value = p.multiProcessorCount;
      break;
    case cudaDevAttrL2CacheSize:
      *value = p.l2CacheSize;
      break;
    case cudaDevAttrComputeCapabilityMajor:
      *value = p.major;
      break;
    case cudaDevAttrComputeCapabilityMinor:
      *value = p.minor;
      break;
    default:
      return fail(cudaErrorInvalidValue, "cudaDeviceGetAttribute: attribute " +
                                             std::to_string(static_cast<int>(attr)) +
                                             " is not emulated");
  }
  return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize() {
  return cudaSuccess;
}

cudaError_t cudaRuntimeGetVersion(int* version) {
  *version = 13000;
  return cudaSuccess;
}

cudaError_t cudaDriverGetVersion(int* version) {
  *version = 13000;
  return cudaSuccess;
}

cudaError_t cudaGetLastError() {
  LastError& e = last_error();
  const cudaError_t error = e.error;
  e.error = cudaSuccess;
  return error;
}

cudaError_t cudaPeekAtLastError() {
  return last_error().error;
}

const char* cudaGetErrorName(cudaError_t error) {
  switch (error) {
    case cudaSuccess:
      return "cudaSuccess";
    case cudaErrorInvalidValue:
      return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation:
      return "cudaErrorMemoryAllocation";
    case cudaErrorInitializationError:
      return "cudaErrorInitializationError";
    case cudaErrorInvalidConfiguration:
      return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidDevicePointer:
      return "cudaErrorInvalidDevicePointer";
    case cudaErrorInvalidMemcpyDirection:
      return "cudaErrorInvalidMemcpyDirection";
    case cudaErrorNoDevice:
      return "cudaErrorNoDevice";
    case cudaErrorInvalidDevice:
      return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle:
      return "cudaErrorInvalidResourceHandle";
    case cudaErrorNotReady:
      return "cudaErrorNotReady";
    case cudaErrorPeerAccessNotEnabled:
      return "cudaErrorPeerAccessNotEnabled";
    case cudaErrorLaunchFailure:
      return "cudaErrorLaunchFailure";
    default:
      return "cudaErrorUnknown";
  }
}

const char* cudaGetErrorString(cudaError_t error) {
  const LastError& e = last_error();
  if (error != cudaSuccess && error == e.described && !e.detail.empty()) return e.detail.c_str();
  return plain_message(error);
}

cudaError_t cudaMalloc(void** ptr, std::size_t bytes) {
  if (!ptr) return fail(cudaErrorInvalidValue, "cudaMalloc: ptr is null");
  *ptr = nullptr;
  if (bytes == 0) return cudaSuccess;
  *ptr = device_allocate(bytes, current_device());
  if (!*ptr)
    return fail(cudaErrorMemoryAllocation,
                "cudaMalloc of " + std::to_string(bytes) +
                    " bytes on cuda:" + std::to_string(current_device()) + ", " +
                    std::to_string(device_bytes_in_use(current_device())) + " of " +
                    std::to_string(device_capacity()) + " bytes in use");
  return cudaSuccess;
}

cudaError_t cudaFree(void* ptr) {
  if (!ptr) return cudaSuccess;
  if (!device_free(ptr))
    return fail(cudaErrorInvalidDevicePointer,
                "cudaFree(" + describe(ptr) + "): not the start of a live device allocation");
  return cudaSuccess;
}

cudaError_t cudaMemGetInfo(std::size_t* free_bytes, std::size_t* total_bytes) {
  *total_bytes = device_capacity();
  *free_bytes = device_capacity() - device_bytes_in_use(current_device());
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind) {
  return copy("cudaMemcpy", dst, src, bytes, kind);
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind,
                            cudaStream_t) {
  return copy("cudaMemcpyAsync", dst, src, bytes, kind);
}

cudaError_t cudaMemcpyPeerAsync(void* dst, int dst_device, const void* src, int src_device,
                                std::size_t bytes, cudaStream_t) {
  if (cudaError_t e = check_device(dst_device)) return e;
  if (cudaError_t e = check_device(src_device)) return e;
  int actual = -1;
  if (bytes > 0 && (!is_device(dst, bytes, &actual) || actual != dst_device))
    return fail(cudaErrorInvalidValue, "cudaMemcpyPeerAsync: the destination is not " +
                                           std::to_string(bytes) +
                                           " bytes of cuda:" + std::to_string(dst_device));
  if (bytes > 0 && (!is_device(src, bytes, &actual) || actual != src_device))
    return fail(cudaErrorInvalidValue, "cudaMemcpyPeerAsync: the source is not " +
                                           std::to_string(bytes) +
                                           " bytes of cuda:" + std::to_string(src_device));
  return copy("cudaMemcpyPeerAsync", dst, src, bytes, cudaMemcpyDeviceToDevice);
}

cudaError_t cudaMemset(void* ptr, int value, std::size_t bytes) {
  if (bytes == 0) return cudaSuccess;
  if (!is_device(ptr, bytes, nullptr))
    return fail(cudaErrorInvalidValue, "cudaMemset: " + describe(ptr) + " plus " +
                                           std::to_string(bytes) +
                                           " bytes is not inside one device allocation");
  DeviceAccess open;
  std::memset(ptr, value, bytes);
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* ptr, int value, std::size_t bytes, cudaStream_t) {
  return cudaMemset(ptr, value, bytes);
}

cudaError_t cudaStreamCreate(cudaStream_t* stream) {
  return cudaStreamCreateWithFlags(stream, cudaStreamDefault);
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned int flags) {
  *stream = new CUstream_st{current_device(), flags};
  return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  delete stream;
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t) {
  return cudaSuccess;
}

cudaError_t cudaStreamWaitEvent(cudaStream_t, cudaEvent_t event, unsigned int) {
  if (!event) return fail(cudaErrorInvalidResourceHandle, "cudaStreamWaitEvent: null event");
  return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t* event) {
  return cudaEventCreateWithFlags(event, cudaEventDefault);
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int) {
  *event = new CUevent_st{current_device(), false, {}};
  return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  delete event;
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  if (!event) return fail(cudaErrorInvalidResourceHandle, "cudaEventRecord: null event");
  if (stream_device(stream) != event->device)
    return fail(cudaErrorInvalidResourceHandle,
                "cudaEventRecord: an event of cuda:" + std::to_string(event->device) +
                    " recorded on a stream of cuda:" + std::to_string(stream_device(stream)));
  event->recorded = true;
  event->when = std::chrono::steady_clock::now();
  return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  if (!event) return fail(cudaErrorInvalidResourceHandle, "cudaEventSynchronize: null event");
  return cudaSuccess;
}

cudaError_t cudaEventQuery(cudaEvent_t event) {
  if (!event) return fail(cudaErrorInvalidResourceHandle, "cudaEventQuery: null event");
  return cudaSuccess;
}

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  if (!start || !end || !start->recorded || !end->recorded)
    return fail(cudaErrorInvalidResourceHandle,
                "cudaEventElapsedTime: both events must have been recorded");
  *ms = std::chrono::duration<float, std::milli>(end->when - start->when).count();
  return cudaSuccess;
}

cudaError_t cudaFuncSetAttribute(const void* func, cudaFuncAttribute attr, int value) {
  if (attr != cudaFuncAttributeMaxDynamicSharedMemorySize)
    return fail(cudaErrorInvalidValue, "cudaFuncSetAttribute: attribute " +
                                           std::to_string(static_cast<int>(attr)) +
                                           " is not emulated");
  if (value < 0 || value > 227 * 1024)
    return fail(cudaErrorInvalidValue,
                "cudaFuncSetAttribute: " + std::to_string(value) +
                    " bytes of dynamic shared memory is over sm_90's 227 KiB");
  std::lock_guard<std::mutex> lock(g_attributes_mutex);
  g_max_dynamic_shared[func] = value;
  return cudaSuccess;
}
