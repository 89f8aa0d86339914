#include "train/run_folder.hpp"

#include <filesystem>
#include <system_error>

#include "runtime/error.hpp"

namespace dlfs::train {

void prepare_output_folder(const std::string& path, const std::string& option_name) {
  const std::string option = "--" + option_name;
  if (path.empty())
    throw InputError(option + " is empty; name the folder for the results (e.g. " + option +
                     " runs/mine)");
  std::error_code error;
  const std::filesystem::path absolute = std::filesystem::absolute(path, error).lexically_normal();
  if (!error && absolute == absolute.root_path())
    throw InputError(option + " " + path +
                     " is the root directory; name a folder of its own for the results");
  std::filesystem::create_directories(path, error);
  if (error)
    throw InputError(option + " " + path + ": cannot create the folder (" + error.message() + ")");
  if (!std::filesystem::is_directory(path))
    throw InputError(option + " " + path + " exists and is not a folder");
}

}  // namespace dlfs::train
