#include "sign/simple_signing.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/result_matchers.h"

namespace hardbase::sign {
namespace {

using ::hardbase::testing::FailsWith;

using ::testing::HasSubstr;

constexpr char kSignedDigest[] =
    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

TEST(SimpleSigningTest, PayloadIsExactlyCosigns) {
  EXPECT_EQ(
      SimpleSigningPayload("registry.example/team/app", kSignedDigest),
      std::string(R"({"critical":{"identity":{"docker-reference":"registry.example/team/app"},)"
                  R"("image":{"docker-manifest-digest":")") +
          kSignedDigest + R"("},"type":"cosign container image signature"},"optional":null})");
  // A reference is JSON-escaped, never spliced in raw.
  EXPECT_THAT(SimpleSigningPayload("a\"b\\c", kSignedDigest),
              HasSubstr(R"({"docker-reference":"a\"b\\c"})"));
}

TEST(SimpleSigningTest, ParsesWhatItWritesAndCosignAnnotations) {
  auto claims = ParseSimpleSigningPayload(SimpleSigningPayload("r.example/a", kSignedDigest));
  ASSERT_TRUE(claims) << claims.error().message;
  EXPECT_EQ(claims->docker_reference, "r.example/a");
  EXPECT_EQ(claims->manifest_digest, kSignedDigest);
  EXPECT_EQ(claims->type, "cosign container image signature");
  EXPECT_TRUE(CheckManifestDigest(*claims, kSignedDigest));

  auto annotated = ParseSimpleSigningPayload(
      R"({"critical":{"identity":{"docker-reference":"r"},)"
      R"("image":{"docker-manifest-digest":"sha256:00"},)"
      R"("type":"cosign container image signature"},"optional":{"creator":"ci","sig":"x"}})");
  ASSERT_TRUE(annotated) << annotated.error().message;
  EXPECT_EQ(annotated->manifest_digest, "sha256:00");
}

TEST(SimpleSigningTest, OtherDigestFailsVerification) {
  auto claims = ParseSimpleSigningPayload(SimpleSigningPayload("r", kSignedDigest));
  ASSERT_TRUE(claims);
  std::string other = kSignedDigest;
  other.back() = '0';
  auto result = CheckManifestDigest(*claims, other);
  ASSERT_THAT(result, FailsWith(ErrorCode::kVerification));
  EXPECT_EQ(result.error().message,
            std::string("signed payload is for image ") + kSignedDigest + ", not " + other);
}

TEST(SimpleSigningTest, RejectsOtherDocuments) {
  const std::string ref = R"("identity":{"docker-reference":"r"})";
  const std::string digest = R"("image":{"docker-manifest-digest":"d"})";
  const std::string type = R"("type":"cosign container image signature")";
  const std::pair<std::string, const char*> cases[] = {
      {"", "not a JSON object"},
      {"[1]", "not a JSON object"},
      {R"({"critical":{)" + ref + "," + digest + R"(,"type":"x"}})",
       "type is \"x\", not \"cosign container image signature\""},
      {R"({"critical":{)" + ref + R"(,"image":{},)" + type + "}}",
       "no critical.image.docker-manifest-digest"},
      {R"({"critical":{)" + digest + "," + type + "}}", "no critical.identity.docker-reference"},
      {R"({"critical":"cosign container image signature"})",
       "type is \"\", not \"cosign container image signature\""},
      {R"({"critical":{)" + ref + "," + digest + "," + type + R"(},"optional":7})",
       "\"optional\" is neither null nor an object"},
  };
  for (const auto& [payload, message] : cases) {
    auto claims = ParseSimpleSigningPayload(payload);
    ASSERT_THAT(claims, FailsWith(ErrorCode::kVerification)) << payload;
    EXPECT_EQ(claims.error().message,
              std::string("not a cosign simple signing payload: ") + message);
  }
}

// The payloads of issue 13: cosign (Go's encoding/json) reads member names case-insensitively and
// keeps the last duplicate, so each of these named one image to hardbase and another to cosign.
TEST(SimpleSigningTest, RefusesDuplicateAndCaseVariantMembers) {
  const std::string a = "sha256:" + std::string(64, 'a'), b = "sha256:" + std::string(64, 'b');
  const std::string ref = R"("identity":{"docker-reference":"r"})";
  const std::string type = R"("type":"cosign container image signature")";
  auto payload = [&](const std::string& image) {
    return R"({"critical":{)" + ref + ",\"image\":{" + image + "}," + type + "}}";
  };
  const std::pair<std::string, std::string> cases[] = {
      {payload(R"("docker-manifest-digest":")" + a + R"(","Docker-Manifest-Digest":")" + b + "\""),
       "duplicate member \"Docker-Manifest-Digest\" in critical.image"},
      {payload(R"("docker-manifest-digest":")" + a + R"(","docker-manifest-digest":")" + b + "\""),
       "duplicate member \"docker-manifest-digest\" in critical.image"},
      // U+017F (long s) folds onto 's' in Go.
      {payload(R"("docker-manifest-digest":")" + a + "\",\"docker-manifest-dige\u017Ft\":\"" + b +
               "\""),
       "duplicate member \"docker-manifest-dige\xC5\xBFt\" in critical.image"},
      {R"({"critical":{)" + ref + R"(,"image":{"docker-manifest-digest":")" + a + "\"}," + type +
           R"(},"Critical":{}})",
       "duplicate member \"Critical\" at the top level"},
      {R"({"critical":{)" + ref + R"(,"image":{"docker-manifest-digest":")" + a + "\"}," + type +
           R"(},"optional":{"x":1,"x":2}})",
       "duplicate member \"x\" in optional"},
  };
  for (const auto& [text, message] : cases) {
    auto claims = ParseSimpleSigningPayload(text);
    ASSERT_THAT(claims, FailsWith(ErrorCode::kVerification)) << text;
    EXPECT_THAT(claims.error().message,
                ::testing::StartsWith("not a cosign simple signing payload: " + message))
        << text;
    EXPECT_EQ(claims.error().message.find('\n'), std::string::npos);
  }
  // The same members once each: accepted.
  EXPECT_TRUE(ParseSimpleSigningPayload(payload(R"("docker-manifest-digest":")" + a + "\"")));
}

TEST(SimpleSigningTest, RefusesUnknownCriticalMembers) {
  const std::string digest = R"("image":{"docker-manifest-digest":"d"})";
  const std::string type = R"("type":"cosign container image signature")";
  const std::string ref = R"("identity":{"docker-reference":"r"})";
  const std::pair<std::string, const char*> cases[] = {
      {R"({"critical":{)" + ref + "," + digest + "," + type + R"(,"expires":1}})",
       "unknown member \"expires\" in critical"},
      {R"({"critical":{"identity":{"docker-reference":"r","x":"y"},)" + digest + "," + type + "}}",
       "unknown member \"x\" in critical.identity"},
      {R"({"critical":{)" + ref + R"(,"image":{"docker-manifest-digest":"d","tag":"t"},)" + type +
           "}}",
       "unknown member \"tag\" in critical.image"},
      {R"({"critical":{)" + ref + "," + digest + "," + type + R"(},"extra":null})",
       "unknown member \"extra\" in the document"},
  };
  for (const auto& [payload, message] : cases) {
    auto claims = ParseSimpleSigningPayload(payload);
    ASSERT_THAT(claims, FailsWith(ErrorCode::kVerification)) << payload;
    EXPECT_EQ(claims.error().message,
              std::string("not a cosign simple signing payload: ") + message);
  }
}

}  // namespace
}  // namespace hardbase::sign
