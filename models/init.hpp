#pragma once
// Weight initialisation from the book's chapter 6.2: a fixed std of 0.01, Xavier (std
// sqrt(1/n)) and He (std sqrt(2/n)), n being a weight's fan-in (inputs per output unit).
// Biases start at zero; BatchNorm keeps gamma = 1, beta = 0.
#include <string>

#include "dlfs/models/model.hpp"
#include "dlfs/runtime/generator.hpp"

namespace dlfs {

enum class InitScheme { Auto, Std, Xavier, He };

// "auto" (He, since every dlfs model uses ReLU), "std" (0.01), "xavier", "he".
InitScheme parse_init_scheme(const std::string& text);
double init_std(InitScheme scheme, std::int64_t fan_in);
// Draws every weight of the model from N(0, std^2) with the generator (same seed, same weights
// on every device).
void initialize(Model& model, InitScheme scheme, Generator& gen);

}  // namespace dlfs
