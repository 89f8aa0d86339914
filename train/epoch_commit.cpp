#include "dlfs/train/epoch_commit.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "dlfs/runtime/error.hpp"
#include "dlfs/runtime/json.hpp"
#include "dlfs/runtime/json_writer.hpp"

namespace dlfs::train {

namespace fs = std::filesystem;

namespace {

constexpr const char* kNextSuffix = ".next";

void sync_folder(const std::string& folder) {
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// The journal, written like the checkpoints: a temporary, synced, renamed into place.
void write_journal(const std::string& folder, std::int64_t epoch,
                   const std::vector<EpochFile>& files) {
  JsonWriter json;
  json.begin_object().field("epoch", epoch).key("files").begin_array();
  for (const EpochFile& f : files) json.value(f.name);
  json.end_array().end_object();
  const std::string path = folder + "/" + kEpochCommitJournal;
  const std::string temp = path + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw Error("cannot write " + temp + " (" + std::strerror(errno) + ")");
  const std::string& text = json.str();
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const bool synced = written && ::fsync(fd) == 0;
  ::close(fd);
  if (!synced || std::rename(temp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(temp.c_str());
    throw Error("cannot write " + path + " (" + why + ")");
  }
  sync_folder(folder);
}

std::vector<std::string> journal_files(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  const JsonValue journal = parse_json(text.str());
  const JsonValue* files = journal.find("files");
  if (!files || !files->is_array()) throw InputError(path + " names no files");
  std::vector<std::string> names;
  for (const JsonValue& f : files->array) {
    // Only plain names inside the folder: a journal never moves files elsewhere.
    if (!f.is_string() || f.string.empty() || f.string.find('/') != std::string::npos)
      throw InputError(path + " names a file that is not in its folder");
    names.push_back(f.string);
  }
  return names;
}

// Test hook for the crash between the renames (a window too short for a random kill to hit):
// DLFS_TEST_KILL_IN_EPOCH_COMMIT=N ends the process with SIGKILL after the first rename of the
// commit of epoch N. Unset in normal use.
void maybe_die_between_renames(std::int64_t epoch) {
  const char* when = std::getenv("DLFS_TEST_KILL_IN_EPOCH_COMMIT");
  if (when && std::atoll(when) == epoch) std::raise(SIGKILL);
}

// Test hook for a full disk: DLFS_TEST_FAIL_EPOCH_WRITE=N:NAME makes writing NAME in the commit
// of epoch N fail as a full disk would, after part of the file is written. Unset in normal use.
void maybe_fail_write(std::int64_t epoch, const std::string& name, const std::string& path) {
  const char* spec = std::getenv("DLFS_TEST_FAIL_EPOCH_WRITE");
  if (!spec) return;
  const std::string text = spec;
  const auto colon = text.find(':');
  if (colon == std::string::npos || std::atoll(text.c_str()) != epoch ||
      text.substr(colon + 1) != name)
    return;
  std::ofstream(path) << "partial";
  throw Error("cannot write " + path + " (" + std::strerror(ENOSPC) + ")");
}

void rename_into_place(const std::string& folder, const std::string& name) {
  const std::string next = folder + "/" + name + kNextSuffix;
  const std::string target = folder + "/" + name;
  if (std::rename(next.c_str(), target.c_str()) != 0)
    throw Error("cannot rename " + next + " to " + target + " (" + std::strerror(errno) + ")");
}

}  // namespace

void commit_epoch_files(const std::string& folder, std::int64_t epoch,
                        const std::vector<EpochFile>& files) {
  try {
    for (const EpochFile& f : files) {
      const std::string next = folder + "/" + f.name + kNextSuffix;
      maybe_fail_write(epoch, f.name, next);
      f.write(next);
    }
  } catch (...) {
    for (const EpochFile& f : files) {
      std::error_code ignored;
      fs::remove(folder + "/" + f.name + kNextSuffix, ignored);
    }
    throw;
  }
  write_journal(folder, epoch, files);
  for (std::size_t i = 0; i < files.size(); ++i) {
    rename_into_place(folder, files[i].name);
    if (i == 0) maybe_die_between_renames(epoch);
  }
  sync_folder(folder);
  fs::remove(folder + "/" + kEpochCommitJournal);
  sync_folder(folder);
}

bool recover_epoch_commit(const std::string& folder) {
  std::error_code error;
  if (!fs::is_directory(folder, error)) return false;
  const std::string journal = folder + "/" + kEpochCommitJournal;
  bool completed = false;
  if (fs::exists(journal, error)) {
    // The set was decided: the .next files still there are its missing part.
    for (const std::string& name : journal_files(journal))
      if (fs::exists(folder + "/" + name + kNextSuffix, error)) rename_into_place(folder, name);
    sync_folder(folder);
    fs::remove(journal);
    completed = true;
  }
  // .next files without a journal belong to a commit that never got to step 2: the previous
  // set is the folder's, so they go.
  std::vector<fs::path> unfinished;
  const std::string suffix = kNextSuffix;
  for (fs::directory_iterator it(folder, error), end; !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (name.size() > suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      unfinished.push_back(it->path());
  }
  for (const fs::path& path : unfinished) {
    std::error_code ignored;
    fs::remove(path, ignored);
  }
  std::error_code ignored;
  fs::remove(journal + ".tmp", ignored);
  sync_folder(folder);
  return completed;
}

}  // namespace dlfs::train
