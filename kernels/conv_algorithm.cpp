#include "dlfs/kernels/conv_algorithm.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "dlfs/runtime/error.hpp"

namespace dlfs::kernels {

ConvAlgorithm parse_conv_algorithm(const std::string& text) {
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "im2col") return ConvAlgorithm::Im2col;
  if (lower == "cudnn") return ConvAlgorithm::Cudnn;
  throw InputError("unknown convolution algorithm \"" + text +
                   "\"; expected \"im2col\" or \"cudnn\"");
}

const char* conv_algorithm_name(ConvAlgorithm algorithm) {
  return algorithm == ConvAlgorithm::Cudnn ? "cudnn" : "im2col";
}

ConvAlgorithm conv_algorithm_from_environment() {
  const char* text = std::getenv("DLFS_CONV");
  if (text == nullptr || *text == '\0') return ConvAlgorithm::Im2col;
  try {
    return parse_conv_algorithm(text);
  } catch (const InputError& e) {
    throw InputError(std::string("environment variable DLFS_CONV: ") + e.what());
  }
}

}  // namespace dlfs::kernels
