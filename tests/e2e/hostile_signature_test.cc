// End-to-end tests of issue 13 for signatures: hostile signed payloads, key files and public keys,
// an image that names its own signing identity, and an SBOM referrer anyone could have pushed.
// Every hostile input is built here: OCI layouts written file by file, keys and signatures made
// with the openssl command, a key file sealed by node (crypto.scrypt + tweetnacl), never by
// hardbase's own code. Each refusal is checked for its exit code, its one error line, and that
// nothing in the test's directory changed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/base64.h"
#include "base/fs.h"
#include "base/sha256.h"
#include "support/exit_codes.h"
#include "support/process.h"
#include "support/tree_snapshot.h"

namespace hardbase::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kPassword[] = "correct horse";
constexpr char kManifestType[] = "application/vnd.oci.image.manifest.v1+json";
constexpr char kConfigType[] = "application/vnd.oci.image.config.v1+json";
constexpr char kRefName[] = "org.opencontainers.image.ref.name";

class HostileSignatureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("hardbase-hostile-sig-");
    ASSERT_TRUE(dir.has_value());
    work_.emplace(std::move(*dir));
    ASSERT_TRUE(MakeDirs(Work() + "/home").has_value());
  }

  std::string Work() const { return work_->path(); }
  std::string Path(const std::string& name) const { return Work() + "/" + name; }
  void Write(const std::string& name, const std::string& bytes) {
    ASSERT_TRUE(WriteFileAtomic(Path(name), bytes).has_value()) << name;
  }
  std::string Read(const std::string& name) { return ReadFile(Path(name)).value_or(""); }

  // hardbase with its cache and $HOME inside the test's directory, so that a snapshot of that
  // directory shows everything it wrote.
  ProcessResult Hardbase(std::vector<std::string> args,
                         std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), {HardbaseBinary(), "--cache-dir", Path("cache")});
    env.emplace("HOME", Path("home"));
    return RunProcess(args, env);
  }
  ProcessResult Shell(const std::string& script) {
    auto r = RunProcess({"sh", "-c", "set -e; cd \"$1\"; " + script, "sh", Work()});
    EXPECT_EQ(r.exit_code, 0) << script << "\n" << r.err;
    return r;
  }

  // Every file under the test's directory and its SHA-256.
  std::map<std::string, std::string> Snapshot() { return TreeSnapshot(Work()); }

  // A refusal: the exit code, one error line with `message`, nothing written anywhere.
  void ExpectRefused(const std::vector<std::string>& args, int exit_code,
                     const std::string& message, std::map<std::string, std::string> env = {}) {
    auto before = Snapshot();
    auto r = Hardbase(args, env);
    EXPECT_EQ(r.exit_code, exit_code) << r.err;
    EXPECT_THAT(r.err, StartsWith("hardbase: error: "));
    EXPECT_THAT(r.err, HasSubstr(message));
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
    EXPECT_EQ(Snapshot(), before);
  }

  // Adds `bytes` to the layout's blobs; its descriptor.
  json Blob(const std::string& layout, const std::string& media_type, const std::string& bytes) {
    std::string hex = Sha256Hex(bytes);
    EXPECT_TRUE(MakeDirs(Path(layout + "/blobs/sha256")).has_value());
    Write(layout + "/blobs/sha256/" + hex, bytes);
    return {{"mediaType", media_type}, {"digest", "sha256:" + hex}, {"size", bytes.size()}};
  }

  // An OCI layout holding one linux/amd64 image with one empty layer, tagged "test", whose
  // manifest carries `annotations`; the manifest's descriptor.
  json Layout(const std::string& layout, const json& annotations = json::object()) {
    EXPECT_TRUE(MakeDirs(Path(layout)).has_value());
    Write(layout + "/oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
    std::string tar(1024, '\0');
    json layer = Blob(layout, "application/vnd.oci.image.layer.v1.tar", tar);
    json config = {{"architecture", "amd64"},
                   {"os", "linux"},
                   {"config", json::object()},
                   {"rootfs", {{"type", "layers"}, {"diff_ids", {layer["digest"]}}}}};
    json manifest = {{"schemaVersion", 2},
                     {"mediaType", kManifestType},
                     {"config", Blob(layout, kConfigType, config.dump())},
                     {"layers", {layer}}};
    if (!annotations.empty()) manifest["annotations"] = annotations;
    json descriptor = Blob(layout, kManifestType, manifest.dump());
    json entry = descriptor;
    entry["annotations"] = {{kRefName, "test"}};
    Write(layout + "/index.json", json({{"schemaVersion", 2}, {"manifests", {entry}}}).dump());
    return descriptor;
  }

  // Puts `entry` into index.json, replacing an entry with the same tag.
  void AddIndexEntry(const std::string& layout, const json& entry) {
    json index = json::parse(Read(layout + "/index.json"));
    json kept = json::array();
    for (const auto& e : index["manifests"]) {
      bool same_tag =
          entry.contains("annotations") && e.contains("annotations") &&
          e["annotations"].value(kRefName, "") == entry["annotations"].value(kRefName, "-");
      if (!same_tag) kept.push_back(e);
    }
    kept.push_back(entry);
    index["manifests"] = kept;
    Write(layout + "/index.json", index.dump());
  }

  // cosign's tag-scheme signature: `payload` signed (`signature`, raw bytes) at the image's .sig
  // tag, replacing what was there.
  void AttachSimpleSignature(const std::string& layout, const json& image,
                             const std::string& payload, const std::string& signature) {
    json layer = Blob(layout, "application/vnd.dev.cosign.simplesigning.v1+json", payload);
    layer["annotations"] = {{"dev.cosignproject.cosign/signature", Base64Encode(signature)}};
    json config = {{"architecture", ""},
                   {"os", ""},
                   {"config", json::object()},
                   {"rootfs", {{"type", "layers"}, {"diff_ids", {layer["digest"]}}}}};
    json manifest = {{"schemaVersion", 2},
                     {"mediaType", kManifestType},
                     {"config", Blob(layout, kConfigType, config.dump())},
                     {"layers", {layer}}};
    json entry = Blob(layout, kManifestType, manifest.dump());
    std::string hex = image["digest"].get<std::string>().substr(7);
    entry["annotations"] = {{kRefName, "sha256-" + hex + ".sig"}};
    AddIndexEntry(layout, entry);
  }

  // The simple signing payload cosign writes, with `image_members` as the members of
  // critical.image.
  static std::string Payload(const std::string& image_members,
                             const std::string& reference = "registry.test/app") {
    return R"({"critical":{"identity":{"docker-reference":")" + reference + R"("},"image":{)" +
           image_members + R"(},"type":"cosign container image signature"},"optional":null})";
  }
  static std::string DigestMember(const json& image) {
    return R"("docker-manifest-digest":")" + image["digest"].get<std::string>() + "\"";
  }

  // `data` signed with the openssl key NAME.pem (made by MakeOpensslKeys) as cosign signs with it.
  std::string OpensslSign(const std::string& name, const std::string& data) {
    Write("to-sign", data);
    std::string how = name == "ed25519" ? "openssl pkeyutl -sign -rawin -inkey ed25519.pem -in "
                                          "to-sign -out sig"
                      : name == "p384"
                          ? "openssl dgst -sha384 -sign p384.pem -out sig to-sign"
                          : "openssl dgst -sha256 -sign " + name + ".pem -out sig to-sign";
    Shell(how);
    std::string sig = Read("sig");
    fs::remove(Path("sig"));
    fs::remove(Path("to-sign"));
    return sig;
  }
  void MakeOpensslKeys() {
    Shell(R"(
key() { openssl genpkey -quiet "$@" 2>/dev/null || openssl genpkey "$@"; }
key -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out p256.pem
key -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out p384.pem
key -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.pem
key -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out rsa1024.pem
key -algorithm ED25519 -out ed25519.pem
for k in p256 p384 rsa rsa1024 ed25519; do openssl pkey -in $k.pem -pubout -out $k.pub; done
openssl ec -in p256.pem -pubout -param_enc explicit -out p256-explicit.pub 2>/dev/null
openssl ec -in p256.pem -pubout -conv_form compressed -out p256-compressed.pub 2>/dev/null
openssl pkey -pubin -in p256.pub -outform DER -out p256.der
)");
  }

  // A cosign key file PREFIX.key (and PREFIX.pub) sealed by node with scrypt N, r=8, p=1 and a
  // salt of `salt_bytes` bytes, password kPassword.
  void NodeKeyFile(const std::string& prefix, int n, int salt_bytes) {
    const std::string script = R"(
const [, naclPath, n, saltBytes, out] = process.argv;
const crypto = require('crypto');
const fs = require('fs');
const nacl = require(naclPath);
const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const params = { N: Number(n), r: 8, p: 1 };
const salt = crypto.randomBytes(Number(saltBytes));
const nonce = crypto.randomBytes(24);
const key = crypto.scryptSync(Buffer.from(process.env.COSIGN_PASSWORD), salt, 32,
                              { ...params, maxmem: 256 * 1024 * 1024 });
const der = privateKey.export({ type: 'pkcs8', format: 'der' });
const sealed = nacl.secretbox(new Uint8Array(der), new Uint8Array(nonce), new Uint8Array(key));
const doc = { kdf: { name: 'scrypt', params, salt: salt.toString('base64') },
              cipher: { name: 'nacl/secretbox', nonce: nonce.toString('base64') },
              ciphertext: Buffer.from(sealed).toString('base64') };
const body = Buffer.from(JSON.stringify(doc)).toString('base64').match(/.{1,64}/g).join('\n');
fs.writeFileSync(out + '.key', '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n' + body +
                 '\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n');
fs.writeFileSync(out + '.pub', publicKey.export({ type: 'spki', format: 'pem' }));
)";
    auto r = RunProcess({"node", "-e", script,
                         std::string(HARDBASE_SOURCE_DIR) + "/tests/npm/node_modules/tweetnacl",
                         std::to_string(n), std::to_string(salt_bytes), Path(prefix)},
                        {{"COSIGN_PASSWORD", kPassword}});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  std::optional<TempDir> work_;
};

// Hole 1: the payload names image A in "docker-manifest-digest" and image B in
// "Docker-Manifest-Digest"; cosign reads the last (B). Signed with a valid key, it must not verify
// image A. The same payload without the second member verifies: the refusal is for the members.
TEST_F(HostileSignatureTest, CaseVariantPayloadMembersAreRefused) {
  MakeOpensslKeys();
  json image = Layout("img");
  const std::string other = "sha256:" + std::string(64, 'b');
  const std::string ref = "oci:" + Path("img") + ":test";

  std::string honest = Payload(DigestMember(image));
  AttachSimpleSignature("img", image, honest, OpensslSign("p256", honest));
  auto ok = Hardbase({"verify", ref, "--key", Path("p256.pub")});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_THAT(ok.out, HasSubstr("verified signature"));

  const std::pair<std::string, std::string> hostile[] = {
      {Payload(DigestMember(image) + R"(,"Docker-Manifest-Digest":")" + other + "\""),
       R"(duplicate member "Docker-Manifest-Digest" in critical.image)"},
      {Payload(DigestMember(image) + R"(,"docker-manifest-digest":")" + other + "\""),
       R"(duplicate member "docker-manifest-digest" in critical.image)"},
      {Payload(DigestMember(image) + R"(,"tag":"latest")"),
       R"(unknown member "tag" in critical.image)"},
  };
  for (const auto& [payload, problem] : hostile) {
    AttachSimpleSignature("img", image, payload, OpensslSign("p256", payload));
    ExpectRefused({"verify", ref, "--key", Path("p256.pub")}, kExitVerification,
                  "no valid signature covers " + image["digest"].get<std::string>() +
                      ": tag sha256-" + image["digest"].get<std::string>().substr(7) +
                      ".sig layer 0: not a cosign simple signing payload: " + problem);
  }
}

// Hole 2: a key file whose scrypt parameters are N=2 with an empty salt decrypts with the right
// password, but is refused before any key derivation; the same file with cosign's parameters signs.
TEST_F(HostileSignatureTest, WeakScryptKeyFileIsRefused) {
  Layout("img");
  const std::string ref = "oci:" + Path("img") + ":test";
  NodeKeyFile("weak", 2, 0);
  NodeKeyFile("cosign", 32768, 32);
  ExpectRefused({"sign", ref, "--key", Path("weak.key"), "--reference", "registry.test/app"},
                kExitSpec,
                "weak.key: scrypt parameters N=2 r=8 p=1 are not one of cosign's (N=32768, "
                "65536 or 131072 with r=8 p=1)",
                {{"COSIGN_PASSWORD", kPassword}});
  auto signed_ok = Hardbase({"sign", ref, "--key", Path("cosign.key"), "--reference", "r.test/a"},
                            {{"COSIGN_PASSWORD", kPassword}});
  ASSERT_EQ(signed_ok.exit_code, 0) << signed_ok.err;
  auto verified = Hardbase({"verify", ref, "--key", Path("cosign.pub")});
  EXPECT_EQ(verified.exit_code, 0) << verified.err;
}

// A key file asking for scrypt work an older hardbase ran (N=2^18, r=8, p=2: 256 MiB and seconds)
// is refused at once, under a 160 MiB address-space cap and a 10 s limit.
TEST_F(HostileSignatureTest, CostlyScryptKeyFileIsRefusedWithinBounds) {
  Layout("img");
  json doc = {
      {"kdf",
       {{"name", "scrypt"},
        {"params", {{"N", 262144}, {"r", 8}, {"p", 2}}},
        {"salt", Base64Encode(std::string(32, 's'))}}},
      {"cipher", {{"name", "nacl/secretbox"}, {"nonce", Base64Encode(std::string(24, 'n'))}}},
      {"ciphertext", Base64Encode(std::string(160, 'c'))}};
  std::string body = Base64Encode(doc.dump()), pem;
  for (size_t i = 0; i < body.size(); i += 64) pem += body.substr(i, 64) + "\n";
  Write("costly.key", "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n" + pem +
                          "-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n");
  auto before = Snapshot();
  auto r = RunProcess(WithinLimits({HardbaseBinary(), "--cache-dir", Path("cache"), "sign",
                                    "oci:" + Path("img") + ":test", "--key", Path("costly.key"),
                                    "--reference", "registry.test/app"},
                                   10, {"--as=" + std::to_string(160 << 20)}),
                      {{"COSIGN_PASSWORD", kPassword}, {"HOME", Path("home")}});
  EXPECT_EQ(r.exit_code, kExitSpec) << r.err;
  EXPECT_THAT(r.err, HasSubstr("scrypt parameters N=262144 r=8 p=2 are not one of cosign's"));
  EXPECT_EQ(Snapshot(), before);
}

// Hole 3, both ways: keys of every type cosign verifies with (made and used by openssl) verify a
// signature; keys Go's parser or cosign refuses are refused with the reason.
TEST_F(HostileSignatureTest, PublicKeysAsCosignReadsThem) {
  MakeOpensslKeys();
  json image = Layout("img");
  const std::string ref = "oci:" + Path("img") + ":test";
  std::string payload = Payload(DigestMember(image));
  for (const char* type : {"p256", "p384", "rsa", "ed25519"}) {
    AttachSimpleSignature("img", image, payload, OpensslSign(type, payload));
    auto r = Hardbase({"verify", ref, "--key", Path(std::string(type) + ".pub")});
    EXPECT_EQ(r.exit_code, 0) << type << ": " << r.err;
    // Another key of another type does not verify the same signature.
    auto other = Hardbase(
        {"verify", ref, "--key", Path(type == std::string("p256") ? "rsa.pub" : "p256.pub")});
    EXPECT_EQ(other.exit_code, kExitVerification) << type;
  }
  Write("trailing.pub", Read("p256.pub") + Read("rsa.pub"));
  {
    std::string der = Read("p256.der") + std::string("\0", 1), body = Base64Encode(der), pem;
    for (size_t i = 0; i < body.size(); i += 64) pem += body.substr(i, 64) + "\n";
    Write("der-trailing.pub", "-----BEGIN PUBLIC KEY-----\n" + pem + "-----END PUBLIC KEY-----\n");
  }
  const std::pair<const char*, const char*> refused[] = {
      {"p256-explicit.pub", "an EC key with explicit curve parameters"},
      {"p256-compressed.pub", "an EC key with a compressed point"},
      {"der-trailing.pub", "1 bytes after the public key's DER"},
      {"trailing.pub", "text after the PEM block (only one public key per file)"},
      {"rsa1024.pub", "an RSA key of 1024 bits"},
  };
  for (const auto& [file, message] : refused) {
    ExpectRefused({"verify", ref, "--key", Path(file)}, kExitSpec, Path(file) + ": " + message);
  }
}

// Hole 4: sigstore bundle referrers sigstore's verifiers refuse do not count as signatures: an
// envelope holding a valid signature next to a second one (a bundle holds exactly one), and a
// bundle naming another key than the one given (sigstore looks the key up by that hint).
TEST_F(HostileSignatureTest, BundlesSigstoreRefusesAreRefused) {
  MakeOpensslKeys();
  json image = Layout("img");
  const std::string ref = "oci:" + Path("img") + ":test";
  const std::string type = "application/vnd.in-toto+json";
  json statement = {
      {"_type", "https://in-toto.io/Statement/v1"},
      {"subject", {{{"digest", {{"sha256", image["digest"].get<std::string>().substr(7)}}}}}},
      {"predicateType", "https://sigstore.dev/cosign/sign/v1"},
      {"predicate", json::object()}};
  const std::string payload = statement.dump();
  const std::string pae = "DSSEv1 " + std::to_string(type.size()) + " " + type + " " +
                          std::to_string(payload.size()) + " " + payload;
  const std::string sig = Base64Encode(OpensslSign("p256", pae));
  auto attach = [&](const json& signatures, const std::string& hint) {
    json bundle = {
        {"mediaType", "application/vnd.dev.sigstore.bundle.v0.3+json"},
        {"verificationMaterial", {{"publicKey", {{"hint", hint}}}, {"tlogEntries", json::array()}}},
        {"dsseEnvelope",
         {{"payload", Base64Encode(payload)}, {"payloadType", type}, {"signatures", signatures}}}};
    const std::string bundle_type = "application/vnd.dev.sigstore.bundle.v0.3+json";
    json layer = Blob("img", bundle_type, bundle.dump());
    json manifest = {{"schemaVersion", 2},
                     {"mediaType", kManifestType},
                     {"artifactType", bundle_type},
                     {"config", Blob("img", "application/vnd.oci.empty.v1+json", "{}")},
                     {"layers", {layer}},
                     {"subject", image}};
    json entry = Blob("img", kManifestType, manifest.dump());
    entry["artifactType"] = bundle_type;
    AddIndexEntry("img", entry);
  };
  // One signature, hinted as cosign does (base64 of the SHA-256 of the key's DER): verifies, so
  // the bundle is well made.
  Shell("openssl dgst -sha256 -binary p256.der > p256.hint");
  const std::string hint = Base64Encode(Read("p256.hint"));
  attach({{{"keyid", ""}, {"sig", sig}}}, hint);
  auto one = Hardbase({"verify", ref, "--key", Path("p256.pub")});
  EXPECT_EQ(one.exit_code, 0) << one.err;

  const std::pair<json, std::string> hostile[] = {
      {json{{{"keyid", ""}, {"sig", sig}}, {{"keyid", "other"}, {"sig", Base64Encode("junk")}}},
       "sigstore bundle: dsseEnvelope has 2 signatures, not one"},
  };
  for (const auto& [signatures, message] : hostile) {
    ASSERT_TRUE(RemoveAll(Path("img")).has_value());
    image = Layout("img");
    attach(signatures, hint);
    ExpectRefused({"verify", ref, "--key", Path("p256.pub")}, kExitVerification, message);
  }
  ASSERT_TRUE(RemoveAll(Path("img")).has_value());
  image = Layout("img");
  attach({{{"keyid", ""}, {"sig", sig}}}, Base64Encode(std::string(32, 'k')));
  ExpectRefused({"verify", ref, "--key", Path("p256.pub")}, kExitVerification,
                "the bundle names key \"" + Base64Encode(std::string(32, 'k')) + "\", not " + hint);
}

// Hole 5: without --reference, the signed identity never comes from the image, whose title
// annotation claims to be another repository's image.
TEST_F(HostileSignatureTest, SignedIdentityIsNotTakenFromTheImage) {
  Layout("img", {{"org.opencontainers.image.title", "victim.example/payments"}});
  const std::string ref = "oci:" + Path("img") + ":test";
  NodeKeyFile("k", 32768, 32);
  auto r = Hardbase({"sign", ref, "--key", Path("k.key")}, {{"COSIGN_PASSWORD", kPassword}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto verified = Hardbase({"verify", ref, "--key", Path("k.pub"), "--json"});
  ASSERT_EQ(verified.exit_code, 0) << verified.err;
  json report = json::parse(verified.out);
  std::vector<std::string> identities;
  for (const auto& f : report[0]["findings"]) {
    if (f["kind"] == "signature" && f["valid"] == true &&
        !f["dockerReference"].get<std::string>().empty()) {
      identities.push_back(f["dockerReference"]);
    }
  }
  EXPECT_EQ(identities, std::vector<std::string>{"img"});
  EXPECT_THAT(verified.out, ::testing::Not(HasSubstr("victim.example")));
}

// Hole 6: an attacker who can push adds an unsigned SBOM referrer; the image also has an SPDX
// attestation signed with the owner's key. `sbom --key` prints the attested SBOM and says so;
// without --key the referrer is printed but called unverified; another key finds nothing.
TEST_F(HostileSignatureTest, SbomWithKeyPrintsTheAttestedOne) {
  json image = Layout("img");
  const std::string ref = "oci:" + Path("img") + ":test";
  NodeKeyFile("owner", 32768, 32);
  NodeKeyFile("stranger", 32768, 32);
  Write("good.spdx.json", R"({"spdxVersion":"SPDX-2.3","name":"attested-by-owner"})");
  auto attested = Hardbase({"attest", ref, "--key", Path("owner.key"), "--type", "spdx",
                            "--predicate", Path("good.spdx.json")},
                           {{"COSIGN_PASSWORD", kPassword}});
  ASSERT_EQ(attested.exit_code, 0) << attested.err;

  // The attacker's referrer: an SPDX document with the image as its subject.
  json empty = Blob("img", "application/vnd.oci.empty.v1+json", "{}");
  json layer = Blob("img", "application/spdx+json",
                    R"({"spdxVersion":"SPDX-2.3","name":"pushed-by-attacker"})");
  json manifest = {
      {"schemaVersion", 2}, {"mediaType", kManifestType}, {"artifactType", "application/spdx+json"},
      {"config", empty},    {"layers", {layer}},          {"subject", image}};
  json entry = Blob("img", kManifestType, manifest.dump());
  entry["artifactType"] = "application/spdx+json";
  AddIndexEntry("img", entry);

  auto before = Snapshot();
  auto with_key = Hardbase({"sbom", ref, "--key", Path("owner.pub")});
  ASSERT_EQ(with_key.exit_code, 0) << with_key.err;
  EXPECT_THAT(with_key.out, HasSubstr("attested-by-owner"));
  EXPECT_THAT(with_key.out, ::testing::Not(HasSubstr("pushed-by-attacker")));
  EXPECT_THAT(with_key.err,
              StartsWith("sbom: verified: the https://spdx.dev/Document attestation"));
  EXPECT_EQ(with_key.err.find('\n'), with_key.err.size() - 1) << with_key.err;

  auto without = Hardbase({"sbom", ref, "--quiet"});
  ASSERT_EQ(without.exit_code, 0) << without.err;
  EXPECT_THAT(without.out, HasSubstr("pushed-by-attacker"));
  EXPECT_THAT(without.err, StartsWith("sbom: UNVERIFIED: the unsigned SBOM referrer"));
  EXPECT_EQ(Snapshot(), before);

  ExpectRefused({"sbom", ref, "--key", Path("stranger.pub")}, kExitVerification,
                "no attestation of predicate type https://spdx.dev/Document covering " +
                    image["digest"].get<std::string>());
}

}  // namespace
}  // namespace hardbase::testing
