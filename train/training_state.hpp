#pragma once
// The state of a training run, saved so that `dlfs train --resume FILE` continues it exactly:
// weights and buffers (under their state_dict names, as in model.safetensors), every optimizer
// state tensor ("optimizer.<parameter>.<slot>"), the dropout streams' positions, the epoch and
// the batch reached, the epoch's running sums, and the options of the run. One safetensors file,
// written atomically, so that a kill at any moment leaves the previous state or the new one.
//
// On the CPU a resumed run ends with the same weights, bit for bit, as one never interrupted:
// batch order depends only on (seed, epoch), dropout masks only on (seed, offset), and the
// optimizer's state and step counts come back as they were.
#include <cstdint>
#include <map>
#include <string>

#include "dlfs/models/model.hpp"
#include "dlfs/models/safetensors.hpp"
#include "dlfs/optim/optimizer.hpp"
#include "dlfs/train/trainer.hpp"

namespace dlfs::train {

// Metadata key that marks a training-state file.
constexpr const char* kMetaTrainingState = "dlfs_training_state";

struct TrainingState {
  std::int64_t epoch = 0;  // the epoch in progress, 0-based (== epochs when training finished)
  EpochProgress progress;  // how far that epoch got
  double best_validation_accuracy = 0.0;
  double images_per_second_sum = 0.0;  // over the completed epochs
  // The run's train options ("lr" -> "0.002"), so a resumed run needs only --resume.
  std::map<std::string, std::string> options;
  int ranks = 1;  // processes of a data-parallel run (states without the key: 1)
  // The completed epochs' training time, summed over every process that ran part of the run
  // (metrics.csv's seconds column); NaN for states saved before it was recorded (2026-12-07).
  double training_seconds = 0.0;
  // The first epoch (1-based) with the best validation accuracy; 0 before any was validated, and
  // for states saved before it was recorded (2026-12-07).
  std::int64_t best_validation_epoch = 0;
};

// Writes `path` atomically. `metadata` (the checkpoint metadata of the run, e.g. normalization)
// is stored beside the state's own keys.
void save_training_state(const std::string& path, Model& model, optim::Optimizer& optimizer,
                         const TrainingState& state,
                         const std::map<std::string, std::string>& metadata);

// Reads the run's state and options from a file written by save_training_state; an InputError
// names the file when it is not one or a key is missing or malformed.
TrainingState read_training_state(const SafetensorsContents& contents, const std::string& path);

// Copies weights, buffers, optimizer state and dropout positions from the file into a model and
// optimizer built with the run's options. Every tensor must match; messages name the tensor.
void restore_training_state(const SafetensorsContents& contents, const std::string& path,
                            Model& model, optim::Optimizer& optimizer);

}  // namespace dlfs::train
