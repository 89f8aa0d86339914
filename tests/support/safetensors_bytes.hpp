#pragma once
// Hand-made safetensors files for the checkpoint tests: the 8-byte little-endian header length,
// the header, then the data.
#include <string>

namespace dlfs::testing {

inline std::string safetensors_with_header(const std::string& header,
                                           const std::string& data = "") {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((header.size() >> (8 * i)) & 0xFF);
  return out + header + data;
}

}  // namespace dlfs::testing
