// dlfs models: every model with its parameter count at each input size.
#include <cstdio>

#include "dlfs/apps/commands.hpp"
#include "dlfs/apps/options.hpp"
#include "dlfs/models/catalog.hpp"
#include "dlfs/runtime/json_writer.hpp"

namespace dlfs::app {

int models_command(int argc, char** argv) {
  Options options("models",
                  "Lists every model dlfs builds, with its parameter count at each input size "
                  "(28: 1x28x28, 32: 1x32x32, or 3x32x32 for resnet20, resnet32, resnet56 and "
                  "resnet14-w2; 224: 3x224x224 with 1000 classes).");
  options.add_flag("json", "print JSON instead of a table");
  if (!options.parse(argc, argv, 2)) return 0;
  const bool json = options.flag("json");
  JsonWriter out;
  out.begin_array();
  for (const auto& info : model_catalog()) {
    std::string counts;
    if (json)
      out.begin_object()
          .field("name", info.name)
          .field("description", info.description)
          .key("variants")
          .begin_array();
    for (const auto& v : info.variants) {
      Model m = build_model(info.name, v);
      const std::int64_t n = m.graph.parameter_count();
      counts += (counts.empty() ? "" : ", ") + v + ": " + std::to_string(n);
      if (json)
        out.begin_object()
            .field("input", v)
            .field("shape", m.input_shape.str())
            .field("classes", m.classes)
            .field("parameters", n)
            .end_object();
    }
    if (json)
      out.end_array().end_object();
    else
      std::printf("%-15s %-44s %s\n", info.name.c_str(), counts.c_str(), info.description.c_str());
  }
  out.end_array();
  if (json) std::fputs(out.str().c_str(), stdout);
  return 0;
}

}  // namespace dlfs::app
