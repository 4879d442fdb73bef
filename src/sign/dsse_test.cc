#include "sign/dsse.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/result_matchers.h"

namespace hardbase::sign {
namespace {

using ::hardbase::testing::FailsWith;

using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kSha = std::string(64, 'a');

TEST(DsseTest, PaeMatchesTheSpecExample) {
  // github.com/secure-systems-lab/dsse protocol.md, "Test vector" section.
  EXPECT_EQ(Pae("http://example.com/HelloWorld", "hello world"),
            "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
  EXPECT_EQ(Pae("", ""), "DSSEv1 0  0 ");
  EXPECT_EQ(Pae("t", std::string("a\0b", 3)), std::string("DSSEv1 1 t 3 a\0b", 16));
}

TEST(DsseTest, EnvelopeJsonIsExactAndParsesBack) {
  Envelope envelope{"application/vnd.in-toto+json", "hi", {{"", "\x01\x02"}, {"k2", "\xff"}}};
  std::string json = EnvelopeJson(envelope);
  EXPECT_EQ(json, R"({"payload":"aGk=","payloadType":"application/vnd.in-toto+json",)"
                  R"("signatures":[{"keyid":"","sig":"AQI="},{"keyid":"k2","sig":"/w=="}]})");
  auto parsed = ParseEnvelope(json);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->payload_type, envelope.payload_type);
  EXPECT_EQ(parsed->payload, "hi");
  ASSERT_EQ(parsed->signatures.size(), 2u);
  EXPECT_EQ(parsed->signatures[1].keyid, "k2");
  EXPECT_EQ(parsed->signatures[1].sig, "\xff");
  // keyid is optional (sigstore's protobuf JSON leaves an empty one out).
  auto no_keyid =
      ParseEnvelope(R"({"payload":"","payloadType":"t","signatures":[{"sig":"AQI="}]})");
  ASSERT_TRUE(no_keyid) << no_keyid.error().message;
  EXPECT_EQ(no_keyid->signatures[0].keyid, "");
}

TEST(DsseTest, ParseEnvelopeRejectsMalformed) {
  const std::pair<const char*, const char*> cases[] = {
      {"{", "not a JSON object"},
      {R"({"payloadType":"t","signatures":[{"sig":"AQI="}]})", "no \"payload\" string"},
      {R"({"payload":"aGk=","signatures":[{"sig":"AQI="}]})", "no \"payloadType\" string"},
      {R"({"payload":"aGk=","payloadType":"t","signatures":[]})", "no \"signatures\""},
      {R"({"payload":"aGk","payloadType":"t","signatures":[{"sig":"AQI="}]})",
       "payload: not base64"},
      {R"({"payload":"aGk=","payloadType":"t","signatures":[{"sig":1}]})",
       "signature 0 has no \"sig\" string"},
      {R"({"payload":"aGk=","payloadType":"t","signatures":[{"sig":"AQI=","keyid":2}]})",
       "\"keyid\" is not a string"},
      {R"({"payload":"aGk=","payloadType":"t","signatures":[{"sig":"A-I="}]})",
       "signature 0: not base64"},
  };
  for (const auto& [json, message] : cases) {
    auto parsed = ParseEnvelope(json);
    ASSERT_THAT(parsed, FailsWith(ErrorCode::kSpec)) << json;
    EXPECT_THAT(parsed.error().message, StartsWith("DSSE envelope: "));
    EXPECT_THAT(parsed.error().message, HasSubstr(message));
  }
}

TEST(DsseTest, SignedEnvelopeVerifiesAndTamperingIsDetected) {
  auto key = PrivateKey::Generate();
  auto other = PrivateKey::Generate();
  ASSERT_TRUE(key && other);
  auto envelope = SignEnvelope(*key, std::string(kInTotoPayloadType), "{\"a\":1}");
  ASSERT_TRUE(envelope);
  ASSERT_EQ(envelope->signatures.size(), 1u);
  EXPECT_EQ(envelope->signatures[0].keyid, "");
  EXPECT_TRUE(VerifyEnvelope(*envelope, key->Public()));
  // The signature covers the PAE, not the bare payload.
  EXPECT_TRUE(
      key->Public().Verify(Pae(kInTotoPayloadType, "{\"a\":1}"), envelope->signatures[0].sig));
  auto reparsed = ParseEnvelope(EnvelopeJson(*envelope));
  ASSERT_TRUE(reparsed);
  EXPECT_TRUE(VerifyEnvelope(*reparsed, key->Public()));

  Envelope payload_byte = *envelope, type = *envelope, sig_byte = *envelope, none = *envelope;
  payload_byte.payload[2] = 'b';
  type.payload_type = "application/json";
  sig_byte.signatures[0].sig[10] ^= 0x40;
  none.signatures.clear();
  for (const auto& [tampered, verifier] :
       {std::pair{payload_byte, key->Public()}, std::pair{type, key->Public()},
        std::pair{sig_byte, key->Public()}, std::pair{*envelope, other->Public()},
        std::pair{none, key->Public()}}) {
    auto result = VerifyEnvelope(tampered, verifier);
    ASSERT_THAT(result, FailsWith(ErrorCode::kVerification));
    EXPECT_EQ(result.error().message, "DSSE envelope (" + tampered.payload_type +
                                          "): none of its " +
                                          std::to_string(tampered.signatures.size()) +
                                          " signature(s) verifies with key " + verifier.Hint());
  }
}

TEST(StatementTest, JsonIsExactlyCosigns) {
  // The statement of FORMATS.md ("Bundle mode").
  auto json = StatementJson({{"", kSha}}, kPredicateCosignSign, "{}");
  ASSERT_TRUE(json) << json.error().message;
  EXPECT_EQ(*json,
            R"({"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":")" +
                kSha +
                R"("}}],"predicateType":"https://sigstore.dev/cosign/sign/v1",)"
                R"("predicate":{}})");
  auto named = StatementJson({{"img", kSha}, {"", std::string(64, 'b')}}, kPredicateSpdx,
                             R"({ "z": 1, "a": [true] })");
  ASSERT_TRUE(named);
  EXPECT_THAT(*named, HasSubstr(R"("subject":[{"name":"img","digest":{"sha256":")" + kSha +
                                R"("}},{"digest":)"));
  EXPECT_THAT(*named, HasSubstr(R"("predicate":{"z":1,"a":[true]}})"));
}

TEST(StatementTest, JsonRejectsBadInput) {
  for (const char* predicate : {"[]", "\"x\"", "{", ""}) {
    auto json = StatementJson({{"", kSha}}, kPredicateSpdx, predicate);
    ASSERT_THAT(json, FailsWith(ErrorCode::kSpec)) << predicate;
    EXPECT_EQ(json.error().message,
              "in-toto statement: predicate for https://spdx.dev/Document is not a JSON object");
  }
  auto bad_digest = StatementJson({{"x", "ABC"}}, kPredicateSpdx, "{}");
  ASSERT_THAT(bad_digest, FailsWith(ErrorCode::kSpec));
  EXPECT_THAT(bad_digest.error().message, HasSubstr("'ABC' is not a SHA-256 hex digest"));
}

TEST(StatementTest, ParsesV1AndV01AndChecksSubjects) {
  auto json = StatementJson({{"img", kSha}}, kPredicateCycloneDx, R"({"bomFormat":"CycloneDX"})");
  ASSERT_TRUE(json);
  auto statement = ParseStatement(*json);
  ASSERT_TRUE(statement) << statement.error().message;
  EXPECT_EQ(statement->predicate_type, kPredicateCycloneDx);
  EXPECT_EQ(statement->predicate_json, R"({"bomFormat":"CycloneDX"})");
  ASSERT_EQ(statement->subjects.size(), 1u);
  EXPECT_EQ(statement->subjects[0].name, "img");
  EXPECT_EQ(statement->subjects[0].sha256, kSha);
  EXPECT_TRUE(CheckSubject(*statement, kSha));
  auto other = CheckSubject(*statement, std::string(64, 'c'));
  ASSERT_THAT(other, FailsWith(ErrorCode::kVerification));
  EXPECT_EQ(other.error().message,
            "in-toto statement (https://cyclonedx.org/bom) does not cover "
            "sha256:" +
                std::string(64, 'c') +
                " (its first subject is "
                "sha256:" +
                kSha + ")");

  auto v01 = ParseStatement(R"({"_type":"https://in-toto.io/Statement/v0.1","predicateType":"p",)"
                            R"("subject":[{"name":"x","digest":{"sha256":")" +
                            kSha + R"("}}]})");
  ASSERT_TRUE(v01) << v01.error().message;
  EXPECT_EQ(v01->predicate_json, "{}");
}

TEST(StatementTest, ParseRejectsOtherDocuments) {
  const std::string subject = R"("subject":[{"digest":{"sha256":")" + kSha + R"("}}])";
  const std::pair<std::string, const char*> cases[] = {
      {"nope", "not a JSON object"},
      {R"({"_type":"https://in-toto.io/Statement/v2","predicateType":"p",)" + subject + "}",
       "_type is not https://in-toto.io/Statement/v1"},
      {R"({"_type":"https://in-toto.io/Statement/v1",)" + subject + "}", "no predicateType"},
      {R"({"_type":"https://in-toto.io/Statement/v1","predicateType":"p","subject":[]})",
       "no subject"},
      {R"({"_type":"https://in-toto.io/Statement/v1","predicateType":"p",)"
       R"("subject":[{"digest":{"sha512":"aa"}}]})",
       "a subject has no lowercase hex sha256 digest"},
      {R"({"_type":"https://in-toto.io/Statement/v1","predicateType":"p","subject":["x"]})",
       "a subject has no lowercase hex sha256 digest"},
      {R"({"_type":"https://in-toto.io/Statement/v1","predicateType":"p","predicate":[],)" +
           subject + "}",
       "predicate is not an object"},
  };
  for (const auto& [json, message] : cases) {
    auto statement = ParseStatement(json);
    ASSERT_THAT(statement, FailsWith(ErrorCode::kVerification)) << json;
    EXPECT_EQ(statement.error().message, std::string("not an in-toto statement: ") + message);
  }
}

// Issue 13: two members Go takes for one (by case, or the same name twice) make a statement
// ambiguous; inside the predicate, a free-form map to Go, only exact duplicates are.
TEST(StatementTest, ParseRefusesMembersGoTakesForOne) {
  const std::string subject = R"("subject":[{"digest":{"sha256":")" + kSha + R"("}}])";
  const std::string head = R"({"_type":"https://in-toto.io/Statement/v1","predicateType":"p",)";
  const std::pair<std::string, const char*> refused[] = {
      {head + subject + R"(,"Subject":[{"digest":{"sha256":")" + std::string(64, '0') + R"("}}]})",
       "duplicate member \"Subject\" at the top level"},
      {head + R"("subject":[{"digest":{"sha256":")" + kSha + R"(","SHA256":"00"}}]})",
       "duplicate member \"SHA256\" in subject[].digest"},
      {head + subject + R"(,"predicate":{"a":1,"a":2}})", "duplicate member \"a\" in predicate"},
  };
  for (const auto& [json, message] : refused) {
    auto statement = ParseStatement(json);
    ASSERT_THAT(statement, FailsWith(ErrorCode::kVerification)) << json;
    EXPECT_THAT(statement.error().message,
                StartsWith(std::string("not an in-toto statement: ") + message));
  }
  auto cased = ParseStatement(head + subject + R"(,"predicate":{"a":{"b":1,"B":2},"A":3}})");
  ASSERT_TRUE(cased) << cased.error().message;
  EXPECT_EQ(cased->predicate_json, R"({"a":{"b":1,"B":2},"A":3})");
}

}  // namespace
}  // namespace hardbase::sign
