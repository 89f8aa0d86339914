#pragma once
// The one JSON writer (runtime/json.hpp is the reader): summary.json, the memory pools' statistics
// and the experiments' result files are written with it, so every file dlfs writes escapes strings
// and spells non-finite numbers the same way.
#include <cstdint>
#include <string>
#include <vector>

namespace dlfs {

// Builds a JSON document in one pass. Non-finite numbers (a diverged loss) are written as null.
// The outer two levels of objects and arrays put one entry per line (readable in a diff); deeper
// ones stay on one line.
class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(const std::string& name);
  JsonWriter& value(double v);
  JsonWriter& value(std::int64_t v);
  JsonWriter& value(std::uint64_t v);
  JsonWriter& value(int v) { return value(static_cast<std::int64_t>(v)); }
  JsonWriter& value(unsigned long long v) { return value(static_cast<std::uint64_t>(v)); }
  JsonWriter& value(const std::string& v);
  JsonWriter& value(const char* v) { return value(std::string(v)); }
  JsonWriter& value(bool v);
  JsonWriter& null();
  JsonWriter& values(const std::vector<double>& v);
  JsonWriter& values(const std::vector<std::int64_t>& v);
  // key(name).value(v) in one call.
  template <typename T>
  JsonWriter& field(const std::string& name, const T& v) {
    key(name);
    return value(v);
  }
  const std::string& str() const { return text_; }
  // Writes the document; throws InputError naming the file when it cannot.
  void save(const std::string& path) const;

 private:
  void separate();
  std::string text_;
  std::vector<bool> first_;  // per open container: nothing written in it yet
  bool after_key_ = false;
};

}  // namespace dlfs
