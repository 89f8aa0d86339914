// libFuzzer target: read_idx_ubyte on arbitrary bytes (raw or gzip, chosen by the first two).
// Any outcome but a value or dlfs::InputError (another exception, a crash, a leak, a sanitizer
// report, a huge allocation) is a finding.
#include <cstdint>

#include "dlfs/data/idx_reader.hpp"
#include "dlfs/runtime/error.hpp"
#include "fuzz_input_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = dlfs::fuzz::write_input_file(data, size, ".idx");
  try {
    // 0 accepts any number of dimensions, so the fuzzer reaches the data checks for all.
    const dlfs::data::IdxArray a = dlfs::data::read_idx_ubyte(path, 0);
    std::uint64_t count = 1;
    for (std::int64_t d : a.dims) count *= static_cast<std::uint64_t>(d);
    if (count != a.values.size()) __builtin_trap();  // dims and data must agree
  } catch (const dlfs::InputError&) {
  }
  return 0;
}
