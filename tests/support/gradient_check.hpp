#pragma once
// Numerical gradient check in float64 on the CPU, after Caffe's GradientChecker.
//
// The layer computes y = f(inputs, parameters); the check takes the scalar loss
// L = sum(y * w) with fixed random weights w, so dL/dy = w is what backward() receives.
// Every element of every checked input and parameter is perturbed by +-step and the central
// difference (L+ - L-) / (2 step) is compared with the analytic gradient:
//   |analytic - numeric| <= threshold * max(|analytic|, |numeric|, 1).
// Elements within `kink` of a kink of the function (ReLU at 0, say) are skipped.
#include <functional>
#include <string>
#include <vector>

#include "dlfs/layers/layer.hpp"
#include "dlfs/runtime/generator.hpp"

namespace dlfs::testing {

struct GradCheckOptions {
  double step = 1e-5;
  double threshold = 1e-6;
  std::uint64_t seed = 1234;
  // Inputs whose gradient is checked; empty means all.
  std::vector<bool> check_input;
  bool check_parameters = true;
  // Skip input elements x with |x - kink_at| < kink (0: skip nothing).
  double kink = 0.0;
  double kink_at = 0.0;
  // Called before every forward (re-seeds Dropout so each forward uses one mask).
  std::function<void()> before_forward;
  // Scalar outputs (a loss) are checked as L = y: no random weights.
  bool output_is_loss = false;
};

struct GradCheckResult {
  std::size_t checked = 0;
  std::size_t skipped = 0;
  double worst_error = 0.0;           // largest |a - n| / max(|a|, |n|, 1)
  std::string worst_where;            // "input 0 [17]" or "parameter weight [3]"
  std::vector<std::string> failures;  // first few, for messages
};

// Moves the layer to the CPU in float64, converts the inputs, and checks. Parameters keep their
// values (fill them before calling); inputs are used as given.
GradCheckResult check_gradients(Layer& layer, std::vector<Tensor> inputs,
                                const GradCheckOptions& options = {});

// A float64 host tensor of the given shape with N(0, 1) entries.
Tensor random_tensor(const Shape& shape, Generator& gen, double stddev = 1.0);
// Fills every parameter of the layer with N(0, stddev^2).
void randomize_parameters(Layer& layer, Generator& gen, double stddev = 1.0);

}  // namespace dlfs::testing

// gtest assertion with a readable message.
#define EXPECT_GRADIENTS_MATCH(result)                                             \
  do {                                                                             \
    const auto& r_ = (result);                                                     \
    EXPECT_GT(r_.checked, 0u) << "nothing was checked";                            \
    EXPECT_TRUE(r_.failures.empty())                                               \
        << r_.failures.size() << " mismatches; worst " << r_.worst_error << " at " \
        << r_.worst_where << "; first: " << r_.failures.front();                   \
  } while (0)
