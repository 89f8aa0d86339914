// libFuzzer target: load_safetensors on arbitrary bytes. Any outcome but a value or
// dlfs::InputError (another exception, a crash, a leak, a sanitizer report, an allocation
// beyond the file's size) is a finding.
#include <cstdint>

#include "dlfs/models/safetensors.hpp"
#include "dlfs/runtime/error.hpp"
#include "fuzz_input_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = dlfs::fuzz::write_input_file(data, size, ".safetensors");
  try {
    const dlfs::SafetensorsContents c = dlfs::load_safetensors(path);
    // What loaded must be consistent: every tensor's bytes lie inside the file.
    std::uint64_t bytes = 0;
    for (const auto& [name, t] : c.tensors) bytes += static_cast<std::uint64_t>(t.nbytes());
    if (bytes > size) __builtin_trap();
  } catch (const dlfs::InputError&) {
  }
  return 0;
}
