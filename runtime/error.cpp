#include "dlfs/runtime/error.hpp"

namespace dlfs {

namespace {
std::string basename_of(const char* path) {
  std::string s(path);
  auto slash = s.find_last_of('/');
  return slash == std::string::npos ? s : s.substr(slash + 1);
}
}  // namespace

LibraryError::LibraryError(const std::string& library, const std::string& call, const char* file,
                           int line, const std::string& detail)
    : Error(library + " call `" + call + "` failed at " + basename_of(file) + ":" +
            std::to_string(line) + ": " + detail) {}

void fail(const char* file, int line, const std::string& message) {
  throw Error(basename_of(file) + ":" + std::to_string(line) + ": " + message);
}

}  // namespace dlfs
