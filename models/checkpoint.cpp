#include "models/checkpoint.hpp"

#include <cerrno>
#include <cstdlib>
#include <set>
#include <vector>

#include "models/catalog.hpp"

namespace dlfs {

std::vector<std::pair<std::string, Tensor>> model_state(Model& model) {
  std::vector<std::pair<std::string, Tensor>> out;
  for (const auto& p : model.graph.parameters()) out.emplace_back(p.name, p.parameter->value);
  for (const auto& b : model.graph.buffers()) out.emplace_back(b.name, b.buffer->value);
  return out;
}

void save_model(const std::string& path, Model& model,
                const std::map<std::string, std::string>& extra_metadata) {
  std::map<std::string, std::string> metadata = extra_metadata;
  metadata["format"] = "pt";  // tells safetensors.torch the layout is PyTorch's
  metadata[kMetaModel] = model.name;
  metadata[kMetaVariant] = model.variant;
  metadata[kMetaClasses] = std::to_string(model.classes);
  save_safetensors(path, model_state(model), metadata);
}

namespace {

// "a, b, c" for the first few names, then "and N more": a ResNet has hundreds of tensors.
std::string name_list(const std::vector<std::string>& names) {
  constexpr std::size_t kShown = 8;
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < kShown; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > kShown) out += " and " + std::to_string(names.size() - kShown) + " more";
  return out;
}

std::string tensors_word(std::size_t n) {
  return n == 1 ? "tensor" : "tensors";
}

}  // namespace

void load_weights(Model& model, const SafetensorsContents& contents, const std::string& path) {
  const std::string file = "Checkpoint '" + path + "'";
  std::set<std::string> expected;
  std::vector<std::string> missing;
  for (auto& [name, tensor] : model_state(model)) {
    expected.insert(name);
    const Tensor* stored = contents.find(name);
    if (!stored) {
      missing.push_back(name);
      continue;
    }
    if (stored->shape() != tensor.shape() || stored->dtype() != tensor.dtype())
      throw InputError(file + " holds tensor '" + name + "' as " + dtype_name(stored->dtype()) +
                       " " + stored->shape().str() + " but model " + model.name + " needs " +
                       dtype_name(tensor.dtype()) + " " + tensor.shape().str() + ".");
  }
  if (!missing.empty())
    throw InputError(file + " lacks " + std::to_string(missing.size()) + " " +
                     tensors_word(missing.size()) + " that model " + model.name +
                     " needs: " + name_list(missing) + ".");
  std::vector<std::string> extra;
  for (const auto& [name, t] : contents.tensors)
    if (!expected.count(name)) extra.push_back(name);
  if (!extra.empty())
    throw InputError(file + " has " + std::to_string(extra.size()) + " " +
                     tensors_word(extra.size()) + " that model " + model.name +
                     " does not: " + name_list(extra) + ".");
  for (auto& [name, tensor] : model_state(model)) tensor.copy_from(*contents.find(name));
}

Model load_model(const std::string& path, std::map<std::string, std::string>* metadata) {
  SafetensorsContents contents = load_safetensors(path);
  const std::string file = "Checkpoint '" + path + "'";
  auto get = [&](const char* key) {
    auto it = contents.metadata.find(key);
    if (it == contents.metadata.end())
      throw InputError(file + " has no '" + key +
                       "' metadata, so it was not written by dlfs train.");
    return it->second;
  };
  const std::string name = get(kMetaModel);
  const std::string variant = get(kMetaVariant);
  const std::string classes_text = get(kMetaClasses);
  // Bounded so a hostile file cannot make dlfs build a layer of billions of outputs.
  constexpr long kMaxClasses = 100000;
  char* end = nullptr;
  errno = 0;
  const long classes = std::strtol(classes_text.c_str(), &end, 10);
  if (classes_text.empty() || *end != '\0' || errno == ERANGE || classes < 1 ||
      classes > kMaxClasses)
    throw InputError(file + " has metadata " + kMetaClasses + " '" + classes_text.substr(0, 40) +
                     "', not a class count from 1 to " + std::to_string(kMaxClasses) + ".");
  Model model = [&] {
    try {
      return build_model(name, variant, static_cast<int>(classes));
    } catch (const InputError& e) {
      std::string why = e.what();
      if (!why.empty() && why.back() == '.') why.pop_back();
      throw InputError(file + " names a model dlfs cannot build (" + why + ").");
    }
  }();
  load_weights(model, contents, path);
  if (metadata) *metadata = contents.metadata;
  return model;
}

}  // namespace dlfs
