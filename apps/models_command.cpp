// dlfs models: every model with its parameter count at each input size.
#include <cstdio>

#include "dlfs/apps/commands.hpp"
#include "dlfs/apps/options.hpp"
#include "dlfs/models/catalog.hpp"
#include "dlfs/runtime/json.hpp"

namespace dlfs::app {

int models_command(int argc, char** argv) {
  Options options("models",
                  "Lists every model dlfs builds, with its parameter count at each input "
                  "size (28: 1x28x28, 32: 1x32x32 or 3x32x32 for resnet20, 224: "
                  "3x224x224 with 1000 classes).");
  options.add_flag("json", "print JSON instead of a table");
  if (!options.parse(argc, argv, 2)) return 0;
  const bool json = options.flag("json");
  if (json) std::printf("[");
  bool first = true;
  for (const auto& info : model_catalog()) {
    std::string counts;
    std::string json_counts;
    for (const auto& v : info.variants) {
      Model m = build_model(info.name, v);
      const long long n = static_cast<long long>(m.graph.parameter_count());
      std::string shape = m.input_shape.str();
      counts += (counts.empty() ? "" : ", ") + v + ": " + std::to_string(n);
      json_counts += std::string(json_counts.empty() ? "" : ", ") + "{\"input\": " + json_quote(v) +
                     ", \"shape\": " + json_quote(shape) +
                     ", \"classes\": " + std::to_string(m.classes) +
                     ", \"parameters\": " + std::to_string(n) + "}";
    }
    if (json) {
      std::printf("%s\n  {\"name\": %s, \"description\": %s, \"variants\": [%s]}", first ? "" : ",",
                  json_quote(info.name).c_str(), json_quote(info.description).c_str(),
                  json_counts.c_str());
    } else {
      std::printf("%-15s %-44s %s\n", info.name.c_str(), counts.c_str(), info.description.c_str());
    }
    first = false;
  }
  if (json) std::printf("\n]\n");
  return 0;
}

}  // namespace dlfs::app
