// dlfs eval: a checkpoint's loss and accuracy on the test set.
#include <cstdio>
#include <filesystem>

#include "dlfs/apps/checkpoint_evaluation.hpp"
#include "dlfs/apps/commands.hpp"
#include "dlfs/apps/options.hpp"
#include "dlfs/apps/run_setup.hpp"
#include "dlfs/models/checkpoint.hpp"
#include "dlfs/runtime/json_writer.hpp"
#include "dlfs/train/epoch_commit.hpp"
#include "dlfs/train/trainer.hpp"

namespace dlfs::app {

std::optional<CheckpointEvaluation> evaluate_checkpoint(int argc, char** argv) {
  Options o("eval",
            "Evaluates a dlfs checkpoint (model.safetensors from dlfs train), or with --model a "
            "PyTorch state_dict saved with safetensors, on the test set of an MNIST-format "
            "directory.");
  o.add("checkpoint", "FILE", "the checkpoint to evaluate (required)");
  o.add("model", "NAME",
        "the model a file without dlfs metadata holds (a PyTorch state_dict saved with "
        "safetensors: tensors checked by name and shape, pixels in [0, 1]); the data's image "
        "size picks its input size, the output layer's tensor its class count");
  o.add("data", "DIR", "directory with the four MNIST-format files, or 'synthetic'",
        data::kDefaultMnistDirectory);
  o.add("device", "NAME", "auto, cpu, cuda or cuda:N", "auto");
  o.add("batch-size", "N", "evaluation batch size", "500");
  o.add("seed", "N", "seed of the synthetic data (only with --data synthetic)", "0");
  o.add_flag("json", "print one JSON object");
  if (!o.parse(argc, argv, 2)) return std::nullopt;
  if (!o.given("checkpoint")) throw InputError("option --checkpoint FILE is required");

  const std::string path = o.text("checkpoint");
  // A run folder whose last epoch commit was cut short is completed first (train/epoch_commit.hpp).
  const std::string folder = std::filesystem::path(path).parent_path().string();
  train::recover_epoch_commit(folder.empty() ? "." : folder);
  const SafetensorsContents contents = load_safetensors(path);
  const bool dlfs_file = contents.metadata.count(kMetaModel) > 0;
  if (o.given("model")) {
    check_checkpoint_model(contents.metadata, path, o.text("model"));
  } else if (!dlfs_file) {
    throw InputError("Checkpoint '" + path + "' has no '" + kMetaModel +
                     "' metadata, so it does not say which model it holds; pass --model NAME to "
                     "load it as that model's PyTorch state_dict (dlfs models lists them).");
  }
  std::map<std::string, std::string> metadata = contents.metadata;
  Model model;
  RunSetup setup;
  if (dlfs_file) {
    // The metadata names the model, its input size and class count; --model, when given, agreed.
    model = load_model(contents, path, &metadata);
    setup = make_run_setup(o, model.classes);
  } else {
    // A PyTorch state_dict: the class count from the weights (the data must fit it), the input
    // size from the data, then every tensor checked by name and shape as for any checkpoint.
    setup = make_run_setup(o, weights_class_count(o.text("model"), contents, path));
    model = build_model_for(setup);
    load_weights(model, contents, path);
  }
  // Without dlfs metadata there is no normalization: the pixels go in as they are, in [0, 1].
  const data::Normalization n = normalization_from(metadata, path);
  if (n.mean != 0.0 || n.stddev != 1.0) n.apply(setup.data.test);
  const Tensor& images = setup.data.test.images;
  const Shape image({images.dim(1), images.dim(2), images.dim(3)});
  if (image != model.input_shape)
    throw InputError("checkpoint " + path + " holds " + model.name + " for " +
                     model.input_shape.str() + " images but " + setup.data_dir + " has " +
                     image.str());
  model.graph.to(setup.device);
  return CheckpointEvaluation{path, model.name, setup.device.str(),
                              train::evaluate(model, setup.data.test, setup.batch_size),
                              o.flag("json")};
}

int eval_command(int argc, char** argv) {
  const std::optional<CheckpointEvaluation> e = evaluate_checkpoint(argc, argv);
  if (!e) return 0;
  const train::EvalResult& r = e->result;
  if (e->json) {
    JsonWriter json;
    json.begin_object()
        .field("checkpoint", e->checkpoint)
        .field("model", e->model)
        .field("device", e->device)
        .field("test_accuracy", r.accuracy)
        .field("test_loss", r.loss)
        .field("images", r.samples)
        .end_object();
    std::fputs(json.str().c_str(), stdout);
  } else {
    std::printf("%s (%s) on %s: test accuracy %.4f  loss %.4f  (%lld images)\n",
                e->checkpoint.c_str(), e->model.c_str(), e->device.c_str(), r.accuracy, r.loss,
                static_cast<long long>(r.samples));
  }
  return 0;
}

}  // namespace dlfs::app
