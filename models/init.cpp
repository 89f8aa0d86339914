#include "dlfs/models/init.hpp"

#include <cmath>

namespace dlfs {

InitScheme parse_init_scheme(const std::string& text) {
  if (text == "auto") return InitScheme::Auto;
  if (text == "std") return InitScheme::Std;
  if (text == "xavier") return InitScheme::Xavier;
  if (text == "he") return InitScheme::He;
  throw InputError("--init '" + text + "' is not one of auto, std, xavier, he");
}

double init_std(InitScheme scheme, std::int64_t fan_in) {
  const double n = static_cast<double>(fan_in);
  switch (scheme) {
    case InitScheme::Std:
      return 0.01;
    case InitScheme::Xavier:
      return std::sqrt(1.0 / n);
    case InitScheme::Auto:
    case InitScheme::He:
      return std::sqrt(2.0 / n);
  }
  return 0.01;
}

void initialize(Model& model, InitScheme scheme, Generator& gen) {
  for (const std::string& node : model.graph.order()) {
    Layer& layer = model.graph.layer(node);
    if (layer.type() == "BatchNorm") continue;  // gamma 1, beta 0 from the constructor
    for (Parameter* p : layer.parameters()) {
      if (p->name == "weight" && p->value.ndim() >= 2) {
        const std::int64_t fan_in = p->value.numel() / p->value.dim(0);
        p->value.normal_(gen, 0.0, init_std(scheme, fan_in));
      } else {
        p->value.zero_();
      }
    }
  }
}

}  // namespace dlfs
