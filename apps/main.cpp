// The `dlfs` command: train, eval, plot, export, models, info, bench, experiment.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "dlfs/apps/commands.hpp"
#include "dlfs/apps/openmp_waiting.hpp"
#include "dlfs/comm/communicator.hpp"
#include "dlfs/runtime/error.hpp"

namespace {

const char* kHelp =
    "dlfs: the book \"Deep Learning from Scratch\" as a C++/CUDA runtime\n"
    "\n"
    "usage: dlfs COMMAND [options]     (dlfs COMMAND --help for its options)\n"
    "       dlfs --version\n"
    "\n"
    "commands:\n"
    "  train    train a model on Fashion-MNIST (or any MNIST-format directory)\n"
    "  eval     evaluate a checkpoint on the test set\n"
    "  plot     learning curves of several training runs in one picture (--list: a table)\n"
    "  export   a checkpoint's inference graph as an ONNX model (runs python -m dlfs.onnx)\n"
    "  models   list the models with their parameter counts\n"
    "  info     the build (CUDA, cuDNN) and the devices this machine has\n"
    "  bench    training throughput (images/s) and peak memory per model and batch size\n"
    "  experiment  the book's experiments as plots (dlfs experiment --list)\n";

// What to try after running out of memory: a smaller batch, through the option of the command
// that ran; nothing for the commands without one, where naming an option would mislead.
std::string memory_advice(const std::string& command) {
  if (command == "train" || command == "eval") return " Try a smaller --batch-size.";
  if (command == "bench") return " Try smaller --batch-sizes.";
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  dlfs::app::choose_openmp_waiting(argv);
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
      !std::strcmp(argv[1], "help")) {
    std::fputs(kHelp, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (!std::strcmp(argv[1], "--version") || !std::strcmp(argv[1], "version")) {
    std::printf("dlfs %s\n", DLFS_VERSION);
    return 0;
  }
  const std::string command = argv[1];
  // One rank of a data-parallel run names itself, and its failure ends every rank: the others
  // would otherwise wait for it until their timeout.
  auto fail = [&command](const char* message, const std::string& advice, int exit_code) {
    const std::string rank = dlfs::comm::rank_label();
    std::fprintf(stderr, "dlfs %s%s: %s%s\n", command.c_str(),
                 rank.empty() ? "" : (" (" + rank + ")").c_str(), message, advice.c_str());
    std::fflush(stderr);
    dlfs::comm::abort_world(exit_code);
    return exit_code;
  };
  try {
    if (command == "train") return dlfs::app::train_command(argc, argv);
    if (command == "eval") return dlfs::app::eval_command(argc, argv);
    if (command == "plot") return dlfs::app::plot_command(argc, argv);
    if (command == "export") return dlfs::app::export_command(argc, argv);
    if (command == "models") return dlfs::app::models_command(argc, argv);
    if (command == "info") return dlfs::app::info_command(argc, argv);
    if (command == "bench") return dlfs::app::bench_command(argc, argv);
    if (command == "experiment") return dlfs::app::experiment_command(argc, argv);
    std::fprintf(stderr, "dlfs: unknown command '%s'; see dlfs --help\n", command.c_str());
    return 2;
  } catch (const dlfs::InputError& e) {
    // The only place that prefixes "dlfs COMMAND: ": messages thrown below carry none.
    return fail(e.what(), "", 2);
  } catch (const dlfs::OutOfMemoryError& e) {
    return fail(e.what(), memory_advice(command), 1);
  } catch (const std::exception& e) {
    return fail(e.what(), "", 1);
  }
}
