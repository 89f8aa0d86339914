#pragma once
// The book's SoftmaxWithLoss fused: softmax of the logits and their cross-entropy against the
// targets in one pass, with the loss taken from the log-sum-exp,
//   loss_n = log(sum_c exp(x_nc - m_n)) - (x_n,label - m_n),   m_n = max_c x_nc,
// so a true class whose probability underflows to 0 still gives a large finite loss (never
// inf or NaN while the logits are finite). The mean over the batch is the loss; backward is
// (y - t) / N times the upstream gradient, exact for this loss (no delta).
// Targets are Int32 labels or [N, C] distributions (kernels/loss_targets.hpp).
#include <cstdint>

#include "dlfs/runtime/cuda_context.hpp"
#include "dlfs/runtime/tensor.hpp"

namespace dlfs::kernels {

namespace cpu {
// probs = softmax(logits); *loss = mean loss. Labels must lie in [0, cols) (the op checks).
template <typename T>
void softmax_with_loss_forward(const T* logits, const std::int32_t* labels, T* probs, T* loss,
                               std::int64_t rows, std::int64_t cols);
template <typename T>
void softmax_with_loss_forward(const T* logits, const T* targets, T* probs, T* loss,
                               std::int64_t rows, std::int64_t cols);
// dlogits = (probs - t) * (*dloss / rows).
template <typename T>
void softmax_with_loss_backward(const T* probs, const std::int32_t* labels, const T* dloss,
                                T* dlogits, std::int64_t rows, std::int64_t cols);
template <typename T>
void softmax_with_loss_backward(const T* probs, const T* targets, const T* dloss, T* dlogits,
                                std::int64_t rows, std::int64_t cols);
}  // namespace cpu

namespace cuda {
// row_loss: [rows] workspace; status: [2] = {first row whose label is outside [0, cols) or -1,
// that label}; partials: loss_workspace_doubles(rows) doubles of workspace for the mean
// (kernels/cross_entropy.hpp; null: one block sums every row). The upstream
// gradient dloss stays on the device (no synchronization).
void softmax_with_loss_forward(const float* logits, const std::int32_t* labels, float* probs,
                               float* row_loss, float* loss, std::int64_t* status,
                               std::int64_t rows, std::int64_t cols, CudaStream stream,
                               double* partials);
void softmax_with_loss_forward(const float* logits, const float* targets, float* probs,
                               float* row_loss, float* loss, std::int64_t rows, std::int64_t cols,
                               CudaStream stream, double* partials);
void softmax_with_loss_backward(const float* probs, const std::int32_t* labels, const float* dloss,
                                float* dlogits, std::int64_t rows, std::int64_t cols,
                                CudaStream stream);
void softmax_with_loss_backward(const float* probs, const float* targets, const float* dloss,
                                float* dlogits, std::int64_t rows, std::int64_t cols,
                                CudaStream stream);
}  // namespace cuda

// The mean loss of logits [N, C] against targets, as a [1] tensor on the logits' device;
// *probabilities = softmax(logits). Throws naming the first label outside [0, C).
Tensor softmax_with_loss_forward(const Tensor& logits, const Tensor& targets,
                                 Tensor* probabilities);
// dlogits = (probabilities - t) / N * dloss, where dloss is the loss' gradient ([1]).
Tensor softmax_with_loss_backward(const Tensor& probabilities, const Tensor& targets,
                                  const Tensor& dloss);

}  // namespace dlfs::kernels
