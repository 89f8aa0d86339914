#pragma once
// Learning-rate schedules, evaluated per epoch (0-based) and applied with
// Optimizer::set_learning_rate before the epoch's first step:
//   constant  lr
//   step      lr * gamma^floor(epoch / step_epochs)          (torch.optim.lr_scheduler.StepLR)
//   cosine    lr * (1 + cos(pi * epoch / total_epochs)) / 2,  0 from epoch total_epochs on
//             (CosineAnnealingLR with eta_min = 0, T_max = total_epochs, not restarting)
#include <cstdint>
#include <memory>
#include <string>

namespace dlfs::optim {

class LearningRateSchedule {
 public:
  virtual ~LearningRateSchedule() = default;
  // The learning rate for `epoch`; throws InputError for a negative epoch.
  virtual double at(std::int64_t epoch) const = 0;
  // "step(lr=0.1, every 30 epochs, gamma=0.1)"
  virtual std::string describe() const = 0;
};

class ConstantSchedule : public LearningRateSchedule {
 public:
  explicit ConstantSchedule(double lr);
  double at(std::int64_t epoch) const override;
  std::string describe() const override;

 private:
  double lr_;
};

class StepSchedule : public LearningRateSchedule {
 public:
  StepSchedule(double lr, std::int64_t step_epochs, double gamma = 0.1);
  double at(std::int64_t epoch) const override;
  std::string describe() const override;

 private:
  double lr_;
  std::int64_t step_epochs_;
  double gamma_;
};

class CosineSchedule : public LearningRateSchedule {
 public:
  CosineSchedule(double lr, std::int64_t total_epochs);
  double at(std::int64_t epoch) const override;
  std::string describe() const override;

 private:
  double lr_;
  std::int64_t total_epochs_;
};

// From a command-line spec: "constant", "step:K" or "step:K:GAMMA" (gamma 0.1 by default),
// "cosine" (over total_epochs). Throws InputError naming the spec when it is not one of these.
std::unique_ptr<LearningRateSchedule> parse_schedule(const std::string& spec, double lr,
                                                     std::int64_t total_epochs);

}  // namespace dlfs::optim
