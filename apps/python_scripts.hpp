#pragma once
// Running the project's Python drawing scripts (scripts/plot_experiment.py, scripts/plot_run.py)
// from the dlfs binary: finding them, finding a python3 that has matplotlib, quoting arguments.
#include <sys/types.h>

#include <string>
#include <vector>

namespace dlfs::app {

// scripts/NAME, looked for under the current directory, under the directories above the running
// executable's folder (build/dlfs -> the source tree) and in the source tree the binary was
// built from; "" when not found.
std::string find_script(const std::string& name);

// The first of `python3` on the PATH and /usr/bin/python3 (Debian's, where python3-matplotlib
// installs; a pyenv or venv python3 earlier on the PATH often lacks it) that imports
// matplotlib; "" when neither does. Asked once per process.
std::string python_with_matplotlib();

// Starts args[0] (looked up on the PATH) with args, output discarded; -1 when it cannot start.
// In its own process group, a Ctrl-C at the terminal does not reach it.
pid_t spawn_quietly(std::vector<std::string> args, bool own_process_group);
// The exit status of `pid` (128 + the signal that ended it; 127 for pid -1). Without `block`,
// -1 while it still runs.
int wait_exit_status(pid_t pid, bool block);
// spawn_quietly and wait. Unlike std::system it leaves SIGINT alone, so a Ctrl-C meant for
// training during the call is not lost.
int run_quietly(std::vector<std::string> args);

// Single quotes for the shell: 'it'\''s'.
std::string shell_quote(const std::string& text);

}  // namespace dlfs::app
