#include "dlfs/data/byte_source.hpp"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "dlfs/runtime/error.hpp"

namespace dlfs::data {

namespace {
constexpr std::size_t kInputChunk = 1 << 16;
}  // namespace

// zlib's stream plus the compressed bytes read from the file but not yet inflated.
struct ByteSource::Inflater {
  z_stream stream{};
  std::vector<std::uint8_t> input = std::vector<std::uint8_t>(kInputChunk);
  bool initialised = false;
  bool finished = false;  // the last member ended and the file has no more bytes
  bool file_at_end = false;
  ~Inflater() {
    if (initialised) inflateEnd(&stream);
  }
};

std::string path_error_phrase(const std::error_code& ec) {
  if (ec == std::errc::too_many_symbolic_link_levels) return "is a symbolic link loop";
  if (ec == std::errc::permission_denied || ec == std::errc::operation_not_permitted)
    return "cannot be reached: permission denied";
  std::string m = ec.message();
  if (!m.empty()) m[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(m[0])));
  return "cannot be checked: " + m;
}

bool path_is_absent(const std::error_code& ec) {
  return ec == std::errc::no_such_file_or_directory || ec == std::errc::not_a_directory;
}

ByteSource::ByteSource(const std::string& path) : path_(path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (ec && !path_is_absent(ec))
    throw InputError("File '" + path + "' " + path_error_phrase(ec) + ".");
  if (!fs::exists(status)) throw InputError("File '" + path + "' does not exist.");
  // A FIFO or a device (/dev/zero) could block or never end: only regular files are read.
  if (!fs::is_regular_file(status)) throw InputError("File '" + path + "' is not a regular file.");
  file_bytes_ = fs::file_size(path, ec);
  if (ec) throw InputError("File '" + path + "' cannot be read: " + ec.message() + ".");
  if (file_bytes_ == 0) throw InputError("File '" + path + "' is empty.");
  file_ = std::fopen(path.c_str(), "rb");
  if (!file_)
    throw InputError("File '" + path + "' cannot be opened: " + std::strerror(errno) + ".");

  unsigned char magic[2] = {0, 0};
  const std::size_t got = std::fread(magic, 1, 2, file_);
  gzip_ = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  std::rewind(file_);
  if (gzip_) {
    inflater_ = std::make_unique<Inflater>();
    // 16 + MAX_WBITS: a gzip wrapper (header and CRC-32 trailer) is required.
    if (inflateInit2(&inflater_->stream, 16 + MAX_WBITS) != Z_OK)
      throw Error("zlib could not start inflating '" + path + "'");
    inflater_->initialised = true;
  }
}

ByteSource::~ByteSource() {
  if (file_) std::fclose(file_);
}

std::size_t ByteSource::read(void* dst, std::size_t count) {
  if (count == 0) return 0;
  return gzip_ ? inflate_into(static_cast<std::uint8_t*>(dst), count) : read_file(dst, count);
}

std::size_t ByteSource::read_file(void* dst, std::size_t count) {
  const std::size_t got = std::fread(dst, 1, count, file_);
  if (got < count && std::ferror(file_))
    throw InputError("File '" + path_ + "' cannot be read: " + std::strerror(errno) + ".");
  return got;
}

void ByteSource::drain() {
  if (gzip_failed_) return;
  std::vector<std::uint8_t> scratch(kInputChunk);
  while (read(scratch.data(), scratch.size()) == scratch.size()) {
  }
}

void ByteSource::fail_gzip(const std::string& what) {
  gzip_failed_ = true;
  throw InputError("File '" + path_ + "' is not valid gzip data: " + what + ".");
}

std::size_t ByteSource::inflate_into(std::uint8_t* dst, std::size_t count) {
  Inflater& z = *inflater_;
  std::size_t produced = 0;
  while (produced < count && !z.finished) {
    if (z.stream.avail_in == 0 && !z.file_at_end) {
      const std::size_t got = read_file(z.input.data(), z.input.size());
      if (got == 0) z.file_at_end = true;
      z.stream.next_in = z.input.data();
      z.stream.avail_in = static_cast<uInt>(got);
    }
    if (z.stream.avail_in == 0 && z.file_at_end) fail_gzip("the compressed stream ends early");

    const std::size_t want = std::min<std::size_t>(count - produced, 1u << 30);
    z.stream.next_out = dst + produced;
    z.stream.avail_out = static_cast<uInt>(want);
    const int rc = inflate(&z.stream, Z_NO_FLUSH);
    produced += want - z.stream.avail_out;
    if (rc == Z_STREAM_END) {
      // gzip files may hold several members back to back (as `cat a.gz b.gz` makes).
      if (z.stream.avail_in == 0 && !z.file_at_end) {
        const std::size_t got = read_file(z.input.data(), z.input.size());
        if (got == 0) z.file_at_end = true;
        z.stream.next_in = z.input.data();
        z.stream.avail_in = static_cast<uInt>(got);
      }
      if (z.stream.avail_in == 0) {
        z.finished = true;
      } else {
        inflateReset(&z.stream);
      }
    } else if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT) {
      fail_gzip(z.stream.msg ? z.stream.msg : "corrupt compressed data");
    } else if (rc == Z_MEM_ERROR) {
      throw Error("zlib ran out of memory inflating '" + path_ + "'");
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
      fail_gzip("zlib error " + std::to_string(rc));
    }
  }
  return produced;
}

}  // namespace dlfs::data
