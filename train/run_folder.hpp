#pragma once
// The folder a command writes its results into (--out): created if missing, and refused when it
// names no folder at all ("") or the root, where a run's files would land among the system's.
#include <string>

namespace dlfs::train {

// Creates `path` and its parents; throws InputError naming --option_name when the path is empty,
// is the root directory, or cannot be created.
void prepare_output_folder(const std::string& path, const std::string& option_name);

}  // namespace dlfs::train
