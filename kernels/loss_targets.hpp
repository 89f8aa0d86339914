#pragma once
// What a classification loss accepts as targets, checked in one place for cross_entropy and
// softmax_with_loss: Int32 class labels ([N], or any shape with N elements) or a float
// distribution per row ([N, C], one-hot or soft, of the scores' dtype).
//
// Labels outside [0, C) are an error naming the label and its index. Host labels are scanned
// before the kernel runs. Device labels are checked by the CUDA loss kernels themselves, which
// write the first bad (index, label) to a two-element device status. The op does not wait for
// it (that would stall the host between forward and backward every step): the status is queued
// and read by report_label_errors, which callers run where they wait for the GPU anyway (the
// trainer and evaluation, right after reading the loss).
#include <cstdint>

#include "dlfs/runtime/tensor.hpp"

namespace dlfs::kernels {

enum class TargetKind { Labels, Distributions };

// Throws unless `scores` is a floating [N, C] matrix with N >= 1 and `targets` is Int32 with N
// elements or a [N, C] tensor of scores' dtype, both on one device. Returns which it is.
TargetKind check_loss_targets(const char* op, const Tensor& scores, const Tensor& targets);

namespace cpu {
// Index of the first label outside [0, classes), or -1.
std::int64_t first_invalid_label(const std::int32_t* labels, std::int64_t count,
                                 std::int64_t classes);
}  // namespace cpu

// Throws Error naming `op`, the index and the label when a host label is outside [0, classes).
void check_host_labels(const char* op, const Tensor& labels, std::int64_t classes);
// Queues the device status {first bad index or -1, its label} written by a CUDA loss kernel for
// report_label_errors. Does not synchronize (unless 64 statuses are already queued for the
// device: then it reports them first, so an unread queue stays small).
void check_label_status(const char* op, const Tensor& status, std::int64_t classes);
// Reads the statuses queued for `device` (waiting for the kernels that wrote them), forgets
// them, and throws like check_host_labels for the first bad label among them.
void report_label_errors(const Device& device);

}  // namespace dlfs::kernels
