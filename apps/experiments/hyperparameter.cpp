// hyperparameter-search: the book's section 6.5 (figure 6-24). Random search over the learning
// rate and the weight decay, each trial judged on a validation split taken out of the training
// images; the test set is never read.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "dlfs/apps/experiments/registry.hpp"
#include "dlfs/apps/experiments/training.hpp"
#include "dlfs/data/validation_split.hpp"

namespace dlfs::app::experiment {

namespace {

void declare(Options& o) {
  o.add("trials", "N", "random trials", "100");
  o.add("epochs", "N", "epochs per trial", "50");
  o.add("train-samples", "N", "training images (the first N), validation split included", "500");
  o.add("val-split", "F", "fraction of them held out for validation", "0.2");
  o.add("show", "N", "best trials listed and plotted", "20");
}

struct Trial {
  int index = 0;
  double lr = 0.0, weight_decay = 0.0;
  std::vector<double> train_accuracy, val_accuracy;
  double final_val() const { return val_accuracy.back(); }
};

int run(Context& c) {
  const int trials = c.quick ? 3 : static_cast<int>(c.options->integer("trials", 1, 100000));
  const std::int64_t epochs = c.quick ? 2 : c.options->integer("epochs", 1, 100000);
  const std::int64_t samples = c.quick ? 200 : c.options->integer("train-samples", 2, 1 << 30);
  const int show = static_cast<int>(c.options->integer("show", 1, 1000));
  const double fraction = c.options->real("val-split", 0.01, 0.99);
  const data::TrainValidationSplit split =
      data::split_validation(c.load_data(samples).train, fraction, c.seed);
  const Shape image(
      {split.train.images.dim(1), split.train.images.dim(2), split.train.images.dim(3)});
  std::printf(
      "%d trials: lr = 10^U(-6, -2), weight decay = 10^U(-8, -4); 6 hidden layers of 100,"
      " SGD, batch 100, %lld epochs; %lld training / %lld validation images\n",
      trials, static_cast<long long>(epochs), static_cast<long long>(split.train.size()),
      static_cast<long long>(split.validation.size()));

  Generator draws(c.seed + 7);  // the trials' hyperparameters, independent of the weights
  std::vector<Trial> results;
  for (int t = 0; t < trials; ++t) {
    Trial trial;
    trial.index = t + 1;
    trial.weight_decay = std::pow(10.0, -8.0 + 4.0 * draws.uniform());
    trial.lr = std::pow(10.0, -6.0 + 4.0 * draws.uniform());
    MlpSpec spec;
    spec.hidden = {100, 100, 100, 100, 100, 100};
    Model model = build_mlp_model(spec, image, split.train.num_classes);
    Generator gen(c.seed + t);
    initialize_weights(model, WeightInit::he(), gen);
    model.graph.to(c.device);
    optim::OptimizerConfig config;
    config.name = "sgd";
    config.lr = trial.lr;
    config.weight_decay = trial.weight_decay;
    auto optimizers = make_optimizers(model, config);
    BatchStream batches(split.train, 100, c.seed + t);
    for (std::int64_t e = 0; e <= epochs; ++e) {
      if (e > 0)
        for (std::int64_t i = 0; i < batches.batches_per_epoch(); ++i)
          train_step(model, batches.next(), optimizers);
      trial.train_accuracy.push_back(accuracy(model, split.train));
      trial.val_accuracy.push_back(accuracy(model, split.validation));
    }
    std::printf("  trial %3d/%d  lr %.3e  weight decay %.3e  val accuracy %.3f\n", t + 1, trials,
                trial.lr, trial.weight_decay, trial.final_val());
    std::fflush(stdout);
    results.push_back(std::move(trial));
  }

  std::vector<const Trial*> ranked;
  for (const Trial& t : results) ranked.push_back(&t);
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const Trial* a, const Trial* b) { return a->final_val() > b->final_val(); });
  std::printf("best trials (validation accuracy after the last epoch):\n");
  for (int i = 0; i < show && i < static_cast<int>(ranked.size()); ++i)
    std::printf("  Best-%-3d val acc %.3f  lr %.3e  weight decay %.3e  (trial %d)\n", i + 1,
                ranked[i]->final_val(), ranked[i]->lr, ranked[i]->weight_decay, ranked[i]->index);

  JsonWriter json;
  json.begin_object()
      .field("experiment", c.name)
      .field("network", "MLP 784-(100 x6)-10, ReLU, He init, SGD, batch 100")
      .field("epochs", epochs)
      .field("train_images", split.train.size())
      .field("validation_images", split.validation.size())
      .field("show", show)
      .key("trials")
      .begin_array();
  for (const Trial* t : ranked)  // best first
    json.begin_object()
        .field("trial", t->index)
        .field("lr", t->lr)
        .field("weight_decay", t->weight_decay)
        .field("final_val_accuracy", t->final_val())
        .key("train_accuracy")
        .values(t->train_accuracy)
        .key("val_accuracy")
        .values(t->val_accuracy)
        .end_object();
  json.end_array().end_object();
  save_and_plot(c, json);
  return 0;
}

}  // namespace

Experiment hyperparameter_search_experiment() {
  return {"hyperparameter-search",
          "random search over lr 10^U(-6,-2) and weight decay 10^U(-8,-4) on a validation "
          "split: best trials",
          declare, run};
}

}  // namespace dlfs::app::experiment
