// The model catalog and checkpoints (dlfs._core.models): a catalog model as a Python object that
// runs forward and backward, shares its parameters as tensors, saves and loads safetensors
// checkpoints, and describes its graph node by node for ONNX export (python/dlfs/onnx.py).

#include "dlfs/layers/affine.hpp"
#include "dlfs/layers/avg_pool.hpp"
#include "dlfs/layers/batch_norm.hpp"
#include "dlfs/layers/convolution.hpp"
#include "dlfs/layers/dropout.hpp"
#include "dlfs/layers/lrn.hpp"
#include "dlfs/layers/max_pool.hpp"
#include "dlfs/layers/scale.hpp"
#include "dlfs/models/catalog.hpp"
#include "dlfs/models/checkpoint.hpp"
#include "dlfs/models/init.hpp"
#include "dlfs/python/src/bindings.hpp"
#include "dlfs/runtime/generator.hpp"

namespace dlfs::python {

namespace {

using Release = nb::call_guard<nb::gil_scoped_release>;

nb::list pair_list(std::int64_t a, std::int64_t b) {
  nb::list l;
  l.append(a);
  l.append(b);
  return l;
}

void describe_pool(nb::dict& attributes, const kernels::PoolWindow& w) {
  attributes["kernel"] = pair_list(w.kernel_h, w.kernel_w);
  attributes["stride"] = pair_list(w.stride_h, w.stride_w);
  attributes["padding"] = pair_list(w.pad_h, w.pad_w);
}

// What an exporter needs to know of a layer beyond its type and tensors.
nb::dict layer_attributes(Layer& layer) {
  nb::dict a;
  if (auto* conv = dynamic_cast<Convolution*>(&layer)) {
    const kernels::ConvWindow& w = conv->window();
    a["in_channels"] = conv->in_channels();
    a["out_channels"] = conv->out_channels();
    a["kernel"] = pair_list(w.kernel_h, w.kernel_w);
    a["stride"] = pair_list(w.stride_h, w.stride_w);
    a["padding"] = pair_list(w.pad_h, w.pad_w);
    a["dilation"] = pair_list(w.dilation_h, w.dilation_w);
    a["bias"] = conv->parameters().size() > 1;
  } else if (auto* affine = dynamic_cast<Affine*>(&layer)) {
    a["in_features"] = affine->in_features();
    a["out_features"] = affine->out_features();
  } else if (auto* max_pool = dynamic_cast<MaxPool*>(&layer)) {
    describe_pool(a, max_pool->window());
  } else if (auto* avg_pool = dynamic_cast<AvgPool*>(&layer)) {
    describe_pool(a, avg_pool->window());
    a["count_include_pad"] = true;
  } else if (auto* bn = dynamic_cast<BatchNorm*>(&layer)) {
    a["num_features"] = bn->num_features();
    a["eps"] = bn->eps();
    a["momentum"] = bn->momentum();
  } else if (auto* lrn = dynamic_cast<LRN*>(&layer)) {
    a["size"] = lrn->params().size;
    a["alpha"] = lrn->params().alpha;
    a["beta"] = lrn->params().beta;
    a["k"] = lrn->params().k;
  } else if (auto* dropout = dynamic_cast<Dropout*>(&layer)) {
    a["p"] = dropout->p();
  } else if (auto* scale = dynamic_cast<Scale*>(&layer)) {
    a["factor"] = scale->factor();
  } else if (layer.type() == "Concat") {
    a["axis"] = 1;
  }
  return a;
}

nb::list describe_nodes(Model& model) {
  nb::list nodes;
  for (const std::string& name : model.graph.order()) {
    Layer& layer = model.graph.layer(name);
    nb::dict node;
    node["name"] = name;
    node["type"] = layer.type();
    node["inputs"] = model.graph.inputs(name);
    node["attributes"] = layer_attributes(layer);
    nodes.append(node);
  }
  return nodes;
}

Parameter& model_parameter(Model& model, const std::string& name) {
  for (const NamedParameter& p : model.graph.parameters())
    if (p.name == name) return *p.parameter;
  throw InputError(model.name + " has no parameter '" + name + "'");
}

std::vector<std::pair<std::string, Tensor>> model_buffers(Model& model) {
  std::vector<std::pair<std::string, Tensor>> out;
  for (const NamedBuffer& b : model.graph.buffers()) out.emplace_back(b.name, b.buffer->value);
  return out;
}

double loss_value(Model& model, const Tensor& x, const Tensor& labels, bool train) {
  const Tensor loss = model.graph.run({{Model::kInput, x}, {Model::kLabels, labels}},
                                      Model::kLossNode, train ? Mode::Train : Mode::Inference);
  return static_cast<double>(loss.to(Device::cpu()).data<float>()[0]);
}

nb::tuple shape_tuple(const Shape& shape) {
  nb::list dims;
  for (std::int64_t d : shape.dims()) dims.append(d);
  return nb::tuple(dims);
}

}  // namespace

void bind_models(nb::module_& m) {
  nb::module_ models = m.def_submodule("models", "the model catalog and checkpoints");

  nb::class_<Model>(models, "Model")
      .def_ro("name", &Model::name)
      .def_ro("variant", &Model::variant)
      .def_ro("classes", &Model::classes)
      .def_ro("logits_node", &Model::logits_node)
      .def_prop_ro("input_shape", [](const Model& model) { return shape_tuple(model.input_shape); })
      .def_prop_ro("device", [](const Model& model) { return model.graph.device().str(); })
      .def_prop_ro("parameter_count", [](Model& model) { return model.graph.parameter_count(); })
      .def(
          "to",
          [](Model& model, const std::string& device) { model.graph.to(Device::parse(device)); },
          nb::arg("device"), Release())
      .def(
          "forward",
          [](Model& model, const Tensor& x, bool train) {
            return model.graph.run({{Model::kInput, x}}, model.logits_node,
                                   train ? Mode::Train : Mode::Inference);
          },
          nb::arg("x"), nb::arg("train") = false, Release(), "The logits [N, classes].")
      .def("loss", &loss_value, nb::arg("x"), nb::arg("labels"), nb::arg("train") = true, Release(),
           "The mean cross-entropy of the batch; train=True keeps what backward() needs.")
      .def(
          "backward", [](Model& model) { model.graph.backward(Model::kLossNode); }, Release(),
          "Gradients of the last training loss() into every parameter's grad.")
      .def("parameter_names",
           [](Model& model) {
             std::vector<std::string> names;
             for (const NamedParameter& p : model.graph.parameters()) names.push_back(p.name);
             return names;
           })
      .def("parameter", &model_parameter, nb::arg("name"), nb::rv_policy::reference_internal)
      .def("buffers", &model_buffers)
      .def("state", &model_state, "Parameters then buffers, as save() writes them.")
      .def(
          "save",
          [](Model& model, const std::string& path,
             const std::map<std::string, std::string>& meta) { save_model(path, model, meta); },
          nb::arg("path"), nb::arg("metadata") = std::map<std::string, std::string>{}, Release())
      .def(
          "load_weights",
          [](Model& model, const std::string& path) {
            load_weights(model, load_safetensors(path), path);
          },
          nb::arg("path"), Release())
      .def(
          "initialize",
          [](Model& model, const std::string& scheme, std::uint64_t seed) {
            Generator generator(seed);
            initialize(model, parse_init_scheme(scheme), generator);
          },
          nb::arg("scheme") = "auto", nb::arg("seed") = 0, Release())
      .def(
          "zero_grad",
          [](Model& model) {
            for (const NamedParameter& p : model.graph.parameters()) p.parameter->grad.zero_();
          },
          Release())
      .def("nodes", &describe_nodes,
           "Every node in topological order: name, type, inputs and the layer's attributes.");

  models.def("build", &build_model, nb::arg("name"), nb::arg("variant") = "",
             nb::arg("classes") = 0, Release());
  models.def(
      "load",
      [](const std::string& path) {
        std::map<std::string, std::string> metadata;
        Model model = load_model(path, &metadata);
        return std::make_pair(std::move(model), metadata);
      },
      nb::arg("path"), "The model a dlfs checkpoint names, with its weights, and the metadata.");
  models.def("catalog", []() {
    nb::list entries;
    for (const ModelInfo& info : model_catalog()) {
      nb::dict entry;
      entry["name"] = info.name;
      entry["description"] = info.description;
      entry["variants"] = info.variants;
      entries.append(entry);
    }
    return entries;
  });
}

}  // namespace dlfs::python
