#include "kernels/loss_targets.hpp"

#include <string>

#include "kernels/dispatch.hpp"

namespace dlfs::kernels {

namespace {
[[noreturn]] void throw_invalid_label(const char* op, std::int64_t index, std::int64_t label,
                                      std::int64_t classes) {
  throw Error(std::string(op) + ": label " + std::to_string(label) + " at index " +
              std::to_string(index) + " is outside [0, " + std::to_string(classes) + ")");
}
}  // namespace

TargetKind check_loss_targets(const char* op, const Tensor& scores, const Tensor& targets) {
  check_same_device(op, {&scores, &targets});
  check_floating(op, scores);
  if (scores.ndim() != 2 || scores.dim(0) < 1)
    throw Error(std::string(op) + ": expects scores [N, C] with N >= 1, got " + scores.str());
  const std::int64_t rows = scores.dim(0);
  if (targets.dtype() == DType::Int32) {
    if (targets.numel() != rows)
      throw Error(std::string(op) + ": labels " + targets.str() +
                  " do not give one class per row of " + scores.str());
    return TargetKind::Labels;
  }
  if (targets.dtype() != scores.dtype() || targets.shape() != scores.shape())
    throw Error(std::string(op) + ": targets " + targets.str() + " are neither int32 labels [" +
                std::to_string(rows) + "] nor a distribution matching " + scores.str());
  return TargetKind::Distributions;
}

namespace cpu {
std::int64_t first_invalid_label(const std::int32_t* labels, std::int64_t count,
                                 std::int64_t classes) {
  for (std::int64_t i = 0; i < count; ++i)
    if (labels[i] < 0 || labels[i] >= classes) return i;
  return -1;
}
}  // namespace cpu

void check_host_labels(const char* op, const Tensor& labels, std::int64_t classes) {
  const std::int32_t* p = labels.data<std::int32_t>();
  const std::int64_t bad = cpu::first_invalid_label(p, labels.numel(), classes);
  if (bad >= 0) throw_invalid_label(op, bad, p[bad], classes);
}

void check_label_status(const char* op, const Tensor& status, std::int64_t classes) {
  const std::vector<std::int64_t> s = status.to_vector<std::int64_t>();
  if (s.at(0) >= 0) throw_invalid_label(op, s[0], s[1], classes);
}

}  // namespace dlfs::kernels
