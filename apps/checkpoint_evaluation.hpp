#pragma once
// What `dlfs eval` computes, for callers that want the figures rather than the printout (the
// Python package's dlfs.evaluate).
#include <optional>
#include <string>

#include "dlfs/train/trainer.hpp"

namespace dlfs::app {

struct CheckpointEvaluation {
  std::string checkpoint;
  std::string model;
  std::string device;
  train::EvalResult result;
  bool json = false;  // --json was given
};

// Parses `dlfs eval`'s options from argv[2..argc) and evaluates the checkpoint; nullopt when
// --help was given (the help is printed). Errors are exceptions, as for every command.
std::optional<CheckpointEvaluation> evaluate_checkpoint(int argc, char** argv);

}  // namespace dlfs::app
