// LeNet-5 from the catalog, trained for a few steps on synthetic images, saved as a checkpoint,
// loaded back and evaluated: the training loop of `dlfs train` without the command line.
//   train_lenet [CHECKPOINT]        (default: lenet5-example.safetensors)
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include <dlfs/data/batch_iterator.hpp>
#include <dlfs/data/synthetic.hpp>
#include <dlfs/models/catalog.hpp>
#include <dlfs/models/checkpoint.hpp>
#include <dlfs/models/init.hpp>
#include <dlfs/optim/make_optimizer.hpp>
#include <dlfs/runtime/generator.hpp>
#include <dlfs/train/trainer.hpp>

int main(int argc, char** argv) try {
  const std::string checkpoint = argc > 1 ? argv[1] : "lenet5-example.safetensors";

  // Learnable synthetic 28x28 images: class c is a blob at its own place.
  dlfs::data::SyntheticOptions options;
  options.samples = 640;
  options.seed = 1;
  const dlfs::data::Dataset train = dlfs::data::make_synthetic_blobs(options);
  options.samples = 320;
  options.seed = 2;
  const dlfs::data::Dataset test = dlfs::data::make_synthetic_blobs(options);

  dlfs::Model model = dlfs::build_model("lenet5", "28", 10);
  dlfs::Generator generator(0);
  dlfs::initialize(model, dlfs::InitScheme::He, generator);

  std::vector<dlfs::Parameter*> parameters;
  for (const auto& p : model.graph.parameters()) parameters.push_back(p.parameter);
  dlfs::optim::OptimizerConfig config;
  config.name = "adam";
  config.lr = 0.003;
  auto optimizer = dlfs::optim::make_optimizer(config, parameters);

  dlfs::train::Trainer trainer(model, *optimizer);
  dlfs::data::BatchIterator batches(train, /*batch_size=*/64, /*shuffle=*/true, /*seed=*/0);
  for (std::int64_t epoch = 0; epoch < 2; ++epoch) {
    batches.start_epoch(epoch);
    const dlfs::train::EpochResult r = trainer.train_epoch(batches, epoch, nullptr);
    std::printf("epoch %lld: loss %.4f accuracy %.4f\n", static_cast<long long>(epoch + 1), r.loss,
                r.accuracy);
  }

  dlfs::save_model(checkpoint, model, {});
  dlfs::Model loaded = dlfs::load_model(checkpoint);
  const dlfs::train::EvalResult result = dlfs::train::evaluate(loaded, test, 64);
  std::printf("saved %s; loaded back, test accuracy %.4f on %lld images\n", checkpoint.c_str(),
              result.accuracy, static_cast<long long>(result.samples));
  return result.accuracy > 0.5 ? 0 : 1;
} catch (const std::exception& e) {
  std::fprintf(stderr, "train_lenet: %s\n", e.what());
  return 1;
}
