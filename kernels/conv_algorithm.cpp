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
  if (lower == "auto") return ConvAlgorithm::Auto;
  if (lower == "im2col") return ConvAlgorithm::Im2col;
  if (lower == "onednn") return ConvAlgorithm::Onednn;
  if (lower == "winograd") return ConvAlgorithm::Winograd;
  if (lower == "cudnn") return ConvAlgorithm::Cudnn;
  throw InputError("unknown convolution algorithm \"" + text +
                   "\"; expected \"auto\", \"im2col\", \"onednn\", \"winograd\" or \"cudnn\"");
}

const char* conv_algorithm_name(ConvAlgorithm algorithm) {
  switch (algorithm) {
    case ConvAlgorithm::Auto:
      return "auto";
    case ConvAlgorithm::Im2col:
      return "im2col";
    case ConvAlgorithm::Onednn:
      return "onednn";
    case ConvAlgorithm::Winograd:
      return "winograd";
    case ConvAlgorithm::Cudnn:
      return "cudnn";
  }
  return "?";
}

ConvAlgorithm conv_algorithm_from_environment() {
  const char* text = std::getenv("DLFS_CONV");
  if (text == nullptr || *text == '\0') return ConvAlgorithm::Auto;
  try {
    return parse_conv_algorithm(text);
  } catch (const InputError& e) {
    throw InputError(std::string("environment variable DLFS_CONV: ") + e.what());
  }
}

}  // namespace dlfs::kernels
