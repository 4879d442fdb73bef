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
#include <string>

#include "base/base64.h"

namespace hardbase::sign {
namespace {

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

// A cosign key document sealing `plain`, built here with libsodium directly and a cheap N so that
// format tests run fast; tests then break one part of it.
Json SealedDocument(std::string_view plain, std::string_view password, uint64_t n = 1024) {
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
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, code) << result.error().message;
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
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, ErrorCode::kVerification);
  EXPECT_EQ(other.error().message, std::string("signature does not verify with key ") + kFixedHint);
}

TEST(PublicKeyTest, RejectsMalformedPem) {
  const std::string pem = kFixedPem;
  std::string corrupted = pem;
  corrupted.replace(60, 4, "!!!!");
  for (const std::string& bad : {std::string(""), pem.substr(0, pem.size() / 2), pem.substr(0, 40),
                                 std::string("garbage"), corrupted}) {
    auto key = PublicKey::FromPem(bad, "k.pub");
    ASSERT_FALSE(key) << bad;
    EXPECT_EQ(key.error().code, ErrorCode::kSpec);
    EXPECT_THAT(key.error().message, StartsWith("k.pub: not a PEM \"PUBLIC KEY\""));
  }
}

TEST(PublicKeyTest, RejectsOtherKeyTypesNamingThem) {
  for (const OtherKeyType& c : kOtherKeyTypes) {
    auto openssl_key = MakeKey(c.type, c.param);
    ASSERT_TRUE(openssl_key) << c.type;
    auto key = PublicKey::FromPem(PublicPem(openssl_key.get()), "other.pub");
    ASSERT_FALSE(key) << c.type;
    EXPECT_EQ(key.error().code, ErrorCode::kSpec);
    EXPECT_EQ(key.error().message,
              std::string("other.pub: ") + c.name + "; cosign keys are ECDSA P-256");
  }
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
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, ErrorCode::kVerification);
    EXPECT_EQ(result.error().message, "signature does not verify with key " + verifier.Hint());
  }
  for (std::string malformed :
       {std::string(""), std::string("garbage"), *sig + "x", sig->substr(0, sig->size() - 1)}) {
    auto result = key->Public().Verify("payload", malformed);
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, ErrorCode::kVerification);
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
      {"/kdf/params/N", 1000, "scrypt N=1000 is not a power of 2"},
      {"/kdf/params/N", -1, "kdf.params.N is not a positive integer"},
      {"/kdf/params/N", uint64_t{1} << 30, "too costly"},
      {"/kdf/params/r", uint64_t{1} << 20, "too costly"},
      {"/kdf/params/r", 0, "too costly"},
      {"/kdf/params/p", 4096, "too costly"},
      {"/kdf/params/p", "1", "kdf.params.p is not a positive integer"},
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
