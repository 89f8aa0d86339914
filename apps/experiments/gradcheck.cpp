// gradcheck: backpropagation against numerical gradients for the book's TwoLayerNet (on real
// images) and its small SimpleConvNet (on a random 10x10 image), as in the book's
// gradient_check.py, printing the mean absolute difference per parameter.
#include "dlfs/apps/experiments/gradcheck.hpp"

#include <cmath>
#include <cstdio>

#include "dlfs/apps/experiments/registry.hpp"
#include "dlfs/apps/experiments/training.hpp"
#include "dlfs/models/layer_factory.hpp"

namespace dlfs::app::experiment {

Model build_two_layer_net(const Shape& input_shape, int hidden, int classes) {
  Model m;
  begin_model(m, "two-layer-net", "", input_shape, classes);
  SequentialBuilder b(m.graph, Model::kInput);
  b.add("flatten", make::flatten())
      .add("fc1", make::linear(static_cast<int>(input_shape.numel()), hidden))
      .add("relu1", make::relu())
      .add("fc2", make::linear(hidden, classes));
  finish_model(m, "fc2");
  return m;
}

Model build_small_convnet(const Shape& input_shape, int filters, int hidden, int classes) {
  const std::int64_t conv_out = input_shape.dim(1) - 2, pooled = conv_out / 2;
  Model m;
  begin_model(m, "simple-convnet-small", "", input_shape, classes);
  SequentialBuilder b(m.graph, Model::kInput);
  b.add("conv1", make::conv(static_cast<int>(input_shape.dim(0)), filters, 3))
      .add("relu1", make::relu())
      .add("pool1", make::max_pool(2, 2))
      .add("flatten", make::flatten())
      .add("fc1", make::linear(static_cast<int>(filters * pooled * pooled), hidden))
      .add("relu2", make::relu())
      .add("fc2", make::linear(hidden, classes));
  finish_model(m, "fc2");
  return m;
}

namespace {

double element(const Tensor& t, std::int64_t i) {
  return t.dtype() == DType::Float64 ? t.data<double>()[i] : t.data<float>()[i];
}

void set_element(Tensor& t, std::int64_t i, double v) {
  if (t.dtype() == DType::Float64)
    t.data<double>()[i] = v;
  else
    t.data<float>()[i] = static_cast<float>(v);
}

}  // namespace

std::vector<GradientDifference> compare_gradients(Model& model, const Tensor& images,
                                                  const Tensor& labels, DType dtype, double step) {
  model.graph.to(Device::cpu());
  for (const std::string& node : model.graph.order()) model.graph.layer(node).to(dtype);
  const std::map<std::string, Tensor> feeds = {{Model::kInput, images.to(dtype)},
                                               {Model::kLabels, labels}};
  auto loss = [&] {
    const Tensor l = model.graph.run(feeds, Model::kLossNode, Mode::Train);
    return element(l, 0);
  };
  loss();
  model.graph.backward(Model::kLossNode);
  std::vector<std::pair<std::string, Tensor>> analytic;
  for (const NamedParameter& p : model.graph.parameters())
    analytic.emplace_back(p.name, p.parameter->grad.clone());

  std::vector<GradientDifference> out;
  std::size_t k = 0;
  for (const NamedParameter& p : model.graph.parameters()) {
    Tensor& w = p.parameter->value;
    const Tensor& g = analytic[k++].second;
    GradientDifference d;
    d.parameter = p.name;
    d.elements = w.numel();
    for (std::int64_t i = 0; i < w.numel(); ++i) {
      const double original = element(w, i);
      set_element(w, i, original + step);
      const double plus = loss();
      set_element(w, i, original - step);
      const double minus = loss();
      set_element(w, i, original);
      const double numeric = (plus - minus) / (2.0 * step);
      const double diff = std::fabs(element(g, i) - numeric);
      d.mean_abs_difference += diff;
      d.max_abs_difference = std::max(d.max_abs_difference, diff);
      d.mean_abs_gradient += std::fabs(element(g, i));
    }
    d.mean_abs_difference /= static_cast<double>(d.elements);
    d.mean_abs_gradient /= static_cast<double>(d.elements);
    out.push_back(d);
  }
  return out;
}

namespace {

void declare(Options& o) {
  o.add("dtype", "NAME", "float64 (the check's precision) or float32", "float64");
  o.add("step", "H",
        "central-difference step; the book's 1e-4 crosses max-pooling kinks in the conv check",
        "1e-5");
}

void report(JsonWriter& json, const std::string& title, const std::string& input,
            const std::vector<GradientDifference>& diffs) {
  std::printf("%s (%s):\n", title.c_str(), input.c_str());
  json.begin_object().field("network", title).field("input", input).key("parameters").begin_array();
  for (const GradientDifference& d : diffs) {
    std::printf(
        "  %-12s %7lld elements  mean |backprop - numerical| %.3e  max %.3e  "
        "(mean |gradient| %.3e)\n",
        d.parameter.c_str(), static_cast<long long>(d.elements), d.mean_abs_difference,
        d.max_abs_difference, d.mean_abs_gradient);
    json.begin_object()
        .field("name", d.parameter)
        .field("elements", d.elements)
        .field("mean_abs_difference", d.mean_abs_difference)
        .field("max_abs_difference", d.max_abs_difference)
        .field("mean_abs_gradient", d.mean_abs_gradient)
        .end_object();
  }
  std::fflush(stdout);
  json.end_array().end_object();
}

int run(Context& c) {
  const std::string dtype_name = c.options->choice("dtype", {"float64", "float32"});
  const DType dtype = dtype_name == "float64" ? DType::Float64 : DType::Float32;
  const double step = c.options->real("step", 1e-12, 1.0);
  std::printf("precision %s on the CPU, central differences with h = %g\n", dtype_name.c_str(),
              step);
  JsonWriter json;
  json.begin_object()
      .field("experiment", c.name)
      .field("dtype", dtype_name)
      .field("step", step)
      .key("networks")
      .begin_array();

  // TwoLayerNet (784-50-10, weights N(0, 0.01^2)) on the first 3 training images.
  const data::Dataset train = c.load_data(3).train;
  const Shape image({train.images.dim(1), train.images.dim(2), train.images.dim(3)});
  const int hidden = c.quick ? 5 : 50;
  Model two_layer =
      build_two_layer_net(c.quick ? Shape({1, 4, 4}) : image, hidden, train.num_classes);
  Generator gen(c.seed);
  initialize_weights(two_layer, WeightInit::fixed(0.01), gen);
  Tensor x = c.quick ? Tensor::empty(Shape({3, 1, 4, 4})).uniform_(gen) : train.images;
  report(json, "TwoLayerNet", c.quick ? "3 random 4x4 images" : "the first 3 training images",
         compare_gradients(two_layer, x, train.labels, dtype, step));

  // SimpleConvNet as the book's gradient check builds it, on one random 10x10 image, label 1.
  Model convnet = build_small_convnet(Shape({1, 10, 10}), 10, 10, 10);
  initialize_weights(convnet, WeightInit::fixed(0.01), gen);
  Tensor image10 = Tensor::empty(Shape({1, 1, 10, 10}));
  image10.uniform_(gen);
  report(json, "SimpleConvNet", "one random 1x10x10 image",
         compare_gradients(convnet, image10, Tensor::from_vector<std::int32_t>({1}, Shape({1})),
                           dtype, step));
  json.end_array().end_object();
  save_and_plot(c, json);
  return 0;
}

}  // namespace

Experiment gradcheck_experiment() {
  return {"gradcheck",
          "backprop vs numerical gradients for TwoLayerNet and SimpleConvNet: mean |difference| "
          "per parameter",
          declare, run};
}

}  // namespace dlfs::app::experiment
