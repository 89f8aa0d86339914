#include "dlfs/runtime/transfer.hpp"

#include <cstring>

#include "dlfs/runtime/cuda_context.hpp"
#include "dlfs/runtime/error.hpp"
#if DLFS_HAVE_CUDA
#include "dlfs/runtime/cuda_check.hpp"
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
      CudaContext& src_ctx = cuda_context(src_device.index);
      src_ctx.synchronize();
      DLFS_CUDA_CHECK(
          cudaMemcpyPeerAsync(dst, dst_device.index, src, src_device.index, bytes, ctx.stream()));
      // The source block's next user queues on the source stream (the pool ties blocks to
      // their stream): make that stream wait for the copy, so the block is not reused while
      // the destination stream still reads it. Destroying the event now is allowed; CUDA
      // releases it once the wait is satisfied.
      cudaEvent_t copied = nullptr;
      DLFS_CUDA_CHECK(cudaEventCreateWithFlags(&copied, cudaEventDisableTiming));
      DLFS_CUDA_CHECK(cudaEventRecord(copied, ctx.stream()));
      src_ctx.activate();
      DLFS_CUDA_CHECK(cudaStreamWaitEvent(src_ctx.stream(), copied, 0));
      DLFS_CUDA_CHECK(cudaEventDestroy(copied));
      ctx.activate();
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
