#include "sign/keys.h"

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

#include <cstdint>
#include <nlohmann/json.hpp>

#include "base/base64.h"

namespace hardbase::sign {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kEncryptedLabel = "ENCRYPTED SIGSTORE PRIVATE KEY";
constexpr std::string_view kLegacyEncryptedLabel = "ENCRYPTED COSIGN PRIVATE KEY";
// cosign's scrypt cost, and the most we agree to spend on a key file someone else wrote.
constexpr uint64_t kScryptN = 65536, kScryptR = 8, kScryptP = 1;
constexpr uint64_t kMaxScryptNr = uint64_t{1} << 21;   // 128 * N * r bytes = 256 MiB
constexpr uint64_t kMaxScryptNrp = uint64_t{1} << 22;  // 8 times cosign's work

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

std::shared_ptr<EVP_PKEY> Own(EVP_PKEY* key) { return {key, EVP_PKEY_free}; }

// The reason of OpenSSL's latest error, leaving its error queue empty for the next caller.
std::string OpenSslReason() {
  unsigned long e = ERR_peek_last_error();
  const char* reason = e != 0 ? ERR_reason_error_string(e) : nullptr;
  ERR_clear_error();
  return reason != nullptr ? reason : "unknown OpenSSL error";
}

BioPtr ReadBio(std::string_view data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

// kSpec unless `key` is ECDSA P-256, naming the type it is instead.
Result<void> CheckP256(EVP_PKEY* key, std::string_view what) {
  std::string type = EVP_PKEY_get0_type_name(key) ? EVP_PKEY_get0_type_name(key) : "unknown";
  if (EVP_PKEY_is_a(key, "EC")) {
    char group[64] = {};
    size_t len = 0;
    if (EVP_PKEY_get_group_name(key, group, sizeof group, &len) == 1 &&
        std::string_view(group) == "prime256v1") {
      return {};
    }
    type = len > 0 ? fmt::format("EC {}", group) : "EC (explicit curve)";
    ERR_clear_error();
  }
  return Fail(ErrorCode::kSpec,
              fmt::format("{}: an {} key; cosign keys are ECDSA P-256", what, type));
}

Result<void> InitSodium() {
  static const int status = sodium_init();
  if (status < 0) return Fail(ErrorCode::kInternal, "libsodium failed to initialise");
  return {};
}

// The 32-byte secretbox key cosign derives from a password.
Result<std::string> DeriveKey(std::string_view password, std::string_view salt, uint64_t n,
                              uint64_t r, uint64_t p) {
  std::string key(crypto_secretbox_KEYBYTES, '\0');
  if (crypto_pwhash_scryptsalsa208sha256_ll(
          reinterpret_cast<const uint8_t*>(password.data()), password.size(),
          reinterpret_cast<const uint8_t*>(salt.data()), salt.size(), n, static_cast<uint32_t>(r),
          static_cast<uint32_t>(p), reinterpret_cast<uint8_t*>(key.data()), key.size()) != 0) {
    return Fail(ErrorCode::kInternal, "scrypt key derivation failed (out of memory?)");
  }
  return key;
}

// Wipes secrets from memory when they go out of scope.
struct Wiped {
  std::string& s;
  ~Wiped() { sodium_memzero(s.data(), s.size()); }
};

// Reads a JSON member of the encrypted key document, or says which one is missing.
Result<const Json*> Member(const Json& object, std::string_view name, std::string_view where,
                           std::string_view what) {
  if (!object.is_object() || !object.contains(name)) {
    return Fail(ErrorCode::kSpec, fmt::format("{}: no \"{}\" in {}", what, name, where));
  }
  return &object.at(std::string(name));
}

Result<std::string> StringMember(const Json& object, std::string_view name, std::string_view where,
                                 std::string_view what) {
  HB_TRY(const Json* value, Member(object, name, where, what));
  if (!value->is_string()) {
    return Fail(ErrorCode::kSpec, fmt::format("{}: {}.{} is not a string", what, where, name));
  }
  return value->get<std::string>();
}

Result<uint64_t> UintMember(const Json& object, std::string_view name, std::string_view what) {
  HB_TRY(const Json* value, Member(object, name, "kdf.params", what));
  if (!value->is_number_unsigned()) {
    return Fail(ErrorCode::kSpec,
                fmt::format("{}: kdf.params.{} is not a positive integer", what, name));
  }
  return value->get<uint64_t>();
}

Result<std::string> Base64Member(const Json& object, std::string_view name, std::string_view where,
                                 std::string_view what) {
  HB_TRY(std::string text, StringMember(object, name, where, what));
  return Base64Decode(text, fmt::format("{}: {}.{}", what, where, name));
}

}  // namespace

Result<PublicKey> PublicKey::FromPem(std::string_view pem, std::string_view what) {
  BioPtr bio = ReadBio(pem);
  EVP_PKEY* raw = bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (raw == nullptr) {
    return Fail(ErrorCode::kSpec,
                fmt::format("{}: not a PEM \"PUBLIC KEY\" (PKIX): {}", what, OpenSslReason()));
  }
  auto key = Own(raw);
  HB_TRY_VOID(CheckP256(key.get(), what));
  return PublicKey(std::move(key));
}

std::string PublicKey::Pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PUBKEY(bio.get(), key_.get());
  return BioContents(bio.get());
}

std::string PublicKey::Der() const {
  unsigned char* der = nullptr;
  int n = i2d_PUBKEY(key_.get(), &der);
  std::string out(reinterpret_cast<const char*>(der), n > 0 ? static_cast<size_t>(n) : 0);
  OPENSSL_free(der);
  return out;
}

std::string PublicKey::Hint() const {
  std::string der = Der();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(der.data(), der.size(), digest, &len, EVP_sha256(), nullptr);
  return Base64Encode(std::string_view(reinterpret_cast<const char*>(digest), len));
}

Result<void> PublicKey::Verify(std::string_view data, std::string_view signature_der) const {
  auto fail = [&](std::string_view why) {
    return Fail(ErrorCode::kVerification,
                fmt::format("signature does not verify with key {}{}", Hint(), why));
  };
  const auto* p = reinterpret_cast<const unsigned char*>(signature_der.data());
  ECDSA_SIG* parsed = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(signature_der.size()));
  bool strict_der =
      parsed != nullptr &&
      p == reinterpret_cast<const unsigned char*>(signature_der.data()) + signature_der.size() &&
      i2d_ECDSA_SIG(parsed, nullptr) == static_cast<int>(signature_der.size());
  ECDSA_SIG_free(parsed);
  if (!strict_der) {
    ERR_clear_error();
    return fail(": not an ASN.1 DER ECDSA signature");
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  int ok = ctx ? EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) : 0;
  if (ok == 1) {
    ok = EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature_der.data()),
                          signature_der.size(), reinterpret_cast<const unsigned char*>(data.data()),
                          data.size());
  }
  ERR_clear_error();
  if (ok != 1) return fail("");
  return {};
}

Result<PrivateKey> PrivateKey::Generate() {
  EVP_PKEY* raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (raw == nullptr) {
    return Fail(ErrorCode::kInternal, "generate ECDSA P-256 key: " + OpenSslReason());
  }
  return PrivateKey(Own(raw));
}

Result<std::string> PrivateKey::Sign(std::string_view data) const {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t len = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(data.data());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, in, data.size()) != 1) {
    return Fail(ErrorCode::kInternal, "ECDSA sign: " + OpenSslReason());
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in,
                     data.size()) != 1) {
    return Fail(ErrorCode::kInternal, "ECDSA sign: " + OpenSslReason());
  }
  sig.resize(len);
  return sig;
}

PublicKey PrivateKey::Public() const {
  // The private EVP_PKEY also verifies; sharing it avoids a round trip through DER.
  return PublicKey(key_);
}

Result<std::string> EncryptPrivateKey(const PrivateKey& key, std::string_view password) {
  HB_TRY_VOID(InitSodium());
  PKCS8_PRIV_KEY_INFO* p8 = EVP_PKEY2PKCS8(key.key_.get());
  unsigned char* der = nullptr;
  int der_len = p8 != nullptr ? i2d_PKCS8_PRIV_KEY_INFO(p8, &der) : -1;
  PKCS8_PRIV_KEY_INFO_free(p8);
  if (der_len <= 0) return Fail(ErrorCode::kInternal, "encode PKCS#8 key: " + OpenSslReason());
  std::string plain(reinterpret_cast<const char*>(der), static_cast<size_t>(der_len));
  OPENSSL_clear_free(der, static_cast<size_t>(der_len));
  Wiped wipe_plain{plain};

  std::string salt(32, '\0'), nonce(crypto_secretbox_NONCEBYTES, '\0');
  randombytes_buf(salt.data(), salt.size());
  randombytes_buf(nonce.data(), nonce.size());
  HB_TRY(std::string box_key, DeriveKey(password, salt, kScryptN, kScryptR, kScryptP));
  Wiped wipe_key{box_key};
  std::string sealed(plain.size() + crypto_secretbox_MACBYTES, '\0');
  crypto_secretbox_easy(reinterpret_cast<uint8_t*>(sealed.data()),
                        reinterpret_cast<const uint8_t*>(plain.data()), plain.size(),
                        reinterpret_cast<const uint8_t*>(nonce.data()),
                        reinterpret_cast<const uint8_t*>(box_key.data()));

  // Member order as cosign (Go's encoding/json) writes it.
  Json doc = {{"kdf",
               {{"name", "scrypt"},
                {"params", {{"N", kScryptN}, {"r", kScryptR}, {"p", kScryptP}}},
                {"salt", Base64Encode(salt)}}},
              {"cipher", {{"name", "nacl/secretbox"}, {"nonce", Base64Encode(nonce)}}},
              {"ciphertext", Base64Encode(sealed)}};
  std::string body = doc.dump();
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio(bio.get(), std::string(kEncryptedLabel).c_str(), "",
                            reinterpret_cast<const unsigned char*>(body.data()),
                            static_cast<long>(body.size())) <= 0) {
    return Fail(ErrorCode::kInternal, "write encrypted key PEM: " + OpenSslReason());
  }
  return BioContents(bio.get());
}

Result<PrivateKey> DecryptPrivateKey(std::string_view pem, std::string_view password,
                                     std::string_view what) {
  HB_TRY_VOID(InitSodium());
  auto spec = [&](std::string_view why) {
    return Fail(ErrorCode::kSpec, fmt::format("{}: {}", what, why));
  };
  BioPtr bio = ReadBio(pem);
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long len = 0;
  if (!bio || PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) {
    return spec("not a PEM file: " + OpenSslReason());
  }
  std::string label(name), body(reinterpret_cast<const char*>(data), static_cast<size_t>(len));
  OPENSSL_free(name);
  OPENSSL_free(header);
  OPENSSL_free(data);
  if (label != kEncryptedLabel && label != kLegacyEncryptedLabel) {
    return spec(fmt::format("PEM block is \"{}\", not \"{}\"", label, kEncryptedLabel));
  }

  Json doc = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return spec("encrypted key is not a JSON object");
  HB_TRY(const Json* kdf, Member(doc, "kdf", "the key document", what));
  HB_TRY(const Json* cipher, Member(doc, "cipher", "the key document", what));
  HB_TRY(std::string kdf_name, StringMember(*kdf, "name", "kdf", what));
  if (kdf_name != "scrypt") return spec(fmt::format("unknown kdf \"{}\" (want scrypt)", kdf_name));
  HB_TRY(std::string cipher_name, StringMember(*cipher, "name", "cipher", what));
  if (cipher_name != "nacl/secretbox") {
    return spec(fmt::format("unknown cipher \"{}\" (want nacl/secretbox)", cipher_name));
  }
  HB_TRY(const Json* params, Member(*kdf, "params", "kdf", what));
  HB_TRY(uint64_t n, UintMember(*params, "N", what));
  HB_TRY(uint64_t r, UintMember(*params, "r", what));
  HB_TRY(uint64_t p, UintMember(*params, "p", what));
  if (n < 2 || (n & (n - 1)) != 0) return spec(fmt::format("scrypt N={} is not a power of 2", n));
  if (r == 0 || p == 0 || n > kMaxScryptNr || r > kMaxScryptNr / n || p > kMaxScryptNrp / (n * r)) {
    return spec(fmt::format("scrypt parameters N={} r={} p={} are too costly", n, r, p));
  }
  HB_TRY(std::string salt, Base64Member(*kdf, "salt", "kdf", what));
  HB_TRY(std::string nonce, Base64Member(*cipher, "nonce", "cipher", what));
  HB_TRY(std::string sealed, Base64Member(doc, "ciphertext", "the key document", what));
  if (nonce.size() != crypto_secretbox_NONCEBYTES) {
    return spec(
        fmt::format("nonce has {} bytes, not {}", nonce.size(), crypto_secretbox_NONCEBYTES));
  }
  if (sealed.size() < crypto_secretbox_MACBYTES) return spec("ciphertext is truncated");

  HB_TRY(std::string box_key, DeriveKey(password, salt, n, r, p));
  Wiped wipe_key{box_key};
  std::string plain(sealed.size() - crypto_secretbox_MACBYTES, '\0');
  Wiped wipe_plain{plain};
  if (crypto_secretbox_open_easy(reinterpret_cast<uint8_t*>(plain.data()),
                                 reinterpret_cast<const uint8_t*>(sealed.data()), sealed.size(),
                                 reinterpret_cast<const uint8_t*>(nonce.data()),
                                 reinterpret_cast<const uint8_t*>(box_key.data())) != 0) {
    return Fail(ErrorCode::kAuth,
                fmt::format("{}: wrong password (the key does not decrypt)", what));
  }

  const auto* in = reinterpret_cast<const unsigned char*>(plain.data());
  PKCS8_PRIV_KEY_INFO* p8 = d2i_PKCS8_PRIV_KEY_INFO(nullptr, &in, static_cast<long>(plain.size()));
  bool whole = in == reinterpret_cast<const unsigned char*>(plain.data()) + plain.size();
  EVP_PKEY* raw = p8 != nullptr && whole ? EVP_PKCS82PKEY(p8) : nullptr;
  PKCS8_PRIV_KEY_INFO_free(p8);
  if (raw == nullptr) return spec("decrypted key is not PKCS#8 DER: " + OpenSslReason());
  auto key = Own(raw);
  HB_TRY_VOID(CheckP256(key.get(), what));
  return PrivateKey(std::move(key));
}

}  // namespace hardbase::sign
