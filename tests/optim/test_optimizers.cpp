#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>

#include "dlfs/optim/adagrad.hpp"
#include "dlfs/optim/adam.hpp"
#include "dlfs/optim/make_optimizer.hpp"
#include "dlfs/optim/momentum.hpp"
#include "dlfs/optim/nesterov.hpp"
#include "dlfs/optim/rmsprop.hpp"
#include "dlfs/optim/sgd.hpp"
#include "dlfs/runtime/error.hpp"

namespace dlfs::optim {
namespace {

using Vec = std::vector<double>;

AdamOptions adam_with_lr(double lr) {
  AdamOptions o;
  o.lr = lr;
  return o;
}

OptimizerConfig named(const std::string& name) {
  OptimizerConfig c;
  c.name = name;
  return c;
}

// The reference: the update rules written out per element in plain double, independently of the
// library's kernels. `state` holds one vector per state slot.
struct Reference {
  std::string kind;  // sgd, momentum, nesterov, adagrad, rmsprop, adam
  bool pytorch = false;
  double lr = 0, m = 0.9, d = 0.99, b1 = 0.9, b2 = 0.999, eps = 0, wd = 0;
  Vec s1, s2;
  int t = 0;

  void step(Vec& w, const Vec& g_in) {
    if (s1.empty()) s1.assign(w.size(), 0.0), s2.assign(w.size(), 0.0);
    ++t;
    for (std::size_t i = 0; i < w.size(); ++i) {
      const double g = g_in[i] + wd * w[i];
      if (kind == "sgd") {
        w[i] -= lr * g;
      } else if (kind == "momentum" && !pytorch) {
        s1[i] = m * s1[i] - lr * g;
        w[i] += s1[i];
      } else if (kind == "momentum") {
        s1[i] = m * s1[i] + g;
        w[i] -= lr * s1[i];
      } else if (kind == "nesterov" && !pytorch) {  // the book's code, line by line
        s1[i] *= m;
        s1[i] -= lr * g;
        w[i] += m * m * s1[i];
        w[i] -= (1 + m) * lr * g;
      } else if (kind == "nesterov") {  // torch.optim.SGD(nesterov=True)
        s1[i] = m * s1[i] + g;
        w[i] -= lr * (g + m * s1[i]);
      } else if (kind == "adagrad") {
        s1[i] += g * g;
        w[i] -= lr * g / (std::sqrt(s1[i]) + eps);
      } else if (kind == "rmsprop") {
        s1[i] *= d;
        s1[i] += (1 - d) * g * g;
        w[i] -= lr * g / (std::sqrt(s1[i]) + eps);
      } else if (kind == "adam" && !pytorch) {  // the book's code
        const double lr_t = lr * std::sqrt(1 - std::pow(b2, t)) / (1 - std::pow(b1, t));
        s1[i] += (1 - b1) * (g - s1[i]);
        s2[i] += (1 - b2) * (g * g - s2[i]);
        w[i] -= lr_t * s1[i] / (std::sqrt(s2[i]) + eps);
      } else if (kind == "adam") {  // torch.optim.Adam
        s1[i] = b1 * s1[i] + (1 - b1) * g;
        s2[i] = b2 * s2[i] + (1 - b2) * g * g;
        const double m_hat = s1[i] / (1 - std::pow(b1, t));
        const double v_hat = s2[i] / (1 - std::pow(b2, t));
        w[i] -= lr * m_hat / (std::sqrt(v_hat) + eps);
      }
    }
  }
};

struct Case {
  std::string kind;
  bool pytorch;
  double lr, wd;
};

std::unique_ptr<Optimizer> build(const Case& c, std::vector<Parameter*> params) {
  OptimizerConfig config;
  config.name = c.kind;
  config.lr = c.lr;
  config.weight_decay = c.wd;
  config.pytorch_style = c.pytorch;
  return make_optimizer(config, std::move(params));
}

Reference reference_for(const Case& c, double eps) {
  Reference r;
  r.kind = c.kind;
  r.pytorch = c.pytorch;
  r.lr = c.lr;
  r.wd = c.wd;
  r.eps = eps;
  return r;
}

double default_eps(const std::string& kind, bool pytorch) {
  if (kind == "adagrad") return pytorch ? 1e-10 : 1e-7;
  if (kind == "rmsprop" || kind == "adam") return pytorch ? 1e-8 : 1e-7;
  return 0.0;
}

// Gradients that change sign and size between steps, including a zero.
Vec gradient_at(int step, std::size_t n, double scale) {
  Vec g(n);
  for (std::size_t i = 0; i < n; ++i)
    g[i] = scale * std::sin(1.3 * static_cast<double>(i) + 0.7 * step) * (i == 2 ? 0.0 : 1.0);
  return g;
}

Tensor tensor_from(const Vec& v, const Shape& shape, DType dtype) {
  Tensor t = Tensor::from_vector<double>(v, shape);
  return t.to(dtype);
}

Vec as_double(const Tensor& t) {
  return t.to(DType::Float64).to_vector<double>();
}

// Runs `steps` updates on two parameters ([3, 4] and [5]) and compares every value with the
// reference after each step.
void check_against_reference(const Case& c, DType dtype, double tolerance, int steps = 4) {
  SCOPED_TRACE(c.kind + (c.pytorch ? " pytorch_style" : " book") + " lr=" + std::to_string(c.lr) +
               " wd=" + std::to_string(c.wd) + " " + dtype_name(dtype));
  const std::vector<Shape> shapes = {Shape({3, 4}), Shape({5})};
  std::vector<Parameter> params(2);
  std::vector<Vec> expected(2);
  std::vector<Reference> refs(2, reference_for(c, default_eps(c.kind, c.pytorch)));
  for (std::size_t p = 0; p < 2; ++p) {
    expected[p] = Vec(static_cast<std::size_t>(shapes[p].numel()));
    for (std::size_t i = 0; i < expected[p].size(); ++i)
      expected[p][i] = 0.5 - 0.25 * static_cast<double>(i % 5) + 0.1 * static_cast<double>(p);
    params[p].name = p == 0 ? "fc.weight" : "fc.bias";
    params[p].value = tensor_from(expected[p], shapes[p], dtype);
  }
  auto opt = build(c, {&params[0], &params[1]});
  for (int s = 0; s < steps; ++s) {
    for (std::size_t p = 0; p < 2; ++p) {
      const Vec g = gradient_at(s, expected[p].size(), 1.0 + static_cast<double>(p));
      params[p].grad = tensor_from(g, shapes[p], dtype);
      refs[p].step(expected[p], g);
    }
    opt->step();
    for (std::size_t p = 0; p < 2; ++p) {
      const Vec got = as_double(params[p].value);
      for (std::size_t i = 0; i < got.size(); ++i)
        ASSERT_NEAR(got[i], expected[p][i], tolerance * std::max(1.0, std::abs(expected[p][i])))
            << "step " << s << " parameter " << p << " element " << i;
    }
  }
  EXPECT_EQ(opt->steps_taken(), steps);
}

const std::vector<Case>& all_cases() {
  static const std::vector<Case> cases = {
      {"sgd", false, 0.1, 0.0},        {"sgd", false, 0.1, 0.01},
      {"momentum", false, 0.1, 0.0},   {"momentum", true, 0.1, 0.0},
      {"momentum", false, 0.05, 0.01}, {"momentum", true, 0.05, 0.01},
      {"nesterov", false, 0.1, 0.0},   {"nesterov", true, 0.1, 0.0},
      {"nesterov", false, 0.05, 0.01}, {"nesterov", true, 0.05, 0.01},
      {"adagrad", false, 0.5, 0.0},    {"adagrad", true, 0.5, 0.0},
      {"adagrad", false, 0.5, 0.01},   {"rmsprop", false, 0.01, 0.0},
      {"rmsprop", true, 0.01, 0.0},    {"rmsprop", true, 0.01, 0.01},
      {"adam", false, 0.001, 0.0},     {"adam", true, 0.001, 0.0},
      {"adam", false, 0.3, 0.01},      {"adam", true, 0.3, 0.01},
  };
  return cases;
}

TEST(Optimizers, MultiStepUpdatesMatchTheReferenceInFloat64) {
  for (const Case& c : all_cases()) check_against_reference(c, DType::Float64, 1e-13);
}

TEST(Optimizers, MultiStepUpdatesMatchTheReferenceInFloat32) {
  for (const Case& c : all_cases()) check_against_reference(c, DType::Float32, 2e-6);
}

// Single steps small enough to check by hand (w = 1, g = 0.5, lr = 0.1).
double one_step(const std::string& kind, bool pytorch, double wd = 0.0, double lr = 0.1) {
  Parameter p{"w", Tensor::from_vector<double>({1.0}, {1}),
              Tensor::from_vector<double>({0.5}, {1})};
  auto opt = build({kind, pytorch, lr, wd}, {&p});
  opt->step();
  return p.value.to_vector<double>()[0];
}

TEST(Optimizers, HandComputedFirstSteps) {
  EXPECT_DOUBLE_EQ(one_step("sgd", false), 0.95);
  EXPECT_DOUBLE_EQ(one_step("momentum", false), 0.95);  // v = -0.05
  EXPECT_DOUBLE_EQ(one_step("momentum", true), 0.95);   // b = 0.5
  // Book Nesterov: v = -0.05; w += 0.81 * -0.05 - 1.9 * 0.05 = -0.1355.
  EXPECT_NEAR(one_step("nesterov", false), 0.8645, 1e-15);
  // PyTorch Nesterov: b = 0.5; w -= 0.1 * (0.5 + 0.9 * 0.5) = 0.095.
  EXPECT_NEAR(one_step("nesterov", true), 0.905, 1e-15);
  // AdaGrad: h = 0.25; w -= 0.1 * 0.5 / (0.5 + 1e-7).
  EXPECT_NEAR(one_step("adagrad", false), 1.0 - 0.05 / 0.5000001, 1e-15);
  // RMSprop: h = 0.01 * 0.25 = 0.0025; w -= 0.1 * 0.5 / (0.05 + 1e-7).
  EXPECT_NEAR(one_step("rmsprop", false), 1.0 - 0.05 / 0.0500001, 1e-14);
  // Adam's first step is lr * sign(g) up to eps: book eps is scaled by sqrt(1 - b2) ...
  EXPECT_NEAR(one_step("adam", false), 1.0 - 0.1 * 0.5 / (0.5 + 1e-7 / std::sqrt(0.001)), 1e-15);
  // ... PyTorch's is not.
  EXPECT_NEAR(one_step("adam", true), 1.0 - 0.1 * 0.5 / (0.5 + 1e-8), 1e-15);
  // Weight decay: g' = 0.5 + 0.2 * 1.
  EXPECT_DOUBLE_EQ(one_step("sgd", false, 0.2), 1.0 - 0.1 * 0.7);
}

// RMSprop with weight decay, by hand (w = 1, g = 0.5, lr = 0.1, wd = 0.2, decay 0.99):
// g' = 0.5 + 0.2 * 1 = 0.7, h = 0.01 * 0.49 = 0.0049, sqrt(h) = 0.07, w -= 0.1 * 0.7 / (0.07 +
// eps). Without the decay term the step would be 0.1 * 0.5 / (0.05 + eps): the same ~0.1 step, so
// the second step below (where the sizes differ) is checked too.
TEST(Optimizers, RmspropWeightDecayByHand) {
  EXPECT_NEAR(one_step("rmsprop", false, 0.2), 1.0 - 0.07 / (0.07 + 1e-7), 1e-14);
  EXPECT_NEAR(one_step("rmsprop", true, 0.2), 1.0 - 0.07 / (0.07 + 1e-8), 1e-14);
  for (bool pytorch : {false, true}) {
    SCOPED_TRACE(pytorch ? "pytorch_style" : "book");
    const double eps = pytorch ? 1e-8 : 1e-7;
    Parameter p{"w", Tensor::from_vector<double>({2.0}, {1}),
                Tensor::from_vector<double>({0.5}, {1})};
    auto opt = build({"rmsprop", pytorch, 0.01, 0.2}, {&p});
    opt->step();
    // g' = 0.5 + 0.4 = 0.9, h = 0.01 * 0.81 = 0.0081, w = 2 - 0.01 * 0.9 / (0.09 + eps).
    const double w1 = 2.0 - 0.009 / (0.09 + eps);
    EXPECT_NEAR(p.value.to_vector<double>()[0], w1, 1e-14);
    p.grad = Tensor::from_vector<double>({-1.0}, {1});
    opt->step();
    const double g2 = -1.0 + 0.2 * w1;  // about -0.6
    const double h2 = 0.99 * 0.0081 + 0.01 * g2 * g2;
    EXPECT_NEAR(p.value.to_vector<double>()[0], w1 - 0.01 * g2 / (std::sqrt(h2) + eps), 1e-14);
  }
}

TEST(Optimizers, TwoHandComputedMomentumSteps) {
  Parameter p{"w", Tensor::from_vector<double>({1.0}, {1}),
              Tensor::from_vector<double>({0.5}, {1})};
  Momentum opt({&p}, MomentumOptions{0.1, 0.9, 0.0, false});
  opt.step();
  opt.step();  // v = 0.9 * -0.05 - 0.05 = -0.095
  EXPECT_NEAR(p.value.to_vector<double>()[0], 0.855, 1e-15);
  EXPECT_NEAR(opt.state()[0].second->to_vector<double>()[0], -0.095, 1e-15);
}

TEST(Optimizers, WeightDecayLeavesTheStoredGradientAlone) {
  Parameter p{"w", Tensor::from_vector<double>({2.0, -4.0}, {2}),
              Tensor::from_vector<double>({0.5, 0.5}, {2})};
  Sgd opt({&p}, SgdOptions{0.1, 0.01});
  opt.step();
  EXPECT_EQ(p.grad.to_vector<double>(), (Vec{0.5, 0.5}));
  const Vec w = p.value.to_vector<double>();
  EXPECT_DOUBLE_EQ(w[0], 2.0 - 0.1 * (0.5 + 0.02));
  EXPECT_DOUBLE_EQ(w[1], -4.0 - 0.1 * (0.5 - 0.04));
}

TEST(Optimizers, BookAndPytorchMomentumAgreeUntilTheLearningRateChanges) {
  auto run = [](bool pytorch, bool change_lr) {
    Parameter p{"w", Tensor::from_vector<double>({1.0, -2.0}, {2}), Tensor()};
    Momentum opt({&p}, MomentumOptions{0.1, 0.9, 0.0, pytorch});
    for (int s = 0; s < 5; ++s) {
      if (change_lr && s == 3) opt.set_learning_rate(0.01);
      p.grad = Tensor::from_vector<double>(gradient_at(s, 2, 1.0), {2});
      opt.step();
    }
    return p.value.to_vector<double>();
  };
  const Vec book = run(false, false), torch = run(true, false);
  for (int i = 0; i < 2; ++i) EXPECT_NEAR(book[i], torch[i], 1e-15);
  const Vec book_changed = run(false, true), torch_changed = run(true, true);
  EXPECT_GT(std::abs(book_changed[0] - torch_changed[0]), 1e-3);
}

TEST(Optimizers, BookNesterovDiffersFromPytorchWhichIsTheCitedReformulation) {
  // torch's form equals Bengio et al.'s w += m^2 v_old - (1 + m) lr g with the old velocity.
  Parameter p{"w", Tensor::from_vector<double>({1.0}, {1}), Tensor()};
  Nesterov opt({&p}, MomentumOptions{0.1, 0.9, 0.0, true});
  double w = 1.0, v = 0.0;
  for (int s = 0; s < 4; ++s) {
    const double g = gradient_at(s, 1, 1.0)[0];
    w += 0.81 * v - 1.9 * 0.1 * g;
    v = 0.9 * v - 0.1 * g;
    p.grad = Tensor::from_vector<double>({g}, {1});
    opt.step();
  }
  EXPECT_NEAR(p.value.to_vector<double>()[0], w, 1e-14);
  EXPECT_NE(one_step("nesterov", false), one_step("nesterov", true));
}

TEST(Optimizers, StateIsNamedPerParameterAndRestoresExactly) {
  auto fresh = [] {
    std::vector<Parameter> ps(2);
    ps[0] = {"conv1.weight", Tensor::from_vector<double>({0.5, -0.5, 1.0}, {3}), Tensor()};
    ps[1] = {"conv1.bias", Tensor::from_vector<double>({0.1}, {1}), Tensor()};
    return ps;
  };
  auto grads = [](std::vector<Parameter>& ps, int s) {
    ps[0].grad = Tensor::from_vector<double>(gradient_at(s, 3, 1.0), {3});
    ps[1].grad = Tensor::from_vector<double>(gradient_at(s, 1, 2.0), {1});
  };
  // Uninterrupted: 6 steps.
  std::vector<Parameter> a = fresh();
  Adam opt_a({&a[0], &a[1]}, adam_with_lr(0.05));
  for (int s = 0; s < 6; ++s) grads(a, s), opt_a.step();

  // Interrupted after 3 steps: state and values copied into a fresh optimizer.
  std::vector<Parameter> b = fresh();
  Adam opt_b({&b[0], &b[1]}, adam_with_lr(0.05));
  for (int s = 0; s < 3; ++s) grads(b, s), opt_b.step();
  const auto state_b = opt_b.state();
  std::vector<std::string> names;
  for (const auto& [name, tensor] : state_b) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"conv1.weight.exp_avg", "conv1.weight.exp_avg_sq",
                                             "conv1.weight.step", "conv1.bias.exp_avg",
                                             "conv1.bias.exp_avg_sq", "conv1.bias.step"}));
  EXPECT_EQ(state_b[2].second->to_vector<std::int64_t>(), (std::vector<std::int64_t>{3}));
  EXPECT_EQ(state_b[0].second->shape(), Shape({3}));

  std::vector<Parameter> c = fresh();
  Adam opt_c({&c[0], &c[1]}, adam_with_lr(0.05));
  const auto state_c = opt_c.state();
  for (std::size_t i = 0; i < state_c.size(); ++i) state_c[i].second->copy_from(*state_b[i].second);
  for (std::size_t p = 0; p < 2; ++p) c[p].value.copy_from(b[p].value);
  for (int s = 3; s < 6; ++s) grads(c, s), opt_c.step();
  for (std::size_t p = 0; p < 2; ++p)
    EXPECT_EQ(c[p].value.to_vector<double>(), a[p].value.to_vector<double>());
}

TEST(Optimizers, StateSlotNamesFollowPytorchWhereTheQuantityIsTheSame) {
  Parameter p{"w", Tensor::zeros({2}), Tensor()};
  auto slots = [&](const std::string& kind, bool pytorch) {
    return build({kind, pytorch, 0.1, 0.0}, {&p})->state_slots();
  };
  using Names = std::vector<std::string>;
  EXPECT_EQ(slots("sgd", false), Names{});
  EXPECT_EQ(slots("momentum", false), Names{"velocity"});
  EXPECT_EQ(slots("momentum", true), Names{"momentum_buffer"});
  EXPECT_EQ(slots("nesterov", true), Names{"momentum_buffer"});
  EXPECT_EQ(slots("adagrad", false), Names{"sum"});
  EXPECT_EQ(slots("rmsprop", false), Names{"square_avg"});
  EXPECT_EQ(slots("adam", true), (Names{"exp_avg", "exp_avg_sq", "step"}));
}

TEST(Optimizers, BookDefaults) {
  Parameter p{"w", Tensor::zeros({2}), Tensor()};
  EXPECT_DOUBLE_EQ(Sgd({&p}).learning_rate(), 0.01);
  Momentum momentum({&p});
  EXPECT_DOUBLE_EQ(momentum.learning_rate(), 0.01);
  EXPECT_DOUBLE_EQ(momentum.options().momentum, 0.9);
  EXPECT_DOUBLE_EQ(AdaGrad({&p}).eps(), 1e-7);
  EXPECT_DOUBLE_EQ(AdaGrad({&p}, AdaGradOptions{0.01, std::nullopt, 0.0, true}).eps(), 1e-10);
  EXPECT_DOUBLE_EQ(Rmsprop({&p}).eps(), 1e-7);
  Adam adam({&p});
  EXPECT_DOUBLE_EQ(adam.learning_rate(), 0.001);
  EXPECT_DOUBLE_EQ(adam.options().beta1, 0.9);
  EXPECT_DOUBLE_EQ(adam.options().beta2, 0.999);
  EXPECT_DOUBLE_EQ(adam.eps(), 1e-7);
  EXPECT_DOUBLE_EQ(Adam({&p}, AdamOptions{0.001, 0.9, 0.999, std::nullopt, 0.0, true}).eps(), 1e-8);
  EXPECT_DOUBLE_EQ(Adam({&p}, AdamOptions{0.001, 0.9, 0.999, 1e-6, 0.0, true}).eps(), 1e-6);
}

TEST(Optimizers, BadInputIsRefusedWithTheOptimizerNamed) {
  Parameter p{"w", Tensor::zeros({2}), Tensor()};
  auto message = [](const std::function<void()>& f) -> std::string {
    try {
      f();
    } catch (const InputError& e) {
      return e.what();
    }
    return "(no InputError)";
  };
  EXPECT_NE(message([&] {
              make_optimizer(named("adamw"), {&p});
            }).find("Unknown optimizer 'adamw'; choose one of sgd, momentum"),
            std::string::npos);
  OptimizerConfig c;
  c.name = "adam";
  c.momentum = 0.5;
  EXPECT_NE(message([&] { make_optimizer(c, {&p}); }).find("'adam' has no momentum"),
            std::string::npos);
  EXPECT_NE(message([&] {
              Momentum({&p}, MomentumOptions{0.1, 1.0});
            }).find("Momentum: momentum must be in [0, 1), not 1."),
            std::string::npos);
  EXPECT_THROW(Sgd({&p}, SgdOptions{-0.1}), InputError);
  EXPECT_THROW(Sgd({nullptr}), InputError);
  AdamOptions beta2_one;
  beta2_one.beta2 = 1.0;
  EXPECT_THROW(Adam({&p}, beta2_one), InputError);
  Sgd sgd({&p});
  EXPECT_THROW(sgd.set_learning_rate(-1.0), InputError);
  EXPECT_THROW(sgd.step(), Error);  // no gradient yet
  p.grad = Tensor::zeros({3});
  EXPECT_THROW(sgd.step(), Error);  // gradient of another shape
}

// The book's figure 6-8: f(x, y) = x^2 / 20 + y^2 from (-7, 2), 30 steps each.
TEST(Optimizers, BookOptimizerPathsApproachTheMinimum) {
  struct PathCase {
    std::string kind;
    double lr;
  };
  for (const PathCase& pc : {PathCase{"sgd", 0.95}, PathCase{"momentum", 0.1},
                             PathCase{"adagrad", 1.5}, PathCase{"adam", 0.3}}) {
    SCOPED_TRACE(pc.kind);
    Parameter p{"xy", Tensor::from_vector<double>({-7.0, 2.0}, {2}), Tensor()};
    auto opt = build({pc.kind, false, pc.lr, 0.0}, {&p});
    Reference ref = reference_for({pc.kind, false, pc.lr, 0.0}, default_eps(pc.kind, false));
    Vec expected = {-7.0, 2.0};
    for (int s = 0; s < 30; ++s) {
      const Vec xy = p.value.to_vector<double>();
      const Vec g = {xy[0] / 10.0, 2.0 * xy[1]};
      p.grad = Tensor::from_vector<double>(g, {2});
      opt->step();
      ref.step(expected, {expected[0] / 10.0, 2.0 * expected[1]});
    }
    const Vec xy = p.value.to_vector<double>();
    EXPECT_NEAR(xy[0], expected[0], 1e-12);
    EXPECT_NEAR(xy[1], expected[1], 1e-12);
    const double start = std::hypot(-7.0, 2.0), end = std::hypot(xy[0], xy[1]);
    EXPECT_LT(end, start) << "ended at (" << xy[0] << ", " << xy[1] << ")";
    // From 7.3 away, all four end within 1 of the minimum (momentum, the farthest, at 0.90).
    EXPECT_LT(end, 1.0) << "ended at (" << xy[0] << ", " << xy[1] << ")";
    const double f = xy[0] * xy[0] / 20.0 + xy[1] * xy[1];
    EXPECT_LT(f, 49.0 / 20.0 + 4.0);
  }
}

}  // namespace
}  // namespace dlfs::optim
