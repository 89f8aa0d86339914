// A small convolutional network defined layer by layer (the book's SimpleConvNet, narrower),
// one gradient step by hand (forward, backward, optimizer), and the loss going down.
#include <cstdio>
#include <exception>
#include <vector>

#include <dlfs/data/batch_iterator.hpp>
#include <dlfs/data/synthetic.hpp>
#include <dlfs/models/init.hpp>
#include <dlfs/models/layer_factory.hpp>
#include <dlfs/models/model.hpp>
#include <dlfs/optim/make_optimizer.hpp>
#include <dlfs/runtime/generator.hpp>

int main() try {
  dlfs::Model model;
  dlfs::begin_model(model, "tiny-convnet", "28", {1, 28, 28}, 10);
  dlfs::SequentialBuilder b(model.graph, dlfs::Model::kInput);
  b.add("conv1", dlfs::make::conv(1, 8, 5))  // -> 8 x 24 x 24
      .add("relu1", dlfs::make::relu())
      .add("pool1", dlfs::make::max_pool(2, 2))  // -> 8 x 12 x 12
      .add("flatten", dlfs::make::flatten())
      .add("fc1", dlfs::make::linear(8 * 12 * 12, 64))
      .add("relu2", dlfs::make::relu())
      .add("fc2", dlfs::make::linear(64, 10));
  dlfs::finish_model(model, "fc2");
  dlfs::Generator generator(0);
  dlfs::initialize(model, dlfs::InitScheme::He, generator);
  std::printf("%s: %lld parameters\n", model.name.c_str(),
              static_cast<long long>(model.graph.parameter_count()));

  dlfs::data::SyntheticOptions options;
  options.samples = 256;
  const dlfs::data::Dataset data = dlfs::data::make_synthetic_blobs(options);
  dlfs::data::BatchIterator batches(data, 256, /*shuffle=*/false, /*seed=*/0);
  batches.start_epoch(0);
  dlfs::data::Batch batch;
  batches.next(batch);

  std::vector<dlfs::Parameter*> parameters;
  for (const auto& p : model.graph.parameters()) parameters.push_back(p.parameter);
  dlfs::optim::OptimizerConfig config;
  config.name = "sgd";
  config.lr = 0.1;
  auto optimizer = dlfs::optim::make_optimizer(config, parameters);

  // The book's loop: loss = forward(x, t); backward(); update.
  std::vector<float> losses;
  for (int step = 0; step < 20; ++step) {
    dlfs::Tensor loss =
        model.graph.run({{dlfs::Model::kInput, batch.images}, {dlfs::Model::kLabels, batch.labels}},
                        dlfs::Model::kLossNode, dlfs::Mode::Train);
    model.graph.backward(dlfs::Model::kLossNode);
    optimizer->step();
    losses.push_back(loss.to_vector<float>()[0]);
  }
  std::printf("loss %.4f after 1 step, %.4f after 20\n", losses.front(), losses.back());
  return losses.back() < losses.front() ? 0 : 1;
} catch (const std::exception& e) {
  std::fprintf(stderr, "custom_model: %s\n", e.what());
  return 1;
}
