#include "dlfs/train/run_folder.hpp"

#include <filesystem>
#include <system_error>

#include "dlfs/runtime/error.hpp"
#include "dlfs/train/epoch_commit.hpp"

namespace dlfs::train {

namespace fs = std::filesystem;

void prepare_output_folder(const std::string& path, const std::string& option_name) {
  const std::string option = "--" + option_name;
  if (path.empty())
    throw InputError(option + " is empty; name the folder for the results (e.g. " + option +
                     " runs/mine)");
  std::error_code error;
  const fs::path absolute = fs::absolute(path, error).lexically_normal();
  if (!error && absolute == absolute.root_path())
    throw InputError(option + " " + path +
                     " is the root directory; name a folder of its own for the results");
  fs::create_directories(path, error);
  if (error)
    throw InputError(option + " " + path + ": cannot create the folder (" + error.message() + ")");
  if (!fs::is_directory(path))
    throw InputError(option + " " + path + " exists and is not a folder");
}

const std::vector<std::string>& run_result_files() {
  static const std::vector<std::string> files = {"metrics.csv", "summary.json", "model.safetensors",
                                                 "train_state.safetensors", "curves.png"};
  return files;
}

std::vector<std::string> run_results_in(const std::string& folder) {
  std::vector<std::string> present;
  std::error_code error;
  for (const std::string& name : run_result_files())
    if (fs::exists(fs::path(folder) / name, error)) present.push_back(name);
  return present;
}

bool holds_unfinished_run(const std::string& folder) {
  std::error_code error;
  return fs::exists(fs::path(folder) / "train_state.safetensors", error) &&
         !fs::exists(fs::path(folder) / "summary.json", error);
}

namespace {

bool same_folder(const std::string& a, const std::string& b) {
  std::error_code error;
  const bool same = fs::equivalent(a, b, error);
  return !error && same;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

void claim_run_folder(const std::string& path, const std::string& option_name, bool overwrite,
                      const std::optional<std::string>& resumed_folder) {
  prepare_output_folder(path, option_name);
  recover_epoch_commit(path);
  if (resumed_folder && same_folder(path, *resumed_folder)) return;
  const std::vector<std::string> results = run_results_in(path);
  if (results.empty()) return;
  const std::string option = "--" + option_name;
  if (!overwrite) {
    if (holds_unfinished_run(path))
      throw InputError(option + " " + path +
                       " holds an unfinished run; continue it with: dlfs train --resume " + path +
                       "/train_state.safetensors (or pass --overwrite to replace it)");
    throw InputError(option + " " + path + " holds the results of an earlier run (" +
                     joined(results) + "); pass --overwrite to replace them, or choose another " +
                     option);
  }
  for (const std::string& name : results) {
    std::error_code error;
    fs::remove(fs::path(path) / name, error);
    if (error)
      throw InputError(option + " " + path + ": cannot remove the earlier run's " + name + " (" +
                       error.message() + ")");
  }
}

std::string next_free_run_folder(const std::string& base) {
  if (run_results_in(base).empty()) return base;
  for (int n = 2;; ++n) {
    const std::string candidate = base + "-" + std::to_string(n);
    if (run_results_in(candidate).empty()) return candidate;
  }
}

}  // namespace dlfs::train
