#include "dlfs/kernels/softmax_with_loss.hpp"

#include "dlfs/kernels/cpu/row_sum.hpp"
#include "dlfs/kernels/cpu/softmax_row.hpp"

namespace dlfs::kernels::cpu {

template <typename T>
void softmax_with_loss_forward(const T* logits, const std::int32_t* labels, T* probs, T* loss,
                               std::int64_t rows, std::int64_t cols) {
  const double total = sum_rows_deterministic(rows, cols, [&](std::int64_t n) {
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
  const double total = sum_rows_deterministic(rows, cols, [&](std::int64_t n) {
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
