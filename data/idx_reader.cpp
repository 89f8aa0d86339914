#include "dlfs/data/idx_reader.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>

#include "dlfs/data/byte_source.hpp"
#include "dlfs/runtime/error.hpp"

namespace dlfs::data {

namespace {

constexpr std::uint8_t kUnsignedByte = 0x08;
// Data is read in pieces of this size, so a header claiming terabytes in a tiny gzip file ends
// in a "cut short" error instead of a giant allocation.
constexpr std::size_t kReadPiece = std::size_t{64} << 20;
// Deflate cannot compress better than 1032:1 (a 258-byte match in under two bits), so a gzip
// file of n bytes never inflates to more than 1032 n: a header claiming more is refused at once.
constexpr std::uint64_t kMaxDeflateRatio = 1032;

std::string hex_byte(std::uint8_t b) {
  char text[8];
  std::snprintf(text, sizeof text, "0x%02x", b);
  return text;
}

std::string plural(std::uint64_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

std::string dims_str(const std::vector<std::int64_t>& dims) {
  std::string s;
  for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? " x " : "") + std::to_string(dims[i]);
  return s;
}

}  // namespace

const char* idx_dtype_name(std::uint8_t code) {
  switch (code) {
    case 0x08:
      return "unsigned byte";
    case 0x09:
      return "signed byte";
    case 0x0B:
      return "int16";
    case 0x0C:
      return "int32";
    case 0x0D:
      return "float32";
    case 0x0E:
      return "float64";
    default:
      return "unknown";
  }
}

namespace {

IdxArray parse_idx_ubyte(ByteSource& source, int expected_ndim) {
  const std::string& path = source.path();
  const std::string file = "IDX file '" + path + "'";

  std::uint8_t magic[4];
  const std::size_t got_magic = source.read(magic, 4);
  if (got_magic < 4)
    throw InputError(file + " is cut short: it has " + plural(got_magic, "byte") +
                     ", fewer than the 4-byte magic number.");
  if (magic[0] != 0 || magic[1] != 0)
    throw InputError(file + " has the wrong magic number: it starts with " + hex_byte(magic[0]) +
                     " " + hex_byte(magic[1]) + " instead of 0x00 0x00.");
  if (magic[2] != kUnsignedByte)
    throw InputError(file + " has dtype byte " + hex_byte(magic[2]) + " (" +
                     idx_dtype_name(magic[2]) + "), but only unsigned byte (0x08) is supported.");
  const int ndim = magic[3];
  if (expected_ndim > 0 && ndim != expected_ndim)
    throw InputError(file + " has " + plural(ndim, "dimension") + " where " +
                     std::to_string(expected_ndim) + " are expected (an idx" +
                     std::to_string(expected_ndim) + " file).");

  std::vector<std::uint8_t> header(static_cast<std::size_t>(ndim) * 4);
  const std::size_t got_header = source.read(header.data(), header.size());
  if (got_header < header.size())
    throw InputError(file + " is cut short: its header declares " + plural(ndim, "dimension") +
                     " but only " + plural(got_header, "byte") + " of the " +
                     std::to_string(header.size()) + " dimension bytes follow.");

  IdxArray array;
  std::uint64_t count = 1;
  bool overflow = false;
  for (int d = 0; d < ndim; ++d) {
    const std::uint8_t* b = &header[static_cast<std::size_t>(d) * 4];
    const std::uint64_t size = (std::uint64_t{b[0]} << 24) | (std::uint64_t{b[1]} << 16) |
                               (std::uint64_t{b[2]} << 8) | std::uint64_t{b[3]};
    array.dims.push_back(static_cast<std::int64_t>(size));
    if (size != 0 &&
        count > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) / size)
      overflow = true;
    else
      count *= size;
  }
  if (overflow)
    throw InputError(file + " declares dimensions " + dims_str(array.dims) +
                     " whose product overflows a 64-bit count.");
  const std::uint64_t header_bytes = 4 + header.size();
  if (!source.gzip() && count > source.file_bytes() - header_bytes)
    throw InputError(file + " declares dimensions " + dims_str(array.dims) + " (" +
                     plural(count, "byte") + ") but only " +
                     plural(source.file_bytes() - header_bytes, "byte") + " of data follow.");
  if (source.gzip() && count / kMaxDeflateRatio > source.file_bytes())
    throw InputError(file + " declares dimensions " + dims_str(array.dims) + " (" +
                     plural(count, "byte") + "), more than its " +
                     plural(source.file_bytes(), "compressed byte") + " can hold.");

  // Grow piece by piece: for gzip files the header's claim cannot be checked before inflating.
  std::uint64_t have = 0;
  while (have < count) {
    const std::size_t piece =
        static_cast<std::size_t>(std::min<std::uint64_t>(count - have, kReadPiece));
    array.values.resize(static_cast<std::size_t>(have) + piece);
    const std::size_t got = source.read(array.values.data() + have, piece);
    have += got;
    if (got < piece)
      throw InputError(file + " is cut short: its header declares " + dims_str(array.dims) + " (" +
                       plural(count, "byte") + ") but only " + plural(have, "byte") +
                       " of data follow.");
  }
  std::uint8_t extra;
  if (source.read(&extra, 1) != 0)
    throw InputError(file + " has bytes after the " + plural(count, "byte") +
                     " of data its header declares (" + dims_str(array.dims) + ").");
  return array;
}

}  // namespace

IdxArray read_idx_ubyte(const std::string& path, int expected_ndim) {
  ByteSource source(path);
  try {
    return parse_idx_ubyte(source, expected_ndim);
  } catch (const InputError&) {
    // Corrupt gzip can inflate to plausible garbage before zlib notices (at worst only the
    // CRC-32 does): report the corruption, the cause, rather than what the garbage looked like.
    if (source.gzip()) source.drain();
    throw;
  }
}

}  // namespace dlfs::data
