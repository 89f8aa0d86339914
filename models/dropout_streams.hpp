#pragma once
// A model's Dropout layers and their random streams: what --seed changes and what a training
// state saves and restores, so that a resumed run draws the same masks.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "dlfs/layers/dropout.hpp"
#include "dlfs/models/model.hpp"

namespace dlfs {

// The model's Dropout layers with their node names, in the graph's order.
std::vector<std::pair<std::string, Dropout*>> dropout_layers(Model& model);

// Gives every Dropout layer a stream derived from `seed` and the layer's own seed, so that
// --seed also changes the dropout masks. Seed 0 keeps each layer's own stream (the catalog's).
void seed_dropout(Model& model, std::uint64_t seed);

}  // namespace dlfs
