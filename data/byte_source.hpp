#pragma once
// Sequential reads from a file that may be gzip-compressed: the first two bytes (1f 8b) decide.
// Every failure (missing file, not a regular file, corrupt or truncated gzip) is an InputError
// whose message is one sentence naming the file.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

namespace dlfs::data {

// What a failed check of a path (std::filesystem::status) means, as a phrase that follows the
// quoted path: "is a symbolic link loop", "cannot be reached: permission denied", ... Absence
// (no such file) has its own wording at each caller, so that a loop or a locked folder is never
// reported as a missing file.
std::string path_error_phrase(const std::error_code& ec);

// True when `ec` says only that the path is not there (no such file, or a file on the way).
bool path_is_absent(const std::error_code& ec);

class ByteSource {
 public:
  // Opens `path`; throws InputError when it is missing, unreachable (a symbolic link loop,
  // permission denied), not a regular file or empty.
  explicit ByteSource(const std::string& path);
  ~ByteSource();
  ByteSource(const ByteSource&) = delete;
  ByteSource& operator=(const ByteSource&) = delete;

  const std::string& path() const { return path_; }
  bool gzip() const { return gzip_; }
  // Size of the file on disk (compressed size for gzip files).
  std::uint64_t file_bytes() const { return file_bytes_; }
  // Reads up to `count` bytes into `dst`; returns fewer only at the end of the (decompressed)
  // data. For gzip, the end is reached only after every member's checksum has been verified.
  std::size_t read(void* dst, std::size_t count);
  // Reads and discards what is left. For gzip this checks the rest of the stream, so a caller
  // that found garbage in the data can tell a corrupt gzip file from a bad one inside good gzip:
  // it throws the gzip InputError if there is one. Does nothing after a gzip error.
  void drain();

 private:
  std::size_t read_file(void* dst, std::size_t count);
  std::size_t inflate_into(std::uint8_t* dst, std::size_t count);
  [[noreturn]] void fail_gzip(const std::string& what);

  std::string path_;
  std::FILE* file_ = nullptr;
  std::uint64_t file_bytes_ = 0;
  bool gzip_ = false;
  bool gzip_failed_ = false;
  struct Inflater;
  std::unique_ptr<Inflater> inflater_;
};

}  // namespace dlfs::data
