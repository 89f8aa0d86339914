// train/epoch_commit.hpp: an epoch's files change as one set, whatever stops the commit.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "dlfs/runtime/error.hpp"
#include "dlfs/train/epoch_commit.hpp"
#include "support/app_testing.hpp"

namespace dlfs::train {
namespace {

namespace fs = std::filesystem;
using testing::read_text_file;

std::string folder_with_epoch_one(const std::string& name) {
  const std::string folder = testing::fresh_temp_path("epoch_commit", name);
  fs::create_directories(folder);
  for (const char* file : {"a.txt", "b.txt", "c.txt"}) std::ofstream(folder + "/" + file) << "1";
  return folder;
}

EpochFile file_with(const std::string& name, const std::string& content) {
  return {name, [content](const std::string& path) { std::ofstream(path) << content; }};
}

void expect_contents(const std::string& folder, const std::string& value) {
  for (const char* file : {"a.txt", "b.txt", "c.txt"})
    EXPECT_EQ(read_text_file(folder + "/" + file), value) << file;
  for (const auto& entry : fs::directory_iterator(folder))
    EXPECT_EQ(entry.path().extension(), ".txt") << entry.path();  // no .next, no journal
}

TEST(EpochCommit, ACommitReplacesTheWholeSet) {
  const std::string folder = folder_with_epoch_one("whole");
  commit_epoch_files(folder, 2,
                     {file_with("a.txt", "2"), file_with("b.txt", "2"), file_with("c.txt", "2")});
  expect_contents(folder, "2");
}

TEST(EpochCommit, AFailedWriteLeavesThePreviousSetAndNoNextFiles) {
  const std::string folder = folder_with_epoch_one("failed");
  const EpochFile failing{"b.txt", [](const std::string& path) {
                            std::ofstream(path) << "part";
                            throw std::runtime_error("No space left on device");
                          }};
  EXPECT_THROW(
      commit_epoch_files(folder, 2, {file_with("a.txt", "2"), failing, file_with("c.txt", "2")}),
      std::runtime_error);
  expect_contents(folder, "1");
}

TEST(EpochCommit, RecoveryFinishesACommitWhoseJournalWasWritten) {
  const std::string folder = folder_with_epoch_one("journal");
  // As a kill after the first rename leaves it: a renamed, b and c waiting, the journal there.
  std::ofstream(folder + "/a.txt") << "2";
  std::ofstream(folder + "/b.txt.next") << "2";
  std::ofstream(folder + "/c.txt.next") << "2";
  std::ofstream(folder + "/" + kEpochCommitJournal)
      << R"({"epoch": 2, "files": ["a.txt", "b.txt", "c.txt"]})";
  EXPECT_TRUE(recover_epoch_commit(folder));
  expect_contents(folder, "2");
}

TEST(EpochCommit, RecoveryDiscardsNextFilesWithoutAJournal) {
  const std::string folder = folder_with_epoch_one("no_journal");
  // As a kill while writing the new files leaves it: the set was not decided.
  std::ofstream(folder + "/a.txt.next") << "2";
  std::ofstream(folder + "/b.txt.next") << "pa";
  EXPECT_FALSE(recover_epoch_commit(folder));
  expect_contents(folder, "1");
}

TEST(EpochCommit, AJournalCannotMoveFilesOutOfItsFolder) {
  const std::string folder = folder_with_epoch_one("escape");
  std::ofstream(folder + "/" + kEpochCommitJournal) << R"({"epoch": 2, "files": ["../x"]})";
  EXPECT_THROW(recover_epoch_commit(folder), InputError);
}

}  // namespace
}  // namespace dlfs::train
