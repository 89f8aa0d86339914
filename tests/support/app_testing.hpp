#pragma once
// Helpers of the tests that run commands or write files (tests/apps, tests/train): calling a
// command's main-like function with an argument list, reading a file the command wrote, and naming
// a per-process scratch path.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace dlfs::testing {

// The whole file as bytes ("" when it cannot be read).
inline std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// gtest's temporary directory + "dlfs_<group>_<name>_<pid>": unique per test process, so parallel
// ctest runs do not share files.
inline std::string temp_path(const std::string& group, const std::string& name) {
  return ::testing::TempDir() + "dlfs_" + group + "_" + name + "_" + std::to_string(::getpid());
}

// temp_path, with whatever an earlier run of the same test left there removed.
inline std::string fresh_temp_path(const std::string& group, const std::string& name) {
  const std::string path = temp_path(group, name);
  std::filesystem::remove_all(path);
  return path;
}

// Sets (or, with nullptr, removes) an environment variable for its lifetime, then puts back what
// was there. For tests whose child processes or code under test read the environment.
class ScopedEnvironment {
 public:
  ScopedEnvironment(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old, had_ = true;
    if (value)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~ScopedEnvironment() {
    if (had_)
      ::setenv(name_, old_.c_str(), 1);
    else
      ::unsetenv(name_);
  }
  ScopedEnvironment(const ScopedEnvironment&) = delete;
  ScopedEnvironment& operator=(const ScopedEnvironment&) = delete;

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

// Calls command(argc, argv) with `args` (args[0] is the program name, as in main).
template <typename Command>
int call_command(Command command, std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return command(static_cast<int>(argv.size()), argv.data());
}

}  // namespace dlfs::testing
