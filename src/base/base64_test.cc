#include "base/base64.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "support/result_matchers.h"

namespace hardbase {
namespace {

using ::hardbase::testing::FailsWith;

// RFC 4648 section 10 test vectors.
const std::vector<std::pair<std::string, std::string>> kVectors = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

TEST(Base64Test, EncodesRfc4648Vectors) {
  for (const auto& [plain, encoded] : kVectors) EXPECT_EQ(Base64Encode(plain), encoded) << plain;
}

TEST(Base64Test, DecodesRfc4648Vectors) {
  for (const auto& [plain, encoded] : kVectors) {
    auto decoded = Base64Decode(encoded);
    ASSERT_TRUE(decoded) << encoded << ": " << decoded.error().message;
    EXPECT_EQ(*decoded, plain);
  }
}

TEST(Base64Test, RoundTripsEveryByteValueAndLength) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  for (size_t len = 0; len <= bytes.size(); len += 37) {
    std::string part = bytes.substr(bytes.size() - len);
    auto decoded = Base64Decode(Base64Encode(part));
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, part);
  }
  EXPECT_EQ(Base64Encode("\xff\xfe\xfd"), "//79");
}

TEST(Base64Test, RejectsMalformedInput) {
  // Wrong length, misplaced or excess padding, whitespace (also at valid lengths), the URL-safe
  // alphabet, a NUL byte.
  const std::vector<std::string> bad_inputs = {
      "Zg=",  "Zm9",   "Zg=a", "Z===", "====",     "Zm9v\n",   " Zm9v",
      "Zm 9", "Zm9\n", "Zm-v", "Zm_v", "Zg==Zg==", "Zm9v====", std::string("Zm\0v", 4)};
  for (const std::string& bad : bad_inputs) {
    auto decoded = Base64Decode(bad, "the salt");
    ASSERT_THAT(decoded, FailsWith(ErrorCode::kSpec)) << bad;
    EXPECT_EQ(decoded.error().message.rfind("the salt: not base64: ", 0), 0u)
        << decoded.error().message;
  }
}

}  // namespace
}  // namespace hardbase
