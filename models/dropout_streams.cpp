#include "dlfs/models/dropout_streams.hpp"

#include "dlfs/runtime/counter_rng.hpp"

namespace dlfs {

std::vector<std::pair<std::string, Dropout*>> dropout_layers(Model& model) {
  std::vector<std::pair<std::string, Dropout*>> out;
  for (const std::string& name : model.graph.order())
    if (auto* d = dynamic_cast<Dropout*>(&model.graph.layer(name))) out.emplace_back(name, d);
  return out;
}

void seed_dropout(Model& model, std::uint64_t seed) {
  if (seed == 0) return;
  for (auto& [name, layer] : dropout_layers(model)) layer->set_seed(rng::bits(seed, layer->seed()));
}

}  // namespace dlfs
