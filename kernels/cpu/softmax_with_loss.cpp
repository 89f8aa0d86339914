#include "kernels/softmax_with_loss.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace dlfs::kernels::cpu {

namespace {
// Writes softmax(row) to out and returns the row's max m and log(sum(exp(x - m))); in double.
template <typename T>
std::pair<double, double> softmax_row(const T* row, T* out, std::int64_t cols) {
  double max = -std::numeric_limits<double>::infinity();
  for (std::int64_t c = 0; c < cols; ++c) max = std::max(max, static_cast<double>(row[c]));
  double sum = 0.0;
  for (std::int64_t c = 0; c < cols; ++c) sum += std::exp(static_cast<double>(row[c]) - max);
  for (std::int64_t c = 0; c < cols; ++c)
    out[c] = static_cast<T>(std::exp(static_cast<double>(row[c]) - max) / sum);
  return {max, std::log(sum)};
}
}  // namespace

template <typename T>
void softmax_with_loss_forward(const T* logits, const std::int32_t* labels, T* probs, T* loss,
                               std::int64_t rows, std::int64_t cols) {
  double total = 0.0;
  for (std::int64_t n = 0; n < rows; ++n) {
    const T* row = logits + n * cols;
    const auto [max, log_sum] = softmax_row(row, probs + n * cols, cols);
    // -log softmax(x)_label, with x - max formed first so large logits lose no digits.
    total += log_sum - (static_cast<double>(row[labels[n]]) - max);
  }
  *loss = static_cast<T>(total / static_cast<double>(rows));
}

template <typename T>
void softmax_with_loss_forward(const T* logits, const T* targets, T* probs, T* loss,
                               std::int64_t rows, std::int64_t cols) {
  double total = 0.0;
  for (std::int64_t n = 0; n < rows; ++n) {
    const T* row = logits + n * cols;
    const T* t = targets + n * cols;
    const auto [max, log_sum] = softmax_row(row, probs + n * cols, cols);
    for (std::int64_t c = 0; c < cols; ++c)
      if (t[c] != T(0))  // a zero target adds nothing, even where the logit is -inf
        total += static_cast<double>(t[c]) * (log_sum - (static_cast<double>(row[c]) - max));
  }
  *loss = static_cast<T>(total / static_cast<double>(rows));
}

template <typename T>
void softmax_with_loss_backward(const T* probs, const std::int32_t* labels, const T* dloss,
                                T* dlogits, std::int64_t rows, std::int64_t cols) {
  const T scale = static_cast<T>(static_cast<double>(*dloss) / static_cast<double>(rows));
#pragma omp parallel for if (rows * cols > 65536)
  for (std::int64_t n = 0; n < rows; ++n)
    for (std::int64_t c = 0; c < cols; ++c)
      dlogits[n * cols + c] = (probs[n * cols + c] - T(c == labels[n] ? 1 : 0)) * scale;
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
