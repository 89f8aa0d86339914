#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "dlfs/runtime/error.hpp"
#include "dlfs/runtime/json.hpp"
#include "dlfs/runtime/json_writer.hpp"

namespace dlfs {
namespace {

TEST(JsonWriter, WritesWhatTheReaderReadsBack) {
  JsonWriter json;
  json.begin_object()
      .field("name", std::string("vgg \"11\"\n"))
      .field("count", std::int64_t{-3})
      .field("bytes", std::uint64_t{1} << 40)
      .field("rate", 0.125)
      .field("ok", true)
      .key("nothing")
      .null()
      .key("losses")
      .values(std::vector<double>{2.5, 1.25})
      .key("nested")
      .begin_object()
      .field("deep", 7)
      .end_object()
      .end_object();
  const JsonValue v = parse_json(json.str());
  ASSERT_TRUE(v.is_object());
  EXPECT_EQ(v.find("name")->string, "vgg \"11\"\n");
  EXPECT_EQ(v.find("count")->integer, -3);
  EXPECT_EQ(v.find("bytes")->integer, std::int64_t{1} << 40);
  EXPECT_DOUBLE_EQ(v.find("rate")->number, 0.125);
  EXPECT_TRUE(v.find("ok")->boolean);
  EXPECT_EQ(v.find("nothing")->kind, JsonValue::Kind::Null);
  ASSERT_EQ(v.find("losses")->array.size(), 2u);
  EXPECT_DOUBLE_EQ(v.find("losses")->array[1].number, 1.25);
  EXPECT_EQ(v.find("nested")->find("deep")->integer, 7);
  // One top-level key per line, so result files diff line by line.
  EXPECT_NE(json.str().find("\n \"count\": -3,"), std::string::npos) << json.str();
}

TEST(JsonWriter, NonFiniteNumbersBecomeNull) {
  JsonWriter json;
  json.begin_array()
      .value(std::numeric_limits<double>::quiet_NaN())
      .value(std::numeric_limits<double>::infinity())
      .value(1.0)
      .end_array();
  const JsonValue v = parse_json(json.str());
  ASSERT_EQ(v.array.size(), 3u);
  EXPECT_EQ(v.array[0].kind, JsonValue::Kind::Null);
  EXPECT_EQ(v.array[1].kind, JsonValue::Kind::Null);
  EXPECT_DOUBLE_EQ(v.array[2].number, 1.0);
}

TEST(JsonWriter, SaveNamesTheFileItCannotWrite) {
  JsonWriter json;
  json.begin_object().end_object();
  try {
    json.save("/nonexistent-folder/out.json");
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-folder/out.json"), std::string::npos);
  }
}

}  // namespace
}  // namespace dlfs
