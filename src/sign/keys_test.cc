#include "sign/keys.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/base64.h"
#include "base/fs.h"
#include "support/process.h"
#include "support/result_matchers.h"

namespace hardbase::sign {
namespace {

using ::hardbase::testing::FailsWith;

using ::testing::HasSubstr;
using ::testing::StartsWith;
using Json = nlohmann::ordered_json;

// Made with `openssl ecparam -name prime256v1 -genkey`; the hint with `openssl pkey -pubin
// -outform DER | openssl dgst -sha256 -binary | base64`, the signature of "hardbase" with
// `openssl dgst -sha256 -sign`.
constexpr char kFixedPem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEAiPerUcqpNAaAXaipnKfKGLDyvSg\n"
    "7I/vTEdD8IVuOF5fN/fgN9kDauB9izTLjK2LSxJgakwgUQK3jjPeTfgglA==\n"
    "-----END PUBLIC KEY-----\n";
constexpr char kFixedHint[] = "bqXcTEdNsUropHopMTpDyq2BuNjuMXn2sL3UAC12CRE=";
constexpr char kFixedSignature[] =
    "MEYCIQC5KRLqagBJVWNrA1MPKy2cpPmTgvb6BnZ4/inbDukpEgIhANvd0kMeDkj0g/N0tj/"
    "IYVZp9O9osDJorIqknoxDspKo";

// Keys cosign does not use, and how errors name them.
struct OtherKeyType {
  const char* type;
  const char* param;
  const char* name;
};
constexpr OtherKeyType kOtherKeyTypes[] = {{"RSA", "2048", "an RSA key"},
                                           {"EC", "P-384", "an EC secp384r1 key"},
                                           {"ED25519", nullptr, "an ED25519 key"}};

std::shared_ptr<EVP_PKEY> MakeKey(const char* type, const char* param) {
  EVP_PKEY* key = param == nullptr ? EVP_PKEY_Q_keygen(nullptr, nullptr, type)
                  : std::string_view(type) == "RSA"
                      ? EVP_PKEY_Q_keygen(nullptr, nullptr, type, size_t{2048})
                      : EVP_PKEY_Q_keygen(nullptr, nullptr, type, param);
  return {key, EVP_PKEY_free};
}

std::string ReadBio(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string PublicPem(EVP_PKEY* key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_PUBKEY(bio.get(), key);
  return ReadBio(bio.get());
}

std::string Pkcs8Der(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  PKCS8_PRIV_KEY_INFO* p8 = EVP_PKEY2PKCS8(key);
  int n = i2d_PKCS8_PRIV_KEY_INFO(p8, &der);
  PKCS8_PRIV_KEY_INFO_free(p8);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  return out;
}

std::string Pem(std::string_view label, std::string_view body) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio(bio.get(), std::string(label).c_str(), "",
                reinterpret_cast<const unsigned char*>(body.data()),
                static_cast<long>(body.size()));
  return ReadBio(bio.get());
}

// A cosign key document sealing `plain`, built here with libsodium directly and the cheapest
// parameters cosign accepts (N=32768, "legacy"); tests then break one part of it.
Json SealedDocument(std::string_view plain, std::string_view password, uint64_t n = 32768) {
  EXPECT_GE(sodium_init(), 0);
  std::string salt(32, 's'), nonce(24, 'n'), key(32, '\0');
  EXPECT_EQ(crypto_pwhash_scryptsalsa208sha256_ll(
                reinterpret_cast<const uint8_t*>(password.data()), password.size(),
                reinterpret_cast<const uint8_t*>(salt.data()), salt.size(), n, 8, 1,
                reinterpret_cast<uint8_t*>(key.data()), key.size()),
            0);
  std::string sealed(plain.size() + crypto_secretbox_MACBYTES, '\0');
  crypto_secretbox_easy(reinterpret_cast<uint8_t*>(sealed.data()),
                        reinterpret_cast<const uint8_t*>(plain.data()), plain.size(),
                        reinterpret_cast<const uint8_t*>(nonce.data()),
                        reinterpret_cast<const uint8_t*>(key.data()));
  return {{"kdf",
           {{"name", "scrypt"},
            {"params", {{"N", n}, {"r", 8}, {"p", 1}}},
            {"salt", Base64Encode(salt)}}},
          {"cipher", {{"name", "nacl/secretbox"}, {"nonce", Base64Encode(nonce)}}},
          {"ciphertext", Base64Encode(sealed)}};
}

std::string KeyFile(const Json& doc, std::string_view label = "ENCRYPTED SIGSTORE PRIVATE KEY") {
  return Pem(label, doc.dump());
}

void ExpectError(const Result<PrivateKey>& result, ErrorCode code, std::string_view message) {
  ASSERT_THAT(result, FailsWith(code));
  EXPECT_THAT(result.error().message, StartsWith("cosign.key: "));
  EXPECT_THAT(result.error().message, HasSubstr(std::string(message)));
}

TEST(PublicKeyTest, ReadsPemAndComputesHintLikeOpenssl) {
  auto key = PublicKey::FromPem(kFixedPem, "fixed.pub");
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_EQ(key->Pem(), kFixedPem);
  EXPECT_EQ(key->Hint(), kFixedHint);
  EXPECT_TRUE(key->Verify("hardbase", *Base64Decode(kFixedSignature)));
  auto other = key->Verify("hardbasf", *Base64Decode(kFixedSignature));
  ASSERT_THAT(other, FailsWith(ErrorCode::kVerification));
  EXPECT_EQ(other.error().message, std::string("signature does not verify with key ") + kFixedHint);
}

TEST(PublicKeyTest, RejectsMalformedPem) {
  const std::string pem = kFixedPem;
  std::string corrupted = pem;
  corrupted.replace(60, 4, "!!!!");
  for (const std::string& bad : {std::string(""), pem.substr(0, pem.size() / 2), pem.substr(0, 40),
                                 std::string("garbage"), corrupted}) {
    auto key = PublicKey::FromPem(bad, "k.pub");
    ASSERT_THAT(key, FailsWith(ErrorCode::kSpec)) << bad;
    EXPECT_THAT(key.error().message, StartsWith("k.pub: not a PEM \"PUBLIC KEY\""));
  }
}

constexpr char kAcceptedTypes[] =
    "; cosign verifies RSA (2048 bits or more), ECDSA P-256/P-384/P-521 and Ed25519 keys";

TEST(PublicKeyTest, RejectsKeyTypesCosignDoesNotVerifyWithNamingThem) {
  const std::pair<std::shared_ptr<EVP_PKEY>, std::string> cases[] = {
      {MakeKey("EC", "secp256k1"), "an EC secp256k1 key"},
      {MakeKey("X25519", nullptr), "an X25519 key"},
      {MakeKey("ED448", nullptr), "an ED448 key"},
  };
  for (const auto& [openssl_key, name] : cases) {
    ASSERT_TRUE(openssl_key) << name;
    auto key = PublicKey::FromPem(PublicPem(openssl_key.get()), "other.pub");
    ASSERT_THAT(key, FailsWith(ErrorCode::kSpec)) << name;
    EXPECT_EQ(key.error().message, "other.pub: " + name + kAcceptedTypes);
  }
}

// Issue 13: keys and signatures made by the openssl command, not by hardbase's own code. Every key
// type cosign verifies with is accepted (and verifies only what it signed, with the hash cosign
// uses); keys Go's crypto/x509 refuses, or that cosign would not trust, are refused.
class OpensslKeyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_.emplace(*TempDir::Create("sign-openssl-"));
    // Keys, public keys in the forms to test, and signatures of the file "data".
    const std::string script = R"(set -e
cd "$1"
printf 'hardbase signed payload' > data
key() { openssl genpkey -quiet "$@" 2>/dev/null || openssl genpkey "$@"; }
key -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.pem
key -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out rsa1024.pem
key -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048 -out rsapss.pem
key -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out p256.pem
key -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out p384.pem
key -algorithm EC -pkeyopt ec_paramgen_curve:P-521 -out p521.pem
key -algorithm ED25519 -out ed25519.pem
for k in rsa rsa1024 rsapss p256 p384 p521 ed25519; do openssl pkey -in $k.pem -pubout -out $k.pub; done
openssl dgst -sha256 -sign rsa.pem -out rsa.sig data
openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -sign rsa.pem   -out rsa-pss.sig data
openssl dgst -sha1 -sign rsa.pem -out rsa-sha1.sig data
openssl dgst -sha256 -sign p256.pem -out p256.sig data
openssl dgst -sha384 -sign p384.pem -out p384.sig data
openssl dgst -sha256 -sign p384.pem -out p384-sha256.sig data
openssl dgst -sha512 -sign p521.pem -out p521.sig data
openssl pkeyutl -sign -rawin -inkey ed25519.pem -in data -out ed25519.sig
openssl ec -in p256.pem -pubout -param_enc explicit -out p256-explicit.pub 2>/dev/null
openssl ec -in p256.pem -pubout -conv_form compressed -out p256-compressed.pub 2>/dev/null
openssl pkey -pubin -in p256.pub -outform DER -out p256.der
)";
    auto made = ::hardbase::testing::RunProcess({"sh", "-c", script, "sh", dir_->path()});
    ASSERT_EQ(made.exit_code, 0) << made.err;
  }
  static void TearDownTestSuite() { dir_.reset(); }

  static std::string File(const std::string& name) {
    auto text = ReadFile(dir_->path() + "/" + name);
    EXPECT_TRUE(text) << name;
    return text.value_or("");
  }
  static void ExpectRefused(const std::string& pem, const std::string& message) {
    auto key = PublicKey::FromPem(pem, "k.pub");
    ASSERT_THAT(key, FailsWith(ErrorCode::kSpec)) << message;
    EXPECT_EQ(key.error().message, "k.pub: " + message);
  }

  static std::optional<TempDir> dir_;
};

std::optional<TempDir> OpensslKeyTest::dir_;

TEST_F(OpensslKeyTest, AcceptsEveryKeyTypeCosignVerifiesWith) {
  const std::string data = File("data");
  const std::pair<const char*, const char*> cases[] = {
      {"rsa.pub", "rsa.sig"},   {"rsa.pub", "rsa-pss.sig"}, {"p256.pub", "p256.sig"},
      {"p384.pub", "p384.sig"}, {"p521.pub", "p521.sig"},   {"ed25519.pub", "ed25519.sig"},
  };
  for (const auto& [pub, sig] : cases) {
    auto key = PublicKey::FromPem(File(pub), pub);
    ASSERT_TRUE(key) << key.error().message;
    EXPECT_EQ(key->Pem(), File(pub));
    auto verified = key->Verify(data, File(sig));
    EXPECT_TRUE(verified) << sig << ": " << verified.error().message;
    auto other_data = key->Verify(data + ".", File(sig));
    ASSERT_THAT(other_data, FailsWith(ErrorCode::kVerification)) << sig;
    EXPECT_FALSE(key->Verify(data, File(sig).substr(1))) << sig;
  }
  // Only the hash cosign uses with each key: SHA-1 for RSA and SHA-256 with P-384 do not verify.
  EXPECT_FALSE(PublicKey::FromPem(File("rsa.pub"), "rsa.pub")->Verify(data, File("rsa-sha1.sig")));
  EXPECT_FALSE(
      PublicKey::FromPem(File("p384.pub"), "p384.pub")->Verify(data, File("p384-sha256.sig")));
  // A signature by one key does not verify with another of the same type.
  EXPECT_FALSE(PublicKey::FromPem(File("p256.pub"), "p256.pub")->Verify(data, File("p384.sig")));
}

TEST_F(OpensslKeyTest, RefusesKeysGoOrCosignRefuses) {
  ExpectRefused(File("p256-explicit.pub"),
                std::string("an EC key with explicit curve parameters") + kAcceptedTypes);
  ExpectRefused(File("p256-compressed.pub"), "an EC key with a compressed point");
  ExpectRefused(File("rsa1024.pub"), std::string("an RSA key of 1024 bits") + kAcceptedTypes);
  ExpectRefused(File("rsapss.pub"), std::string("an RSASSA-PSS key") + kAcceptedTypes);
  ExpectRefused(Pem("PUBLIC KEY", File("p256.der") + std::string("\0\0", 2)),
                "2 bytes after the public key's DER");
  ExpectRefused(File("p256.pub") + File("rsa.pub"),
                "text after the PEM block (only one public key per file)");
  ExpectRefused(File("p256.pub") + "garbage\n",
                "text after the PEM block (only one public key per file)");
  ExpectRefused(Pem("RSA PUBLIC KEY", File("p256.der")),
                "not a PEM \"PUBLIC KEY\" (PKIX): the PEM block is \"RSA PUBLIC KEY\"");
  // Whitespace around the one block is what editors add: accepted.
  EXPECT_TRUE(PublicKey::FromPem("\n" + File("p256.pub") + "\n\n", "k.pub"));
}

TEST(PrivateKeyTest, SignsAndVerifiesAndDetectsTampering) {
  auto key = PrivateKey::Generate();
  auto other = PrivateKey::Generate();
  ASSERT_TRUE(key && other);
  auto sig = key->Sign("payload");
  ASSERT_TRUE(sig);
  EXPECT_TRUE(key->Public().Verify("payload", *sig));
  auto reparsed = PublicKey::FromPem(key->Public().Pem(), "k.pub");
  ASSERT_TRUE(reparsed);
  EXPECT_EQ(reparsed->Hint(), key->Public().Hint());
  EXPECT_TRUE(reparsed->Verify("payload", *sig));

  std::string flipped_sig = *sig;
  flipped_sig[flipped_sig.size() - 1] ^= 1;
  const std::string hint = key->Public().Hint();
  for (auto [data, signature, verifier] : {std::tuple{"paylOad", *sig, key->Public()},
                                           std::tuple{"payload", flipped_sig, key->Public()},
                                           std::tuple{"payload", *sig, other->Public()}}) {
    auto result = verifier.Verify(data, signature);
    ASSERT_THAT(result, FailsWith(ErrorCode::kVerification));
    EXPECT_EQ(result.error().message, "signature does not verify with key " + verifier.Hint());
  }
  for (std::string malformed :
       {std::string(""), std::string("garbage"), *sig + "x", sig->substr(0, sig->size() - 1)}) {
    auto result = key->Public().Verify("payload", malformed);
    ASSERT_THAT(result, FailsWith(ErrorCode::kVerification));
    EXPECT_EQ(result.error().message,
              "signature does not verify with key " + hint + ": not an ASN.1 DER ECDSA signature");
  }
}

// The only tests that run scrypt with cosign's cost (N=65536), four times in all.
TEST(EncryptedKeyTest, RoundTripsInCosignFormat) {
  auto key = PrivateKey::Generate();
  ASSERT_TRUE(key);
  auto file = EncryptPrivateKey(*key, "s3cret");
  ASSERT_TRUE(file) << file.error().message;
  EXPECT_THAT(*file, StartsWith("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));

  std::string body = file->substr(file->find('\n') + 1);
  body = body.substr(0, body.find("-----END"));
  std::erase(body, '\n');
  Json doc = Json::parse(*Base64Decode(body));
  EXPECT_EQ(doc["kdf"]["name"], "scrypt");
  EXPECT_EQ(doc["kdf"]["params"], Json::parse(R"({"N":65536,"r":8,"p":1})"));
  EXPECT_EQ(Base64Decode(doc["kdf"]["salt"].get<std::string>())->size(), 32u);
  EXPECT_EQ(doc["cipher"]["name"], "nacl/secretbox");
  EXPECT_EQ(Base64Decode(doc["cipher"]["nonce"].get<std::string>())->size(), 24u);

  auto decrypted = DecryptPrivateKey(*file, "s3cret", "cosign.key");
  ASSERT_TRUE(decrypted) << decrypted.error().message;
  EXPECT_EQ(decrypted->Public().Pem(), key->Public().Pem());
  auto sig = decrypted->Sign("x");
  ASSERT_TRUE(sig);
  EXPECT_TRUE(key->Public().Verify("x", *sig));

  ExpectError(DecryptPrivateKey(*file, "s3creT", "cosign.key"), ErrorCode::kAuth,
              "cosign.key: wrong password (the key does not decrypt)");

  auto empty_password = EncryptPrivateKey(*key, "");
  ASSERT_TRUE(empty_password);
  EXPECT_NE(*empty_password, *file);  // fresh salt and nonce
  auto reread = DecryptPrivateKey(*empty_password, "", "cosign.key");
  ASSERT_TRUE(reread) << reread.error().message;
  EXPECT_EQ(reread->Public().Hint(), key->Public().Hint());
}

class DecryptFormatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto key = MakeKey("EC", "P-256");
    der_ = Pkcs8Der(key.get());
    public_pem_ = PublicPem(key.get());
    doc_ = SealedDocument(der_, "pw");
  }
  std::string der_, public_pem_;
  Json doc_;
};

TEST_F(DecryptFormatTest, AcceptsBothLabels) {
  for (const char* label : {"ENCRYPTED SIGSTORE PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY"}) {
    auto key = DecryptPrivateKey(KeyFile(doc_, label), "pw", "cosign.key");
    ASSERT_TRUE(key) << key.error().message;
    EXPECT_EQ(key->Public().Pem(), public_pem_);
  }
  ExpectError(DecryptPrivateKey(KeyFile(doc_), "pW", "cosign.key"), ErrorCode::kAuth,
              "wrong password");
}

TEST_F(DecryptFormatTest, RejectsMalformedFiles) {
  std::string file = KeyFile(doc_);
  ExpectError(DecryptPrivateKey(file.substr(0, file.size() / 2), "pw", "cosign.key"),
              ErrorCode::kSpec, "not a PEM file");
  ExpectError(DecryptPrivateKey("", "pw", "cosign.key"), ErrorCode::kSpec, "not a PEM file");
  ExpectError(DecryptPrivateKey(KeyFile(doc_, "EC PRIVATE KEY"), "pw", "cosign.key"),
              ErrorCode::kSpec, "PEM block is \"EC PRIVATE KEY\"");
  ExpectError(
      DecryptPrivateKey(Pem("ENCRYPTED SIGSTORE PRIVATE KEY", "{\"kdf\":"), "pw", "cosign.key"),
      ErrorCode::kSpec, "not a JSON object");

  struct Case {
    const char* pointer;
    Json value;
    const char* message;
  };
  const Case cases[] = {
      {"/kdf/name", "argon2", "unknown kdf \"argon2\""},
      {"/cipher/name", "aes-gcm", "unknown cipher \"aes-gcm\""},
      {"/kdf/params/N", 1000, "scrypt parameters N=1000 r=8 p=1 are not one of cosign's"},
      {"/kdf/params/N", -1, "kdf.params.N is not a positive integer"},
      {"/kdf/params/N", uint64_t{1} << 30, "scrypt parameters N=1073741824 r=8 p=1 are not"},
      {"/kdf/params/r", uint64_t{1} << 20, "scrypt parameters N=32768 r=1048576 p=1 are not"},
      {"/kdf/params/r", 0, "scrypt parameters N=32768 r=0 p=1 are not"},
      {"/kdf/params/p", 4096, "scrypt parameters N=32768 r=8 p=4096 are not"},
      {"/kdf/params/p", "1", "kdf.params.p is not a positive integer"},
      {"/kdf/salt", "", "cosign.key: scrypt salt has 0 bytes, not 32"},
      {"/kdf/salt", Base64Encode(std::string(31, 's')), "scrypt salt has 31 bytes, not 32"},
      {"/kdf/salt", "not base64!", "cosign.key: kdf.salt: not base64"},
      {"/cipher/nonce", "AAAA", "nonce has 3 bytes, not 24"},
      {"/ciphertext", "AAAA", "ciphertext is truncated"},
      {"/ciphertext", 5, "ciphertext is not a string"},
      {"/kdf", "scrypt", "no \"name\" in kdf"},
  };
  for (const Case& c : cases) {
    Json doc = doc_;
    doc[Json::json_pointer(c.pointer)] = c.value;
    ExpectError(DecryptPrivateKey(KeyFile(doc), "pw", "cosign.key"), ErrorCode::kSpec, c.message);
  }
  Json doc = doc_;
  doc.erase("cipher");
  ExpectError(DecryptPrivateKey(KeyFile(doc), "pw", "cosign.key"), ErrorCode::kSpec,
              "no \"cipher\" in the key document");
}

// Issue 13: a key file that asks for weak scrypt parameters (N=2, an empty salt) is refused
// before anything is derived, even with the right password; each of the three parameter sets
// cosign's library writes is accepted.
TEST_F(DecryptFormatTest, AcceptsOnlyCosignsScryptParameters) {
  for (uint64_t n : {uint64_t{2}, uint64_t{16384}, uint64_t{262144}}) {
    Json weak = SealedDocument(der_, "pw", n == 262144 ? 32768 : n);
    weak["kdf"]["params"]["N"] = n;
    ExpectError(DecryptPrivateKey(KeyFile(weak), "pw", "cosign.key"), ErrorCode::kSpec,
                "scrypt parameters N=" + std::to_string(n) + " r=8 p=1 are not one of cosign's");
  }
  Json no_salt = SealedDocument(der_, "pw", 2);
  no_salt["kdf"]["salt"] = "";
  ExpectError(DecryptPrivateKey(KeyFile(no_salt), "pw", "cosign.key"), ErrorCode::kSpec,
              "scrypt parameters N=2 r=8 p=1 are not one of cosign's");
  no_salt["kdf"]["params"]["N"] = 32768;
  ExpectError(DecryptPrivateKey(KeyFile(no_salt), "pw", "cosign.key"), ErrorCode::kSpec,
              "scrypt salt has 0 bytes, not 32");
  for (uint64_t n : {uint64_t{32768}, uint64_t{131072}}) {  // 65536: RoundTripsInCosignFormat
    auto key = DecryptPrivateKey(KeyFile(SealedDocument(der_, "pw", n)), "pw", "cosign.key");
    ASSERT_TRUE(key) << key.error().message;
    EXPECT_EQ(key->Public().Pem(), public_pem_);
  }
}

TEST_F(DecryptFormatTest, RejectsDecryptedKeysThatAreNotP256) {
  ExpectError(DecryptPrivateKey(KeyFile(SealedDocument("not DER", "pw")), "pw", "cosign.key"),
              ErrorCode::kSpec, "decrypted key is not PKCS#8 DER");
  for (const OtherKeyType& c : kOtherKeyTypes) {
    auto key = MakeKey(c.type, c.param);
    ExpectError(
        DecryptPrivateKey(KeyFile(SealedDocument(Pkcs8Der(key.get()), "pw")), "pw", "cosign.key"),
        ErrorCode::kSpec, std::string(c.name) + "; cosign keys are ECDSA P-256");
  }
}

}  // namespace
}  // namespace hardbase::sign
