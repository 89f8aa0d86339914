#include "dlfs/kernels/loss_targets.hpp"

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "dlfs/kernels/dispatch.hpp"

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

namespace {
struct QueuedStatus {
  const char* op;
  Tensor status;
  std::int64_t classes;
};
constexpr std::size_t kMaxQueuedStatuses = 64;

std::mutex g_queue_mutex;
std::map<int, std::vector<QueuedStatus>>& queued_statuses() {
  static auto* queues = new std::map<int, std::vector<QueuedStatus>>;  // outlives the pools
  return *queues;
}
}  // namespace

void check_label_status(const char* op, const Tensor& status, std::int64_t classes) {
  const Device device = status.device();
  bool full = false;
  {
    std::lock_guard<std::mutex> lock(g_queue_mutex);
    std::vector<QueuedStatus>& queue = queued_statuses()[device.index];
    queue.push_back({op, status, classes});
    full = queue.size() >= kMaxQueuedStatuses;
  }
  if (full) report_label_errors(device);
}

void report_label_errors(const Device& device) {
  if (!device.is_cuda()) return;
  std::vector<QueuedStatus> queue;
  {
    std::lock_guard<std::mutex> lock(g_queue_mutex);
    auto it = queued_statuses().find(device.index);
    if (it == queued_statuses().end()) return;
    queue.swap(it->second);
  }
  for (const QueuedStatus& q : queue) {
    const std::vector<std::int64_t> s = q.status.to_vector<std::int64_t>();
    if (s.at(0) >= 0) throw_invalid_label(q.op, s[0], s[1], q.classes);
  }
}

}  // namespace dlfs::kernels
