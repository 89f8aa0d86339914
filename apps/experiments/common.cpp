#include "dlfs/apps/experiments/common.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "dlfs/apps/python_scripts.hpp"
#include "dlfs/runtime/error.hpp"
#include "dlfs/runtime/json.hpp"

namespace dlfs::app::experiment {

std::string Context::path(const std::string& file) const {
  return out_dir + "/" + file;
}

data::MnistFormatData Context::load_data(std::int64_t limit_train) const {
  return data::load_mnist_format(data_dir, limit_train);
}

// ---- files and plotting ----

std::string save_and_plot(const Context& context, const JsonWriter& json) {
  const std::string json_path = context.path(context.name + ".json");
  const std::string png_path = context.path(context.name + ".png");
  json.save(json_path);
  std::printf("wrote %s\n", json_path.c_str());
  const std::string script = find_script("plot_experiment.py");
  const std::string arguments =
      shell_quote(script.empty() ? "scripts/plot_experiment.py" : script) + " " +
      shell_quote(json_path) + " " + shell_quote(png_path);
  const std::string later = "python3 " + arguments;
  if (!context.plot) {
    std::printf("to draw it: %s\n", later.c_str());
    std::fflush(stdout);
    return json_path;
  }
  if (script.empty()) {
    std::printf(
        "scripts/plot_experiment.py was not found from here; from the dlfs source tree run: %s\n",
        later.c_str());
    std::fflush(stdout);
    return json_path;
  }
  const std::string python = python_with_matplotlib();
  if (python.empty()) {
    std::printf(
        "python3 with matplotlib is not available (Debian: apt-get install python3-matplotlib); "
        "to draw it later: %s\n",
        later.c_str());
  } else {
    std::fflush(stdout);
    const std::string command = python + " " + arguments;
    if (std::system(command.c_str()) == 0)
      std::printf("wrote %s\n", png_path.c_str());
    else
      std::printf("plot_experiment.py failed; the numbers are in %s (command: %s)\n",
                  json_path.c_str(), command.c_str());
  }
  std::fflush(stdout);
  return json_path;
}

double now_seconds() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

std::vector<std::string> class_names(const std::string& data_dir, int classes) {
  std::string lower;
  for (char c : data_dir) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (classes == 10 && lower.find("fashion") != std::string::npos)
    return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  std::vector<std::string> names;
  for (int i = 0; i < classes; ++i) names.push_back(std::to_string(i));
  return names;
}

}  // namespace dlfs::app::experiment
