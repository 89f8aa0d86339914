#pragma once
// What every `dlfs experiment NAME` shares: the registry entry, the run context (output folder,
// seed, device, data, --quick) and the call to scripts/plot_experiment.py that draws NAME.png
// from NAME.json (written with runtime/json_writer.hpp).
#include <cstdint>
#include <string>
#include <vector>

#include "dlfs/apps/options.hpp"
#include "dlfs/data/mnist_format.hpp"
#include "dlfs/runtime/device.hpp"
#include "dlfs/runtime/json_writer.hpp"

namespace dlfs::app::experiment {

// The options every experiment takes, already read.
struct Context {
  std::string name;  // "optimizer-paths"
  const Options* options = nullptr;
  std::string out_dir;   // --out, created before run()
  std::string data_dir;  // --data
  std::uint64_t seed = 0;
  Device device;
  bool quick = false;  // --quick: a tiny run for tests and CI
  bool plot = true;    // false with --no-plot

  // out_dir + "/" + file.
  std::string path(const std::string& file) const;
  // The MNIST-format data in --data (limit_train > 0 keeps the first limit_train training
  // images). Pixels in [0, 1], as the book's load_mnist(normalize=True).
  data::MnistFormatData load_data(std::int64_t limit_train = 0) const;
};

struct Experiment {
  const char* name;
  // One line, for --list and the run's heading. It names no count an option or --quick
  // changes (iterations, images, ...): the run prints the ones it really uses.
  const char* summary;
  void (*declare_options)(Options& options);  // the experiment's own options; may be null
  int (*run)(Context& context);               // returns the exit status
};

// Every experiment, in the book's order.
const std::vector<Experiment>& experiments();

// Writes `json` to out_dir/NAME.json, then draws out_dir/NAME.png with plot_experiment.py when
// python3 with matplotlib is available (and --no-plot was not given); otherwise prints the
// command that draws it later. Returns the JSON path.
std::string save_and_plot(const Context& context, const JsonWriter& json);

// A steady_clock reading in seconds: the difference of two readings is the time between them.
double now_seconds();

// Class names for the data set in `data_dir`: Fashion-MNIST's when the folder name says
// "fashion", otherwise the digits.
std::vector<std::string> class_names(const std::string& data_dir, int classes);

}  // namespace dlfs::app::experiment
