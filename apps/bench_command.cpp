// dlfs bench: training or inference throughput. For each model, device and batch size it runs
// full training steps (forward in Train mode, backward, one optimizer step) or, with --pass
// inference, Inference-mode forwards up to the logits, on synthetic input of the model's input
// shape, warm-up steps first, then timed steps, and reports images/s, the pools' peak memory and
// the process's resident memory, as a table and, with --json-out, as the common benchmark
// results JSON. With --profile, as many steps again run with each graph node's time taken
// (models/layer_times.hpp), and a table per model and batch says where a step goes.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <cblas.h>

#if DLFS_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif
#if DLFS_HAVE_CUDNN
#include <cudnn.h>
#endif

#include "dlfs/apps/commands.hpp"
#include "dlfs/apps/options.hpp"
#include "dlfs/apps/run_setup.hpp"
#include "dlfs/models/catalog.hpp"
#include "dlfs/models/init.hpp"
#include "dlfs/models/layer_times.hpp"
#include "dlfs/optim/make_optimizer.hpp"
#include "dlfs/runtime/device.hpp"
#include "dlfs/runtime/device_pools.hpp"
#include "dlfs/runtime/json_writer.hpp"

namespace dlfs::app {

namespace {

// The issue's list: MLP, LeNet, a small VGG and ResNet-20 on 28x28 inputs; the ImageNet-sized
// nets only where a GPU makes them worth timing.
const char* kSmallModels = "mlp,lenet5,vgg11-bn,resnet20";
const char* kGpuModels = "vgg16@224,resnet18@224,resnet50@224";

struct ModelSpec {
  std::string name, variant;  // variant "" = the catalog default
};

struct Measurement {
  std::string model, variant, device, optimizer;
  std::int64_t batch_size = 0, parameters = 0, warmup = 0, steps = 0;
  double seconds = 0.0, images_per_second = 0.0;
  std::size_t peak_bytes = 0;       // peak of the device's pool (the host pool on the CPU)
  std::size_t peak_host_bytes = 0;  // peak of the host pool
  // The process's resident memory (Linux; 0 elsewhere) before the model was built, and its high
  // water mark after the timed steps: their difference is what the model and its steps cost,
  // pools, libraries' scratch and all (bench/compare_pytorch.py sets it beside PyTorch's).
  std::size_t rss_before_model_bytes = 0, peak_rss_bytes = 0;
  // With --profile: the profiled steps' node times, their optimizer steps' and their wall time.
  bool profiled = false;
  LayerTimes layers;
  double profile_optimizer_seconds = 0.0, profile_seconds = 0.0;
};

// A field of /proc/self/status ("VmRSS", "VmHWM") in bytes; 0 where there is none.
std::size_t process_memory(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::string prefix = std::string(field) + ":";
  while (std::getline(in, line))
    if (line.rfind(prefix, 0) == 0) return std::stoull(line.substr(prefix.size())) * 1024;
  return 0;
}

std::vector<ModelSpec> parse_models(const std::string& text) {
  std::vector<ModelSpec> out;
  for (const std::string& item : split_list(text, "models")) {
    const auto at = item.find('@');
    ModelSpec s{item.substr(0, at), at == std::string::npos ? "" : item.substr(at + 1)};
    build_model(s.name, s.variant);  // unknown names and sizes fail now, listing what exists
    out.push_back(s);
  }
  return out;
}

std::vector<std::int64_t> parse_batch_sizes(const std::string& text) {
  std::vector<std::int64_t> out;
  for (const std::string& item : split_list(text, "batch-sizes")) {
    char* end = nullptr;
    const long long v = std::strtoll(item.c_str(), &end, 10);
    if (*end != '\0' || v < 1 || v > (1 << 20))
      throw InputError("option --batch-sizes: '" + item + "' is not a batch size in [1, 1048576]");
    out.push_back(v);
  }
  return out;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Images N(0, 1) and labels uniform over the classes, made once on the host and moved once:
// the benchmark times the model, not data loading.
void synthetic_batch(const Model& model, std::int64_t batch, const Device& device,
                     std::uint64_t seed, Tensor& images, Tensor& labels) {
  Generator gen(seed);
  std::vector<std::int64_t> dims = {batch};
  for (int i = 0; i < model.input_shape.ndim(); ++i) dims.push_back(model.input_shape[i]);
  images = Tensor::empty(Shape(dims));
  images.normal_(gen);
  std::vector<std::int32_t> y(static_cast<std::size_t>(batch));
  for (auto& v : y)
    v = static_cast<std::int32_t>(gen.below(static_cast<std::uint64_t>(model.classes)));
  labels = Tensor::from_vector(y, Shape({batch}));
  images = images.to(device);
  labels = labels.to(device);
}

struct StepPlan {
  std::int64_t warmup = 2;
  std::int64_t steps = 0;  // 0: as many as fill min_seconds, estimated from the warm-up
  double min_seconds = 2.0;
};

enum class Pass { Train, Inference };

// Waits for the GPU's queued work (nothing to wait for on the CPU).
void synchronize(const Device& device) {
  if (device.is_cuda()) synchronize_cuda_device(device.index);
}

Measurement measure(const ModelSpec& spec, std::int64_t batch, const Device& device,
                    const optim::OptimizerConfig& opt_config, const StepPlan& plan, Pass pass,
                    std::uint64_t seed, bool profile) {
  const std::size_t rss_before_model = process_memory("VmRSS");
  Model model = build_model(spec.name, spec.variant);
  Generator init_gen(seed);
  initialize(model, InitScheme::Auto, init_gen);
  model.graph.to(device);
  auto optimizer = optim::make_optimizer(opt_config, parameter_pointers(model));
  Tensor images, labels;
  synthetic_batch(model, batch, device, seed + 1, images, labels);

  CachingPool& pool = memory_pool(device);
  CachingPool& host_pool = memory_pool(Device::cpu());
  pool.reset_peaks();
  host_pool.reset_peaks();

  model.graph.set_input_gradients(false);  // as in training: no gradient for the images
  double* optimizer_seconds = nullptr;     // set while profiling: the optimizer steps' time
  auto step = [&]() {
    if (pass == Pass::Inference)
      return model.graph.run({{Model::kInput, images}}, model.logits_node, Mode::Inference);
    Tensor loss = model.graph.run({{Model::kInput, images}, {Model::kLabels, labels}},
                                  Model::kLossNode, Mode::Train);
    model.graph.backward(Model::kLossNode);
    if (!optimizer_seconds) {
      optimizer->step();
      return loss;
    }
    synchronize(device);
    const auto started = std::chrono::steady_clock::now();
    optimizer->step();
    synchronize(device);
    *optimizer_seconds += seconds_since(started);
    return loss;
  };
  Measurement m;
  m.model = model.name;
  m.variant = model.variant;
  m.device = device.str();
  m.optimizer = pass == Pass::Inference ? "none (inference)" : optimizer->name();
  m.batch_size = batch;
  m.parameters = model.graph.parameter_count();
  m.warmup = plan.warmup;

  auto warm_start = std::chrono::steady_clock::now();
  Tensor loss;  // the loss, or in inference the logits
  for (std::int64_t i = 0; i < plan.warmup; ++i) loss = step();
  if (loss.defined()) loss.reshape({loss.numel()}).to_vector<float>();
  const double warm_seconds = seconds_since(warm_start);

  m.steps = plan.steps;
  if (m.steps == 0) {
    const double per_step = plan.warmup > 0 ? warm_seconds / static_cast<double>(plan.warmup) : 0;
    m.steps = per_step > 0 ? static_cast<std::int64_t>(plan.min_seconds / per_step) + 1 : 10;
    m.steps = std::clamp<std::int64_t>(m.steps, 3, 1000);
  }
  const auto start = std::chrono::steady_clock::now();
  for (std::int64_t i = 0; i < m.steps; ++i) loss = step();
  // Reading the loss waits for the device to finish every step queued before it.
  const float last_loss = loss.reshape({loss.numel()}).to_vector<float>()[0];
  m.seconds = seconds_since(start);
  if (!std::isfinite(last_loss))
    throw Error("the loss of " + m.model + "@" + m.variant + " at batch " + std::to_string(batch) +
                " became non-finite; try a smaller --lr");
  m.images_per_second = static_cast<double>(batch * m.steps) / m.seconds;
  m.peak_bytes = pool.stats().peak_allocated_bytes;
  m.peak_host_bytes = host_pool.stats().peak_allocated_bytes;
  m.rss_before_model_bytes = rss_before_model;
  m.peak_rss_bytes = process_memory("VmHWM");

  if (profile) {
    m.profiled = true;
    model.graph.set_layer_times(&m.layers);
    optimizer_seconds = &m.profile_optimizer_seconds;
    synchronize(device);
    const auto profile_start = std::chrono::steady_clock::now();
    for (std::int64_t i = 0; i < m.steps; ++i) loss = step();
    synchronize(device);
    m.profile_seconds = seconds_since(profile_start);
    model.graph.set_layer_times(nullptr);
  }
  return m;
}

// Where a profiled step goes: each node's forward and backward time per step and its share of
// the step (a node's backward includes summing its input gradients into what other readers
// gave), then the optimizer and what ran outside the nodes (planning the step, zeroing the
// gradients of nodes off the path), in ms per step, and the shares summed per layer type.
void print_profile(const Measurement& m) {
  const bool training = m.optimizer != "none (inference)";
  const double steps = static_cast<double>(m.steps);
  const auto ms = [&](double seconds) { return 1000.0 * seconds / steps; };
  const double step_ms = ms(m.profile_seconds);
  const auto share = [&](double part_ms) { return step_ms > 0 ? 100.0 * part_ms / step_ms : 0.0; };
  const auto milliseconds = [](double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%.3f", value);
    return std::string(text);
  };
  std::printf("  %s batch %lld, %lld profiled steps of %.2f ms (ms per step):\n", m.model.c_str(),
              static_cast<long long>(m.batch_size), static_cast<long long>(m.steps), step_ms);
  const auto row = [](const std::string& node, const std::string& layer, const std::string& forward,
                      const std::string& backward, const std::string& part) {
    std::printf("    %-28s %-16s %20s %10s %7s\n", node.c_str(), layer.c_str(), forward.c_str(),
                backward.c_str(), part.c_str());
  };
  const auto percent = [&](double part_ms) {
    char text[16];
    std::snprintf(text, sizeof text, "%.1f%%", share(part_ms));
    return std::string(text);
  };
  row("node", "layer", "forward", training ? "backward" : "", "share");
  for (const LayerTime& e : m.layers.entries()) {
    const double forward_ms = ms(e.forward_seconds), backward_ms = ms(e.backward_seconds);
    row(e.node, e.layer,
        e.forward_done_by.empty() ? milliseconds(forward_ms) : "in " + e.forward_done_by,
        training ? milliseconds(backward_ms) : "", percent(forward_ms + backward_ms));
  }
  const double optimizer_ms = ms(m.profile_optimizer_seconds);
  const double outside_ms = step_ms - ms(m.layers.total_seconds()) - optimizer_ms;
  if (training) row("optimizer step", "", milliseconds(optimizer_ms), "", percent(optimizer_ms));
  row("outside the nodes", "", milliseconds(outside_ms), "", percent(outside_ms));
  std::string by_layer;
  for (const auto& [layer, seconds] : m.layers.seconds_by_layer())
    by_layer += (by_layer.empty() ? "" : ", ") + layer + " " + percent(ms(seconds));
  std::printf("    by layer: %s\n", by_layer.c_str());
  std::fflush(stdout);
}

std::string cpu_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      return colon == std::string::npos ? line
                                        : line.substr(line.find_first_not_of(" ", colon + 1));
    }
  return "unknown";
}

// The GPU's name, or null on the CPU.
void write_gpu_name(JsonWriter& json, const Device& device) {
#if DLFS_HAVE_CUDA
  if (device.is_cuda()) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, device.index) == cudaSuccess) {
      json.value(std::string(prop.name));
      return;
    }
  }
#else
  (void)device;
#endif
  json.null();
}

void write_versions(JsonWriter& json) {
  json.begin_object().field("dlfs", DLFS_VERSION).field("compiler", __VERSION__).key("cuda");
#if DLFS_HAVE_CUDA
  int runtime = 0;
  if (cudaRuntimeGetVersion(&runtime) == cudaSuccess)
    json.value(std::to_string(runtime / 1000) + "." + std::to_string(runtime % 1000 / 10));
  else
    json.null();
#else
  json.null();
#endif
  json.key("cudnn");
#if DLFS_HAVE_CUDNN
  json.value(std::to_string(cudnnGetVersion()));
#else
  json.null();
#endif
  json.field("openblas", openblas_get_config()).key("torch").null().end_object();
}

std::string iso_date() {
  const std::time_t now = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return buf;
}

// extra.profile: ms per step, of the whole profiled step, the optimizer and each node.
void write_profile(JsonWriter& json, const Measurement& m) {
  const double steps = static_cast<double>(m.steps);
  const auto ms = [&](double seconds) { return 1000.0 * seconds / steps; };
  json.key("profile")
      .begin_object()
      .field("steps", m.steps)
      .field("step_ms", ms(m.profile_seconds))
      .field("optimizer_ms", ms(m.profile_optimizer_seconds))
      .key("nodes")
      .begin_array();
  for (const LayerTime& e : m.layers.entries()) {
    json.begin_object()
        .field("node", e.node)
        .field("layer", e.layer)
        .field("forward_ms", ms(e.forward_seconds))
        .field("backward_ms", ms(e.backward_seconds))
        .key("forward_done_by");
    if (e.forward_done_by.empty())
      json.null();
    else
      json.value(e.forward_done_by);
    json.end_object();
  }
  json.end_array().end_object();
}

void write_json(const std::string& path, const std::vector<Measurement>& results,
                const Device& device, Pass pass) {
  const char* kind = pass == Pass::Inference ? "inference" : "training";
  JsonWriter json;
  json.begin_object()
      .field("kind", kind)
      .field("date", iso_date())
      .key("machine")
      .begin_object()
      .field("cpu", cpu_name())
      .field("cores", static_cast<std::int64_t>(std::thread::hardware_concurrency()))
      .key("gpu");
  write_gpu_name(json, device);
  json.end_object().key("versions");
  write_versions(json);
  json.key("ceilings")
      .begin_object()
      .key("copy_GBps")
      .null()
      .key("sgemm_GFLOPs")
      .null()
      .end_object()
      .key("results")
      .begin_array();
  for (const Measurement& m : results) {
    json.begin_object()
        .field("group", kind)
        .field("name", m.model + "@" + m.variant + " batch " + std::to_string(m.batch_size) + " " +
                           m.device)
        .field("metric", "images/s")
        .field("value", std::round(m.images_per_second * 100) / 100)
        .key("ceiling")
        .null()
        .key("percent_of_ceiling")
        .null()
        .key("vendor")
        .null()
        .key("vendor_value")
        .null()
        .key("ratio_to_vendor")
        .null()
        .key("extra")
        .begin_object()
        .field("model", m.model)
        .field("input", m.variant)
        .field("batch_size", m.batch_size)
        .field("device", m.device)
        .field("optimizer", m.optimizer)
        .field("parameters", m.parameters)
        .field("warmup_steps", m.warmup)
        .field("timed_steps", m.steps)
        .field("seconds", m.seconds)
        .field("peak_memory_bytes", m.peak_bytes)
        .field("peak_host_memory_bytes", m.peak_host_bytes)
        .field("rss_before_model_bytes", m.rss_before_model_bytes)
        .field("peak_rss_bytes", m.peak_rss_bytes);
    if (m.profiled) write_profile(json, m);
    json.end_object().end_object();
  }
  json.end_array().end_object();
  try {
    json.save(path);
  } catch (const InputError&) {
    throw InputError("--json-out " + path + ": cannot write there");
  }
}

}  // namespace

int bench_command(int argc, char** argv) {
  Options o("bench",
            "Measures training throughput (forward, backward and optimizer step) or inference "
            "throughput in images/s, and peak memory, per model, device and batch size, on "
            "synthetic input.");
  o.add("models", "LIST", "comma-separated models, each NAME or NAME@SIZE (e.g. resnet18@224)",
        std::string(kSmallModels) + ", plus " + kGpuModels + " on a GPU");
  o.add("device", "NAME", "auto, cpu, cuda or cuda:N", "auto");
  o.add("batch-sizes", "LIST", "comma-separated batch sizes", "64,128");
  o.add("pass", "NAME", "train (forward, backward, optimizer step) or inference (forward only)",
        "train");
  o.add("warmup", "N", "untimed steps before timing", "2");
  o.add("steps", "N", "timed steps (0: enough to fill --min-time)", "0");
  o.add("min-time", "S", "seconds of timed steps when --steps is 0", "2");
  o.add("optimizer", "NAME", "sgd, momentum, nesterov, adagrad, rmsprop or adam", "momentum");
  o.add("lr", "X", "learning rate (small: synthetic labels are noise)", "0.001");
  o.add("seed", "N", "seed for initialisation and the synthetic batch", "0");
  o.add("json-out", "FILE", "also write the results as benchmark JSON");
  o.add_flag("profile",
             "then as many steps again with each graph node timed: a table per model and batch "
             "of each node's forward and backward ms per step (on a GPU, waiting for it after "
             "each node)");
  if (!o.parse(argc, argv, 2)) return 0;

  const Device device = Device::parse(o.text("device"));
  std::string model_list = o.text("models");
  if (!o.given("models"))
    model_list = device.is_cuda() ? std::string(kSmallModels) + "," + kGpuModels : kSmallModels;
  const std::vector<ModelSpec> models = parse_models(model_list);
  const std::vector<std::int64_t> batch_sizes = parse_batch_sizes(o.text("batch-sizes"));
  StepPlan plan;
  plan.warmup = o.integer("warmup", 0, 1000000);
  plan.steps = o.integer("steps", 0, 1000000);
  plan.min_seconds = o.real("min-time", 0.0, 3600.0);
  optim::OptimizerConfig opt_config;
  opt_config.name = o.text("optimizer");
  opt_config.lr = o.real("lr", 0.0, 1e6);
  const auto seed = static_cast<std::uint64_t>(o.integer("seed", 0, INT64_MAX));
  const std::string pass_name = o.text("pass");
  if (pass_name != "train" && pass_name != "inference")
    throw InputError("option --pass: '" + pass_name + "' is not train or inference");
  const Pass pass = pass_name == "inference" ? Pass::Inference : Pass::Train;

  std::printf("dlfs bench: %s throughput on %s (%s), %s, warm-up %lld steps\n",
              pass == Pass::Inference ? "inference" : "training", device.str().c_str(),
              device.is_cuda() ? cuda_status().c_str() : cpu_name().c_str(),
              pass == Pass::Inference ? "no optimizer" : opt_config.name.c_str(),
              static_cast<long long>(plan.warmup));
  std::printf("%-14s %5s %6s %6s %9s %11s %10s\n", "model", "input", "batch", "steps", "ms/step",
              "images/s", "peak MiB");
  std::fflush(stdout);
  std::vector<Measurement> results;
  for (const ModelSpec& spec : models) {
    for (std::int64_t batch : batch_sizes) {
      const Measurement m =
          measure(spec, batch, device, opt_config, plan, pass, seed, o.flag("profile"));
      std::printf("%-14s %5s %6lld %6lld %9.2f %11.1f %10.1f\n", m.model.c_str(), m.variant.c_str(),
                  static_cast<long long>(m.batch_size), static_cast<long long>(m.steps),
                  1000.0 * m.seconds / m.steps, m.images_per_second, m.peak_bytes / 1048576.0);
      std::fflush(stdout);
      if (m.profiled) print_profile(m);
      results.push_back(m);
    }
  }
  if (o.given("json-out")) {
    write_json(o.text("json-out"), results, device, pass);
    std::printf("wrote %s\n", o.text("json-out").c_str());
  }
  return 0;
}

}  // namespace dlfs::app
