// optimizer-paths (the book's figure 6-8) and optimizer-compare (figure 6-9).
#include "dlfs/apps/experiments/optimizers.hpp"

#include <cstdio>

#include "dlfs/apps/experiments/registry.hpp"
#include "dlfs/apps/experiments/training.hpp"
#include "dlfs/optim/make_optimizer.hpp"

namespace dlfs::app::experiment {

double bowl(double x, double y) {
  return x * x / 20.0 + y * y;
}

std::vector<std::pair<double, double>> optimizer_path(const std::string& optimizer, double lr,
                                                      std::pair<double, double> start, int steps) {
  Parameter p;
  p.name = "xy";
  p.value = Tensor::from_vector<double>({start.first, start.second}, Shape({2}));
  p.grad = Tensor::zeros(Shape({2}), DType::Float64);
  optim::OptimizerConfig config;
  config.name = optimizer;
  config.lr = lr;
  auto opt = optim::make_optimizer(config, {&p});
  std::vector<std::pair<double, double>> path = {start};
  for (int i = 0; i < steps; ++i) {
    double* xy = p.value.data<double>();
    double* g = p.grad.data<double>();
    g[0] = xy[0] / 10.0;  // df/dx
    g[1] = 2.0 * xy[1];   // df/dy
    opt->step();
    path.emplace_back(xy[0], xy[1]);
  }
  return path;
}

namespace {

struct BookOptimizer {
  const char* name;   // make_optimizer's name
  const char* label;  // the book's class name
  double path_lr;     // the book's learning rate on the bowl
};

const BookOptimizer kOptimizers[] = {{"sgd", "SGD", 0.95},
                                     {"momentum", "Momentum", 0.1},
                                     {"adagrad", "AdaGrad", 1.5},
                                     {"adam", "Adam", 0.3}};

void declare_paths(Options& o) {
  o.add("steps", "N", "optimizer steps from (-7, 2)", "30");
}

int run_paths(Context& c) {
  const int steps = static_cast<int>(c.options->integer("steps", 1, 100000));
  JsonWriter json;
  json.begin_object()
      .field("experiment", c.name)
      .field("function", "x^2/20 + y^2")
      .key("start")
      .values(std::vector<double>{-7.0, 2.0})
      .field("steps", steps)
      .key("optimizers")
      .begin_array();
  for (const BookOptimizer& o : kOptimizers) {
    const auto path = optimizer_path(o.name, o.path_lr, {-7.0, 2.0}, steps);
    const auto& last = path.back();
    std::printf("%-9s lr %-5g final (x, y) = (%+.6f, %+.6f)  f = %.3g\n", o.label, o.path_lr,
                last.first, last.second, bowl(last.first, last.second));
    std::vector<double> xs, ys;
    for (const auto& point : path) {
      xs.push_back(point.first);
      ys.push_back(point.second);
    }
    json.begin_object()
        .field("name", o.label)
        .field("lr", o.path_lr)
        .key("x")
        .values(xs)
        .key("y")
        .values(ys)
        .key("final")
        .values(std::vector<double>{last.first, last.second})
        .end_object();
  }
  json.end_array().end_object();
  save_and_plot(c, json);
  return 0;
}

void declare_compare(Options& o) {
  o.add("iterations", "N", "training iterations per optimizer", "2000");
  o.add("batch-size", "N", "mini-batch size", "128");
}

int run_compare(Context& c) {
  const std::int64_t iterations = c.quick ? 20 : c.options->integer("iterations", 1, 100000000);
  const std::int64_t batch_size = c.options->integer("batch-size", 1, 1 << 20);
  data::MnistFormatData data = c.load_data(c.quick ? 1000 : 0);
  const data::Dataset test = c.quick ? data.test.first(500) : data.test;
  const Shape image({data.train.images.dim(1), data.train.images.dim(2), data.train.images.dim(3)});
  MlpSpec spec;
  spec.hidden = {100, 100, 100, 100};
  std::printf(
      "5-layer ReLU MLP (4 x 100 hidden, He init), batch %lld, %lld iterations on %lld "
      "images; each optimizer at the book's default learning rate\n",
      static_cast<long long>(batch_size), static_cast<long long>(iterations),
      static_cast<long long>(data.train.size()));

  JsonWriter json;
  json.begin_object()
      .field("experiment", c.name)
      .field("network", "MLP 784-100-100-100-100-10, ReLU, He init")
      .field("batch_size", batch_size)
      .field("iterations", iterations)
      .field("train_images", data.train.size())
      .key("optimizers")
      .begin_array();
  for (const BookOptimizer& o : kOptimizers) {
    const double start = now_seconds();
    Model model = build_mlp_model(spec, image, data.train.num_classes);
    Generator gen(c.seed);
    initialize_weights(model, WeightInit::he(), gen);  // same weights for every optimizer
    model.graph.to(c.device);
    optim::OptimizerConfig config;
    config.name = o.name;
    auto optimizers = make_optimizers(model, config);
    BatchStream batches(data.train, batch_size, c.seed);  // same batches for every optimizer
    std::vector<double> losses;
    for (std::int64_t i = 0; i < iterations; ++i)
      losses.push_back(train_step(model, batches.next(), optimizers));
    const double test_accuracy = accuracy(model, test);
    std::printf(
        "%-9s lr %-6g loss: first %.4f, mean of last %zu %.4f; test accuracy %.4f  (%.1f s)\n",
        o.label, optimizers.front()->learning_rate(), losses.front(), tail_length(losses, 100),
        tail_mean(losses, 100), test_accuracy, now_seconds() - start);
    std::fflush(stdout);
    json.begin_object()
        .field("name", o.label)
        .field("lr", optimizers.front()->learning_rate())
        .field("final_loss_mean100", tail_mean(losses, 100))
        .field("test_accuracy", test_accuracy)
        .key("loss")
        .values(losses)
        .end_object();
  }
  json.end_array().end_object();
  save_and_plot(c, json);
  return 0;
}

}  // namespace

Experiment optimizer_paths_experiment() {
  return {"optimizer-paths",
          "SGD, Momentum, AdaGrad and Adam minimising x^2/20 + y^2 from (-7, 2): paths over "
          "the contours",
          declare_paths, run_paths};
}

Experiment optimizer_compare_experiment() {
  return {"optimizer-compare", "the four optimizers training a 5-layer ReLU MLP: loss curves",
          declare_compare, run_compare};
}

}  // namespace dlfs::app::experiment
