#pragma once
// A small JSON reader and string escaper: enough for safetensors headers and summary files.
// Parsing errors are dlfs::InputError naming the byte offset.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace dlfs {

struct JsonValue {
  enum class Kind { Null, Bool, Number, String, Array, Object };
  Kind kind = Kind::Null;
  bool boolean = false;
  double number = 0.0;
  bool is_integer = false;   // the text had no fraction or exponent
  std::int64_t integer = 0;  // exact value when is_integer
  std::string string;
  std::vector<JsonValue> array;
  std::vector<std::pair<std::string, JsonValue>> object;  // in document order

  bool is_object() const { return kind == Kind::Object; }
  bool is_array() const { return kind == Kind::Array; }
  bool is_string() const { return kind == Kind::String; }
  // nullptr when absent or not an object.
  const JsonValue* find(const std::string& key) const;
};

// Parses a whole document (trailing whitespace allowed). Nesting deeper than 64 is rejected.
JsonValue parse_json(const std::string& text);

// "text" with quotes, backslashes and control characters escaped.
std::string json_quote(const std::string& text);

}  // namespace dlfs
