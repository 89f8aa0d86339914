#include "dlfs/models/checkpoint.hpp"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <set>
#include <vector>

#include "dlfs/models/catalog.hpp"

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

// The largest class count a checkpoint may give a model, so that a hostile file cannot make dlfs
// build a layer of billions of outputs.
constexpr long kMaxClasses = 100000;

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

void throw_bad_metadata(const std::string& path, const std::string& key, const std::string& value,
                        const std::string& requirement) {
  throw InputError("Checkpoint '" + path + "' has metadata " + key + " " + quoted_from_file(value) +
                   "; it must be " + requirement + ".");
}

std::optional<double> metadata_number(const std::map<std::string, std::string>& metadata,
                                      const std::string& path, const std::string& key,
                                      const std::string& requirement, bool (*acceptable)(double)) {
  const auto it = metadata.find(key);
  if (it == metadata.end()) return std::nullopt;
  const std::string& text = it->second;
  // strtod alone would accept leading spaces, "nan" and "inf"; dlfs writes "%.9g" or "%a".
  char* end = nullptr;
  errno = 0;
  const double v = text.empty() || std::isspace(static_cast<unsigned char>(text[0]))
                       ? std::nan("")
                       : std::strtod(text.c_str(), &end);
  if (!end || *end != '\0' || errno == ERANGE || !std::isfinite(v) ||
      (acceptable && !acceptable(v)))
    throw_bad_metadata(path, key, text, requirement);
  return v;
}

Model load_model(const std::string& path, std::map<std::string, std::string>* metadata) {
  return load_model(load_safetensors(path), path, metadata);
}

Model load_model(const SafetensorsContents& contents, const std::string& path,
                 std::map<std::string, std::string>* metadata) {
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

  // The model and its input size are checked against the catalog here, so that the message
  // names the metadata key (build_model's own would not say where the name came from).
  const ModelInfo* info = nullptr;
  std::string names;
  for (const auto& m : model_catalog()) {
    if (m.name == name) info = &m;
    names += (names.empty() ? "" : ", ") + m.name;
  }
  if (!info) throw_bad_metadata(path, kMetaModel, name, "a dlfs model (" + names + ")");
  std::string variants;
  bool known_variant = false;
  for (const auto& v : info->variants) {
    known_variant = known_variant || v == variant;
    variants += (variants.empty() ? "" : ", ") + v;
  }
  if (!known_variant)
    throw_bad_metadata(path, kMetaVariant, variant,
                       "an input size of " + name + " (" + variants + ")");

  // Digits only (strtol alone takes spaces, signs and trailing text), and bounded (kMaxClasses).
  const std::string classes_requirement = "a class count from 1 to " + std::to_string(kMaxClasses);
  if (classes_text.empty() || classes_text.size() > 6 ||
      classes_text.find_first_not_of("0123456789") != std::string::npos)
    throw_bad_metadata(path, kMetaClasses, classes_text, classes_requirement);
  const long classes = std::strtol(classes_text.c_str(), nullptr, 10);
  if (classes < 1 || classes > kMaxClasses)
    throw_bad_metadata(path, kMetaClasses, classes_text, classes_requirement);

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

int weights_class_count(const std::string& name, const SafetensorsContents& contents,
                        const std::string& path) {
  // The tensors that carry the class count, and along which axis, are found by building the
  // model's default input size (28 or 32: small) with two class counts and comparing shapes, so
  // no per-family table has to follow the builders (deep-convnet's logits node is a Dropout,
  // ResNet's output layer is fc, VGG's classifier.6). Names do not depend on the input size.
  Model ten = build_model(name, "", 10);
  Model eleven = build_model(name, "", 11);
  const auto a = model_state(ten);
  const auto b = model_state(eleven);
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    const Shape& shape = a[i].second.shape();
    if (shape == b[i].second.shape()) continue;
    const Tensor* stored = contents.find(a[i].first);
    if (!stored || stored->shape().ndim() != shape.ndim()) break;
    int axis = 0;
    while (axis < shape.ndim() && shape[axis] == b[i].second.shape()[axis]) ++axis;
    const std::int64_t classes = stored->shape()[axis];
    if (classes < 1 || classes > kMaxClasses)
      throw InputError("Checkpoint '" + path + "' holds tensor '" + a[i].first + "' as " +
                       stored->shape().str() + ", which would give model " + name + " " +
                       std::to_string(classes) + " classes; it must be from 1 to " +
                       std::to_string(kMaxClasses) + ".");
    return static_cast<int>(classes);
  }
  return ten.classes;
}

}  // namespace dlfs
