// dlfs eval: a checkpoint's loss and accuracy on the test set.
#include <cstdio>
#include <filesystem>

#include "apps/commands.hpp"
#include "apps/options.hpp"
#include "apps/run_setup.hpp"
#include "models/checkpoint.hpp"
#include "runtime/json.hpp"
#include "train/epoch_commit.hpp"
#include "train/trainer.hpp"

namespace dlfs::app {

int eval_command(int argc, char** argv) {
  Options o("eval",
            "Evaluates a dlfs checkpoint (model.safetensors from dlfs train) on the test "
            "set of an MNIST-format directory.");
  o.add("checkpoint", "FILE", "the checkpoint to evaluate (required)");
  o.add("data", "DIR", "directory with the four MNIST-format files, or 'synthetic'",
        data::kDefaultMnistDirectory);
  o.add("device", "NAME", "auto, cpu, cuda or cuda:N", "auto");
  o.add("batch-size", "N", "evaluation batch size", "500");
  o.add("seed", "N", "seed of the synthetic data (only with --data synthetic)", "0");
  o.add_flag("json", "print one JSON object");
  if (!o.parse(argc, argv, 2)) return 0;
  if (!o.given("checkpoint")) throw InputError("option --checkpoint FILE is required");

  std::map<std::string, std::string> metadata;
  // A run folder whose last epoch commit was cut short is completed first (train/epoch_commit.hpp).
  const std::string folder = std::filesystem::path(o.text("checkpoint")).parent_path().string();
  train::recover_epoch_commit(folder.empty() ? "." : folder);
  Model model = load_model(o.text("checkpoint"), &metadata);
  RunSetup setup = make_run_setup(o, model.classes);
  const data::Normalization n = normalization_from(metadata, o.text("checkpoint"));
  if (n.mean != 0.0 || n.stddev != 1.0) n.apply(setup.data.test);
  const Tensor& images = setup.data.test.images;
  const Shape image({images.dim(1), images.dim(2), images.dim(3)});
  if (image != model.input_shape)
    throw InputError("checkpoint " + o.text("checkpoint") + " holds " + model.name + " for " +
                     model.input_shape.str() + " images but " + setup.data_dir + " has " +
                     image.str());
  model.graph.to(setup.device);
  const train::EvalResult r = train::evaluate(model, setup.data.test, setup.batch_size);
  if (o.flag("json")) {
    std::printf(
        "{\"checkpoint\": %s, \"model\": %s, \"device\": %s, \"test_accuracy\": %.6f, "
        "\"test_loss\": %.6f, \"images\": %lld}\n",
        json_quote(o.text("checkpoint")).c_str(), json_quote(model.name).c_str(),
        json_quote(setup.device.str()).c_str(), r.accuracy, r.loss,
        static_cast<long long>(r.samples));
  } else {
    std::printf("%s (%s) on %s: test accuracy %.4f  loss %.4f  (%lld images)\n",
                o.text("checkpoint").c_str(), model.name.c_str(), setup.device.str().c_str(),
                r.accuracy, r.loss, static_cast<long long>(r.samples));
  }
  return 0;
}

}  // namespace dlfs::app
