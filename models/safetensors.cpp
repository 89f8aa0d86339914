#include "models/safetensors.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "runtime/json.hpp"

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

[[noreturn]] void bad(const std::string& path, const std::string& what) {
  throw InputError("checkpoint " + path + ": " + what);
}

void write_all(int fd, const void* data, std::size_t bytes, const std::string& path) {
  const char* p = static_cast<const char*>(data);
  while (bytes > 0) {
    ssize_t n = ::write(fd, p, bytes);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error("cannot write " + path + ": " + std::strerror(errno));
    }
    p += n;
    bytes -= static_cast<std::size_t>(n);
  }
}

}  // namespace

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

  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw InputError("cannot write checkpoint " + path + ": " + std::strerror(errno));
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
    if (::fsync(fd) != 0) throw Error("cannot sync " + temp + ": " + std::strerror(errno));
  } catch (...) {
    ::close(fd);
    ::unlink(temp.c_str());
    throw;
  }
  ::close(fd);
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(temp.c_str());
    throw Error("cannot rename " + temp + " to " + path + ": " + why);
  }
}

SafetensorsContents load_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) bad(path, "cannot be opened (" + std::string(std::strerror(errno)) + ")");
  in.seekg(0, std::ios::end);
  const std::streamoff file_size = in.tellg();
  in.seekg(0);
  if (file_size < 8) bad(path, "is not a safetensors file (shorter than the 8-byte header length)");
  unsigned char length[8];
  in.read(reinterpret_cast<char*>(length), 8);
  std::uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | length[i];
  if (header_size > static_cast<std::uint64_t>(file_size - 8))
    bad(path, "header length " + std::to_string(header_size) + " is larger than the file (" +
                  std::to_string(file_size) + " bytes); is it a safetensors file?");
  std::string header(header_size, '\0');
  in.read(&header[0], static_cast<std::streamsize>(header_size));
  if (!in) bad(path, "could not read its header");

  JsonValue root;
  try {
    root = parse_json(header);
  } catch (const InputError& e) {
    bad(path, std::string("header is not JSON (") + e.what() + "); is it a safetensors file?");
  }
  if (!root.is_object()) bad(path, "header is not a JSON object");

  const std::uint64_t data_size = static_cast<std::uint64_t>(file_size) - 8 - header_size;
  SafetensorsContents out;
  std::vector<std::tuple<std::uint64_t, std::uint64_t, std::string>> ranges;
  for (const auto& [name, entry] : root.object) {
    if (name == "__metadata__") {
      if (!entry.is_object()) bad(path, "__metadata__ is not an object");
      for (const auto& [k, v] : entry.object) {
        if (!v.is_string()) bad(path, "metadata value '" + k + "' is not a string");
        out.metadata[k] = v.string;
      }
      continue;
    }
    const JsonValue* dtype = entry.find("dtype");
    const JsonValue* shape = entry.find("shape");
    const JsonValue* offsets = entry.find("data_offsets");
    if (!dtype || !dtype->is_string() || !shape || !shape->is_array() || !offsets ||
        !offsets->is_array() || offsets->array.size() != 2)
      bad(path, "tensor '" + name + "' lacks a dtype, shape or data_offsets");
    DType t;
    if (!parse_dtype(dtype->string, &t))
      bad(path, "tensor '" + name + "' has unsupported dtype '" + dtype->string + "'");
    std::vector<std::int64_t> dims;
    std::uint64_t count = 1;
    for (const auto& d : shape->array) {
      if (!d.is_integer || d.integer < 0 || d.integer > (1LL << 40))
        bad(path, "tensor '" + name + "' has an invalid shape");
      dims.push_back(d.integer);
      count *= static_cast<std::uint64_t>(d.integer);
      if (count > (1ULL << 40)) bad(path, "tensor '" + name + "' is implausibly large");
    }
    const JsonValue& b = offsets->array[0];
    const JsonValue& e = offsets->array[1];
    if (!b.is_integer || !e.is_integer || b.integer < 0 || e.integer < b.integer)
      bad(path, "tensor '" + name + "' has invalid data_offsets");
    const auto begin = static_cast<std::uint64_t>(b.integer);
    const auto end = static_cast<std::uint64_t>(e.integer);
    if (end > data_size)
      bad(path, "tensor '" + name + "' data_offsets [" + std::to_string(begin) + ", " +
                    std::to_string(end) + "] run past the end of the data (" +
                    std::to_string(data_size) + " bytes)");
    if (end - begin != count * dtype_size(t))
      bad(path, "tensor '" + name + "' has " + std::to_string(end - begin) +
                    " bytes but its shape and dtype need " + std::to_string(count * dtype_size(t)));
    ranges.emplace_back(begin, end, name);
    Tensor tensor = Tensor::empty(Shape(dims), t, Device::cpu());
    in.seekg(static_cast<std::streamoff>(8 + header_size + begin));
    in.read(static_cast<char*>(tensor.raw_data()), static_cast<std::streamsize>(end - begin));
    if (!in) bad(path, "could not read tensor '" + name + "'");
    out.tensors.emplace_back(name, std::move(tensor));
  }
  std::sort(ranges.begin(), ranges.end());
  for (std::size_t i = 1; i < ranges.size(); ++i)
    if (std::get<0>(ranges[i]) < std::get<1>(ranges[i - 1]))
      bad(path, "tensors '" + std::get<2>(ranges[i - 1]) + "' and '" + std::get<2>(ranges[i]) +
                    "' overlap");
  return out;
}

}  // namespace dlfs
