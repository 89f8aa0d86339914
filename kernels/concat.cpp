#include "dlfs/kernels/concat.hpp"

#include "dlfs/kernels/dispatch.hpp"

namespace dlfs::kernels {

namespace {

// Elements per channel (the product of the dims after the channel axis).
std::int64_t per_channel(const Shape& shape) {
  std::int64_t n = 1;
  for (int d = 2; d < shape.ndim(); ++d) n *= shape.dim(d);
  return n;
}

}  // namespace

Tensor concat_channels(const std::vector<Tensor>& inputs) {
  if (inputs.empty()) throw Error("concat_channels: no inputs");
  for (std::size_t k = 0; k < inputs.size(); ++k)
    if (!inputs[k].defined())
      throw Error("concat_channels: input " + std::to_string(k) + " is undefined");
  const Tensor& first = inputs[0];
  if (first.ndim() < 2) throw Error("concat_channels needs [N, C, ...] inputs, not " + first.str());
  check_floating("concat_channels", first);
  std::int64_t channels = 0;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const Tensor& x = inputs[k];
    bool same = x.ndim() == first.ndim() && x.dtype() == first.dtype() &&
                x.device() == first.device() && x.dim(0) == first.dim(0);
    for (int d = 2; same && d < x.ndim(); ++d) same = x.dim(d) == first.dim(d);
    if (!same)
      throw Error("concat_channels: input " + std::to_string(k) + " " + x.str() +
                  " does not match input 0 " + first.str() + " outside the channel axis");
    channels += x.dim(1);
  }
  std::vector<std::int64_t> dims = first.shape().dims();
  dims[1] = channels;
  Tensor y = Tensor::empty(Shape(dims), first.dtype(), first.device());
  const std::int64_t rows = first.dim(0), inner = per_channel(first.shape());
  std::int64_t offset = 0;
  for (const Tensor& x : inputs) {
    const std::int64_t row = x.dim(1) * inner;
    if (x.device().is_cuda()) {
      DLFS_CUDA_CALL("concat_channels",
                     cuda::copy_rows_into(x.data<float>(), rows, row, y.data<float>(),
                                          channels * inner, offset, stream_of(x)));
    } else {
      DLFS_DISPATCH_FLOATING(x.dtype(), "concat_channels", [&] {
        cpu::copy_rows_into(x.data<scalar_t>(), rows, row, y.data<scalar_t>(), channels * inner,
                            offset);
      });
    }
    offset += row;
  }
  return y;
}

std::vector<Tensor> split_channels(const Tensor& grad, const std::vector<std::int64_t>& channels) {
  if (!grad.defined()) throw Error("split_channels: the gradient is undefined");
  check_floating("split_channels", grad);
  std::int64_t total = 0;
  for (std::int64_t c : channels) total += c;
  if (grad.ndim() < 2 || grad.dim(1) != total)
    throw Error("split_channels: " + grad.str() + " does not have the " + std::to_string(total) +
                " channels of the parts");
  const std::int64_t rows = grad.dim(0), inner = per_channel(grad.shape());
  std::vector<Tensor> parts;
  std::int64_t offset = 0;
  for (std::int64_t c : channels) {
    std::vector<std::int64_t> dims = grad.shape().dims();
    dims[1] = c;
    Tensor part = Tensor::empty(Shape(dims), grad.dtype(), grad.device());
    const std::int64_t row = c * inner;
    if (grad.device().is_cuda()) {
      DLFS_CUDA_CALL("split_channels",
                     cuda::copy_rows_out_of(grad.data<float>(), rows, total * inner, offset,
                                            part.data<float>(), row, stream_of(grad)));
    } else {
      DLFS_DISPATCH_FLOATING(grad.dtype(), "split_channels", [&] {
        cpu::copy_rows_out_of(grad.data<scalar_t>(), rows, total * inner, offset,
                              part.data<scalar_t>(), row);
      });
    }
    parts.push_back(part);
    offset += row;
  }
  return parts;
}

}  // namespace dlfs::kernels
