// `dlfs --version`: the project's version, from project(VERSION) in CMakeLists.txt.
#include <gtest/gtest.h>

#include <regex>

#include "support/app_testing.hpp"
#include "support/process.hpp"

namespace dlfs::app {
namespace {

TEST(Version, PrintsTheProjectVersionAndSucceeds) {
  const std::string log = testing::fresh_temp_path("version", "run");
  const auto r = testing::run_process({testing::dlfs_binary(), "--version"}, log);
  ASSERT_TRUE(r.exited) << r.err;
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(std::regex_match(r.out, std::regex("dlfs [0-9]+\\.[0-9]+\\.[0-9]+\n"))) << r.out;
  EXPECT_EQ(r.err, "");
}

}  // namespace
}  // namespace dlfs::app
