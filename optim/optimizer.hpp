#pragma once
// The optimizer interface: step() updates every parameter in place from its gradient with one
// fused kernel per parameter (kernels/optimizer_update.hpp). Per-parameter state (velocity,
// squared-gradient sums, moments, step counts) lives in tensors the optimizer owns, on the
// parameter's device, and is exposed by name so checkpoints can save and restore it.
//
// Create the optimizer after the model's parameters are on their final device: state tensors
// are allocated there once, at construction.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "dlfs/runtime/parameter.hpp"

namespace dlfs::optim {

class Optimizer {
 public:
  // Throws InputError for a null parameter, a negative learning rate or weight decay.
  Optimizer(std::vector<Parameter*> parameters, double learning_rate, double weight_decay);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // Updates every parameter from its gradient; throws when one has no gradient.
  void step();

  virtual std::string name() const = 0;
  double learning_rate() const { return learning_rate_; }
  // For learning-rate schedules; takes effect at the next step().
  void set_learning_rate(double learning_rate);
  double weight_decay() const { return weight_decay_; }
  std::int64_t steps_taken() const { return steps_taken_; }
  // Resuming a run: the count of steps already taken (the state tensors are restored apart).
  void restore_steps_taken(std::int64_t steps) { steps_taken_ = steps; }
  const std::vector<Parameter*>& parameters() const { return parameters_; }

  // Every state tensor, named "<parameter name>.<slot>" ("fc1.weight.exp_avg"), parameter by
  // parameter in order, slots in the order the optimizer declared them. Slots that hold the
  // same quantity as PyTorch's carry PyTorch's state name. Writing into the tensors (restoring
  // a checkpoint) is allowed; they keep their shape, dtype and device.
  std::vector<std::pair<std::string, Tensor*>> state();
  // The slot names, e.g. {"exp_avg", "exp_avg_sq", "step"} for Adam.
  const std::vector<std::string>& state_slots() const { return slot_names_; }

 protected:
  // A zero tensor per parameter, with its value's shape, dtype and device.
  void add_state_slot(const std::string& slot);
  // A per-parameter count of updates: an int64 [1] host tensor starting at 0.
  void add_step_slot(const std::string& slot = "step");
  Tensor& slot(std::size_t parameter, std::size_t slot_index);
  // Applies the update rule to parameter `index` (whose gradient is defined).
  virtual void update(std::size_t index, Parameter& parameter) = 0;

 private:
  std::vector<Parameter*> parameters_;
  double learning_rate_;
  double weight_decay_;
  std::int64_t steps_taken_ = 0;
  std::vector<std::string> slot_names_;
  std::vector<std::vector<Tensor>> slots_;  // [parameter][slot]
};

// Throws InputError "<optimizer>: <what> must be in [low, high), not <value>." when outside.
void check_hyperparameter(const std::string& optimizer, const char* what, double value, double low,
                          double high);

}  // namespace dlfs::optim
