#include "dlfs/runtime/json_writer.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>

#include "dlfs/runtime/error.hpp"
#include "dlfs/runtime/json.hpp"

namespace dlfs {

void JsonWriter::separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back()) text_ += ",";
    first_.back() = false;
    // The outer two levels get a line per entry, which keeps the files readable in a diff.
    if (text_.size() > 1 && first_.size() <= 2) text_ += "\n" + std::string(first_.size(), ' ');
  }
}

JsonWriter& JsonWriter::begin_object() {
  separate();
  text_ += "{";
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::end_object() {
  first_.pop_back();
  text_ += "}";
  if (first_.empty()) text_ += "\n";
  return *this;
}

JsonWriter& JsonWriter::begin_array() {
  separate();
  text_ += "[";
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::end_array() {
  first_.pop_back();
  text_ += "]";
  return *this;
}

JsonWriter& JsonWriter::key(const std::string& name) {
  separate();
  text_ += json_quote(name) + ": ";
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::value(double v) {
  separate();
  if (!std::isfinite(v)) {
    text_ += "null";
    return *this;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  text_ += buf;
  return *this;
}

JsonWriter& JsonWriter::value(std::int64_t v) {
  separate();
  text_ += std::to_string(v);
  return *this;
}

JsonWriter& JsonWriter::value(std::uint64_t v) {
  separate();
  text_ += std::to_string(v);
  return *this;
}

JsonWriter& JsonWriter::null() {
  separate();
  text_ += "null";
  return *this;
}

JsonWriter& JsonWriter::value(const std::string& v) {
  separate();
  text_ += json_quote(v);
  return *this;
}

JsonWriter& JsonWriter::value(bool v) {
  separate();
  text_ += v ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::values(const std::vector<double>& v) {
  begin_array();
  for (double x : v) value(x);
  return end_array();
}

JsonWriter& JsonWriter::values(const std::vector<std::int64_t>& v) {
  begin_array();
  for (std::int64_t x : v) value(x);
  return end_array();
}

void JsonWriter::save(const std::string& path) const {
  std::ofstream out(path);
  out << text_;
  if (!out) throw InputError("cannot write " + path);
}

}  // namespace dlfs
