#include "sign/bundle.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/result_matchers.h"

namespace hardbase::sign {
namespace {

using ::hardbase::testing::FailsWith;

using ::testing::HasSubstr;

TEST(BundleTest, JsonIsExactAndParsesBack) {
  Envelope envelope{std::string(kInTotoPayloadType), "hi", {{"", "\x01\x02"}}};
  std::string json = BundleJson(envelope, "aGludA==");
  EXPECT_EQ(json,
            R"({"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json",)"
            R"("verificationMaterial":{"publicKey":{"hint":"aGludA=="},"tlogEntries":[]},)"
            R"("dsseEnvelope":{"payload":"aGk=","payloadType":"application/vnd.in-toto+json",)"
            R"("signatures":[{"keyid":"","sig":"AQI="}]}})");
  auto bundle = ParseBundle(json);
  ASSERT_TRUE(bundle) << bundle.error().message;
  EXPECT_EQ(bundle->media_type, kBundleMediaType);
  EXPECT_EQ(bundle->public_key_hint, "aGludA==");
  EXPECT_EQ(bundle->envelope.payload, "hi");
  EXPECT_EQ(bundle->envelope.signatures[0].sig, "\x01\x02");
}

TEST(BundleTest, SignedBundleVerifiesAndTamperingIsDetected) {
  auto key = PrivateKey::Generate();
  ASSERT_TRUE(key);
  auto statement = StatementJson({{"", std::string(64, 'e')}}, kPredicateOpenVex, "{}");
  ASSERT_TRUE(statement);
  auto envelope = SignEnvelope(*key, std::string(kInTotoPayloadType), *statement);
  ASSERT_TRUE(envelope);
  auto bundle = ParseBundle(BundleJson(*envelope, key->Public().Hint()));
  ASSERT_TRUE(bundle);
  EXPECT_EQ(bundle->public_key_hint, key->Public().Hint());
  EXPECT_TRUE(VerifyEnvelope(bundle->envelope, key->Public()));

  std::string json = BundleJson(*envelope, key->Public().Hint());
  size_t at = json.find("\"payload\":\"") + 20;
  json[at] = json[at] == 'A' ? 'B' : 'A';
  auto tampered = ParseBundle(json);
  ASSERT_TRUE(tampered) << tampered.error().message;
  auto result = VerifyEnvelope(tampered->envelope, key->Public());
  ASSERT_THAT(result, FailsWith(ErrorCode::kVerification));
}

TEST(BundleTest, RejectsMalformedAndUnsupportedBundles) {
  const std::string envelope =
      R"("dsseEnvelope":{"payload":"aGk=","payloadType":"t","signatures":[{"sig":"AQI="}]})";
  const std::string media = R"("mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json")";
  const std::string key = R"("verificationMaterial":{"publicKey":{"hint":"h"}})";
  const std::pair<std::string, const char*> cases[] = {
      {"[]", "not a JSON object"},
      {"{" + key + "," + envelope + "}", "no mediaType"},
      {R"({"mediaType":"application/json",)" + key + "," + envelope + "}",
       "mediaType \"application/json\" is not a sigstore bundle version"},
      {R"({"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json-x",)" + key + "," + envelope +
           "}",
       "is not a sigstore bundle version"},
      // Two of one member: JSON.parse takes the last, nlohmann one of them.
      {"{" + media + "," + key + "," + envelope + "," + envelope + "}",
       "duplicate member \"dsseEnvelope\" at the top level"},
      {"{" + media + "," + key + "," +
           R"("dsseEnvelope":{"payload":"aGk=","payloadType":"t","signatures":[{"sig":"AQI=","Sig":"AQI="}]})" +
           "}",
       "duplicate member \"Sig\" in dsseEnvelope.signatures[]"},
      {"{" + media + "," + key + "," +
           R"("dsseEnvelope":{"payload":"aGk=","payloadType":"t","signatures":[{"sig":""}]})" + "}",
       "dsseEnvelope has an empty signature"},
      {"{" + media + "," + key + R"(,"messageSignature":{"signature":"AQI="}})",
       "messageSignature bundles are not supported"},
      {"{" + media + "," + key + "}", "no dsseEnvelope"},
      {"{" + media + "," + envelope + "}", "no verificationMaterial"},
      {"{" + media + R"(,"verificationMaterial":{"certificate":{"rawBytes":"AQI="}},)" + envelope +
           "}",
       "certificate (keyless) bundles are not supported"},
      {"{" + media + R"(,"verificationMaterial":{"tlogEntries":[]},)" + envelope + "}",
       "no verificationMaterial.publicKey"},
      {"{" + media + "," + key + R"(,"dsseEnvelope":{"payload":"aGk=","signatures":[]}})",
       "sigstore bundle: DSSE envelope: no \"payloadType\" string"},
  };
  for (const auto& [json, message] : cases) {
    auto bundle = ParseBundle(json);
    ASSERT_THAT(bundle, FailsWith(ErrorCode::kSpec)) << json;
    EXPECT_THAT(bundle.error().message, HasSubstr(message));
    EXPECT_EQ(bundle.error().message.rfind("sigstore bundle: ", 0), 0u) << bundle.error().message;
  }
}

}  // namespace
}  // namespace hardbase::sign
