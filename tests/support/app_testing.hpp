#pragma once
// Helpers of the tests that run commands or write files (tests/apps, tests/train): calling a
// command's main-like function with an argument list, reading a file the command wrote, and naming
// a per-process scratch path.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

namespace dlfs::testing {

// The whole file as bytes ("" when it cannot be read).
inline std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The scratch paths a test process named with temp_path, and the files named after them (a log's
// ".stderr"), removed when the process exits (ctest
// runs each test in a process of its own), so that test runs do not fill the disk: a training
// run's folder with its checkpoints is hundreds of MB. After a failed test they stay, for a look.
class TempPaths {
 public:
  // `path` and its siblings named path + a suffix that does not go on with a digit (".log",
  // "-run", "_again"; not another process's "<path>1").
  static void remove_with_suffixes(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ignored;
    const fs::path whole(path);
    const std::string stem = whole.filename().string();
    for (const auto& entry : fs::directory_iterator(whole.parent_path(), ignored)) {
      const std::string name = entry.path().filename().string();
      if (name.compare(0, stem.size(), stem) != 0) continue;
      if (name.size() > stem.size() && std::isdigit(static_cast<unsigned char>(name[stem.size()])))
        continue;
      fs::remove_all(entry.path(), ignored);
    }
  }
  void add(const std::string& path) { paths_.insert(path); }
  ~TempPaths() {
    // A child forked by a test that exits normally must not take its parent's files.
    if (::getpid() != owner_) return;
    if (::testing::UnitTest::GetInstance()->failed_test_count() > 0) return;
    for (const std::string& path : paths_) remove_with_suffixes(path);
  }

 private:
  pid_t owner_ = ::getpid();
  std::set<std::string> paths_;
};

inline TempPaths& temp_paths() {
  static TempPaths paths;
  return paths;
}

// gtest's temporary directory + "dlfs_<group>_<name>_<pid>": unique per test process, so parallel
// ctest runs do not share files. Removed when the process exits (TempPaths).
inline std::string temp_path(const std::string& group, const std::string& name) {
  std::string path =
      ::testing::TempDir() + "dlfs_" + group + "_" + name + "_" + std::to_string(::getpid());
  temp_paths().add(path);
  return path;
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
