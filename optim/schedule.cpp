#include "dlfs/optim/schedule.hpp"

#include <cmath>
#include <sstream>

#include "dlfs/runtime/error.hpp"

namespace dlfs::optim {

namespace {

void check_epoch(std::int64_t epoch) {
  if (epoch < 0)
    throw InputError("A learning-rate schedule has no epoch " + std::to_string(epoch) + ".");
}

void check_lr(double lr) {
  if (!(lr >= 0.0 && std::isfinite(lr))) {
    std::ostringstream m;
    m << "The base learning rate must be finite and non-negative, not " << lr << ".";
    throw InputError(m.str());
  }
}

std::string number(double x) {
  std::ostringstream s;
  s << x;
  return s.str();
}

[[noreturn]] void bad_spec(const std::string& spec) {
  throw InputError("Learning-rate schedule '" + spec +
                   "' is not one of constant, step:K, step:K:GAMMA or cosine.");
}

// Parses all of `text` as a number, or calls bad_spec.
double parse_number(const std::string& text, const std::string& spec) {
  std::size_t used = 0;
  double value = 0.0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    bad_spec(spec);
  }
  if (used != text.size()) bad_spec(spec);
  return value;
}

}  // namespace

ConstantSchedule::ConstantSchedule(double lr) : lr_(lr) {
  check_lr(lr);
}

double ConstantSchedule::at(std::int64_t epoch) const {
  check_epoch(epoch);
  return lr_;
}

std::string ConstantSchedule::describe() const {
  return "constant(lr=" + number(lr_) + ")";
}

StepSchedule::StepSchedule(double lr, std::int64_t step_epochs, double gamma)
    : lr_(lr), step_epochs_(step_epochs), gamma_(gamma) {
  check_lr(lr);
  if (step_epochs < 1)
    throw InputError("A step schedule needs a step of at least 1 epoch, not " +
                     std::to_string(step_epochs) + ".");
  if (!(gamma > 0.0 && gamma <= 1.0))
    throw InputError("A step schedule's gamma must be in (0, 1], not " + number(gamma) + ".");
}

double StepSchedule::at(std::int64_t epoch) const {
  check_epoch(epoch);
  return lr_ * std::pow(gamma_, static_cast<double>(epoch / step_epochs_));
}

std::string StepSchedule::describe() const {
  return "step(lr=" + number(lr_) + ", every " + std::to_string(step_epochs_) +
         " epochs, gamma=" + number(gamma_) + ")";
}

CosineSchedule::CosineSchedule(double lr, std::int64_t total_epochs)
    : lr_(lr), total_epochs_(total_epochs) {
  check_lr(lr);
  if (total_epochs < 1)
    throw InputError("A cosine schedule needs at least 1 epoch, not " +
                     std::to_string(total_epochs) + ".");
}

double CosineSchedule::at(std::int64_t epoch) const {
  check_epoch(epoch);
  if (epoch >= total_epochs_) return 0.0;
  const double pi = 3.141592653589793;
  return lr_ * 0.5 *
         (1.0 + std::cos(pi * static_cast<double>(epoch) / static_cast<double>(total_epochs_)));
}

std::string CosineSchedule::describe() const {
  return "cosine(lr=" + number(lr_) + " to 0 over " + std::to_string(total_epochs_) + " epochs)";
}

std::unique_ptr<LearningRateSchedule> parse_schedule(const std::string& spec, double lr,
                                                     std::int64_t total_epochs) {
  if (spec == "constant") return std::make_unique<ConstantSchedule>(lr);
  if (spec == "cosine") return std::make_unique<CosineSchedule>(lr, total_epochs);
  if (spec.rfind("step:", 0) == 0) {
    const std::string rest = spec.substr(5);
    const std::size_t colon = rest.find(':');
    const double k = parse_number(rest.substr(0, colon), spec);
    const double gamma =
        colon == std::string::npos ? 0.1 : parse_number(rest.substr(colon + 1), spec);
    if (k != std::floor(k) || k > 1e15) bad_spec(spec);
    return std::make_unique<StepSchedule>(lr, static_cast<std::int64_t>(k), gamma);
  }
  bad_spec(spec);
}

}  // namespace dlfs::optim
