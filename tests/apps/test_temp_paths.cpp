// The tests' scratch paths (support/app_testing.hpp) go when their process exits, and a forked
// child's exit leaves its parent's alone.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include "support/app_testing.hpp"

namespace dlfs::testing {
namespace {

std::string make_folder_with_a_file(const std::string& path) {
  std::filesystem::create_directories(path + "/inner");
  std::ofstream(path + "/inner/file.bin") << "bytes";
  return path;
}

TEST(TempPaths, RemovesWhatItWasGivenWhenDestroyed) {
  const std::string folder = make_folder_with_a_file(temp_path("temp_paths", "removed"));
  const std::string file = temp_path("temp_paths", "file.json");
  std::ofstream(file) << "{}";
  {
    TempPaths paths;
    paths.add(folder);
    paths.add(file);
    paths.add(folder + "_never_made");  // a path a test named but never wrote is fine
    ASSERT_TRUE(std::filesystem::exists(folder + "/inner/file.bin"));
  }
  EXPECT_FALSE(std::filesystem::exists(folder));
  EXPECT_FALSE(std::filesystem::exists(file));
}

TEST(TempPaths, TakesFilesNamedAfterAPathButNotAnotherProcesssPath) {
  const std::string log = temp_path("temp_paths", "run") + ".log";
  const std::string other_process = temp_path("temp_paths", "run") + "7";
  for (const std::string& path : {log, log + ".stderr", other_process})
    std::ofstream(path) << "text";
  make_folder_with_a_file(temp_path("temp_paths", "run") + "-out");
  TempPaths::remove_with_suffixes(temp_path("temp_paths", "run"));
  EXPECT_FALSE(std::filesystem::exists(log));
  EXPECT_FALSE(std::filesystem::exists(log + ".stderr"));
  EXPECT_FALSE(std::filesystem::exists(temp_path("temp_paths", "run") + "-out"));
  EXPECT_TRUE(std::filesystem::exists(other_process));
  std::filesystem::remove(other_process);
}

TEST(TempPaths, AForkedChildLeavesItsParentsPathsAlone) {
  const std::string folder = make_folder_with_a_file(temp_path("temp_paths", "parents"));
  std::optional<TempPaths> paths(std::in_place);
  paths->add(folder);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    paths.reset();  // the child's copy is destroyed, as at a normal exit
    ::_exit(std::filesystem::exists(folder) ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the child removed its parent's folder";
  EXPECT_TRUE(std::filesystem::exists(folder + "/inner/file.bin"));
  paths.reset();
  EXPECT_FALSE(std::filesystem::exists(folder));
}

}  // namespace
}  // namespace dlfs::testing
