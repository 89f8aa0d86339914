#pragma once
// What `dlfs train` and `dlfs eval` share: reading the common options, loading the data, and
// building the model that fits it.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "dlfs/apps/options.hpp"
#include "dlfs/data/mnist_format.hpp"
#include "dlfs/data/normalization.hpp"
#include "dlfs/models/model.hpp"

namespace dlfs::app {

struct RunSetup {
  std::string model_name;
  std::string data_dir;
  Device device;
  std::int64_t batch_size = 100;
  std::uint64_t seed = 0;
  data::MnistFormatData data;
  data::Normalization normalization;  // identity unless --normalize
};

// Reads --model (when declared), --data, --device, --batch-size, --seed, --limit-train and
// --classes (when declared) and loads the data. `--data synthetic` generates learnable blobs
// instead. checkpoint_classes > 0 (dlfs eval) fixes the class count to the checkpoint's: every
// label must be below it. For training, warns on stderr when every training pixel is the same.
RunSetup make_run_setup(const Options& options, int checkpoint_classes = 0);

// The catalog model whose input size matches the data's images, with the data's class count.
Model build_model_for(const RunSetup& setup);

std::vector<Parameter*> parameter_pointers(Model& model);

// Checkpoint metadata that lets `dlfs eval` reproduce the run's preprocessing.
std::map<std::string, std::string> checkpoint_metadata(const RunSetup& setup, std::int64_t epoch);
// The normalization stored by checkpoint_metadata (identity when absent), read from the metadata
// of the checkpoint at `path`; a value that is not a finite number (a stddev not above 0) is an
// InputError naming the file and the key.
data::Normalization normalization_from(const std::map<std::string, std::string>& metadata,
                                       const std::string& path);

// For a checkpoint loaded as the model that --model names (dlfs eval --model, dlfs train
// --init-from): a file whose dlfs_model metadata names another model is refused, naming both; a
// file without that metadata (a PyTorch state_dict saved with safetensors) passes, and
// load_weights then checks its tensors against the model.
void check_checkpoint_model(const std::map<std::string, std::string>& metadata,
                            const std::string& path, const std::string& model_name);

struct PoolCounters {
  std::uint64_t host_raw = 0;
  std::uint64_t device_raw = 0;
};
// Raw allocations made so far by the host pool and, for a CUDA device, its pool.
PoolCounters pool_counters(const Device& device);

}  // namespace dlfs::app
