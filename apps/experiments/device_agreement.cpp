// device-agreement: one model, the same weights and the same real batch on the CPU and on the
// GPU; the largest difference of every layer's forward output and of every parameter gradient.
// Without a GPU it says so and exits 0 (nothing to compare is not a failure).
#include <cmath>
#include <cstdio>

#include "dlfs/apps/experiments/registry.hpp"
#include "dlfs/apps/run_setup.hpp"
#include "dlfs/models/catalog.hpp"
#include "dlfs/models/init.hpp"

namespace dlfs::app::experiment {

namespace {

void declare(Options& o) {
  o.add("model", "NAME", "model to compare (see dlfs models)", "lenet5");
  o.add("batch-size", "N", "test images in the batch", "64");
}

struct Difference {
  std::string name;
  double max_abs = 0.0;    // max |cpu - gpu|
  double max_value = 0.0;  // max |cpu|, for scale
};

Difference compare(const std::string& name, const Tensor& cpu, const Tensor& gpu) {
  const std::vector<float> a = cpu.to(Device::cpu()).to_vector<float>();
  const std::vector<float> b = gpu.to(Device::cpu()).to_vector<float>();
  if (a.size() != b.size()) throw Error("device-agreement: " + name + " has different sizes");
  Difference d;
  d.name = name;
  for (std::size_t i = 0; i < a.size(); ++i) {
    d.max_abs = std::max(d.max_abs, static_cast<double>(std::fabs(a[i] - b[i])));
    d.max_value = std::max(d.max_value, static_cast<double>(std::fabs(a[i])));
  }
  return d;
}

void write(JsonWriter& json, const char* key, const std::vector<Difference>& diffs) {
  json.key(key).begin_array();
  for (const Difference& d : diffs)
    json.begin_object()
        .field("name", d.name)
        .field("max_abs_difference", d.max_abs)
        .field("max_abs_value", d.max_value)
        .end_object();
  json.end_array();
}

int run(Context& c) {
  if (!cuda_available()) {
    std::printf(
        "device-agreement needs a CUDA GPU to compare with the CPU, and there is none "
        "here (%s); nothing was run.\n",
        cuda_status().c_str());
    return 0;
  }
  const Device gpu = c.device.is_cuda() ? c.device : Device::cuda(0);
  const std::string model_name = c.options->text("model");
  const std::int64_t batch_size = c.quick ? 8 : c.options->integer("batch-size", 1, 1 << 16);
  data::MnistFormatData data = c.load_data(1);
  const data::Dataset batch_set = data.test.first(batch_size);

  // Two copies of one model: same seed, same weights.
  RunSetup setup;
  setup.model_name = model_name;
  setup.data_dir = c.data_dir;
  setup.data = data;
  Model on_cpu = build_model_for(setup), on_gpu = build_model_for(setup);
  Generator gen_cpu(c.seed), gen_gpu(c.seed);
  initialize(on_cpu, InitScheme::He, gen_cpu);
  initialize(on_gpu, InitScheme::He, gen_gpu);
  on_gpu.graph.to(gpu);
  std::printf("%s on a batch of %lld test images: CPU vs %s (float32)\n", model_name.c_str(),
              static_cast<long long>(batch_set.size()), gpu.str().c_str());

  const std::map<std::string, Tensor> feeds = {{Model::kInput, batch_set.images},
                                               {Model::kLabels, batch_set.labels}};
  std::vector<Difference> forward;
  std::printf("forward outputs (inference mode), max |cpu - gpu| per layer:\n");
  for (const std::string& node : on_cpu.graph.order()) {
    if (node == Model::kLossNode) continue;
    const Difference d = compare(node, on_cpu.graph.run(feeds, node, Mode::Inference),
                                 on_gpu.graph.run(feeds, node, Mode::Inference));
    std::printf("  %-20s %.3e   (max |value| %.3g)\n", node.c_str(), d.max_abs, d.max_value);
    forward.push_back(d);
  }
  const Difference loss = compare("loss", on_cpu.graph.run(feeds, Model::kLossNode, Mode::Train),
                                  on_gpu.graph.run(feeds, Model::kLossNode, Mode::Train));
  std::printf("training loss: %.3e apart (%.6f)\n", loss.max_abs, loss.max_value);
  on_cpu.graph.backward(Model::kLossNode);
  on_gpu.graph.backward(Model::kLossNode);
  std::vector<Difference> gradients;
  std::printf("parameter gradients, max |cpu - gpu|:\n");
  const auto cpu_params = on_cpu.graph.parameters();
  const auto gpu_params = on_gpu.graph.parameters();
  for (std::size_t i = 0; i < cpu_params.size(); ++i) {
    const Difference d =
        compare(cpu_params[i].name, cpu_params[i].parameter->grad, gpu_params[i].parameter->grad);
    std::printf("  %-20s %.3e   (max |gradient| %.3g)\n", d.name.c_str(), d.max_abs, d.max_value);
    gradients.push_back(d);
  }
  std::fflush(stdout);

  JsonWriter json;
  json.begin_object()
      .field("experiment", c.name)
      .field("model", model_name)
      .field("device", gpu.str())
      .field("batch_size", batch_set.size())
      .field("loss_difference", loss.max_abs);
  write(json, "forward", forward);
  write(json, "gradients", gradients);
  json.end_object();
  save_and_plot(c, json);
  return 0;
}

}  // namespace

Experiment device_agreement_experiment() {
  return {"device-agreement",
          "one model's forward and backward on the CPU and the GPU: largest difference per layer "
          "(needs a GPU)",
          declare, run};
}

}  // namespace dlfs::app::experiment
