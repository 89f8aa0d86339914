#pragma once
// The dlfs subcommands. Each takes argv from its own name on and returns the exit status.
namespace dlfs::app {

int info_command(int argc, char** argv);
int models_command(int argc, char** argv);
int train_command(int argc, char** argv);
int eval_command(int argc, char** argv);
int bench_command(int argc, char** argv);
int experiment_command(int argc, char** argv);
int plot_command(int argc, char** argv);
int export_command(int argc, char** argv);

}  // namespace dlfs::app
