// dlfs's layers as Python classes (dlfs._core.layers): the book-style classes in
// python/dlfs/layers.py hold one each and share their parameters' tensors with the caller.

#include "dlfs/layers/affine.hpp"
#include "dlfs/layers/avg_pool.hpp"
#include "dlfs/layers/batch_norm.hpp"
#include "dlfs/layers/convolution.hpp"
#include "dlfs/layers/dropout.hpp"
#include "dlfs/layers/flatten.hpp"
#include "dlfs/layers/global_avg_pool.hpp"
#include "dlfs/layers/max_pool.hpp"
#include "dlfs/layers/relu.hpp"
#include "dlfs/layers/sigmoid.hpp"
#include "dlfs/layers/softmax_with_loss.hpp"
#include "dlfs/layers/tanh.hpp"
#include "dlfs/python/src/bindings.hpp"

namespace dlfs::python {

namespace {

using Release = nb::call_guard<nb::gil_scoped_release>;

Parameter& parameter_named(Layer& layer, const std::string& name) {
  for (Parameter* p : layer.parameters())
    if (p->name == name) return *p;
  throw InputError(layer.type() + " has no parameter '" + name + "'");
}

Buffer& buffer_named(Layer& layer, const std::string& name) {
  for (Buffer* b : layer.buffers())
    if (b->name == name) return *b;
  throw InputError(layer.type() + " has no buffer '" + name + "'");
}

kernels::PoolWindow pool_window(int kernel_h, int kernel_w, int stride_h, int stride_w, int pad_h,
                                int pad_w) {
  return {kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w};
}

}  // namespace

void bind_layers(nb::module_& m) {
  nb::module_ layers = m.def_submodule("layers", "dlfs's layers (layers/*.hpp)");

  nb::class_<Parameter>(layers, "Parameter", "A trainable tensor and its gradient.")
      .def_ro("name", &Parameter::name)
      .def_rw("value", &Parameter::value)
      .def_rw("grad", &Parameter::grad);

  nb::class_<Layer>(layers, "Layer")
      .def_prop_ro("type", &Layer::type)
      .def("describe", &Layer::describe)
      .def(
          "forward",
          [](Layer& layer, const std::vector<Tensor>& inputs, bool train) {
            return layer.forward(inputs, train ? Mode::Train : Mode::Inference);
          },
          nb::arg("inputs"), nb::arg("train") = true, Release(),
          "The layer's output; train=True keeps what backward needs.")
      .def("backward", &Layer::backward, nb::arg("grad_output"), Release(),
           "One gradient per input of the last training forward (None for labels).")
      .def("parameter_names",
           [](Layer& layer) {
             std::vector<std::string> names;
             for (Parameter* p : layer.parameters()) names.push_back(p->name);
             return names;
           })
      .def("parameter", &parameter_named, nb::arg("name"), nb::rv_policy::reference_internal)
      .def(
          "buffer",
          [](Layer& layer, const std::string& name) { return buffer_named(layer, name).value; },
          nb::arg("name"))
      .def(
          "set_buffer",
          [](Layer& layer, const std::string& name, const Tensor& value) {
            Buffer& b = buffer_named(layer, name);
            check_same_shape(b.value, value, name.c_str());
            b.value = value;
          },
          nb::arg("name"), nb::arg("value"))
      .def(
          "to", [](Layer& layer, const std::string& device) { layer.to(Device::parse(device)); },
          nb::arg("device"), Release())
      .def(
          "to_dtype",
          [](Layer& layer, const std::string& dtype) {
            if (dtype == "float64")
              layer.to(DType::Float64);
            else if (dtype == "float32")
              layer.to(DType::Float32);
            else
              throw InputError("layers hold float32 or float64 parameters, not " + dtype);
          },
          nb::arg("dtype"));

  nb::class_<Affine, Layer>(layers, "Affine")
      .def(nb::init<std::int64_t, std::int64_t>(), nb::arg("in_features"), nb::arg("out_features"));
  nb::class_<ReLU, Layer>(layers, "ReLU").def(nb::init<>());
  nb::class_<Sigmoid, Layer>(layers, "Sigmoid").def(nb::init<>());
  nb::class_<Tanh, Layer>(layers, "Tanh").def(nb::init<>());
  nb::class_<Flatten, Layer>(layers, "Flatten").def(nb::init<>());
  nb::class_<GlobalAvgPool, Layer>(layers, "GlobalAvgPool").def(nb::init<>());
  nb::class_<SoftmaxWithLoss, Layer>(layers, "SoftmaxWithLoss")
      .def(nb::init<>())
      .def("probabilities", &SoftmaxWithLoss::probabilities,
           "softmax(logits) of the last forward.");
  nb::class_<Convolution, Layer>(layers, "Convolution")
      .def(nb::init<std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t,
                    std::int64_t, bool>(),
           nb::arg("in_channels"), nb::arg("out_channels"), nb::arg("kernel_h"),
           nb::arg("kernel_w"), nb::arg("stride") = 1, nb::arg("padding") = 0,
           nb::arg("bias") = true);
  nb::class_<MaxPool, Layer>(layers, "MaxPool")
      .def(
          "__init__",
          [](MaxPool* self, int kh, int kw, int sh, int sw, int ph, int pw) {
            new (self) MaxPool(pool_window(kh, kw, sh, sw, ph, pw));
          },
          nb::arg("kernel_h"), nb::arg("kernel_w"), nb::arg("stride_h"), nb::arg("stride_w"),
          nb::arg("pad_h") = 0, nb::arg("pad_w") = 0);
  nb::class_<AvgPool, Layer>(layers, "AvgPool")
      .def(
          "__init__",
          [](AvgPool* self, int kh, int kw, int sh, int sw, int ph, int pw) {
            new (self) AvgPool(pool_window(kh, kw, sh, sw, ph, pw));
          },
          nb::arg("kernel_h"), nb::arg("kernel_w"), nb::arg("stride_h"), nb::arg("stride_w"),
          nb::arg("pad_h") = 0, nb::arg("pad_w") = 0);
  nb::class_<BatchNorm, Layer>(layers, "BatchNorm")
      .def(nb::init<std::int64_t, double, double>(), nb::arg("num_features"), nb::arg("eps") = 1e-5,
           nb::arg("momentum") = 0.1);
  nb::class_<Dropout, Layer>(layers, "Dropout")
      .def(nb::init<double, std::uint64_t>(), nb::arg("p") = 0.5, nb::arg("seed") = 0);
}

}  // namespace dlfs::python
