// weight-init: the book's section 6.2. Activation histograms of a 5-layer network of 100 units
// on 1000 Gaussian inputs for four weight scales and three activations (figures 6-10 to 6-14),
// and the training loss of a 5-layer ReLU MLP with std 0.01, Xavier and He (figure 6-15).
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "dlfs/apps/experiments/registry.hpp"
#include "dlfs/apps/experiments/training.hpp"
#include "dlfs/layers/affine.hpp"
#include "dlfs/layers/relu.hpp"
#include "dlfs/layers/sigmoid.hpp"
#include "dlfs/layers/tanh.hpp"

namespace dlfs::app::experiment {

namespace {

constexpr int kBins = 30;

struct ActivationRange {
  const char* name;
  double low, high;  // histogram range, as the book's plt.hist(..., range=(0, 1)) per activation
};

const ActivationRange kActivations[] = {
    {"sigmoid", 0.0, 1.0}, {"tanh", -1.0, 1.0}, {"relu", 0.0, 1.0}};

LayerPtr activation_layer(const std::string& name) {
  if (name == "sigmoid") return std::make_unique<Sigmoid>();
  if (name == "tanh") return std::make_unique<Tanh>();
  return std::make_unique<ReLU>();
}

struct LayerHistogram {
  std::vector<std::int64_t> counts;
  std::int64_t below = 0, above = 0;
  double mean = 0.0, stddev = 0.0;
};

LayerHistogram histogram(const Tensor& t, double low, double high) {
  LayerHistogram h;
  h.counts.assign(kBins, 0);
  const std::vector<float> v = t.to_vector<float>();
  double sum = 0.0, sum_sq = 0.0;
  for (float f : v) {
    sum += f;
    sum_sq += static_cast<double>(f) * f;
    if (f < low) {
      h.below += 1;
    } else if (f > high) {
      h.above += 1;
    } else {
      int bin = static_cast<int>((f - low) / (high - low) * kBins);
      h.counts[bin < kBins ? bin : kBins - 1] += 1;
    }
  }
  const double n = static_cast<double>(v.size());
  h.mean = sum / n;
  h.stddev = std::sqrt(std::max(0.0, sum_sq / n - h.mean * h.mean));
  return h;
}

void declare(Options& o) {
  o.add("iterations", "N", "training iterations per initialisation (the loss curves)", "2000");
  o.add("batch-size", "N", "mini-batch size for the loss curves", "128");
}

void histograms(Context& c, JsonWriter& json) {
  const int samples = 1000, units = 100, layers = 5;
  const WeightInit inits[] = {WeightInit::fixed(1.0), WeightInit::fixed(0.01), WeightInit::xavier(),
                              WeightInit::he()};
  std::printf(
      "activation histograms: %d Gaussian inputs through %d layers of %d units "
      "(no bias); std of each layer's activations:\n",
      samples, layers, units);
  json.key("histograms").begin_object();
  json.field("bins", kBins).field("samples", samples).field("units", units);
  json.key("runs").begin_array();
  for (const ActivationRange& a : kActivations) {
    for (const WeightInit& init : inits) {
      Generator gen(c.seed);
      Tensor x = Tensor::empty(Shape({samples, units}));
      x.normal_(gen);
      json.begin_object()
          .field("activation", a.name)
          .field("init", init.label())
          .key("range")
          .values(std::vector<double>{a.low, a.high})
          .key("layers")
          .begin_array();
      std::printf("  %-7s %-9s", a.name, init.label().c_str());
      for (int l = 0; l < layers; ++l) {
        Affine fc(units, units);
        fc.weight().value.normal_(gen, 0.0, init.std_for(units));
        LayerPtr act = activation_layer(a.name);
        x = act->forward({fc.forward({x}, Mode::Inference)}, Mode::Inference);
        const LayerHistogram h = histogram(x, a.low, a.high);
        std::printf(" %9.3g", h.stddev);
        json.begin_object()
            .key("counts")
            .values(h.counts)
            .field("below_range", h.below)
            .field("above_range", h.above)
            .field("mean", h.mean)
            .field("std", h.stddev)
            .end_object();
      }
      std::printf("\n");
      json.end_array().end_object();
    }
  }
  json.end_array().end_object();
}

void loss_curves(Context& c, JsonWriter& json) {
  const std::int64_t iterations = c.quick ? 20 : c.options->integer("iterations", 1, 100000000);
  const std::int64_t batch_size = c.options->integer("batch-size", 1, 1 << 20);
  data::MnistFormatData data = c.load_data(c.quick ? 1000 : 0);
  const Shape image({data.train.images.dim(1), data.train.images.dim(2), data.train.images.dim(3)});
  MlpSpec spec;
  spec.hidden = {100, 100, 100, 100};
  std::printf("training loss: 5-layer ReLU MLP, SGD lr 0.01, batch %lld, %lld iterations\n",
              static_cast<long long>(batch_size), static_cast<long long>(iterations));
  json.key("training").begin_object();
  json.field("network", "MLP 784-100-100-100-100-10, ReLU")
      .field("optimizer", "SGD lr 0.01")
      .field("batch_size", batch_size)
      .field("iterations", iterations)
      .key("runs")
      .begin_array();
  for (const WeightInit& init : {WeightInit::fixed(0.01), WeightInit::xavier(), WeightInit::he()}) {
    const double start = now_seconds();
    Model model = build_mlp_model(spec, image, data.train.num_classes);
    Generator gen(c.seed);
    initialize_weights(model, init, gen);
    model.graph.to(c.device);
    optim::OptimizerConfig config;
    config.name = "sgd";
    config.lr = 0.01;
    auto optimizers = make_optimizers(model, config);
    BatchStream batches(data.train, batch_size, c.seed);
    std::vector<double> losses;
    for (std::int64_t i = 0; i < iterations; ++i)
      losses.push_back(train_step(model, batches.next(), optimizers));
    std::printf("  %-9s loss: first %.4f, mean of last %zu %.4f  (%.1f s)\n", init.label().c_str(),
                losses.front(), tail_length(losses, 100), tail_mean(losses, 100),
                now_seconds() - start);
    std::fflush(stdout);
    json.begin_object()
        .field("init", init.label())
        .field("final_loss_mean100", tail_mean(losses, 100))
        .key("loss")
        .values(losses)
        .end_object();
  }
  json.end_array().end_object();
}

int run(Context& c) {
  JsonWriter json;
  json.begin_object().field("experiment", c.name);
  histograms(c, json);
  loss_curves(c, json);
  json.end_object();
  save_and_plot(c, json);
  return 0;
}

}  // namespace

Experiment weight_init_experiment() {
  return {"weight-init",
          "activation histograms for std 1, 0.01, Xavier and He with sigmoid, tanh and ReLU; "
          "training loss by init",
          declare, run};
}

}  // namespace dlfs::app::experiment
