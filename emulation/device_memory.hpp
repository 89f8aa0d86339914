#pragma once
// The emulated device's memory: every cudaMalloc is its own mapping, with inaccessible guard
// pages before and after it, and its pages are inaccessible to the host except while a kernel, a
// copy or an emulated library call runs (DeviceAccess). A host read or write of device memory
// outside those, and an access past either end of an allocation, stop the process with a
// message naming the allocation (and the kernel, block and thread, inside a kernel).
#include <cstddef>
#include <cstdint>

namespace dlfs::emulation {

struct Allocation {
  char* ptr;           // what cudaMalloc returned
  std::size_t bytes;   // what was asked for
  std::size_t padded;  // bytes rounded up to cudaMalloc's 256-byte alignment; ends at the guard
  char* mapping;       // the whole mapping, guard pages included
  std::size_t mapping_bytes;
  char* pages;  // the accessible pages holding [ptr, ptr + padded)
  std::size_t pages_bytes;
  int device;
};

// nullptr when the device's memory would be exceeded (cudaErrorMemoryAllocation).
void* device_allocate(std::size_t bytes, int device);
// False when `ptr` is not the start of a live allocation.
bool device_free(void* ptr);
// A copy of the live allocation that holds [ptr, ptr + bytes), if any.
bool find_allocation(const void* ptr, std::size_t bytes, Allocation* out);
std::size_t device_bytes_in_use(int device);
std::size_t device_capacity();

// While one exists (counted, any thread), device memory is open to the host: kernels, copies
// and the emulated libraries run inside one.
class DeviceAccess {
 public:
  DeviceAccess();
  DeviceAccess(const DeviceAccess&);
  DeviceAccess& operator=(const DeviceAccess&) = delete;
  ~DeviceAccess();
};

// Where the calling host thread's kernel is (kernel null outside one): kept by the block runner
// so that a fault message can name the kernel, block and thread.
struct KernelInFlight {
  const char* kernel = nullptr;
  unsigned block[3] = {0, 0, 0};
  unsigned thread[3] = {0, 0, 0};
};
KernelInFlight& kernel_in_flight();
// Gives the calling thread an alternate signal stack, so a fault on a fiber's stack is reported.
void ensure_signal_stack();

}  // namespace dlfs::emulation
