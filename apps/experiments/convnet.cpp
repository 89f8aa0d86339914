// filters (the book's figure 7-24: SimpleConvNet's first-layer filters before and after
// training) and misclassified (figure 8-3: test images a trained network gets wrong).
#include <cstdio>

#include "dlfs/apps/experiments/registry.hpp"
#include "dlfs/apps/experiments/training.hpp"
#include "dlfs/apps/run_setup.hpp"
#include "dlfs/data/normalization.hpp"
#include "dlfs/models/catalog.hpp"
#include "dlfs/models/checkpoint.hpp"

namespace dlfs::app::experiment {

namespace {

void declare_training(Options& o) {
  o.add("epochs", "N", "epochs of training (Adam lr 0.001, batch 100)", "1");
  o.add("limit-train", "N", "use only the first N training images (0: all)", "0");
}

// The book's SimpleConvNet (conv 30x5x5, pool, 100, 10) with its N(0, 0.01^2) initial weights,
// trained with Adam (lr 0.001, batch 100) on pixels in [0, 1]. `before` gets conv1's weights
// as initialised.
Model train_simple_convnet(const Context& c, const data::MnistFormatData& data, std::int64_t epochs,
                           Tensor* before) {
  Model model = build_model("simple-convnet", "", data.train.num_classes);
  Generator gen(c.seed);
  initialize_weights(model, WeightInit::fixed(0.01), gen);
  if (before) *before = model.graph.layer("conv1").parameters()[0]->value.clone();
  model.graph.to(c.device);
  optim::OptimizerConfig config;
  config.name = "adam";
  config.lr = 0.001;
  auto optimizers = make_optimizers(model, config);
  BatchStream batches(data.train, 100, c.seed);
  std::printf("SimpleConvNet, Adam lr 0.001, batch 100, %lld epoch(s) of %lld images\n",
              static_cast<long long>(epochs), static_cast<long long>(data.train.size()));
  for (std::int64_t e = 0; e < epochs; ++e) {
    const double start = now_seconds();
    const std::int64_t steps = batches.batches_per_epoch();
    double loss_sum = 0.0;
    for (std::int64_t i = 0; i < steps; ++i) {
      loss_sum += train_step(model, batches.next(), optimizers);
      if ((i + 1) % 100 == 0 || i + 1 == steps) {
        std::printf("  epoch %lld: %lld/%lld batches, mean loss %.4f (%.0f s)\n",
                    static_cast<long long>(e + 1), static_cast<long long>(i + 1),
                    static_cast<long long>(steps), loss_sum / static_cast<double>(i + 1),
                    now_seconds() - start);
        std::fflush(stdout);
      }
    }
  }
  return model;
}

std::int64_t epochs_of(const Context& c) {
  return c.quick ? 1 : c.options->integer("epochs", 1, 100000);
}

std::int64_t limit_of(const Context& c) {
  return c.quick ? 300 : c.options->integer("limit-train", 0, 1 << 30);
}

std::vector<double> as_doubles(const Tensor& t) {
  const std::vector<float> v = t.to(Device::cpu()).to_vector<float>();
  return std::vector<double>(v.begin(), v.end());
}

// ---- filters ----

int run_filters(Context& c) {
  data::MnistFormatData data = c.load_data(limit_of(c));
  Tensor before;
  Model model = train_simple_convnet(c, data, epochs_of(c), &before);
  const Tensor after = model.graph.layer("conv1").parameters()[0]->value;
  const double test_accuracy = accuracy(model, c.quick ? data.test.first(500) : data.test);
  std::printf("test accuracy after training %.4f\n", test_accuracy);
  const std::int64_t filters = before.dim(0), k = before.dim(2);
  JsonWriter json;
  json.begin_object()
      .field("experiment", c.name)
      .field("network", "SimpleConvNet (conv1: 30 filters 5x5)")
      .field("epochs", epochs_of(c))
      .field("train_images", data.train.size())
      .field("test_accuracy", test_accuracy)
      .field("filters", filters)
      .field("kernel", k)
      .key("before")
      .values(as_doubles(before))
      .key("after")
      .values(as_doubles(after))
      .end_object();
  save_and_plot(c, json);
  return 0;
}

// ---- misclassified ----

void declare_misclassified(Options& o) {
  declare_training(o);
  o.add("checkpoint", "FILE", "use a `dlfs train` checkpoint instead of training SimpleConvNet");
  o.add("count", "N", "misclassified images to show", "20");
}

int run_misclassified(Context& c) {
  const std::int64_t count = c.options->integer("count", 1, 1000);
  Model model;
  data::MnistFormatData data;
  data::Normalization normalization;  // identity unless the checkpoint says otherwise
  std::string model_label;
  if (c.options->given("checkpoint")) {
    const std::string path = c.options->text("checkpoint");
    std::map<std::string, std::string> metadata;
    model = load_model(path, &metadata);
    normalization = normalization_from(metadata, path);
    model.graph.to(c.device);
    data.test = data::load_mnist_format(c.data_dir, 1).test;
    model_label = model.name + " from " + path;
  } else {
    data = c.load_data(limit_of(c));
    model = train_simple_convnet(c, data, epochs_of(c), nullptr);
    model_label = "SimpleConvNet, " + std::to_string(epochs_of(c)) + " epoch(s)";
  }
  const data::Dataset test = c.quick ? data.test.first(500) : data.test;
  data::Dataset scored = test.first(test.size());  // a copy to normalize; `test` stays [0, 1]
  normalization.apply(scored);

  const std::vector<std::string> names = class_names(c.data_dir, test.num_classes);
  const std::vector<std::int32_t> labels = test.labels.to_vector<std::int32_t>();
  std::vector<std::int64_t> wrong;
  std::vector<int> predicted_of_wrong;
  std::int64_t correct = 0;
  data::BatchIterator batches(scored, 500, /*shuffle=*/false);
  batches.start_epoch(0);
  data::Batch batch;
  std::int64_t offset = 0;
  while (batches.next(batch)) {
    const Tensor logits =
        model.graph.run({{Model::kInput, batch.images}}, model.logits_node, Mode::Inference);
    const std::vector<float> v = logits.to(Device::cpu()).to_vector<float>();
    const std::int64_t classes = logits.dim(1);
    for (std::int64_t i = 0; i < batch.size(); ++i) {
      int best = 0;
      for (int k = 1; k < classes; ++k)
        if (v[i * classes + k] > v[i * classes + best]) best = k;
      if (best == labels[offset + i]) {
        correct += 1;
      } else if (static_cast<std::int64_t>(wrong.size()) < count) {
        wrong.push_back(offset + i);
        predicted_of_wrong.push_back(best);
      }
    }
    offset += batch.size();
  }
  const double test_accuracy = static_cast<double>(correct) / static_cast<double>(test.size());
  std::printf("%s: test accuracy %.4f (%lld of %lld wrong); the first %zu misclassified:\n",
              model_label.c_str(), test_accuracy, static_cast<long long>(test.size() - correct),
              static_cast<long long>(test.size()), wrong.size());

  const std::int64_t pixels = test.sample_numel();
  const float* images = test.images.data<float>();
  JsonWriter json;
  json.begin_object()
      .field("experiment", c.name)
      .field("model", model_label)
      .field("test_accuracy", test_accuracy)
      .field("height", test.images.dim(2))
      .field("width", test.images.dim(3))
      .key("images")
      .begin_array();
  for (std::size_t i = 0; i < wrong.size(); ++i) {
    const std::int64_t index = wrong[i];
    std::printf("  test image %5lld: true %-12s predicted %s\n", static_cast<long long>(index),
                names[labels[index]].c_str(), names[predicted_of_wrong[i]].c_str());
    const float* p = images + index * pixels;
    json.begin_object()
        .field("index", index)
        .field("true", names[labels[index]])
        .field("predicted", names[predicted_of_wrong[i]])
        .key("pixels")
        .values(std::vector<double>(p, p + pixels))
        .end_object();
  }
  json.end_array().end_object();
  save_and_plot(c, json);
  return 0;
}

}  // namespace

Experiment filters_experiment() {
  return {"filters",
          "SimpleConvNet's first-layer filters (30 of 5x5) before and after training, as images",
          declare_training, run_filters};
}

Experiment misclassified_experiment() {
  return {"misclassified",
          "the first misclassified test images of a trained SimpleConvNet, true vs predicted",
          declare_misclassified, run_misclassified};
}

}  // namespace dlfs::app::experiment
