#pragma once
// The files a training run rewrites at the end of every epoch (model.safetensors,
// train_state.safetensors, metrics.csv) change together, as one set: after a crash, a kill -9 or
// a full disk, the folder holds every file of the new epoch or every file of the previous one,
// never a mix.
//
// A commit goes in three steps:
//   1. each file is written whole beside its target, as NAME.next (itself written atomically and
//      synced); a failure here (a full disk) removes the .next files and leaves the previous set;
//   2. the journal epoch-commit.json (atomically) names the files: from here the set is decided;
//   3. each NAME.next is renamed over NAME, then the journal is removed.
// recover_epoch_commit() finishes step 3 when a journal is there (the new set) and removes .next
// files when it is not (the previous set). dlfs train calls it on its --out folder and on a
// --resume file's folder, and dlfs eval on the checkpoint's folder, before reading anything.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace dlfs::train {

constexpr const char* kEpochCommitJournal = "epoch-commit.json";

struct EpochFile {
  std::string name;                               // "model.safetensors", in the run folder
  std::function<void(const std::string&)> write;  // writes the file's new content to a path
};

// Writes `files` into `folder` as one set for `epoch` (steps 1-3 above). Throws what a write
// throws (the previous set stays) or dlfs::Error when a rename fails.
void commit_epoch_files(const std::string& folder, std::int64_t epoch,
                        const std::vector<EpochFile>& files);

// Completes or discards an interrupted commit in `folder` (see above). Returns true when it
// completed one (the folder then holds the set the journal named).
bool recover_epoch_commit(const std::string& folder);

}  // namespace dlfs::train
