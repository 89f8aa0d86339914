#pragma once
// The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/): two zero
// bytes, a dtype byte (0x08 = unsigned byte), the number of dimensions, one big-endian uint32
// per dimension, then the elements in row-major order. Files may be gzip-compressed.
#include <cstdint>
#include <string>
#include <vector>

namespace dlfs::data {

struct IdxArray {
  std::vector<std::int64_t> dims;  // outermost first: [N, rows, cols] for idx3 images
  std::vector<std::uint8_t> values;

  std::int64_t numel() const { return static_cast<std::int64_t>(values.size()); }
};

// Reads an unsigned-byte IDX file with `expected_ndim` dimensions (3 for images, 1 for labels).
// Any problem with the file is an InputError whose one-sentence message names the file: missing,
// empty, corrupt or truncated gzip, wrong magic, a dtype other than unsigned byte, another number
// of dimensions, a header cut short, dimensions whose product overflows or exceeds the file, data
// cut short, or bytes left after the data.
IdxArray read_idx_ubyte(const std::string& path, int expected_ndim);

// "unsigned byte", "float32", ... for an IDX dtype byte; "unknown" otherwise.
const char* idx_dtype_name(std::uint8_t code);

}  // namespace dlfs::data
