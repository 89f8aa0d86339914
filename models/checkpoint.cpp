#include "models/checkpoint.hpp"

#include <set>

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

void load_weights(Model& model, const SafetensorsContents& contents, const std::string& path) {
  std::set<std::string> expected;
  std::string missing;
  for (auto& [name, tensor] : model_state(model)) {
    expected.insert(name);
    const Tensor* stored = contents.find(name);
    if (!stored) {
      missing += (missing.empty() ? "" : ", ") + name;
      continue;
    }
    if (stored->shape() != tensor.shape() || stored->dtype() != tensor.dtype())
      throw InputError("checkpoint " + path + ": tensor '" + name + "' is " + stored->str() +
                       " but model " + model.name + " needs " + tensor.str());
  }
  if (!missing.empty())
    throw InputError("checkpoint " + path + " lacks tensors the model " + model.name +
                     " needs: " + missing);
  std::string extra;
  for (const auto& [name, t] : contents.tensors)
    if (!expected.count(name)) extra += (extra.empty() ? "" : ", ") + name;
  if (!extra.empty())
    throw InputError("checkpoint " + path + " has tensors the model " + model.name +
                     " does not: " + extra);
  for (auto& [name, tensor] : model_state(model)) tensor.copy_from(*contents.find(name));
}

Model load_model(const std::string& path, std::map<std::string, std::string>* metadata) {
  SafetensorsContents contents = load_safetensors(path);
  auto get = [&](const char* key) {
    auto it = contents.metadata.find(key);
    if (it == contents.metadata.end())
      throw InputError("checkpoint " + path + " has no '" + key +
                       "' metadata; was it written by dlfs train?");
    return it->second;
  };
  const std::string name = get(kMetaModel);
  const std::string variant = get(kMetaVariant);
  int classes = 0;
  try {
    classes = std::stoi(get(kMetaClasses));
  } catch (const std::logic_error&) {
    throw InputError("checkpoint " + path + ": metadata dlfs_classes is not a number");
  }
  Model model = build_model(name, variant, classes);
  load_weights(model, contents, path);
  if (metadata) *metadata = contents.metadata;
  return model;
}

}  // namespace dlfs
