#include "dlfs/optim/optimizer.hpp"

#include <cmath>
#include <sstream>

#include "dlfs/runtime/error.hpp"

namespace dlfs::optim {

void check_hyperparameter(const std::string& optimizer, const char* what, double value, double low,
                          double high) {
  if (!(value >= low && value < high)) {
    std::ostringstream message;
    message << optimizer << ": " << what << " must be in [" << low << ", " << high << "), not "
            << value << ".";
    throw InputError(message.str());
  }
}

Optimizer::Optimizer(std::vector<Parameter*> parameters, double learning_rate, double weight_decay)
    : parameters_(std::move(parameters)),
      learning_rate_(learning_rate),
      weight_decay_(weight_decay),
      slots_(parameters_.size()) {
  check_hyperparameter("optimizer", "the learning rate", learning_rate, 0.0, INFINITY);
  check_hyperparameter("optimizer", "the weight decay", weight_decay, 0.0, INFINITY);
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    if (!parameters_[i])
      throw InputError("optimizer: parameter " + std::to_string(i) + " is null.");
    if (!parameters_[i]->value.defined())
      throw InputError("optimizer: parameter '" + parameters_[i]->name + "' has no value.");
  }
}

void Optimizer::set_learning_rate(double learning_rate) {
  check_hyperparameter(name(), "the learning rate", learning_rate, 0.0, INFINITY);
  learning_rate_ = learning_rate;
}

void Optimizer::step() {
  for (Parameter* p : parameters_)
    if (!p->grad.defined())
      throw Error(name() + ": parameter '" + p->name +
                  "' has no gradient; run backward() before step()");
  for (std::size_t i = 0; i < parameters_.size(); ++i) update(i, *parameters_[i]);
  ++steps_taken_;
}

std::vector<std::pair<std::string, Tensor*>> Optimizer::state() {
  std::vector<std::pair<std::string, Tensor*>> out;
  for (std::size_t p = 0; p < parameters_.size(); ++p)
    for (std::size_t s = 0; s < slot_names_.size(); ++s)
      out.emplace_back(parameters_[p]->name + "." + slot_names_[s], &slots_[p][s]);
  return out;
}

void Optimizer::add_state_slot(const std::string& slot) {
  slot_names_.push_back(slot);
  for (std::size_t p = 0; p < parameters_.size(); ++p) {
    const Tensor& v = parameters_[p]->value;
    slots_[p].push_back(Tensor::zeros(v.shape(), v.dtype(), v.device()));
  }
}

void Optimizer::add_step_slot(const std::string& slot) {
  slot_names_.push_back(slot);
  for (std::size_t p = 0; p < parameters_.size(); ++p)
    slots_[p].push_back(Tensor::zeros({1}, DType::Int64, Device::cpu()));
}

Tensor& Optimizer::slot(std::size_t parameter, std::size_t slot_index) {
  return slots_.at(parameter).at(slot_index);
}

}  // namespace dlfs::optim
