#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "dlfs/kernels/optimizer_update.hpp"
#include "dlfs/optim/adam.hpp"
#include "support/equivalence.hpp"
#include "support/gpu.hpp"

namespace dlfs::kernels {
namespace {

// One fused update kernel on both devices: `run` applies it to (w, g, s1, s2) on one device.
// Three steps with fresh gradients, then value and state must match the CPU bit for bit: the
// CUDA kernels round every multiply and add separately (no FMA contraction, see
// kernels/cuda/optimizer_update.cu), and sqrt and division are IEEE-exact on both devices.
using Update = std::function<void(Tensor& w, const Tensor& g, Tensor& s1, Tensor& s2, int step)>;

void expect_devices_agree(const Update& run, double tolerance = 0.0) {
  for (std::int64_t n : {1LL, 1000LL + 3, 1000003LL}) {
    SCOPED_TRACE("n=" + std::to_string(n));
    Generator gen(static_cast<std::uint64_t>(n));
    Tensor w = Tensor::empty({n});
    w.normal_(gen);
    Tensor s1 = Tensor::zeros({n}), s2 = Tensor::zeros({n});
    Tensor wd = w.to(Device::cuda()), s1d = s1.to(Device::cuda()), s2d = s2.to(Device::cuda());
    for (int step = 1; step <= 3; ++step) {
      Tensor g = Tensor::empty({n});
      g.normal_(gen, 0.0, 0.5 * step);
      run(w, g, s1, s2, step);
      run(wd, g.to(Device::cuda()), s1d, s2d, step);
    }
    EXPECT_TENSORS_CLOSE(w, wd, tolerance);
    EXPECT_TENSORS_CLOSE(s1, s1d, tolerance);
    EXPECT_TENSORS_CLOSE(s2, s2d, tolerance);
  }
}

TEST(OptimizerUpdateGpu, Sgd) {
  DLFS_REQUIRE_GPU();
  expect_devices_agree([](Tensor& w, const Tensor& g, Tensor&, Tensor&, int) {
    sgd_update_(w, g, SgdStep{0.1, 0.01});
  });
}

TEST(OptimizerUpdateGpu, MomentumBookAndPytorch) {
  DLFS_REQUIRE_GPU();
  for (bool pytorch : {false, true})
    expect_devices_agree([pytorch](Tensor& w, const Tensor& g, Tensor& v, Tensor&, int) {
      momentum_update_(w, g, v, MomentumStep{0.05, 0.9, 0.01, pytorch});
    });
}

TEST(OptimizerUpdateGpu, NesterovBookAndPytorch) {
  DLFS_REQUIRE_GPU();
  for (bool pytorch : {false, true})
    expect_devices_agree([pytorch](Tensor& w, const Tensor& g, Tensor& v, Tensor&, int) {
      nesterov_update_(w, g, v, MomentumStep{0.05, 0.9, 0.01, pytorch});
    });
}

TEST(OptimizerUpdateGpu, AdaGradBookAndPytorch) {
  DLFS_REQUIRE_GPU();
  for (double eps : {1e-7, 1e-10})
    expect_devices_agree([eps](Tensor& w, const Tensor& g, Tensor& h, Tensor&, int) {
      adagrad_update_(w, g, h, AdaGradStep{0.1, eps, 0.01});
    });
}

TEST(OptimizerUpdateGpu, RmspropBookAndPytorch) {
  DLFS_REQUIRE_GPU();
  for (double eps : {1e-7, 1e-8})
    expect_devices_agree([eps](Tensor& w, const Tensor& g, Tensor& h, Tensor&, int) {
      rmsprop_update_(w, g, h, RmspropStep{0.01, 0.99, eps, 0.01});
    });
}

TEST(OptimizerUpdateGpu, AdamBookAndPytorch) {
  DLFS_REQUIRE_GPU();
  for (bool pytorch : {false, true})
    expect_devices_agree([pytorch](Tensor& w, const Tensor& g, Tensor& m, Tensor& v, int t) {
      const double bc1 = 1 - std::pow(0.9, t), bc2 = 1 - std::pow(0.999, t);
      AdamStep s;
      s.step_size = pytorch ? 0.01 / bc1 : 0.01 * std::sqrt(bc2) / bc1;
      s.sqrt_bias_correction2 = pytorch ? std::sqrt(bc2) : 1.0;
      s.eps = pytorch ? 1e-8 : 1e-7;
      s.weight_decay = 0.01;
      adam_update_(w, g, m, v, s);
    });
}

TEST(OptimizerUpdateGpu, AdamOptimizerKeepsStateOnTheDeviceAndMatchesCpu) {
  DLFS_REQUIRE_GPU();
  Generator gen(5);
  Parameter cpu{"w", Tensor::empty({257, 33}), Tensor()};
  cpu.value.normal_(gen);
  Parameter gpu{"w", cpu.value.to(Device::cuda()), Tensor()};
  optim::AdamOptions options;
  options.lr = 0.01;
  optim::Adam a({&cpu}, options), b({&gpu}, options);
  EXPECT_TRUE(b.state()[0].second->device().is_cuda());
  EXPECT_TRUE(b.state()[2].second->device().is_cpu());  // the step count stays on the host
  for (int s = 0; s < 5; ++s) {
    Tensor g = Tensor::empty({257, 33});
    g.normal_(gen);
    cpu.grad = g;
    gpu.grad = g.to(Device::cuda());
    a.step();
    b.step();
  }
  EXPECT_TENSORS_CLOSE(cpu.value, gpu.value, 0.0);
  EXPECT_TENSORS_CLOSE(*a.state()[1].second, *b.state()[1].second, 0.0);
}

TEST(OptimizerUpdateGpu, RefusesTensorsOnTwoDevices) {
  DLFS_REQUIRE_GPU();
  Tensor w = Tensor::zeros({4}, DType::Float32, Device::cuda());
  EXPECT_THROW(sgd_update_(w, Tensor::zeros({4}), SgdStep{}), Error);
}

}  // namespace
}  // namespace dlfs::kernels
