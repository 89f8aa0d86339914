#pragma once
// safetensors files (the format of Hugging Face's `safetensors` library): an 8-byte
// little-endian header length, a JSON header naming each tensor's dtype, shape and byte range,
// then the raw little-endian data. PyTorch users load them with safetensors.torch.load_file.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "dlfs/runtime/tensor.hpp"

namespace dlfs {

struct SafetensorsContents {
  std::map<std::string, std::string> metadata;          // "__metadata__": string to string
  std::vector<std::pair<std::string, Tensor>> tensors;  // host tensors, in file order

  // nullptr when there is no tensor of that name.
  const Tensor* find(const std::string& name) const;
};

// Writes atomically: a temporary file beside `path`, flushed and synced, then renamed over it,
// so a crash leaves either the old file or the new one whole. Tensors may be on any device.
void save_safetensors(const std::string& path,
                      const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// Reads and validates a whole file. Every defect (not a safetensors file, header not JSON or
// larger than the file, unknown dtype, offsets out of range or overlapping, sizes that disagree
// with shapes) is an InputError naming the file and, where it applies, the tensor. A PyTorch
// pickle (torch.save's zip or legacy format) is recognised and the message says how to convert
// it. A floating tensor holding NaN or infinite values is refused too: every file dlfs reads is
// a checkpoint or a training state, and such values would silently poison the model they load
// into (the refusal comes before any model is built or changed).
SafetensorsContents load_safetensors(const std::string& path);

// Text taken from a file (a tensor name, a metadata value) quoted for a one-line message: in
// single quotes, control characters escaped as \xNN, and cut after 80 characters, since a
// hostile file may hold megabyte-long or multi-line strings.
std::string quoted_from_file(const std::string& text);

}  // namespace dlfs
