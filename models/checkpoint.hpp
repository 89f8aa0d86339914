#pragma once
// Model checkpoints: parameters and buffers as a safetensors file under their PyTorch
// state_dict names, with the model's catalog name, input size and class count in the metadata,
// so `dlfs eval` can rebuild the model and PyTorch can load_state_dict the tensors.
//
// The metadata ("__metadata__", strings only) of a model.safetensors written by `dlfs train`
// (docs/checkpoints.md lists them with examples):
//   format               "pt": tells safetensors.torch the tensors are a PyTorch state_dict
//   dlfs_model           the catalog name ("lenet5"); load_model rebuilds this model
//   dlfs_variant         the input size, one of the model's variants ("28", "32", "224")
//   dlfs_classes         the class count, digits only, 1 to 100000
//   dlfs_epoch           epochs trained (apps/run_setup.cpp, checkpoint_metadata)
//   dlfs_seed            the run's --seed
//   dlfs_normalize_mean  the pixel mean subtracted before the model ("%.9g"; 0 with
//                        --normalize off)
//   dlfs_normalize_std   the pixel stddev divided by (1 with --normalize off)
//   dlfs_augment         the run's --augment ("off", "crop:4,flip"; dlfs train writes it)
// load_model needs dlfs_model, dlfs_variant and dlfs_classes; without the normalization keys the
// pixels go in as they are, in [0, 1]. A file with none of them (a PyTorch state_dict saved with
// safetensors) loads into a model the caller names: weights_class_count and load_weights.
// train_state.safetensors carries the same keys plus dlfs_training_state and the resume state
// (train/training_state.cpp).
#include <map>
#include <optional>
#include <string>

#include "dlfs/models/model.hpp"
#include "dlfs/models/safetensors.hpp"

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
// The same for a file already read (`path` names it in messages).
Model load_model(const SafetensorsContents& contents, const std::string& path,
                 std::map<std::string, std::string>* metadata = nullptr);

// The class count of model `name` that the file's tensors fit, for a file without dlfs metadata
// (a PyTorch state_dict): the size of the output layer's tensor along its class axis. The
// catalog's default (10) when the file lacks that tensor or has it with another number of
// dimensions, since load_weights then names the problem; a count outside 1 to 100000 is an
// InputError naming the file and the tensor. An unknown `name` is build_model's InputError.
int weights_class_count(const std::string& name, const SafetensorsContents& contents,
                        const std::string& path);

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
