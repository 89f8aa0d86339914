#include "dlfs/kernels/reduce.hpp"

#include "dlfs/kernels/dispatch.hpp"

namespace dlfs::kernels {

double sum(const Tensor& x) {
  check_floating("sum", x);
  if (x.device().is_cuda()) {
    DLFS_CUDA_CALL("sum",
                   return cuda::sum(x.data<float>(), x.numel(), x.device().index, stream_of(x)));
  }
  double s = 0.0;
  DLFS_DISPATCH_FLOATING(x.dtype(), "sum", [&] { s = cpu::sum(x.data<scalar_t>(), x.numel()); });
  return s;
}

std::int64_t accuracy_count(const Tensor& scores, const Tensor& labels) {
  check_same_device("accuracy_count", {&scores, &labels});
  check_floating("accuracy_count", scores);
  if (scores.ndim() != 2 || labels.dtype() != DType::Int32 || labels.numel() != scores.dim(0))
    throw Error("accuracy_count: expects scores [N, C] and int32 labels [N], got " + scores.str() +
                " and " + labels.str());
  const std::int64_t rows = scores.dim(0), cols = scores.dim(1);
  if (scores.device().is_cuda()) {
    DLFS_CUDA_CALL("accuracy_count", return cuda::accuracy_count(
                                         scores.data<float>(), labels.data<std::int32_t>(), rows,
                                         cols, scores.device().index, stream_of(scores)));
  }
  std::int64_t correct = 0;
  DLFS_DISPATCH_FLOATING(scores.dtype(), "accuracy_count", [&] {
    correct = cpu::accuracy_count(scores.data<scalar_t>(), labels.data<std::int32_t>(), rows, cols);
  });
  return correct;
}

}  // namespace dlfs::kernels
