// The checker itself must be able to fail: a layer with a wrong backward is caught.
#include <gtest/gtest.h>

#include "support/gradient_check.hpp"

namespace dlfs {
namespace {

// y = 2x with a backward that forgets the factor 2.
class WrongBackward : public Layer {
 public:
  std::string type() const override { return "WrongBackward"; }
  Tensor forward(const std::vector<Tensor>& inputs, Mode) override {
    Tensor y = inputs[0].clone();
    for (std::int64_t i = 0; i < y.numel(); ++i) y.data<double>()[i] *= 2;
    return y;
  }
  std::vector<Tensor> backward(const Tensor& dy) override { return {dy.clone()}; }
};

TEST(GradientChecker, CatchesAWrongBackward) {
  WrongBackward layer;
  Generator g(1);
  auto r = testing::check_gradients(layer, {testing::random_tensor({4, 3}, g)});
  EXPECT_EQ(r.checked, 12u);
  EXPECT_FALSE(r.failures.empty());
  EXPECT_GT(r.worst_error, 0.1);
}

}  // namespace
}  // namespace dlfs
