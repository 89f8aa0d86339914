#include "dlfs/train/training_state.hpp"

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <set>
#include <utility>
#include <vector>

#include "dlfs/models/checkpoint.hpp"
#include "dlfs/models/dropout_streams.hpp"
#include "dlfs/runtime/error.hpp"

namespace dlfs::train {

namespace {

constexpr const char* kOptionPrefix = "dlfs_option.";
constexpr const char* kDropoutPrefix = "dlfs_dropout.";
constexpr const char* kOptimizerPrefix = "optimizer.";

// Doubles travel as C99 hex floats so that a resumed run continues with the very same sums.
std::string exact(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%a", v);
  return buf;
}

// Optimizer state under the model's state_dict names (the optimizer's own names use each
// layer's local parameter names, which repeat across layers).
std::vector<std::pair<std::string, Tensor*>> named_optimizer_state(Model& model,
                                                                   optim::Optimizer& optimizer) {
  const auto parameters = model.graph.parameters();
  const auto& slots = optimizer.state_slots();
  auto state = optimizer.state();
  if (state.size() != parameters.size() * slots.size())
    throw Error("training state: the optimizer does not hold the model's parameters");
  std::vector<std::pair<std::string, Tensor*>> out;
  for (std::size_t i = 0; i < state.size(); ++i)
    out.emplace_back(
        kOptimizerPrefix + parameters[i / slots.size()].name + "." + slots[i % slots.size()],
        state[i].second);
  return out;
}

class MetadataReader {
 public:
  MetadataReader(const SafetensorsContents& c, const std::string& path)
      : metadata_(c.metadata), path_(path) {}

  const std::string& text(const std::string& key) const {
    auto it = metadata_.find(key);
    if (it == metadata_.end())
      throw InputError("training state " + path_ + " has no '" + key + "' metadata");
    return it->second;
  }
  std::int64_t integer(const std::string& key) const {
    const std::string& t = text(key);
    char* end = nullptr;
    const long long v = std::strtoll(t.c_str(), &end, 10);
    if (t.empty() || *end != '\0' || v < 0) fail(key, t);
    return v;
  }
  std::uint64_t unsigned_integer(const std::string& text_value, const std::string& key) const {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(text_value.c_str(), &end, 10);
    if (text_value.empty() || *end != '\0') fail(key, text_value);
    return v;
  }
  double real(const std::string& key) const {
    const std::string& t = text(key);
    char* end = nullptr;
    const double v = std::strtod(t.c_str(), &end);
    if (t.empty() || *end != '\0' || !std::isfinite(v)) fail(key, t);
    return v;
  }
  [[noreturn]] void fail(const std::string& key, const std::string& value) const {
    throw_bad_metadata(path_, key, value, "what dlfs train writes there");
  }

 private:
  const std::map<std::string, std::string>& metadata_;
  const std::string& path_;
};

}  // namespace

void save_training_state(const std::string& path, Model& model, optim::Optimizer& optimizer,
                         const TrainingState& state,
                         const std::map<std::string, std::string>& metadata) {
  std::vector<std::pair<std::string, Tensor>> tensors = model_state(model);
  for (auto& [name, tensor] : named_optimizer_state(model, optimizer))
    tensors.emplace_back(name, *tensor);

  std::map<std::string, std::string> m = metadata;
  m["format"] = "pt";
  m[kMetaModel] = model.name;
  m[kMetaVariant] = model.variant;
  m[kMetaClasses] = std::to_string(model.classes);
  m[kMetaTrainingState] = "1";
  m["dlfs_state_epoch"] = std::to_string(state.epoch);
  m["dlfs_state_batch"] = std::to_string(state.progress.batches_done);
  m["dlfs_state_loss_sum"] = exact(state.progress.loss_sum);
  m["dlfs_state_correct"] = std::to_string(state.progress.correct);
  m["dlfs_state_samples"] = std::to_string(state.progress.samples);
  m["dlfs_state_seconds"] = exact(state.progress.seconds);
  m["dlfs_state_optimizer"] = optimizer.name();
  m["dlfs_state_optimizer_steps"] = std::to_string(optimizer.steps_taken());
  m["dlfs_state_best_val"] = exact(state.best_validation_accuracy);
  m["dlfs_state_ips_sum"] = exact(state.images_per_second_sum);
  m["dlfs_state_ranks"] = std::to_string(state.ranks);
  m["dlfs_state_best_epoch"] = std::to_string(state.best_validation_epoch);
  // Unknown (NaN) for a run begun before the key existed: left out, so it stays unknown.
  if (std::isfinite(state.training_seconds))
    m["dlfs_state_training_seconds"] = exact(state.training_seconds);
  for (const auto& [name, value] : state.options) m[kOptionPrefix + name] = value;
  for (const auto& [name, layer] : dropout_layers(model))
    m[kDropoutPrefix + name] =
        std::to_string(layer->seed()) + ":" + std::to_string(layer->offset());
  save_safetensors(path, tensors, m);
}

TrainingState read_training_state(const SafetensorsContents& contents, const std::string& path) {
  if (!contents.metadata.count(kMetaTrainingState))
    throw InputError(path +
                     " is not a training state (model.safetensors holds only weights; resume "
                     "from the train_state.safetensors beside it)");
  const MetadataReader r(contents, path);
  TrainingState s;
  s.epoch = r.integer("dlfs_state_epoch");
  s.progress.batches_done = r.integer("dlfs_state_batch");
  s.progress.loss_sum = r.real("dlfs_state_loss_sum");
  s.progress.correct = r.integer("dlfs_state_correct");
  s.progress.samples = r.integer("dlfs_state_samples");
  s.progress.seconds = r.real("dlfs_state_seconds");
  s.best_validation_accuracy = r.real("dlfs_state_best_val");
  s.images_per_second_sum = r.real("dlfs_state_ips_sum");
  if (contents.metadata.count("dlfs_state_ranks"))
    s.ranks = static_cast<int>(r.integer("dlfs_state_ranks"));
  if (contents.metadata.count("dlfs_state_best_epoch"))
    s.best_validation_epoch = r.integer("dlfs_state_best_epoch");
  s.training_seconds = contents.metadata.count("dlfs_state_training_seconds")
                           ? r.real("dlfs_state_training_seconds")
                           : std::numeric_limits<double>::quiet_NaN();
  const std::string prefix = kOptionPrefix;
  for (const auto& [key, value] : contents.metadata)
    if (key.compare(0, prefix.size(), prefix) == 0) s.options[key.substr(prefix.size())] = value;
  return s;
}

void restore_training_state(const SafetensorsContents& contents, const std::string& path,
                            Model& model, optim::Optimizer& optimizer) {
  const MetadataReader r(contents, path);
  if (r.text("dlfs_state_optimizer") != optimizer.name())
    throw InputError("training state " + path + " was saved by " + r.text("dlfs_state_optimizer") +
                     ", not " + optimizer.name());

  // The weights go through load_weights, which checks names, shapes and dtypes.
  SafetensorsContents weights;
  const std::string prefix = kOptimizerPrefix;
  for (const auto& entry : contents.tensors)
    if (entry.first.compare(0, prefix.size(), prefix) != 0) weights.tensors.push_back(entry);
  load_weights(model, weights, path);

  for (auto& [name, tensor] : named_optimizer_state(model, optimizer)) {
    const Tensor* stored = contents.find(name);
    if (!stored)
      throw InputError("training state " + path + " lacks the optimizer tensor '" + name + "'");
    if (stored->shape() != tensor->shape() || stored->dtype() != tensor->dtype())
      throw InputError("training state " + path + ": tensor '" + name + "' is " + stored->str() +
                       " but the optimizer needs " + tensor->str());
    tensor->copy_from(*stored);
  }
  optimizer.restore_steps_taken(r.integer("dlfs_state_optimizer_steps"));

  for (auto& [name, layer] : dropout_layers(model)) {
    const std::string key = kDropoutPrefix + name;
    const std::string& text = r.text(key);
    const auto colon = text.find(':');
    if (colon == std::string::npos) r.fail(key, text);
    layer->set_state(r.unsigned_integer(text.substr(0, colon), key),
                     r.unsigned_integer(text.substr(colon + 1), key));
  }
}

}  // namespace dlfs::train
