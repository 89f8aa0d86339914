#include <gtest/gtest.h>

#include "dlfs/runtime/error.hpp"
#include "dlfs/runtime/json.hpp"

namespace dlfs {
namespace {

TEST(Json, ParsesTheSafetensorsHeaderSubset) {
  JsonValue v = parse_json(
      R"({"__metadata__": {"format": "pt"}, "w": {"dtype": "F32", "shape": [2, 3],
          "data_offsets": [0, 24]}, "x": [true, false, null, -1.5e2, "a\"b\u00e9"]})");
  ASSERT_TRUE(v.is_object());
  EXPECT_EQ(v.find("__metadata__")->find("format")->string, "pt");
  const JsonValue* w = v.find("w");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->find("shape")->array[1].integer, 3);
  EXPECT_TRUE(w->find("data_offsets")->array[1].is_integer);
  const JsonValue* x = v.find("x");
  EXPECT_TRUE(x->array[0].boolean);
  EXPECT_EQ(x->array[2].kind, JsonValue::Kind::Null);
  EXPECT_DOUBLE_EQ(x->array[3].number, -150.0);
  EXPECT_FALSE(x->array[3].is_integer);
  EXPECT_EQ(x->array[4].string, "a\"b\xc3\xa9");
  EXPECT_EQ(v.find("missing"), nullptr);
}

TEST(Json, RejectsMalformedTextWithTheOffset) {
  for (const char* bad :
       {"", "{", "{\"a\" 1}", "[1,]", "{\"a\":1} x", "\"abc", "tru", "-", "{\"a\":\"\x01\"}"}) {
    try {
      parse_json(bad);
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("invalid JSON at byte"), std::string::npos);
    }
  }
  std::string deep(100, '[');
  EXPECT_THROW(parse_json(deep), InputError);
}

TEST(Json, QuoteEscapes) {
  EXPECT_EQ(json_quote("a\"b\\c\nd\x01"), "\"a\\\"b\\\\c\\nd\\u0001\"");
  EXPECT_EQ(parse_json(json_quote("tab\there \"q\"")).string, "tab\there \"q\"");
}

}  // namespace
}  // namespace dlfs
