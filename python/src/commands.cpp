// The dlfs program's commands from Python: dlfs.fit runs `dlfs train` itself (the same options,
// defaults, progress bar and run folder) and dlfs.evaluate runs `dlfs eval`'s evaluation.
// Both release the GIL while they work; Ctrl-C reaches the training loop's own handler, which
// stops after the batch, saves the state and returns 130 (python/dlfs/training.py raises
// KeyboardInterrupt for it).

#include <cstdio>

#include "dlfs/apps/checkpoint_evaluation.hpp"
#include "dlfs/apps/commands.hpp"
#include "dlfs/python/src/bindings.hpp"
#include "dlfs/train/run_folder.hpp"

namespace dlfs::python {

namespace {

// argv for a command: "dlfs", the command, then its arguments.
struct Argv {
  explicit Argv(const std::vector<std::string>& args) : strings(args) {
    for (std::string& s : strings) pointers.push_back(s.data());
    pointers.push_back(nullptr);
  }
  int argc() const { return static_cast<int>(strings.size()); }
  char** argv() { return pointers.data(); }
  std::vector<std::string> strings;
  std::vector<char*> pointers;
};

int train(const std::vector<std::string>& args) {
  Argv a(args);
  const int status = app::train_command(a.argc(), a.argv());
  std::fflush(stdout);
  return status;
}

nb::object evaluate(const std::vector<std::string>& args) {
  std::optional<app::CheckpointEvaluation> e;
  {
    nb::gil_scoped_release release;
    Argv a(args);
    e = app::evaluate_checkpoint(a.argc(), a.argv());
    std::fflush(stdout);
  }
  if (!e) return nb::none();
  nb::dict d;
  d["checkpoint"] = e->checkpoint;
  d["model"] = e->model;
  d["device"] = e->device;
  d["test_accuracy"] = e->result.accuracy;
  d["test_loss"] = e->result.loss;
  d["images"] = e->result.samples;
  return d;
}

}  // namespace

void bind_commands(nb::module_& m) {
  m.def("train_command", &train, nb::arg("argv"), nb::call_guard<nb::gil_scoped_release>(),
        "Runs `dlfs train` with argv (\"dlfs\", \"train\", options...); returns its exit status.");
  m.def("evaluate_command", &evaluate, nb::arg("argv"),
        "Runs `dlfs eval`'s evaluation with argv (\"dlfs\", \"eval\", options...); a dict of the "
        "figures, None after --help.");
  m.def("next_free_run_folder", &train::next_free_run_folder, nb::arg("base"),
        "The first of BASE, BASE-2, BASE-3, ... that holds no run.");
}

}  // namespace dlfs::python
