#include "dlfs/kernels/cuda/launch.cuh"
#include "dlfs/kernels/optimizer_update.hpp"

namespace dlfs::kernels::cuda {

namespace {
using namespace cuda_detail;

// Every kernel here: grid-stride loop, one parameter element per thread per iteration; value,
// gradient and state are each read once and written once (memory-bound, coalesced). The
// arithmetic follows the CPU twin in kernels/cpu/optimizer_update.cpp term by term, with the
// same coefficients formed in double on the host (1 - beta2, (1 + m) * lr, ...). nvcc would
// contract `g + wd * w` and `w - lr * g` into FMAs (one rounding where the CPU rounds twice),
// and after thousands of steps the weights drift apart by far more than an ulp; the _rn
// intrinsics forbid contraction, so each step rounds as on the CPU and the twins agree bit for
// bit (sqrtf and / are IEEE-exact on both).
__device__ inline float mul(float a, float b) {
  return __fmul_rn(a, b);
}
__device__ inline float add(float a, float b) {
  return __fadd_rn(a, b);
}
__device__ inline float sub(float a, float b) {
  return __fsub_rn(a, b);
}
// The weight-decayed gradient g + wd * w.
__device__ inline float decayed(float g, float wd, float w) {
  return add(g, mul(wd, w));
}

__global__ void sgd_kernel(float* w, const float* g, std::int64_t n, float lr, float wd) {
  DLFS_GRID_STRIDE_LOOP(i, n) {
    const float grad = decayed(g[i], wd, w[i]);
    w[i] = sub(w[i], mul(lr, grad));
  }
}

__global__ void momentum_kernel(float* w, const float* g, float* v, std::int64_t n, float lr,
                                float m, float wd, bool pytorch_style) {
  DLFS_GRID_STRIDE_LOOP(i, n) {
    const float grad = decayed(g[i], wd, w[i]);
    if (pytorch_style) {
      const float vi = add(mul(m, v[i]), grad);
      v[i] = vi;
      w[i] = sub(w[i], mul(lr, vi));
    } else {
      const float vi = sub(mul(m, v[i]), mul(lr, grad));
      v[i] = vi;
      w[i] = add(w[i], vi);
    }
  }
}

__global__ void nesterov_kernel(float* w, const float* g, float* v, std::int64_t n, float lr,
                                float m, float m_squared, float lr_look_ahead, float wd,
                                bool pytorch_style) {
  DLFS_GRID_STRIDE_LOOP(i, n) {
    const float grad = decayed(g[i], wd, w[i]);
    if (pytorch_style) {
      const float vi = add(mul(m, v[i]), grad);
      v[i] = vi;
      w[i] = sub(w[i], mul(lr, add(grad, mul(m, vi))));
    } else {
      const float vi = sub(mul(m, v[i]), mul(lr, grad));
      v[i] = vi;
      w[i] = add(w[i], sub(mul(m_squared, vi), mul(lr_look_ahead, grad)));
    }
  }
}

__global__ void adagrad_kernel(float* w, const float* g, float* h, std::int64_t n, float lr,
                               float eps, float wd) {
  DLFS_GRID_STRIDE_LOOP(i, n) {
    const float grad = decayed(g[i], wd, w[i]);
    const float hi = add(h[i], mul(grad, grad));
    h[i] = hi;
    w[i] = sub(w[i], mul(lr, grad) / add(sqrtf(hi), eps));
  }
}

__global__ void rmsprop_kernel(float* w, const float* g, float* h, std::int64_t n, float lr,
                               float d, float one_minus_d, float eps, float wd) {
  DLFS_GRID_STRIDE_LOOP(i, n) {
    const float grad = decayed(g[i], wd, w[i]);
    // The CPU's d * h + one_minus_d * grad * grad, left to right.
    const float hi = add(mul(d, h[i]), mul(mul(one_minus_d, grad), grad));
    h[i] = hi;
    w[i] = sub(w[i], mul(lr, grad) / add(sqrtf(hi), eps));
  }
}

__global__ void adam_kernel(float* w, const float* g, float* m, float* v, std::int64_t n,
                            float step, float one_minus_b1, float one_minus_b2, float eps,
                            float bc2, float wd) {
  DLFS_GRID_STRIDE_LOOP(i, n) {
    const float grad = decayed(g[i], wd, w[i]);
    const float mi = add(m[i], mul(one_minus_b1, sub(grad, m[i])));
    const float vi = add(v[i], mul(one_minus_b2, sub(mul(grad, grad), v[i])));
    m[i] = mi;
    v[i] = vi;
    w[i] = sub(w[i], mul(step, mi) / add(sqrtf(vi) / bc2, eps));
  }
}
}  // namespace

void sgd_update(float* w, const float* g, std::int64_t n, const SgdStep& s, CudaStream stream) {
  if (n == 0) return;
  DLFS_LAUNCH(blocks_for(n), kThreads, 0, stream, sgd_kernel)
  (w, g, n, float(s.lr), float(s.weight_decay));
  DLFS_CUDA_CHECK_LAUNCH();
}

void momentum_update(float* w, const float* g, float* v, std::int64_t n, const MomentumStep& s,
                     CudaStream stream) {
  if (n == 0) return;
  DLFS_LAUNCH(blocks_for(n), kThreads, 0, stream, momentum_kernel)
  (w, g, v, n, float(s.lr), float(s.momentum), float(s.weight_decay), s.pytorch_style);
  DLFS_CUDA_CHECK_LAUNCH();
}

void nesterov_update(float* w, const float* g, float* v, std::int64_t n, const MomentumStep& s,
                     CudaStream stream) {
  if (n == 0) return;
  DLFS_LAUNCH(blocks_for(n), kThreads, 0, stream, nesterov_kernel)
  (w, g, v, n, float(s.lr), float(s.momentum), float(s.momentum * s.momentum),
   float((1.0 + s.momentum) * s.lr), float(s.weight_decay), s.pytorch_style);
  DLFS_CUDA_CHECK_LAUNCH();
}

void adagrad_update(float* w, const float* g, float* h, std::int64_t n, const AdaGradStep& s,
                    CudaStream stream) {
  if (n == 0) return;
  DLFS_LAUNCH(blocks_for(n), kThreads, 0, stream, adagrad_kernel)
  (w, g, h, n, float(s.lr), float(s.eps), float(s.weight_decay));
  DLFS_CUDA_CHECK_LAUNCH();
}

void rmsprop_update(float* w, const float* g, float* h, std::int64_t n, const RmspropStep& s,
                    CudaStream stream) {
  if (n == 0) return;
  DLFS_LAUNCH(blocks_for(n), kThreads, 0, stream, rmsprop_kernel)
  (w, g, h, n, float(s.lr), float(s.decay), float(1.0 - s.decay), float(s.eps),
   float(s.weight_decay));
  DLFS_CUDA_CHECK_LAUNCH();
}

void adam_update(float* w, const float* g, float* m, float* v, std::int64_t n, const AdamStep& s,
                 CudaStream stream) {
  if (n == 0) return;
  DLFS_LAUNCH(blocks_for(n), kThreads, 0, stream, adam_kernel)
  (w, g, m, v, n, float(s.step_size), float(1.0 - s.beta1), float(1.0 - s.beta2), float(s.eps),
   float(s.sqrt_bias_correction2), float(s.weight_decay));
  DLFS_CUDA_CHECK_LAUNCH();
}

}  // namespace dlfs::kernels::cuda
