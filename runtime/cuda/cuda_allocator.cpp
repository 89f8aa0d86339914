#include "dlfs/runtime/cuda_allocator.hpp"

#include "dlfs/runtime/cuda_check.hpp"

namespace dlfs {

void* CudaAllocator::raw_allocate(std::size_t bytes) {
  DLFS_CUDA_CHECK(cudaSetDevice(device_));
  void* ptr = nullptr;
  cudaError_t status = cudaMalloc(&ptr, bytes);
  if (status == cudaErrorMemoryAllocation) {
    cudaGetLastError();  // clear the sticky-free error so later checks do not report it
    return nullptr;
  }
  DLFS_CUDA_CHECK(status);
  return ptr;
}

void CudaAllocator::raw_free(void* ptr) {
  DLFS_CUDA_CHECK(cudaSetDevice(device_));
  DLFS_CUDA_CHECK(cudaFree(ptr));
}

}  // namespace dlfs
