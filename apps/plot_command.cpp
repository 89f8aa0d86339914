// dlfs plot: training runs side by side (scripts/plot_run.py compare) or their headline figures
// as a table (--list).
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "dlfs/apps/commands.hpp"
#include "dlfs/apps/options.hpp"
#include "dlfs/apps/python_scripts.hpp"
#include "dlfs/runtime/error.hpp"

namespace dlfs::app {

namespace {

bool is_directory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

int plot_command(int argc, char** argv) {
  Options o("plot",
            "Lays the learning curves of several `dlfs train` runs (their DIRs) over each other "
            "in one picture, or with --list prints their headline figures.\n"
            "usage: dlfs plot DIR [DIR ...] [--out FILE] [--metric NAME] | --list DIR [DIR ...]");
  o.add("out", "FILE", "the picture to write (PNG); FILE.json beside it lists the legend",
        "runs.png");
  o.add("metric", "NAME",
        "the metrics.csv column to draw: val_accuracy, val_loss, train_accuracy, train_loss, "
        "learning_rate, images_per_second",
        "val_accuracy");
  o.add_flag("list", "print the runs' headline figures as a table instead of drawing");
  // Run folders are the arguments that are neither an option nor an option's value.
  std::vector<std::string> dirs;
  std::vector<char*> option_args = {argv[0], argv[1]};
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--", 0) == 0) {
      option_args.push_back(argv[i]);
      if ((a == "--out" || a == "--metric") && i + 1 < argc) option_args.push_back(argv[++i]);
    } else {
      dirs.push_back(a);
    }
  }
  if (!o.parse(static_cast<int>(option_args.size()), option_args.data(), 2)) return 0;
  if (dirs.empty()) throw InputError("name at least one run folder (a dlfs train --out DIR)");
  for (const std::string& d : dirs)
    if (!is_directory(d)) throw InputError("run folder " + d + " does not exist");
  const std::string metric =
      o.choice("metric", {"val_accuracy", "val_loss", "train_accuracy", "train_loss",
                          "learning_rate", "images_per_second"});

  const std::string script = find_script("plot_run.py");
  if (script.empty())
    throw Error("scripts/plot_run.py was not found from here; run dlfs from its source tree");
  std::string arguments = shell_quote(script) + (o.flag("list") ? " list" : " compare");
  for (const std::string& d : dirs) arguments += " " + shell_quote(d);
  std::string python = "python3";
  if (!o.flag("list")) {
    python = python_with_matplotlib();
    if (python.empty())
      throw Error(
          "python3 with matplotlib is not available (Debian: apt-get install python3-matplotlib)");
    arguments += " --out " + shell_quote(o.text("out")) + " --metric " + shell_quote(metric);
  }
  std::fflush(stdout);
  const int status = std::system((python + " " + arguments).c_str());
  // plot_run.py says what is wrong with a run folder in one line and exits 2.
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

}  // namespace dlfs::app
