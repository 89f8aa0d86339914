#include "runtime/transfer.hpp"

#include <cstring>

#include "runtime/cuda_context.hpp"
#include "runtime/error.hpp"
#if DLFS_HAVE_CUDA
#include "runtime/cuda_check.hpp"
#endif

namespace dlfs {

void copy_bytes(void* dst, const Device& dst_device, const void* src, const Device& src_device,
                std::size_t bytes) {
  if (bytes == 0) return;
  if (dst_device.is_cpu() && src_device.is_cpu()) {
    std::memcpy(dst, src, bytes);
    return;
  }
#if DLFS_HAVE_CUDA
  const Device& gpu = dst_device.is_cuda() ? dst_device : src_device;
  CudaContext& ctx = cuda_context(gpu.index);
  ctx.activate();
  if (dst_device.is_cuda() && src_device.is_cuda()) {
    if (dst_device == src_device) {
      DLFS_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, ctx.stream()));
    } else {
      // Order after pending work on the source, then copy peer to peer on the destination.
      cuda_context(src_device.index).synchronize();
      DLFS_CUDA_CHECK(
          cudaMemcpyPeerAsync(dst, dst_device.index, src, src_device.index, bytes, ctx.stream()));
    }
    return;
  }
  const cudaMemcpyKind kind =
      dst_device.is_cuda() ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToHost;
  DLFS_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, kind, ctx.stream()));
  ctx.synchronize();  // the host buffer may be reused or read as soon as we return
#else
  throw Error("cannot copy between " + src_device.str() + " and " + dst_device.str() + ": " +
              cuda_status());
#endif
}

}  // namespace dlfs
