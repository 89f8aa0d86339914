#include "dlfs/models/safetensors.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <tuple>

#include "dlfs/runtime/json.hpp"

namespace dlfs {

namespace {

const char* safetensors_dtype(DType t) {
  switch (t) {
    case DType::Float32:
      return "F32";
    case DType::Float64:
      return "F64";
    case DType::UInt8:
      return "U8";
    case DType::Int32:
      return "I32";
    case DType::Int64:
      return "I64";
  }
  return "?";
}

bool parse_dtype(const std::string& s, DType* out) {
  for (DType t : {DType::Float32, DType::Float64, DType::UInt8, DType::Int32, DType::Int64})
    if (s == safetensors_dtype(t)) {
      *out = t;
      return true;
    }
  return false;
}

// The safetensors library refuses headers above 100 MB; so does dlfs, before allocating one.
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;
// No dlfs tensor comes near 2^40 elements; a claim beyond it is a broken or hostile file.
constexpr std::uint64_t kMaxElements = std::uint64_t{1} << 40;

// One sentence for the user: "Checkpoint 'PATH' <what>."
[[noreturn]] void bad(const std::string& path, const std::string& what) {
  throw InputError("Checkpoint '" + path + "' " + what + ".");
}

// torch.save writes a zip archive ("PK\x03\x04"; PyTorch 1.6 and later) or, in its legacy
// format, a pickle stream that opens with the PROTO opcode 0x80 and a protocol from 2 to 5.
bool is_pytorch_pickle(const unsigned char* start, std::size_t size) {
  if (size >= 4 && std::memcmp(start, "PK\x03\x04", 4) == 0) return true;
  return size >= 2 && start[0] == 0x80 && start[1] >= 2 && start[1] <= 5;
}

// `text` as a Python string literal inside a shell double-quoted argument: the literal escapes
// backslashes, quotes and control characters; the shell layer escapes what double quotes expand.
std::string python_literal_in_shell(const std::string& text) {
  std::string literal = "'";
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (ch == '\\' || ch == '\'') {
      literal += '\\';
      literal += ch;
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      literal += buf;
    } else {
      literal += ch;
    }
  }
  literal += "'";
  std::string out;
  for (const char ch : literal) {
    if (ch == '"' || ch == '$' || ch == '`' || ch == '\\') out += '\\';
    out += ch;
  }
  return out;
}

// The one-sentence answer to `dlfs eval --checkpoint model.pt`: what the file is and the command
// that turns its state_dict into a safetensors file beside it (the safetensors module is not in
// Debian, hence the pip hint).
[[noreturn]] void bad_pytorch_pickle(const std::string& path) {
  namespace fs = std::filesystem;
  std::string converted = fs::path(path).replace_extension(".safetensors").string();
  if (converted == path)
    converted = fs::path(path).replace_extension(".converted.safetensors").string();
  bad(path,
      "is a PyTorch pickle (torch.save), not a safetensors file; convert its state_dict "
      "with: python3 -c \"import torch; from safetensors.torch import save_file; "
      "save_file(torch.load(" +
          python_literal_in_shell(path) + ", map_location='cpu'), " +
          python_literal_in_shell(converted) +
          ")\" (the safetensors module comes from pip install safetensors)");
}

struct NonFinite {
  std::int64_t nan = 0, infinite = 0;
};

template <typename T>
NonFinite count_non_finite(const Tensor& t) {
  NonFinite n;
  const T* x = t.data<T>();
  for (std::int64_t i = 0, size = t.numel(); i < size; ++i) {
    if (std::isnan(x[i]))
      ++n.nan;
    else if (std::isinf(x[i]))
      ++n.infinite;
  }
  return n;
}

struct TensorEntry {
  std::string name;
  DType dtype = DType::Float32;
  std::vector<std::int64_t> dims;
  std::uint64_t begin = 0, end = 0;  // byte range in the data section
};

void write_all(int fd, const void* data, std::size_t bytes, const std::string& path) {
  const char* p = static_cast<const char*>(data);
  while (bytes > 0) {
    ssize_t n = ::write(fd, p, bytes);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error("Writing '" + path + "' failed (" + std::strerror(errno) + ").");
    }
    p += n;
    bytes -= static_cast<std::size_t>(n);
  }
}

// The file a save writes before renaming it over `path`: unique per process.
std::string temporary_name(const std::string& path, long pid) {
  return path + ".tmp." + std::to_string(pid);
}

// A process killed while saving leaves its temporary behind: remove those of dead processes
// (a PID that no longer exists), so repeated kills do not fill the disk. Best effort.
void remove_stale_temporaries(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const std::string prefix = target.filename().string() + ".tmp.";
  fs::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string digits = name.substr(prefix.size());
    if (digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    const long pid = std::stol(digits);
    if (pid <= 0 || pid == ::getpid()) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == -1 && errno == ESRCH) {
      std::error_code ignored;
      fs::remove(it->path(), ignored);
    }
  }
}

// Makes the rename itself durable (the directory entry), where the file system allows it.
void sync_directory_of(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

std::string quoted_from_file(const std::string& text) {
  constexpr std::size_t kMaxShown = 80;
  std::string out = "'";
  for (std::size_t i = 0; i < text.size() && i < kMaxShown; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > kMaxShown) out += "...";
  return out + "'";
}

const Tensor* SafetensorsContents::find(const std::string& name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return &t;
  return nullptr;
}

void save_safetensors(const std::string& path,
                      const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  std::string header = "{";
  bool first = true;
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    for (auto it = metadata.begin(); it != metadata.end(); ++it) {
      if (it != metadata.begin()) header += ",";
      header += json_quote(it->first) + ":" + json_quote(it->second);
    }
    header += "}";
    first = false;
  }
  std::size_t offset = 0;
  for (const auto& [name, t] : tensors) {
    if (!first) header += ",";
    first = false;
    std::string shape = "[";
    for (int i = 0; i < t.ndim(); ++i) shape += (i ? "," : "") + std::to_string(t.dim(i));
    shape += "]";
    header += json_quote(name) + ":{\"dtype\":\"" + safetensors_dtype(t.dtype()) +
              "\",\"shape\":" + shape + ",\"data_offsets\":[" + std::to_string(offset) + "," +
              std::to_string(offset + t.nbytes()) + "]}";
    offset += t.nbytes();
  }
  header += "}";
  // Pad the header with spaces so the data starts 8-byte aligned, as the format recommends.
  while ((header.size() + 8) % 8 != 0) header += ' ';

  remove_stale_temporaries(path);
  const std::string temp = temporary_name(path, ::getpid());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0)
    throw InputError("Checkpoint '" + path + "' cannot be written: creating '" + temp +
                     "' failed (" + std::strerror(errno) + ").");
  try {
    unsigned char length[8];
    std::uint64_t n = header.size();
    for (int i = 0; i < 8; ++i) length[i] = static_cast<unsigned char>(n >> (8 * i));
    write_all(fd, length, 8, temp);
    write_all(fd, header.data(), header.size(), temp);
    for (const auto& [name, t] : tensors) {
      Tensor host = t.to(Device::cpu());
      write_all(fd, host.raw_data(), host.nbytes(), temp);
    }
    // The data must be on disk before the rename makes it the checkpoint.
    if (::fsync(fd) != 0)
      throw Error("Checkpoint '" + path + "' cannot be written: syncing '" + temp + "' failed (" +
                  std::strerror(errno) + ").");
  } catch (...) {
    ::close(fd);
    ::unlink(temp.c_str());
    throw;
  }
  if (::close(fd) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(temp.c_str());
    throw Error("Checkpoint '" + path + "' cannot be written: closing '" + temp + "' failed (" +
                why + ").");
  }
  // rename() replaces the old file in one step: a reader (or a crash) sees old or new, whole.
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(temp.c_str());
    throw Error("Checkpoint '" + path + "' cannot be written: renaming '" + temp +
                "' over it failed (" + why + ").");
  }
  sync_directory_of(path);
}

SafetensorsContents load_safetensors(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (!fs::exists(status)) bad(path, "does not exist");
  // A FIFO or a device could block or never end: only regular files are read.
  if (!fs::is_regular_file(status)) bad(path, "is not a regular file");
  const std::uint64_t file_size = fs::file_size(path, ec);
  if (ec) bad(path, "cannot be read (" + ec.message() + ")");
  std::ifstream in(path, std::ios::binary);
  if (!in) bad(path, "cannot be opened (" + std::string(std::strerror(errno)) + ")");
  // The length field and the header's first byte, which must open a JSON object.
  unsigned char start[9] = {};
  const auto start_size = static_cast<std::size_t>(std::min<std::uint64_t>(file_size, 9));
  in.read(reinterpret_cast<char*>(start), static_cast<std::streamsize>(start_size));
  if (!in) bad(path, "could not be read");
  std::uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | start[i];
  // A safetensors file's length field may happen to begin with a pickle's bytes (80 02 is a
  // 640-byte header): only a file that cannot be safetensors is called a pickle.
  const bool could_be_safetensors =
      file_size >= 9 && header_size <= file_size - 8 && start[8] == '{';
  if (!could_be_safetensors && is_pytorch_pickle(start, start_size)) bad_pytorch_pickle(path);
  if (file_size < 8)
    bad(path, "is not a safetensors file: it has " + std::to_string(file_size) +
                  " bytes, fewer than the 8-byte header length");
  if (header_size > file_size - 8)
    bad(path, "is not a safetensors file: its header length " + std::to_string(header_size) +
                  " is larger than the file (" + std::to_string(file_size) + " bytes)");
  if (header_size > kMaxHeaderBytes)
    bad(path, "has a " + std::to_string(header_size) + "-byte header, more than the " +
                  std::to_string(kMaxHeaderBytes) + " bytes safetensors allows");
  std::string header(static_cast<std::size_t>(header_size), '\0');
  in.seekg(8);
  in.read(&header[0], static_cast<std::streamsize>(header_size));
  if (!in) bad(path, "could not be read: its header is cut short");

  JsonValue root;
  try {
    root = parse_json(header);
  } catch (const InputError& e) {
    bad(path, std::string("is not a safetensors file: its header is not JSON (") + e.what() + ")");
  }
  if (!root.is_object()) bad(path, "is not a safetensors file: its header is not a JSON object");

  const std::uint64_t data_size = file_size - 8 - header_size;
  SafetensorsContents out;
  // First validate every entry (names, dtypes, shapes, offsets), then allocate and read.
  std::vector<TensorEntry> entries;
  std::set<std::string> seen;
  bool seen_metadata = false;
  for (const auto& [name, entry] : root.object) {
    if (name == "__metadata__") {
      if (seen_metadata) bad(path, "has two __metadata__ entries");
      seen_metadata = true;
      if (!entry.is_object()) bad(path, "has a __metadata__ entry that is not a JSON object");
      for (const auto& [k, v] : entry.object) {
        if (!v.is_string())
          bad(path, "has metadata " + quoted_from_file(k) + " that is not a string");
        out.metadata[k] = v.string;
      }
      continue;
    }
    const std::string tensor = "tensor " + quoted_from_file(name);
    if (!seen.insert(name).second) bad(path, "has " + tensor + " twice");
    const JsonValue* dtype = entry.find("dtype");
    const JsonValue* shape = entry.find("shape");
    const JsonValue* offsets = entry.find("data_offsets");
    if (!dtype || !dtype->is_string() || !shape || !shape->is_array() || !offsets ||
        !offsets->is_array() || offsets->array.size() != 2)
      bad(path, "has " + tensor + " without a dtype string, a shape array or two data_offsets");
    TensorEntry e;
    e.name = name;
    if (!parse_dtype(dtype->string, &e.dtype))
      bad(path, "has " + tensor + " of unsupported dtype " + quoted_from_file(dtype->string) +
                    " (dlfs reads F32, F64, U8, I32 and I64)");
    std::uint64_t count = 1;
    for (const auto& d : shape->array) {
      if (!d.is_integer || d.integer < 0)
        bad(path, "has " + tensor + " whose shape holds something other than a size");
      const auto size = static_cast<std::uint64_t>(d.integer);
      // The running product stays within kMaxElements, so Shape::numel cannot overflow either.
      if (size != 0 && count > kMaxElements / size)
        bad(path, "has " + tensor + " whose shape claims more than 2^40 elements");
      count *= size;
      e.dims.push_back(d.integer);
    }
    const JsonValue& b = offsets->array[0];
    const JsonValue& f = offsets->array[1];
    if (!b.is_integer || !f.is_integer || b.integer < 0 || f.integer < b.integer)
      bad(path, "has " + tensor + " whose data_offsets are not two increasing sizes");
    e.begin = static_cast<std::uint64_t>(b.integer);
    e.end = static_cast<std::uint64_t>(f.integer);
    if (e.end > data_size)
      bad(path, "has " + tensor + " whose data_offsets [" + std::to_string(e.begin) + ", " +
                    std::to_string(e.end) + "] run past the end of the data (" +
                    std::to_string(data_size) + " bytes)");
    const std::uint64_t need = count * dtype_size(e.dtype);
    if (e.end - e.begin != need)
      bad(path, "has " + tensor + " of " + std::to_string(e.end - e.begin) +
                    " bytes where its shape and dtype need " + std::to_string(need));
    entries.push_back(std::move(e));
  }
  std::vector<const TensorEntry*> by_offset;
  for (const auto& e : entries)
    if (e.end > e.begin) by_offset.push_back(&e);  // empty tensors occupy no bytes
  std::sort(by_offset.begin(), by_offset.end(), [](const TensorEntry* a, const TensorEntry* b) {
    return std::tie(a->begin, a->end) < std::tie(b->begin, b->end);
  });
  for (std::size_t i = 1; i < by_offset.size(); ++i)
    if (by_offset[i]->begin < by_offset[i - 1]->end)
      bad(path, "has tensors " + quoted_from_file(by_offset[i - 1]->name) + " and " +
                    quoted_from_file(by_offset[i]->name) + " whose data_offsets overlap");

  for (const auto& e : entries) {
    Tensor tensor = Tensor::empty(Shape(e.dims), e.dtype, Device::cpu());
    in.seekg(static_cast<std::streamoff>(8 + header_size + e.begin));
    in.read(static_cast<char*>(tensor.raw_data()), static_cast<std::streamsize>(e.end - e.begin));
    if (!in) bad(path, "could not be read: tensor " + quoted_from_file(e.name) + " is cut short");
    const NonFinite n = e.dtype == DType::Float32   ? count_non_finite<float>(tensor)
                        : e.dtype == DType::Float64 ? count_non_finite<double>(tensor)
                                                    : NonFinite{};
    if (n.nan > 0 || n.infinite > 0)
      bad(path, "has tensor " + quoted_from_file(e.name) + " with " + std::to_string(n.nan) +
                    " NaN and " + std::to_string(n.infinite) + " infinite values of " +
                    std::to_string(tensor.numel()) + "; the checkpoint is damaged");
    out.tensors.emplace_back(e.name, std::move(tensor));
  }
  return out;
}

}  // namespace dlfs
