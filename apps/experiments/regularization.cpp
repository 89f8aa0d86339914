// batch-norm (the book's figure 6-19) and overfit (figures 6-20, 6-21 and 6-23): small training
// sets, SGD lr 0.01, batch 100, accuracy measured each epoch.
#include <cmath>
#include <cstdio>

#include "dlfs/apps/experiments/registry.hpp"
#include "dlfs/apps/experiments/training.hpp"

namespace dlfs::app::experiment {

namespace {

Shape image_shape(const data::Dataset& d) {
  return Shape({d.images.dim(1), d.images.dim(2), d.images.dim(3)});
}

// ---- batch-norm ----

void declare_batch_norm(Options& o) {
  o.add("epochs", "N", "epochs per run", "20");
  o.add("train-samples", "N", "training images (the first N)", "1000");
  o.add("scales", "N", "weight scales, log-spaced from 1 to 1e-4", "16");
}

// Train accuracy before training and after each epoch (the book's train_acc_list).
std::vector<double> batch_norm_run(const data::Dataset& train, double weight_std, bool use_bn,
                                   std::int64_t epochs, const Context& c) {
  MlpSpec spec;
  spec.hidden = {100, 100, 100, 100, 100};
  spec.batch_norm = use_bn;
  Model model = build_mlp_model(spec, image_shape(train), train.num_classes);
  Generator gen(c.seed);
  initialize_weights(model, WeightInit::fixed(weight_std), gen);
  model.graph.to(c.device);
  optim::OptimizerConfig config;
  config.name = "sgd";
  config.lr = 0.01;
  auto optimizers = make_optimizers(model, config);
  BatchStream batches(train, 100, c.seed);
  std::vector<double> acc = {accuracy(model, train)};
  for (std::int64_t e = 0; e < epochs; ++e) {
    for (std::int64_t i = 0; i < batches.batches_per_epoch(); ++i)
      train_step(model, batches.next(), optimizers);
    acc.push_back(accuracy(model, train));
  }
  return acc;
}

int run_batch_norm(Context& c) {
  const std::int64_t epochs = c.quick ? 2 : c.options->integer("epochs", 1, 100000);
  const std::int64_t samples = c.quick ? 200 : c.options->integer("train-samples", 1, 1 << 30);
  const int scales = c.quick ? 2 : static_cast<int>(c.options->integer("scales", 2, 64));
  const data::Dataset train = c.load_data(samples).train;
  std::printf(
      "5 hidden layers of 100 (ReLU), SGD lr 0.01, batch 100, %lld epochs on %lld images;"
      " train accuracy after the last epoch:\n",
      static_cast<long long>(epochs), static_cast<long long>(train.size()));
  JsonWriter json;
  json.begin_object()
      .field("experiment", c.name)
      .field("network", "MLP 784-(100 x5)-10, ReLU, weights N(0, w^2)")
      .field("optimizer", "SGD lr 0.01")
      .field("epochs", epochs)
      .field("train_images", train.size())
      .key("runs")
      .begin_array();
  for (int i = 0; i < scales; ++i) {
    const double w = std::pow(10.0, -4.0 * i / (scales - 1));  // np.logspace(0, -4, scales)
    const double start = now_seconds();
    const std::vector<double> bn = batch_norm_run(train, w, true, epochs, c);
    const std::vector<double> plain = batch_norm_run(train, w, false, epochs, c);
    std::printf("  %2d/%d  w %-10.4g with BN %.3f  without %.3f  (%.1f s)\n", i + 1, scales, w,
                bn.back(), plain.back(), now_seconds() - start);
    std::fflush(stdout);
    json.begin_object()
        .field("weight_std", w)
        .key("batch_norm")
        .values(bn)
        .key("plain")
        .values(plain)
        .end_object();
  }
  json.end_array().end_object();
  save_and_plot(c, json);
  return 0;
}

// ---- overfit ----

void declare_overfit(Options& o) {
  o.add("epochs", "N", "epochs per run", "200");
  o.add("train-samples", "N", "training images (the first N)", "300");
  o.add("test-samples", "N", "test images scored each epoch (the first N)", "10000");
  o.add("weight-decay", "X", "lambda of the weight-decay run", "0.1");
  o.add("dropout", "P", "dropout ratio of the dropout run", "0.2");
}

struct Curves {
  std::vector<double> train, test;
};

Curves overfit_run(const data::Dataset& train, const data::Dataset& test, double weight_decay,
                   double dropout, std::int64_t epochs, const Context& c) {
  MlpSpec spec;
  spec.hidden = {100, 100, 100, 100, 100, 100};
  spec.dropout = dropout;
  spec.dropout_seed = c.seed * 1000 + 1;
  Model model = build_mlp_model(spec, image_shape(train), train.num_classes);
  Generator gen(c.seed);
  initialize_weights(model, WeightInit::he(), gen);
  model.graph.to(c.device);
  optim::OptimizerConfig config;
  config.name = "sgd";
  config.lr = 0.01;
  config.weight_decay = weight_decay;
  auto optimizers = make_optimizers(model, config);
  BatchStream batches(train, 100, c.seed);
  Curves curves;
  for (std::int64_t e = 0; e <= epochs; ++e) {
    if (e > 0)
      for (std::int64_t i = 0; i < batches.batches_per_epoch(); ++i)
        train_step(model, batches.next(), optimizers);
    curves.train.push_back(accuracy(model, train));
    curves.test.push_back(accuracy(model, test));
  }
  return curves;
}

int run_overfit(Context& c) {
  const std::int64_t epochs = c.quick ? 3 : c.options->integer("epochs", 1, 100000);
  const std::int64_t samples = c.quick ? 100 : c.options->integer("train-samples", 1, 1 << 30);
  const std::int64_t test_samples = c.quick ? 200 : c.options->integer("test-samples", 1, 1 << 30);
  const double weight_decay = c.options->real("weight-decay", 0.0, 1e6);
  const double dropout = c.options->real("dropout", 0.0, 0.99);
  data::MnistFormatData data = c.load_data(samples);
  const data::Dataset test = data.test.first(test_samples);
  std::printf(
      "6 hidden layers of 100 (ReLU, He init), SGD lr 0.01, batch 100, %lld epochs on %lld"
      " training images, scored on %lld test images\n",
      static_cast<long long>(epochs), static_cast<long long>(data.train.size()),
      static_cast<long long>(test.size()));
  struct Setting {
    std::string label;
    double weight_decay, dropout;
  };
  char wd_label[64], dropout_label[64];
  std::snprintf(wd_label, sizeof wd_label, "weight decay %g", weight_decay);
  std::snprintf(dropout_label, sizeof dropout_label, "dropout %g", dropout);
  const Setting settings[] = {{"no regularization", 0.0, 0.0},
                              {wd_label, weight_decay, 0.0},
                              {dropout_label, 0.0, dropout}};
  JsonWriter json;
  json.begin_object()
      .field("experiment", c.name)
      .field("network", "MLP 784-(100 x6)-10, ReLU, He init")
      .field("optimizer", "SGD lr 0.01, batch 100")
      .field("epochs", epochs)
      .field("train_images", data.train.size())
      .field("test_images", test.size())
      .key("runs")
      .begin_array();
  for (const Setting& s : settings) {
    const double start = now_seconds();
    const Curves curves = overfit_run(data.train, test, s.weight_decay, s.dropout, epochs, c);
    std::printf("  %-18s final train accuracy %.4f  test %.4f  gap %.4f  (%.1f s)\n",
                s.label.c_str(), curves.train.back(), curves.test.back(),
                curves.train.back() - curves.test.back(), now_seconds() - start);
    std::fflush(stdout);
    json.begin_object()
        .field("label", s.label)
        .field("weight_decay", s.weight_decay)
        .field("dropout", s.dropout)
        .key("train_accuracy")
        .values(curves.train)
        .key("test_accuracy")
        .values(curves.test)
        .end_object();
  }
  json.end_array().end_object();
  save_and_plot(c, json);
  return 0;
}

}  // namespace

Experiment batch_norm_experiment() {
  return {"batch-norm",
          "training with and without BatchNorm across weight scales from 1 to 1e-4: accuracy "
          "grid",
          declare_batch_norm, run_batch_norm};
}

Experiment overfit_experiment() {
  return {"overfit",
          "few training images, 6 hidden layers: train vs test accuracy plain, with weight "
          "decay, with dropout",
          declare_overfit, run_overfit};
}

}  // namespace dlfs::app::experiment
