#include "dlfs/kernels/optimizer_update.hpp"

#include "dlfs/kernels/dispatch.hpp"

namespace dlfs::kernels {

namespace {
// The value, gradient and state tensors of one update must agree in everything but shape
// (a state tensor may be flat); the gradient must match the value's shape.
void check_update(const char* op, const Tensor& w, const Tensor& g,
                  std::initializer_list<const Tensor*> state) {
  check_same_device(op, {&w, &g});
  for (const Tensor* s : state) check_same_device(op, {&w, s});
  check_floating(op, w);
  if (g.shape() != w.shape() || g.dtype() != w.dtype())
    throw Error(std::string(op) + ": gradient " + g.str() + " does not match parameter " + w.str());
  for (const Tensor* s : state)
    if (s->numel() != w.numel() || s->dtype() != w.dtype())
      throw Error(std::string(op) + ": state " + s->str() + " does not match parameter " + w.str());
}
}  // namespace

void sgd_update_(Tensor& w, const Tensor& g, const SgdStep& s) {
  check_update("sgd_update_", w, g, {});
  if (w.device().is_cuda()) {
    DLFS_CUDA_CALL("sgd_update_",
                   cuda::sgd_update(w.data<float>(), g.data<float>(), w.numel(), s, stream_of(w)));
    return;
  }
  DLFS_DISPATCH_FLOATING(w.dtype(), "sgd_update_", [&] {
    cpu::sgd_update(w.data<scalar_t>(), g.data<scalar_t>(), w.numel(), s);
  });
}

void momentum_update_(Tensor& w, const Tensor& g, Tensor& velocity, const MomentumStep& s) {
  check_update("momentum_update_", w, g, {&velocity});
  if (w.device().is_cuda()) {
    DLFS_CUDA_CALL("momentum_update_",
                   cuda::momentum_update(w.data<float>(), g.data<float>(), velocity.data<float>(),
                                         w.numel(), s, stream_of(w)));
    return;
  }
  DLFS_DISPATCH_FLOATING(w.dtype(), "momentum_update_", [&] {
    cpu::momentum_update(w.data<scalar_t>(), g.data<scalar_t>(), velocity.data<scalar_t>(),
                         w.numel(), s);
  });
}

void nesterov_update_(Tensor& w, const Tensor& g, Tensor& velocity, const MomentumStep& s) {
  check_update("nesterov_update_", w, g, {&velocity});
  if (w.device().is_cuda()) {
    DLFS_CUDA_CALL("nesterov_update_",
                   cuda::nesterov_update(w.data<float>(), g.data<float>(), velocity.data<float>(),
                                         w.numel(), s, stream_of(w)));
    return;
  }
  DLFS_DISPATCH_FLOATING(w.dtype(), "nesterov_update_", [&] {
    cpu::nesterov_update(w.data<scalar_t>(), g.data<scalar_t>(), velocity.data<scalar_t>(),
                         w.numel(), s);
  });
}

void adagrad_update_(Tensor& w, const Tensor& g, Tensor& h, const AdaGradStep& s) {
  check_update("adagrad_update_", w, g, {&h});
  if (w.device().is_cuda()) {
    DLFS_CUDA_CALL("adagrad_update_",
                   cuda::adagrad_update(w.data<float>(), g.data<float>(), h.data<float>(),
                                        w.numel(), s, stream_of(w)));
    return;
  }
  DLFS_DISPATCH_FLOATING(w.dtype(), "adagrad_update_", [&] {
    cpu::adagrad_update(w.data<scalar_t>(), g.data<scalar_t>(), h.data<scalar_t>(), w.numel(), s);
  });
}

void rmsprop_update_(Tensor& w, const Tensor& g, Tensor& h, const RmspropStep& s) {
  check_update("rmsprop_update_", w, g, {&h});
  if (w.device().is_cuda()) {
    DLFS_CUDA_CALL("rmsprop_update_",
                   cuda::rmsprop_update(w.data<float>(), g.data<float>(), h.data<float>(),
                                        w.numel(), s, stream_of(w)));
    return;
  }
  DLFS_DISPATCH_FLOATING(w.dtype(), "rmsprop_update_", [&] {
    cpu::rmsprop_update(w.data<scalar_t>(), g.data<scalar_t>(), h.data<scalar_t>(), w.numel(), s);
  });
}

void adam_update_(Tensor& w, const Tensor& g, Tensor& m, Tensor& v, const AdamStep& s) {
  check_update("adam_update_", w, g, {&m, &v});
  if (w.device().is_cuda()) {
    DLFS_CUDA_CALL("adam_update_",
                   cuda::adam_update(w.data<float>(), g.data<float>(), m.data<float>(),
                                     v.data<float>(), w.numel(), s, stream_of(w)));
    return;
  }
  DLFS_DISPATCH_FLOATING(w.dtype(), "adam_update_", [&] {
    cpu::adam_update(w.data<scalar_t>(), g.data<scalar_t>(), m.data<scalar_t>(), v.data<scalar_t>(),
                     w.numel(), s);
  });
}

}  // namespace dlfs::kernels
