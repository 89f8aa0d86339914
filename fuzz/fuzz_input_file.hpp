#pragma once
// The readers take paths (they check the file's type and size first), so each fuzz input is
// written to a file of this process before it is read.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace dlfs::fuzz {

// Writes `data` to this process's scratch file (in $TMPDIR or /tmp) and returns its path.
inline const std::string& write_input_file(const std::uint8_t* data, std::size_t size,
                                           const char* suffix) {
  static const std::string path = [&] {
    const char* tmp = std::getenv("TMPDIR");
    return std::string(tmp && *tmp ? tmp : "/tmp") + "/dlfs_fuzz_" + std::to_string(::getpid()) +
           suffix;
  }();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || (size > 0 && std::fwrite(data, 1, size, f) != size)) std::abort();
  std::fclose(f);
  return path;
}

}  // namespace dlfs::fuzz
