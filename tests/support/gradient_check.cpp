#include "support/gradient_check.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace dlfs::testing {

namespace {

double weighted_sum(const Tensor& y, const Tensor& w) {
  const double* yp = y.data<double>();
  const double* wp = w.data<double>();
  double s = 0.0;
  for (std::int64_t i = 0; i < y.numel(); ++i) s += yp[i] * wp[i];
  return s;
}

}  // namespace

Tensor random_tensor(const Shape& shape, Generator& gen, double stddev) {
  Tensor t = Tensor::empty(shape, DType::Float64);
  t.normal_(gen, 0.0, stddev);
  return t;
}

void randomize_parameters(Layer& layer, Generator& gen, double stddev) {
  for (Parameter* p : layer.parameters()) p->value.normal_(gen, 0.0, stddev);
}

GradCheckResult check_gradients(Layer& layer, std::vector<Tensor> inputs,
                                const GradCheckOptions& options) {
  layer.to(Device::cpu());
  layer.to(DType::Float64);
  for (Tensor& t : inputs)
    if (t.dtype() == DType::Float32) t = t.to(DType::Float64);

  auto run_forward = [&]() {
    if (options.before_forward) options.before_forward();
    return layer.forward(inputs, Mode::Train);
  };

  Generator gen(options.seed);
  Tensor y = run_forward();
  Tensor w = options.output_is_loss ? Tensor::full(y.shape(), 1.0, DType::Float64)
                                    : random_tensor(y.shape(), gen);
  auto loss = [&]() { return weighted_sum(run_forward(), w); };

  // Analytic gradients from one forward/backward at the unperturbed point.
  run_forward();
  std::vector<Tensor> input_grads = layer.backward(w);
  std::vector<std::pair<std::string, Tensor>> param_grads;
  for (Parameter* p : layer.parameters()) param_grads.emplace_back(p->name, p->grad.clone());

  GradCheckResult result;
  auto compare = [&](Tensor& x, const Tensor& analytic, const std::string& what, bool kinky) {
    double* xp = x.data<double>();
    const double* ap = analytic.data<double>();
    for (std::int64_t i = 0; i < x.numel(); ++i) {
      if (kinky && options.kink > 0 && std::abs(xp[i] - options.kink_at) < options.kink) {
        result.skipped += 1;
        continue;
      }
      const double saved = xp[i];
      xp[i] = saved + options.step;
      const double plus = loss();
      xp[i] = saved - options.step;
      const double minus = loss();
      xp[i] = saved;
      const double numeric = (plus - minus) / (2 * options.step);
      const double a = ap[i];
      const double scale = std::max({std::abs(a), std::abs(numeric), 1.0});
      const double error = std::abs(a - numeric) / scale;
      result.checked += 1;
      if (error > result.worst_error || result.worst_where.empty()) {
        result.worst_error = std::max(error, result.worst_error);
        result.worst_where = what + " [" + std::to_string(i) + "]";
      }
      if (error > options.threshold && result.failures.size() < 5) {
        std::ostringstream msg;
        msg << what << " [" << i << "]: analytic " << a << ", numeric " << numeric;
        result.failures.push_back(msg.str());
      }
    }
  };

  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const bool wanted = options.check_input.empty() || options.check_input[k];
    if (!wanted) continue;
    if (k >= input_grads.size() || !input_grads[k].defined()) {
      result.failures.push_back("input " + std::to_string(k) + " has no gradient");
      continue;
    }
    if (input_grads[k].shape() != inputs[k].shape()) {
      result.failures.push_back("input " + std::to_string(k) + " gradient has shape " +
                                input_grads[k].shape().str() + ", input " +
                                inputs[k].shape().str());
      continue;
    }
    compare(inputs[k], input_grads[k], "input " + std::to_string(k), true);
  }
  if (options.check_parameters) {
    std::vector<Parameter*> params = layer.parameters();
    for (std::size_t k = 0; k < params.size(); ++k)
      compare(params[k]->value, param_grads[k].second, "parameter " + params[k]->name, false);
  }
  return result;
}

}  // namespace dlfs::testing
