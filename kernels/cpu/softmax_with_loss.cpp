#include "kernels/softmax_with_loss.hpp"

#include "kernels/cpu/softmax_row.hpp"

namespace dlfs::kernels::cpu {

namespace {
// The batch's loss is a sum of one term per row. Rows are cut into kLossChunks fixed ranges
// (their bounds depend on `rows` only); each chunk sums its rows in order, in parallel, and the
// chunk sums are added in order: the same result for any thread count.
constexpr std::int64_t kLossChunks = 64;

template <typename RowLoss>
double sum_row_losses(std::int64_t rows, std::int64_t cols, RowLoss&& row_loss) {
  double partial[kLossChunks] = {};
#pragma omp parallel for if (rows * cols > 65536 && rows > 1)
  for (std::int64_t k = 0; k < kLossChunks; ++k)
    for (std::int64_t n = rows * k / kLossChunks; n < rows * (k + 1) / kLossChunks; ++n)
      partial[k] += row_loss(n);
  double total = 0.0;
  for (std::int64_t k = 0; k < kLossChunks; ++k) total += partial[k];
  return total;
}
}  // namespace

template <typename T>
void softmax_with_loss_forward(const T* logits, const std::int32_t* labels, T* probs, T* loss,
                               std::int64_t rows, std::int64_t cols) {
  const double total = sum_row_losses(rows, cols, [&](std::int64_t n) {
    const T* row = logits + n * cols;
    const auto [max, log_sum] = softmax_row(row, probs + n * cols, cols);
    // -log softmax(x)_label, with x - max formed first so large logits lose no digits.
    return log_sum - (static_cast<double>(row[labels[n]]) - max);
  });
  *loss = static_cast<T>(total / static_cast<double>(rows));
}

template <typename T>
void softmax_with_loss_forward(const T* logits, const T* targets, T* probs, T* loss,
                               std::int64_t rows, std::int64_t cols) {
  const double total = sum_row_losses(rows, cols, [&](std::int64_t n) {
    const T* row = logits + n * cols;
    const T* t = targets + n * cols;
    const auto [max, log_sum] = softmax_row(row, probs + n * cols, cols);
    double row_total = 0.0;
    for (std::int64_t c = 0; c < cols; ++c)
      if (t[c] != T(0))  // a zero target adds nothing, even where the logit is -inf
        row_total += static_cast<double>(t[c]) * (log_sum - (static_cast<double>(row[c]) - max));
    return row_total;
  });
  *loss = static_cast<T>(total / static_cast<double>(rows));
}

template <typename T>
void softmax_with_loss_backward(const T* probs, const std::int32_t* labels, const T* dloss,
                                T* dlogits, std::int64_t rows, std::int64_t cols) {
  const T scale = static_cast<T>(static_cast<double>(*dloss) / static_cast<double>(rows));
#pragma omp parallel for if (rows * cols > 65536)
  for (std::int64_t n = 0; n < rows; ++n) {
    const T* p = probs + n * cols;
    T* d = dlogits + n * cols;
    // (p - onehot) * scale: the whole row as p * scale, then the label's entry redone.
#pragma omp simd
    for (std::int64_t c = 0; c < cols; ++c) d[c] = p[c] * scale;
    d[labels[n]] = (p[labels[n]] - T(1)) * scale;
  }
}

template <typename T>
void softmax_with_loss_backward(const T* probs, const T* targets, const T* dloss, T* dlogits,
                                std::int64_t rows, std::int64_t cols) {
  const T scale = static_cast<T>(static_cast<double>(*dloss) / static_cast<double>(rows));
#pragma omp parallel for simd if (rows * cols > 65536)
  for (std::int64_t i = 0; i < rows * cols; ++i) dlogits[i] = (probs[i] - targets[i]) * scale;
}

#define DLFS_INSTANTIATE(T)                                                                       \
  template void softmax_with_loss_forward<T>(const T*, const std::int32_t*, T*, T*, std::int64_t, \
                                             std::int64_t);                                       \
  template void softmax_with_loss_forward<T>(const T*, const T*, T*, T*, std::int64_t,            \
                                             std::int64_t);                                       \
  template void softmax_with_loss_backward<T>(const T*, const std::int32_t*, const T*, T*,        \
                                              std::int64_t, std::int64_t);                        \
  template void softmax_with_loss_backward<T>(const T*, const T*, const T*, T*, std::int64_t,     \
                                              std::int64_t);
DLFS_INSTANTIATE(float)
DLFS_INSTANTIATE(double)
#undef DLFS_INSTANTIATE

}  // namespace dlfs::kernels::cpu
