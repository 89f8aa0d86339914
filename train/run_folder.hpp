#pragma once
// The folder a command writes its results into (--out). It is created if missing and refused when
// it names no folder at all ("") or the root, where a run's files would land among the system's.
// A training run also never mixes its files with another run's: a folder that holds an earlier
// run's results is refused unless the user says --overwrite (then those files are removed first),
// and a folder with an unfinished run says how to continue it. Without --out, `dlfs train` picks
// the first free folder of runs/<model>, runs/<model>-2, runs/<model>-3, ...
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dlfs::train {

// Creates `path` and its parents; throws InputError naming --option_name when the path is empty,
// is the root directory, or cannot be created.
void prepare_output_folder(const std::string& path, const std::string& option_name);

// The files a `dlfs train` run writes into its folder.
const std::vector<std::string>& run_result_files();

// Those of run_result_files() that `folder` holds (none when it does not exist).
std::vector<std::string> run_results_in(const std::string& folder);

// An unfinished run: a train_state.safetensors without the summary.json a finished run writes.
bool holds_unfinished_run(const std::string& folder);

// Prepares `path` (as prepare_output_folder) for a training run, after completing or discarding
// an interrupted epoch commit there (epoch_commit.hpp). `resumed_folder`: the folder of the run
// being resumed, which may be written again. Any other folder holding run results is refused
// unless `overwrite`, which removes those results first. Messages name --option_name.
void claim_run_folder(const std::string& path, const std::string& option_name, bool overwrite,
                      const std::optional<std::string>& resumed_folder);

// The first of `base`, `base-2`, `base-3`, ... that holds no run results.
std::string next_free_run_folder(const std::string& base);

}  // namespace dlfs::train
