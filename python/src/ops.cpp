// The kernels the book-style classes in python/dlfs call directly: the matrix product and bias of
// the book's Affine (whose W is [in, out], the transpose of dlfs's Affine layer), and the fused
// optimizer updates behind the book's SGD, Momentum, AdaGrad, RMSprop and Adam.
#include "dlfs/kernels/bias.hpp"
#include "dlfs/kernels/gemm.hpp"
#include "dlfs/kernels/optimizer_update.hpp"
#include "dlfs/kernels/reduce.hpp"
#include "dlfs/python/src/bindings.hpp"

namespace dlfs::python {

namespace {

using Release = nb::call_guard<nb::gil_scoped_release>;

void check_matrix(const Tensor& t, const char* name) {
  if (t.ndim() != 2)
    throw InputError(std::string("matmul: ") + name + " must be a matrix, not " + t.str());
}

// op(a) op(b) as a new tensor on their device.
Tensor matmul(const Tensor& a, bool trans_a, const Tensor& b, bool trans_b) {
  check_matrix(a, "a");
  check_matrix(b, "b");
  const std::int64_t m = trans_a ? a.dim(1) : a.dim(0);
  const std::int64_t k = trans_a ? a.dim(0) : a.dim(1);
  const std::int64_t k_b = trans_b ? b.dim(1) : b.dim(0);
  const std::int64_t n = trans_b ? b.dim(0) : b.dim(1);
  if (k != k_b)
    throw InputError("matmul: inner sizes differ (" + a.str() + (trans_a ? " transposed" : "") +
                     " times " + b.str() + (trans_b ? " transposed" : "") + ")");
  Tensor c = Tensor::empty({m, n}, a.dtype(), a.device());
  kernels::matmul(a, trans_a, b, trans_b, c);
  return c;
}

}  // namespace

void bind_ops(nb::module_& m) {
  nb::module_ ops = m.def_submodule("ops", "dlfs kernels called one by one");
  ops.def("matmul", &matmul, nb::arg("a"), nb::arg("trans_a") = false, nb::arg("b"),
          nb::arg("trans_b") = false, Release(), "op(a) @ op(b) (cuBLAS or OpenBLAS).");
  ops.def(
      "bias_add_", [](Tensor& y, const Tensor& bias) { kernels::bias_add_(y, bias); }, nb::arg("y"),
      nb::arg("bias"), Release(), "y += bias along axis 1, in place.");
  ops.def("bias_grad", &kernels::bias_grad, nb::arg("dy"), Release(),
          "Sums of dy over every axis but axis 1.");
  ops.def(
      "sum", [](const Tensor& x) { return kernels::sum(x); }, nb::arg("x"), Release());

  ops.def(
      "sgd_update_",
      [](Tensor& w, const Tensor& g, double lr, double weight_decay) {
        kernels::sgd_update_(w, g, {lr, weight_decay});
      },
      nb::arg("w"), nb::arg("g"), nb::arg("lr"), nb::arg("weight_decay") = 0.0, Release());
  ops.def(
      "momentum_update_",
      [](Tensor& w, const Tensor& g, Tensor& v, double lr, double momentum, double weight_decay) {
        kernels::momentum_update_(w, g, v, {lr, momentum, weight_decay, false});
      },
      nb::arg("w"), nb::arg("g"), nb::arg("v"), nb::arg("lr"), nb::arg("momentum"),
      nb::arg("weight_decay") = 0.0, Release());
  ops.def(
      "nesterov_update_",
      [](Tensor& w, const Tensor& g, Tensor& v, double lr, double momentum, double weight_decay) {
        kernels::nesterov_update_(w, g, v, {lr, momentum, weight_decay, false});
      },
      nb::arg("w"), nb::arg("g"), nb::arg("v"), nb::arg("lr"), nb::arg("momentum"),
      nb::arg("weight_decay") = 0.0, Release());
  ops.def(
      "adagrad_update_",
      [](Tensor& w, const Tensor& g, Tensor& h, double lr, double eps, double weight_decay) {
        kernels::adagrad_update_(w, g, h, {lr, eps, weight_decay});
      },
      nb::arg("w"), nb::arg("g"), nb::arg("h"), nb::arg("lr"), nb::arg("eps") = 1e-7,
      nb::arg("weight_decay") = 0.0, Release());
  ops.def(
      "rmsprop_update_",
      [](Tensor& w, const Tensor& g, Tensor& h, double lr, double decay, double eps,
         double weight_decay) {
        kernels::rmsprop_update_(w, g, h, {lr, decay, eps, weight_decay});
      },
      nb::arg("w"), nb::arg("g"), nb::arg("h"), nb::arg("lr"), nb::arg("decay"),
      nb::arg("eps") = 1e-7, nb::arg("weight_decay") = 0.0, Release());
  ops.def(
      "adam_update_",
      [](Tensor& w, const Tensor& g, Tensor& m1, Tensor& v, double step_size, double beta1,
         double beta2, double eps, double weight_decay) {
        kernels::adam_update_(w, g, m1, v, {step_size, beta1, beta2, eps, 1.0, weight_decay});
      },
      nb::arg("w"), nb::arg("g"), nb::arg("m"), nb::arg("v"), nb::arg("step_size"),
      nb::arg("beta1"), nb::arg("beta2"), nb::arg("eps") = 1e-7, nb::arg("weight_decay") = 0.0,
      Release(), "The book's Adam step: step_size = lr * sqrt(1 - beta2^t) / (1 - beta1^t).");
}

}  // namespace dlfs::python
