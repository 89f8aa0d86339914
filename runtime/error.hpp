#pragma once
// Errors are exceptions that say what failed, where, and why in the library's own words.
#include <cstddef>
#include <stdexcept>
#include <string>

namespace dlfs {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Bad input from a user: a file, an option, a shape. The message is one sentence meant for them.
class InputError : public Error {
 public:
  using Error::Error;
};

// A raw allocation failed even after the pool handed its cache back.
class OutOfMemoryError : public Error {
 public:
  OutOfMemoryError(const std::string& message, std::size_t requested_bytes)
      : Error(message), requested_bytes_(requested_bytes) {}
  std::size_t requested_bytes() const { return requested_bytes_; }

 private:
  std::size_t requested_bytes_;
};

// A CUDA, cuBLAS or cuDNN call returned an error status.
class LibraryError : public Error {
 public:
  LibraryError(const std::string& library, const std::string& call, const char* file, int line,
               const std::string& detail);
};

// Throws dlfs::Error with "file:line: message" when the condition is false.
[[noreturn]] void fail(const char* file, int line, const std::string& message);

}  // namespace dlfs

#define DLFS_CHECK(condition, message)                             \
  do {                                                             \
    if (!(condition)) ::dlfs::fail(__FILE__, __LINE__, (message)); \
  } while (0)
