#include "base/json_limits.h"

#include <gtest/gtest.h>

#include <string>

#include "support/result_matchers.h"

namespace hardbase {
namespace {

using ::hardbase::testing::FailsWith;

std::string Nested(size_t depth, char open = '[', char close = ']') {
  return std::string(depth, open) + std::string(depth, close);
}

TEST(JsonLimitsTest, AcceptsDepthExactlyAtTheLimit) {
  EXPECT_TRUE(CheckUntrustedJson(Nested(8), "doc", 8));
  auto parsed = ParseUntrustedJson(Nested(kMaxJsonDepth), "doc");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_TRUE(parsed->is_array());
}

TEST(JsonLimitsTest, RefusesOneLevelPastTheLimit) {
  auto checked = CheckUntrustedJson(Nested(9), "doc", 8);
  ASSERT_THAT(checked, FailsWith(ErrorCode::kSpec));
  EXPECT_EQ(checked.error().message, "doc: JSON nested deeper than 8 levels");
}

TEST(JsonLimitsTest, CountsObjectsAndArraysTogether) {
  EXPECT_TRUE(CheckUntrustedJson(R"({"a":[{"b":[1]}]})", "doc", 4));
  EXPECT_FALSE(CheckUntrustedJson(R"({"a":[{"b":[[1]]}]})", "doc", 4));
}

TEST(JsonLimitsTest, IgnoresBracketsInsideStrings) {
  std::string text = R"(["[[[[[[[[[[{{{{{{{{{", "]]]]]]]]", "\"[[[[[[[[[[[[[["])";
  auto parsed = ParseUntrustedJson(text, "doc", 2);
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_EQ(parsed->size(), 3u);
  EXPECT_EQ((*parsed)[2], "\"[[[[[[[[[[[[[[");
}

TEST(JsonLimitsTest, AnEscapedBackslashEndsBeforeTheQuote) {
  // "\\" is a whole string: the brackets after it are structure again and count.
  EXPECT_FALSE(CheckUntrustedJson(R"(["\\", [[[1]]]])", "doc", 3));
  EXPECT_TRUE(CheckUntrustedJson(R"(["\\", [[1]]])", "doc", 3));
  // "\"" does not end the string: the brackets after it are still inside it.
  EXPECT_TRUE(CheckUntrustedJson(R"(["\"[[[[[[[["])", "doc", 1));
}

TEST(JsonLimitsTest, HundredThousandLevelsAreRefusedWithoutParsing) {
  auto parsed = ParseUntrustedJson(Nested(100000), "signature payload");
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().message, "signature payload: JSON nested deeper than 128 levels");
  EXPECT_TRUE(ParseUntrustedJsonOrDiscarded(Nested(100000, '{', '}')).is_discarded());
  // Unclosed openers count too: no closing half is needed to exhaust a stack.
  EXPECT_FALSE(CheckUntrustedJson(std::string(100000, '['), "doc"));
}

TEST(JsonLimitsTest, RefusesDocumentsOverTheSizeLimit) {
  auto checked = CheckUntrustedJson(std::string(100, ' ') + "1", "token answer", 8, 64);
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().message, "token answer: JSON document of 101 bytes is larger than 64");
}

TEST(JsonLimitsTest, InvalidJsonIsOneLineSpecError) {
  auto parsed = ParseUntrustedJson("{\"a\": }", "manifest");
  ASSERT_THAT(parsed, FailsWith(ErrorCode::kSpec));
  EXPECT_TRUE(parsed.error().message.starts_with("manifest: not valid JSON: parse error"))
      << parsed.error().message;
  EXPECT_EQ(parsed.error().message.find('\n'), std::string::npos);
  EXPECT_TRUE(ParseUntrustedJsonOrDiscarded("{").is_discarded());
  EXPECT_EQ(ParseUntrustedJsonOrDiscarded(R"({"a":1})")["a"], 1);
}

TEST(JsonLimitsTest, UnbalancedClosersDoNotUnderflow) {
  EXPECT_TRUE(CheckUntrustedJson("]]]]]][[", "doc", 2));
  EXPECT_FALSE(CheckUntrustedJson("]]]]]][[[", "doc", 2));
}

}  // namespace
}  // namespace hardbase
