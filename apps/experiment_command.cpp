// dlfs experiment: the book's experiments, one command each. `dlfs experiment --list` names
// them; `dlfs experiment NAME` runs one, writes NAME.json and draws NAME.png.
#include <cblas.h>
#include <omp.h>

#include <cstdio>
#include <cstring>

#include "dlfs/apps/commands.hpp"
#include "dlfs/apps/experiments/common.hpp"
#include "dlfs/apps/experiments/registry.hpp"
#include "dlfs/runtime/error.hpp"
#include "dlfs/train/run_folder.hpp"

namespace dlfs::app {

namespace experiment {

const std::vector<Experiment>& experiments() {
  static const std::vector<Experiment> all = {
      optimizer_paths_experiment(), optimizer_compare_experiment(),
      weight_init_experiment(),     batch_norm_experiment(),
      overfit_experiment(),         hyperparameter_search_experiment(),
      filters_experiment(),         misclassified_experiment(),
      gradcheck_experiment(),       device_agreement_experiment()};
  return all;
}

}  // namespace experiment

namespace {

using experiment::Experiment;

std::string experiment_list() {
  std::string out;
  for (const Experiment& e : experiment::experiments()) {
    std::string name = std::string("  ") + e.name;
    name += std::string(name.size() < 25 ? 25 - name.size() : 1, ' ');
    out += name + e.summary + "\n";
  }
  return out;
}

std::string general_help() {
  return "usage: dlfs experiment NAME [options]     (dlfs experiment NAME --help for its options)\n"
         "       dlfs experiment --list\n"
         "\n"
         "Runs one of the book's experiments on real data (Fashion-MNIST by default), prints its "
         "figures,\nwrites NAME.json with the numbers and draws NAME.png with "
         "scripts/plot_experiment.py\n(python3 and matplotlib) under --out "
         "(default runs/experiments/NAME).\n"
         "\n"
         "experiments:\n" +
         experiment_list();
}

const Experiment& find_experiment(const std::string& name) {
  std::string names;
  for (const Experiment& e : experiment::experiments()) {
    if (name == e.name) return e;
    names += (names.empty() ? "" : ", ") + std::string(e.name);
  }
  throw InputError("unknown experiment '" + name + "'; the experiments are " + names +
                   " (dlfs experiment --list)");
}

void declare_common_options(Options& o, const std::string& name) {
  o.add("data", "DIR", "directory with the four MNIST-format files", data::kDefaultMnistDirectory);
  o.add("out", "DIR", "where NAME.json and NAME.png go", "runs/experiments/" + name);
  o.add("seed", "N", "seed for initialisation, batches and dropout", "0");
  o.add("device", "NAME", "auto, cpu, cuda or cuda:N", "auto");
  o.add("threads", "N",
        "CPU threads for the kernels and OpenBLAS; these small networks gain little from more, "
        "and on a busy machine waiting OpenMP threads spin",
        "1");
  o.add_flag("quick", "a tiny run (seconds) for tests and CI: fewer iterations and samples");
  o.add_flag("no-plot", "write the numbers only and print the command that draws them");
}

}  // namespace

int experiment_command(int argc, char** argv) {
  if (argc < 3 || !std::strcmp(argv[2], "--help") || !std::strcmp(argv[2], "-h")) {
    std::fputs(general_help().c_str(), argc < 3 ? stderr : stdout);
    return argc < 3 ? 2 : 0;
  }
  if (!std::strcmp(argv[2], "--list")) {
    std::fputs(experiment_list().c_str(), stdout);
    return 0;
  }
  const Experiment& e = find_experiment(argv[2]);
  Options o(std::string("experiment ") + e.name, e.summary);
  declare_common_options(o, e.name);
  if (e.declare_options) e.declare_options(o);
  if (!o.parse(argc, argv, 3)) return 0;

  experiment::Context context;
  context.name = e.name;
  context.options = &o;
  context.out_dir = o.text("out");
  context.data_dir = o.text("data");
  context.seed = static_cast<std::uint64_t>(o.integer("seed", 0, INT64_MAX));
  context.device = Device::parse(o.text("device"));
  context.quick = o.flag("quick");
  context.plot = !o.flag("no-plot");
  train::prepare_output_folder(context.out_dir, "out");
  // The OpenMP build of OpenBLAS shares the OpenMP pool; set both so neither oversubscribes.
  const int threads = static_cast<int>(o.integer("threads", 1, 1024));
  omp_set_num_threads(threads);
  openblas_set_num_threads(threads);

  const double start = experiment::now_seconds();
  std::printf("dlfs experiment %s%s: %s\n", e.name, context.quick ? " (quick)" : "", e.summary);
  std::fflush(stdout);
  const int status = e.run(context);
  std::printf("%s took %.1f s\n", e.name, experiment::now_seconds() - start);
  return status;
}

}  // namespace dlfs::app
