#pragma once
// Model checkpoints: parameters and buffers as a safetensors file under their PyTorch
// state_dict names, with the model's catalog name, input size and class count in the metadata,
// so `dlfs eval` can rebuild the model and PyTorch can load_state_dict the tensors.
#include <map>
#include <optional>
#include <string>

#include "models/model.hpp"
#include "models/safetensors.hpp"

namespace dlfs {

// Metadata keys written by save_model.
constexpr const char* kMetaModel = "dlfs_model";
constexpr const char* kMetaVariant = "dlfs_variant";
constexpr const char* kMetaClasses = "dlfs_classes";

// The tensors save_model writes, in order: parameters then buffers.
std::vector<std::pair<std::string, Tensor>> model_state(Model& model);

void save_model(const std::string& path, Model& model,
                const std::map<std::string, std::string>& extra_metadata = {});

// Copies the file's tensors into the model. Every parameter and buffer must be in the file with
// its shape and dtype; tensors the model lacks are an error too. Messages name the tensors.
void load_weights(Model& model, const SafetensorsContents& contents, const std::string& path);

// Rebuilds the model named in the file's metadata and loads its weights (on the CPU). The
// metadata it reads (dlfs_model, dlfs_variant, dlfs_classes) is checked strictly.
Model load_model(const std::string& path, std::map<std::string, std::string>* metadata = nullptr);

// Throws the InputError for a metadata value a checkpoint must not hold, in one sentence:
// "Checkpoint 'PATH' has metadata KEY 'VALUE'; it must be REQUIREMENT." (the value escaped and
// cut as quoted_from_file does).
[[noreturn]] void throw_bad_metadata(const std::string& path, const std::string& key,
                                     const std::string& value, const std::string& requirement);

// Metadata KEY of the checkpoint at `path` as a number: nullopt when absent. The whole value
// must be one finite number (no spaces, no trailing text, no nan or inf) that `acceptable`
// (when given) accepts; anything else is throw_bad_metadata with `requirement`.
std::optional<double> metadata_number(const std::map<std::string, std::string>& metadata,
                                      const std::string& path, const std::string& key,
                                      const std::string& requirement = "a finite number",
                                      bool (*acceptable)(double) = nullptr);

}  // namespace dlfs
