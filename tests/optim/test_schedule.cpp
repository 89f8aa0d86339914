#include <gtest/gtest.h>

#include <cmath>

#include "dlfs/optim/schedule.hpp"
#include "dlfs/optim/sgd.hpp"
#include "dlfs/runtime/error.hpp"

namespace dlfs::optim {
namespace {

constexpr double kPi = 3.141592653589793;

TEST(Schedule, Constant) {
  ConstantSchedule s(0.1);
  EXPECT_DOUBLE_EQ(s.at(0), 0.1);
  EXPECT_DOUBLE_EQ(s.at(1000), 0.1);
  EXPECT_THROW(s.at(-1), InputError);
}

TEST(Schedule, StepMultipliesByGammaEveryKEpochs) {
  StepSchedule s(0.1, 3, 0.5);
  EXPECT_DOUBLE_EQ(s.at(0), 0.1);
  EXPECT_DOUBLE_EQ(s.at(2), 0.1);
  EXPECT_DOUBLE_EQ(s.at(3), 0.05);
  EXPECT_DOUBLE_EQ(s.at(5), 0.05);
  EXPECT_DOUBLE_EQ(s.at(6), 0.025);
  EXPECT_DOUBLE_EQ(s.at(9), 0.0125);
  EXPECT_THROW(StepSchedule(0.1, 0), InputError);
  EXPECT_THROW(StepSchedule(0.1, 2, 1.5), InputError);
}

TEST(Schedule, CosineFallsToZeroOverTotalEpochs) {
  CosineSchedule s(0.2, 10);
  EXPECT_DOUBLE_EQ(s.at(0), 0.2);
  EXPECT_NEAR(s.at(5), 0.1, 1e-15);                              // halfway
  EXPECT_NEAR(s.at(2), 0.1 * (1 + std::cos(kPi * 0.2)), 1e-15);  // 0.1809...
  EXPECT_NEAR(s.at(2), 0.18090169943749476, 1e-15);
  EXPECT_NEAR(s.at(9), 0.1 * (1 - std::cos(kPi * 0.1)), 1e-15);  // 0.0049...
  EXPECT_DOUBLE_EQ(s.at(10), 0.0);
  EXPECT_DOUBLE_EQ(s.at(25), 0.0);
  for (int e = 1; e <= 10; ++e) EXPECT_LT(s.at(e), s.at(e - 1));
}

TEST(Schedule, ParsesCommandLineSpecs) {
  EXPECT_DOUBLE_EQ(parse_schedule("constant", 0.3, 5)->at(4), 0.3);
  EXPECT_DOUBLE_EQ(parse_schedule("step:2", 1.0, 5)->at(4), 0.01);  // gamma 0.1 by default
  EXPECT_DOUBLE_EQ(parse_schedule("step:2:0.5", 1.0, 5)->at(4), 0.25);
  EXPECT_DOUBLE_EQ(parse_schedule("cosine", 1.0, 4)->at(2), 0.5);
  EXPECT_EQ(parse_schedule("step:30:0.1", 0.1, 90)->describe(),
            "step(lr=0.1, every 30 epochs, gamma=0.1)");
  for (const char* bad : {"", "linear", "step", "step:", "step:x", "step:2.5", "step:2:", "cos"}) {
    try {
      parse_schedule(bad, 0.1, 5);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("'") + bad + "'"), std::string::npos)
          << e.what();
    }
  }
}

TEST(Schedule, DrivesTheOptimizersLearningRate) {
  Parameter p{"w", Tensor::from_vector<double>({1.0}, {1}),
              Tensor::from_vector<double>({1.0}, {1})};
  Sgd opt({&p}, SgdOptions{0.4});
  StepSchedule schedule(0.4, 1, 0.5);
  for (int epoch = 0; epoch < 3; ++epoch) {
    opt.set_learning_rate(schedule.at(epoch));
    opt.step();
  }
  EXPECT_DOUBLE_EQ(p.value.to_vector<double>()[0], 1.0 - 0.4 - 0.2 - 0.1);
}

}  // namespace
}  // namespace dlfs::optim
