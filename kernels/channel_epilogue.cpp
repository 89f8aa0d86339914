#include "dlfs/kernels/channel_epilogue.hpp"

#include <string>

#include "dlfs/kernels/dispatch.hpp"

namespace dlfs::kernels {

namespace {

bool per_channel_fits(const Tensor& t, std::int64_t channels, DType dtype) {
  return t.defined() && t.numel() == channels && t.dtype() == dtype && t.device().is_cpu();
}

void check_epilogue(const Tensor& x, const ChannelEpilogue& e) {
  const char* op = "apply_channel_epilogue";
  check_floating(op, x);
  if (!x.device().is_cpu()) throw Error(std::string(op) + ": runs on the CPU only, got " + x.str());
  if (x.ndim() < 2) throw Error(std::string(op) + ": expects [N, C, ...], got " + x.str());
  if (!e.normalizes()) return;
  for (const Tensor* t : {&e.gamma, &e.beta, &e.mean, &e.var})
    if (!per_channel_fits(*t, x.dim(1), x.dtype()))
      throw Error(std::string(op) + ": per-channel tensor " + (t->defined() ? t->str() : "(none)") +
                  " does not match the " + std::to_string(x.dim(1)) + " channels of " + x.str());
}

void apply(const Tensor& x, Tensor& y, const ChannelEpilogue& e) {
  const std::int64_t batch = x.dim(0), channels = x.dim(1);
  const std::int64_t spatial = batch * channels == 0 ? 0 : x.numel() / (batch * channels);
  DLFS_DISPATCH_FLOATING(x.dtype(), "apply_channel_epilogue", [&] {
    cpu::apply_channel_epilogue(x.data<scalar_t>(), y.data<scalar_t>(), batch, channels, spatial,
                                e);
  });
}

}  // namespace

bool epilogue_fits(const ChannelEpilogue& e, std::int64_t channels, DType dtype) {
  if (!e.normalizes()) return true;
  for (const Tensor* t : {&e.gamma, &e.beta, &e.mean, &e.var})
    if (!per_channel_fits(*t, channels, dtype)) return false;
  return true;
}

Tensor apply_channel_epilogue(const Tensor& x, const ChannelEpilogue& epilogue) {
  check_epilogue(x, epilogue);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  apply(x, y, epilogue);
  return y;
}

void apply_channel_epilogue_(Tensor& y, const ChannelEpilogue& epilogue) {
  check_epilogue(y, epilogue);
  apply(y, y, epilogue);
}

}  // namespace dlfs::kernels
