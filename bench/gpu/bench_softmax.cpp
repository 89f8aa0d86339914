// Row softmax against cudnnSoftmaxForward (ACCURATE: the row maximum subtracted, as dlfs), over
// [rows, cols] tensors of the elementwise size, from many short rows (the warp-per-row path) to
// few long ones (block per row). Both are charged with reading x and writing y.
#include <cstdint>
#include <utility>
#include <vector>

#include "cudnn_descriptors.hpp"
#include "dlfs/kernels/softmax.hpp"
#include "dlfs/runtime/cuda_check.hpp"
#include "gpu_benches.hpp"

namespace dlfs::bench {

void bench_softmax(BenchContext& ctx) {
  const std::int64_t n = ctx.elementwise_bytes / 4;
  for (std::int64_t cols : {std::int64_t{10}, std::int64_t{64}, std::int64_t{1000},
                            std::int64_t{1024}, std::int64_t{4096}, std::int64_t{32768}}) {
    const std::int64_t rows = n / cols;
    Tensor x = random_device_tensor(Shape{rows, cols}, -8.0, 8.0, 4);
    Tensor y = Tensor::empty(Shape{rows, cols}, DType::Float32, Device::cuda(0));
    Timed t{0.0, 8.0 * static_cast<double>(rows * cols)};
    t.ms = ctx.timer.median_ms([&] {
      kernels::cuda::softmax_forward(x.data<float>(), y.data<float>(), rows, cols, ctx.stream);
    });
    const std::string name = "softmax " + dims_text(rows, cols);
#if DLFS_HAVE_CUDNN
    CudnnHandle handle = cuda_context(0).cudnn();
    CudnnTensor desc(rows, cols, 1, 1);
    const float one = 1.0f, zero = 0.0f;
    Tensor vy = Tensor::empty(Shape{rows, cols}, DType::Float32, Device::cuda(0));
    Timed v{0.0, t.work};
    v.ms = ctx.timer.median_ms([&] {
      DLFS_CUDNN_CHECK(cudnnSoftmaxForward(handle, CUDNN_SOFTMAX_ACCURATE,
                                           CUDNN_SOFTMAX_MODE_INSTANCE, &one, desc.get(),
                                           x.raw_data(), &zero, desc.get(), vy.raw_data()));
    });
    Measurement m = bandwidth_row(ctx, "softmax", name, t, "cuDNN softmax (accurate)", v);
    m.extra.push_back({"max_abs_diff", json_number(sampled_max_abs_diff(y, vy))});
    ctx.report.add(m);
#else
    ctx.report.add(bandwidth_row(ctx, "softmax", name, t));
#endif
  }
}

}  // namespace dlfs::bench
