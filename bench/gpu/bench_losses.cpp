// The losses, which have no vendor twin: cross-entropy over probabilities (labels and dense
// target distributions) and the fused SoftmaxWithLoss forward and backward, each against the
// copy ceiling. Bytes charged: what each must read and write. The dense cross-entropy reads p
// and the targets; the labelled one reads one probability per row (a gather, so its GB/s counts
// 12 useful bytes a row and is not comparable to copying); SoftmaxWithLoss forward reads the
// logits and writes the probabilities, backward reads them and writes the logits' gradient.
#include <cstdint>

#include "dlfs/kernels/cross_entropy.hpp"
#include "dlfs/kernels/cuda/loss_mean.hpp"
#include "dlfs/kernels/softmax_with_loss.hpp"
#include "gpu_benches.hpp"

namespace dlfs::bench {

void bench_losses(BenchContext& ctx) {
  const std::int64_t n = ctx.elementwise_bytes / 4;
  const Device gpu = Device::cuda(0);
  for (std::int64_t cols : {std::int64_t{10}, std::int64_t{1000}}) {
    const std::int64_t rows = n / cols;
    const double tensor_bytes = 4.0 * static_cast<double>(rows * cols);
    const double row_bytes = static_cast<double>(rows) * 4.0;
    const std::string shape = dims_text(rows, cols);
    Tensor logits = random_device_tensor(Shape{rows, cols}, -8.0, 8.0, 5);
    Tensor probs = random_device_tensor(Shape{rows, cols}, 0.0, 1.0, 6);
    Tensor targets = random_device_tensor(Shape{rows, cols}, 0.0, 1.0, 7);
    Tensor labels = random_device_labels(rows, cols, 8);
    Tensor row_loss = Tensor::empty(Shape{rows}, DType::Float32, gpu);
    Tensor loss = Tensor::empty(Shape{1}, DType::Float32, gpu);
    Tensor dloss = Tensor::full(Shape{1}, 1.0, DType::Float32, gpu);
    Tensor status = Tensor::empty(Shape{2}, DType::Int64, gpu);
    Tensor out = Tensor::empty(Shape{rows, cols}, DType::Float32, gpu);
    // The ops' two-stage mean needs its workspace, as kernels/cross_entropy.cpp allocates it.
    Tensor partials =
        Tensor::empty(Shape{kernels::cuda::loss_workspace_doubles(rows)}, DType::Float64, gpu);
    const auto* label_ptr = labels.data<std::int32_t>();
    auto* status_ptr = status.data<std::int64_t>();
    auto* partials_ptr = partials.data<double>();

    Timed ce_dense{0.0, 2.0 * tensor_bytes + row_bytes};
    ce_dense.ms = ctx.timer.median_ms([&] {
      kernels::cuda::cross_entropy(probs.data<float>(), targets.data<float>(),
                                   row_loss.data<float>(), loss.data<float>(), rows, cols,
                                   ctx.stream, partials_ptr);
    });
    Timed ce_labels{0.0, 3.0 * row_bytes};
    ce_labels.ms = ctx.timer.median_ms([&] {
      kernels::cuda::cross_entropy(probs.data<float>(), label_ptr, row_loss.data<float>(),
                                   loss.data<float>(), status_ptr, rows, cols, ctx.stream,
                                   partials_ptr);
    });
    Timed swl_fwd{0.0, 2.0 * tensor_bytes + 2.0 * row_bytes};
    swl_fwd.ms = ctx.timer.median_ms([&] {
      kernels::cuda::softmax_with_loss_forward(logits.data<float>(), label_ptr, out.data<float>(),
                                               row_loss.data<float>(), loss.data<float>(),
                                               status_ptr, rows, cols, ctx.stream, partials_ptr);
    });
    Timed swl_bwd{0.0, 2.0 * tensor_bytes + row_bytes};
    swl_bwd.ms = ctx.timer.median_ms([&] {
      kernels::cuda::softmax_with_loss_backward(probs.data<float>(), label_ptr, dloss.data<float>(),
                                                out.data<float>(), rows, cols, ctx.stream);
    });

    ctx.report.add(
        bandwidth_row(ctx, "cross_entropy", "cross-entropy dense targets " + shape, ce_dense));
    Measurement gather =
        bandwidth_row(ctx, "cross_entropy", "cross-entropy labels " + shape, ce_labels);
    gather.extra.push_back({"note", json_string("gather: one probability per row")});
    ctx.report.add(gather);
    ctx.report.add(bandwidth_row(ctx, "softmax_with_loss",
                                 "softmax_with_loss forward labels " + shape, swl_fwd));
    ctx.report.add(bandwidth_row(ctx, "softmax_with_loss",
                                 "softmax_with_loss backward labels " + shape, swl_bwd));
  }
}

}  // namespace dlfs::bench
