// hardbase's keys, signatures and bundles against independent implementations: the node scripts
// in tests/npm (node:crypto, tweetnacl, @sigstore/verify + @sigstore/bundle). A missing node or
// npm module fails these tests.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/base64.h"
#include "base/fs.h"
#include "sign/bundle.h"
#include "sign/dsse.h"
#include "sign/keys.h"
#include "sign/simple_signing.h"
#include "support/process.h"
#include "support/result_matchers.h"

namespace hardbase::sign {
namespace {

using ::hardbase::testing::FailsWith;

using ::hardbase::testing::ProcessResult;
using ::hardbase::testing::RunProcess;
using ::testing::HasSubstr;

constexpr char kPassword[] = "correct horse";
const std::string kDigest = std::string(64, '7');

ProcessResult Node(const std::string& script, std::vector<std::string> args,
                   const std::string& password = kPassword) {
  args.insert(args.begin(), {"node", HARDBASE_SOURCE_DIR "/tests/npm/" + script});
  return RunProcess(args, {{"COSIGN_PASSWORD", password}});
}

// One hardbase key and one key made by node (cosign_key.mjs make) for all tests, as every
// encrypted key file costs an scrypt run.
class InteropTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_.emplace(*TempDir::Create("sign-interop-"));
    key_.emplace(*PrivateKey::Generate());
    auto file = EncryptPrivateKey(*key_, kPassword);
    ASSERT_TRUE(file);
    ASSERT_TRUE(WriteFileAtomic(Path("hb.key"), *file));
    ASSERT_TRUE(WriteFileAtomic(Path("hb.pub"), key_->Public().Pem()));
    ProcessResult made = Node("cosign_key.mjs", {"make", Path("node")});
    ASSERT_EQ(made.exit_code, 0) << made.err;
  }
  static void TearDownTestSuite() {
    key_.reset();
    dir_.reset();
  }

  static std::string Path(const std::string& name) { return dir_->path() + "/" + name; }
  static std::string Write(const std::string& name, std::string_view data) {
    EXPECT_TRUE(WriteFileAtomic(Path(name), data));
    return Path(name);
  }

  static std::optional<TempDir> dir_;
  static std::optional<PrivateKey> key_;
};

std::optional<TempDir> InteropTest::dir_;
std::optional<PrivateKey> InteropTest::key_;

TEST_F(InteropTest, NodeDecryptsHardbaseKeyFile) {
  ProcessResult decrypted = Node("cosign_key.mjs", {"decrypt", Path("hb.key")});
  ASSERT_EQ(decrypted.exit_code, 0) << decrypted.err;
  EXPECT_EQ(decrypted.out, key_->Public().Pem());

  ProcessResult wrong = Node("cosign_key.mjs", {"decrypt", Path("hb.key")}, "wrong");
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_THAT(wrong.err, HasSubstr("wrong password"));
}

TEST_F(InteropTest, HardbaseDecryptsNodeKeyFile) {
  auto file = ReadFile(Path("node.key"));
  auto pub = ReadFile(Path("node.pub"));
  ASSERT_TRUE(file && pub);
  auto key = DecryptPrivateKey(*file, kPassword, "node.key");
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_EQ(key->Public().Pem(), *pub);

  auto wrong = DecryptPrivateKey(*file, "correct horsE", "node.key");
  ASSERT_THAT(wrong, FailsWith(ErrorCode::kAuth));
  EXPECT_EQ(wrong.error().message, "node.key: wrong password (the key does not decrypt)");
}

TEST_F(InteropTest, SimpleSignaturesVerifyBothWays) {
  std::string payload = SimpleSigningPayload("registry.example/app", "sha256:" + kDigest);
  std::string payload_file = Write("payload.json", payload);

  auto sig = key_->Sign(payload);
  ASSERT_TRUE(sig);
  ProcessResult verified =
      Node("simple_sig.mjs", {"verify", payload_file, Base64Encode(*sig), Path("hb.pub")});
  EXPECT_EQ(verified.exit_code, 0) << verified.err;
  EXPECT_EQ(verified.out, "verified\n");
  std::string tampered = payload;
  tampered[tampered.find(kDigest)] = '8';
  ProcessResult rejected = Node("simple_sig.mjs", {"verify", Write("tampered.json", tampered),
                                                   Base64Encode(*sig), Path("hb.pub")});
  EXPECT_NE(rejected.exit_code, 0);
  ProcessResult other_key =
      Node("simple_sig.mjs", {"verify", payload_file, Base64Encode(*sig), Path("node.pub")});
  EXPECT_NE(other_key.exit_code, 0);

  ProcessResult signed_by_node = Node("simple_sig.mjs", {"sign", payload_file, Path("node.key")});
  ASSERT_EQ(signed_by_node.exit_code, 0) << signed_by_node.err;
  auto node_sig = Base64Decode(signed_by_node.out.substr(0, signed_by_node.out.find('\n')));
  ASSERT_TRUE(node_sig) << node_sig.error().message;
  auto node_pub = PublicKey::FromPem(*ReadFile(Path("node.pub")), "node.pub");
  ASSERT_TRUE(node_pub) << node_pub.error().message;
  EXPECT_TRUE(node_pub->Verify(payload, *node_sig));
  auto claims = ParseSimpleSigningPayload(payload);
  ASSERT_TRUE(claims);
  EXPECT_TRUE(CheckManifestDigest(*claims, "sha256:" + kDigest));
  auto bad = node_pub->Verify(tampered, *node_sig);
  ASSERT_THAT(bad, FailsWith(ErrorCode::kVerification));
  EXPECT_FALSE(key_->Public().Verify(payload, *node_sig));
}

TEST_F(InteropTest, SigstoreVerifyAcceptsHardbaseBundle) {
  auto statement =
      StatementJson({{"", kDigest}}, kPredicateCycloneDx, R"({"bomFormat":"CycloneDX"})");
  ASSERT_TRUE(statement);
  auto envelope = SignEnvelope(*key_, std::string(kInTotoPayloadType), *statement);
  ASSERT_TRUE(envelope);
  std::string bundle_file = Write("hb.bundle.json", BundleJson(*envelope, key_->Public().Hint()));

  ProcessResult verified = Node("bundle.mjs", {"verify", bundle_file, Path("hb.pub"), kDigest});
  ASSERT_EQ(verified.exit_code, 0) << verified.err;
  EXPECT_EQ(verified.out, std::string(kPredicateCycloneDx) + "\n");

  ProcessResult other_digest =
      Node("bundle.mjs", {"verify", bundle_file, Path("hb.pub"), std::string(64, '8')});
  EXPECT_NE(other_digest.exit_code, 0);
  EXPECT_THAT(other_digest.err, HasSubstr("no subject has sha256"));
  ProcessResult other_key = Node("bundle.mjs", {"verify", bundle_file, Path("node.pub")});
  EXPECT_NE(other_key.exit_code, 0);
  EXPECT_THAT(other_key.err, HasSubstr("key not found"));

  // A flipped payload byte or signature byte: both verifiers refuse it.
  Envelope payload_byte = *envelope, sig_byte = *envelope;
  payload_byte.payload[payload_byte.payload.find(kDigest)] = '8';
  sig_byte.signatures[0].sig[20] ^= 1;
  for (const Envelope& tampered : {payload_byte, sig_byte}) {
    std::string file = Write("tampered.bundle.json", BundleJson(tampered, key_->Public().Hint()));
    ProcessResult rejected = Node("bundle.mjs", {"verify", file, Path("hb.pub")});
    EXPECT_NE(rejected.exit_code, 0);
    EXPECT_THAT(rejected.err, HasSubstr("signature verification failed"));
    auto parsed = ParseBundle(*ReadFile(file));
    ASSERT_TRUE(parsed) << parsed.error().message;
    auto result = VerifyEnvelope(parsed->envelope, key_->Public());
    ASSERT_THAT(result, FailsWith(ErrorCode::kVerification));
  }
}

// Issue 13: bundles @sigstore/bundle's validation refuses are refused by hardbase too, each
// built here from a valid one by changing one thing.
TEST_F(InteropTest, BundlesSigstoreRefusesAreRefused) {
  auto statement = StatementJson({{"", kDigest}}, kPredicateSpdx, R"({"spdxVersion":"SPDX-2.3"})");
  ASSERT_TRUE(statement);
  auto envelope = SignEnvelope(*key_, std::string(kInTotoPayloadType), *statement);
  ASSERT_TRUE(envelope);
  const std::string valid = BundleJson(*envelope, key_->Public().Hint());
  ASSERT_TRUE(ParseBundle(valid));
  auto changed = [&](const std::string& pointer, const nlohmann::json& value) {
    nlohmann::ordered_json doc = nlohmann::ordered_json::parse(valid);
    doc[nlohmann::ordered_json::json_pointer(pointer)] = value;
    return doc.dump();
  };
  // @sigstore/bundle accepts the bundle every case is made from: each refusal below is the case's.
  ProcessResult accepted =
      Node("bundle.mjs", {"verify", Write("valid.bundle.json", valid), Path("hb.pub"), kDigest});
  ASSERT_EQ(accepted.exit_code, 0) << accepted.err;
  Envelope two = *envelope;
  two.signatures.push_back(two.signatures[0]);
  Envelope empty = *envelope;
  empty.payload.clear();
  const std::pair<std::string, std::string> cases[] = {
      {BundleJson(two, key_->Public().Hint()), "dsseEnvelope has 2 signatures, not one"},
      {BundleJson(empty, key_->Public().Hint()), "dsseEnvelope has an empty payload"},
      {changed("/mediaType", "application/vnd.dev.sigstore.bundle.evil+json"),
       "mediaType \"application/vnd.dev.sigstore.bundle.evil+json\" is not a sigstore bundle"},
      {changed("/mediaType", "application/vnd.dev.sigstore.bundle"),
       "mediaType \"application/vnd.dev.sigstore.bundle\" is not a sigstore bundle"},
      {changed("/verificationMaterial/tlogEntries",
               nlohmann::json::array({nlohmann::json::object()})),
       "tlogEntries[0] has no logId"},
  };
  for (const auto& [bundle, message] : cases) {
    std::string file = Write("hostile.bundle.json", bundle);
    ProcessResult node = Node("bundle.mjs", {"verify", file, Path("hb.pub")});
    EXPECT_NE(node.exit_code, 0) << message;
    auto parsed = ParseBundle(bundle);
    ASSERT_THAT(parsed, FailsWith(ErrorCode::kSpec)) << message;
    EXPECT_THAT(parsed.error().message, HasSubstr(message));
    EXPECT_THAT(parsed.error().message, ::testing::StartsWith("sigstore bundle: "));
  }
}

TEST_F(InteropTest, HardbaseAcceptsNodeBundle) {
  const std::string predicate = R"({"spdxVersion":"SPDX-2.3","name":"img"})";
  ProcessResult made =
      Node("bundle.mjs", {"make", Path("node.key"), kDigest, std::string(kPredicateSpdx),
                          Write("predicate.json", predicate)});
  ASSERT_EQ(made.exit_code, 0) << made.err;

  auto bundle = ParseBundle(made.out);
  ASSERT_TRUE(bundle) << bundle.error().message;
  auto node_pub = PublicKey::FromPem(*ReadFile(Path("node.pub")), "node.pub");
  ASSERT_TRUE(node_pub);
  EXPECT_EQ(bundle->public_key_hint, node_pub->Hint());
  EXPECT_EQ(bundle->envelope.payload_type, kInTotoPayloadType);
  EXPECT_TRUE(VerifyEnvelope(bundle->envelope, *node_pub));
  auto statement = ParseStatement(bundle->envelope.payload);
  ASSERT_TRUE(statement) << statement.error().message;
  EXPECT_EQ(statement->predicate_type, kPredicateSpdx);
  EXPECT_EQ(statement->predicate_json, predicate);
  EXPECT_TRUE(CheckSubject(*statement, kDigest));

  auto wrong_key = VerifyEnvelope(bundle->envelope, key_->Public());
  ASSERT_THAT(wrong_key, FailsWith(ErrorCode::kVerification));
}

}  // namespace
}  // namespace hardbase::sign
