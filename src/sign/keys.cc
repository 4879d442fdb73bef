#include "sign/keys.h"

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sodium.h>

#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <vector>

#include "base/base64.h"
#include "base/json_limits.h"
#include "sign/signed_json.h"

namespace hardbase::sign {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kEncryptedLabel = "ENCRYPTED SIGSTORE PRIVATE KEY";
constexpr std::string_view kLegacyEncryptedLabel = "ENCRYPTED COSIGN PRIVATE KEY";
// The scrypt parameter sets of go-securesystemslib's encrypted package, which cosign's key files
// use: it writes "standard" (what hardbase writes too) and decrypts only these three, so that a
// key file can neither make the password cheap to guess (N=2) nor cost minutes or gigabytes.
struct ScryptParams {
  uint64_t n, r, p;
};
constexpr ScryptParams kScryptLegacy{32768, 8, 1}, kScryptStandard{65536, 8, 1},
    kScryptOwasp{131072, 8, 1};
constexpr size_t kScryptSaltBytes = 32;

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

// The key of a PKIX SubjectPublicKeyInfo, accepted only in the forms Go's crypto/x509
// (ParsePKIXPublicKey, what cosign reads keys with) accepts and of the types cosign verifies
// with: RSA of 2048 to 16384 bits with NULL parameters, ECDSA on a named P-256, P-384 or P-521
// curve with an uncompressed point, or Ed25519. OpenSSL alone also takes explicit curve
// parameters, compressed points and bytes after the DER, which cosign would refuse.
Result<std::shared_ptr<EVP_PKEY>> ParsePkixStrictly(std::string_view der, std::string_view what) {
  auto bad = [&](std::string_view why) {
    return Fail(ErrorCode::kSpec, fmt::format("{}: {}", what, why));
  };
  const auto* start = reinterpret_cast<const unsigned char*>(der.data());
  const unsigned char* p = start;
  std::unique_ptr<X509_PUBKEY, decltype(&X509_PUBKEY_free)> spki(
      d2i_X509_PUBKEY(nullptr, &p, static_cast<long>(der.size())), X509_PUBKEY_free);
  if (!spki) return bad("not a PEM \"PUBLIC KEY\" (PKIX): " + OpenSslReason());
  if (p != start + der.size()) {
    return bad(fmt::format("{} bytes after the public key's DER", start + der.size() - p));
  }
  ASN1_OBJECT* algorithm = nullptr;
  const unsigned char* point = nullptr;
  int point_len = 0;
  X509_ALGOR* algor = nullptr;
  X509_PUBKEY_get0_param(&algorithm, &point, &point_len, &algor, spki.get());
  int param_type = V_ASN1_UNDEF;
  const void* param = nullptr;
  X509_ALGOR_get0(nullptr, &param_type, &param, algor);
  const std::string kAccepted =
      "; cosign verifies RSA (2048 bits or more), ECDSA P-256/P-384/P-521 and Ed25519 keys";
  int nid = OBJ_obj2nid(algorithm);
  if (nid == NID_X9_62_id_ecPublicKey) {
    if (param_type != V_ASN1_OBJECT) {
      return bad("an EC key with explicit curve parameters" + kAccepted);
    }
    int curve = OBJ_obj2nid(static_cast<const ASN1_OBJECT*>(param));
    int coordinate = curve == NID_X9_62_prime256v1 ? 32
                     : curve == NID_secp384r1      ? 48
                     : curve == NID_secp521r1      ? 66
                                                   : 0;
    if (coordinate == 0) {
      const char* sn = OBJ_nid2sn(curve);
      return bad(fmt::format("an EC {} key{}", sn != nullptr ? sn : "(unknown curve)", kAccepted));
    }
    if (point_len < 1 || point[0] != 0x04) return bad("an EC key with a compressed point");
    if (point_len != 1 + 2 * coordinate) return bad("an EC key with a malformed point");
  } else if (nid == NID_rsaEncryption) {
    if (param_type != V_ASN1_NULL) return bad("an RSA key without NULL parameters");
  } else if (nid == NID_ED25519) {
    if (param_type != V_ASN1_UNDEF) return bad("an Ed25519 key with parameters");
  } else {
    const char* sn = nid != NID_undef ? OBJ_nid2sn(nid) : nullptr;
    return bad(fmt::format("an {} key{}", sn != nullptr ? sn : "unknown", kAccepted));
  }
  EVP_PKEY* raw = X509_PUBKEY_get(spki.get());
  if (raw == nullptr) return bad("not a valid public key: " + OpenSslReason());
  auto key = Own(raw);
  if (nid == NID_rsaEncryption) {
    int bits = EVP_PKEY_get_bits(key.get());
    BIGNUM* e = nullptr;
    EVP_PKEY_get_bn_param(key.get(), "e", &e);
    bool small_e = e == nullptr || BN_num_bits(e) > 31 || BN_get_word(e) < 3;
    BN_free(e);
    if (bits < 2048 || bits > 16384) {
      return bad(fmt::format("an RSA key of {} bits{}", bits, kAccepted));
    }
    if (small_e) return bad("an RSA key whose public exponent is not between 3 and 2^31-1");
  }
  // What is left of BER's freedom (long-form lengths, leading zeros) re-encodes differently.
  unsigned char* encoded = nullptr;
  int encoded_len = i2d_PUBKEY(key.get(), &encoded);
  bool canonical = encoded_len == static_cast<int>(der.size()) &&
                   std::memcmp(encoded, der.data(), der.size()) == 0;
  OPENSSL_free(encoded);
  if (!canonical) return bad("the public key is not in canonical DER");
  ERR_clear_error();
  return key;
}

}  // namespace

Result<PublicKey> PublicKey::FromPem(std::string_view pem, std::string_view what) {
  auto bad = [&](std::string_view why) {
    return Fail(ErrorCode::kSpec, fmt::format("{}: {}", what, why));
  };
  // One PEM block and nothing else but whitespace: text after it may be another key that a
  // different reader picks.
  size_t begin = pem.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos || !pem.substr(begin).starts_with("-----BEGIN ")) {
    return bad("not a PEM \"PUBLIC KEY\" (PKIX): no PEM block at the start");
  }
  BioPtr bio = ReadBio(pem);
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long len = 0;
  if (!bio || PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) {
    return bad("not a PEM \"PUBLIC KEY\" (PKIX): " + OpenSslReason());
  }
  std::string label(name), der(reinterpret_cast<const char*>(data), static_cast<size_t>(len));
  bool has_header = header != nullptr && header[0] != '\0';
  OPENSSL_free(name);
  OPENSSL_free(header);
  OPENSSL_free(data);
  if (label != "PUBLIC KEY") {
    return bad(fmt::format("not a PEM \"PUBLIC KEY\" (PKIX): the PEM block is \"{}\"", label));
  }
  if (has_header) return bad("the PEM block has headers (an encrypted or legacy PEM)");
  if (std::string rest = BioContents(bio.get());
      rest.find_first_not_of(" \t\r\n") != std::string::npos) {
    return bad("text after the PEM block (only one public key per file)");
  }
  HB_TRY(std::shared_ptr<EVP_PKEY> key, ParsePkixStrictly(der, what));
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

Result<void> PublicKey::Verify(std::string_view data, std::string_view signature) const {
  auto fail = [&](std::string_view why) {
    return Fail(ErrorCode::kVerification,
                fmt::format("signature does not verify with key {}{}", Hint(), why));
  };
  const auto* sig = reinterpret_cast<const unsigned char*>(signature.data());
  const auto* in = reinterpret_cast<const unsigned char*>(data.data());
  const EVP_MD* md = nullptr;  // Ed25519 hashes inside the scheme
  if (EVP_PKEY_is_a(key_.get(), "EC")) {
    const unsigned char* p = sig;
    ECDSA_SIG* parsed = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(signature.size()));
    bool strict_der = parsed != nullptr && p == sig + signature.size() &&
                      i2d_ECDSA_SIG(parsed, nullptr) == static_cast<int>(signature.size());
    ECDSA_SIG_free(parsed);
    if (!strict_der) {
      ERR_clear_error();
      return fail(": not an ASN.1 DER ECDSA signature");
    }
    int bits = EVP_PKEY_get_bits(key_.get());
    md = bits > 384 ? EVP_sha512() : bits > 256 ? EVP_sha384() : EVP_sha256();
  } else if (EVP_PKEY_is_a(key_.get(), "RSA")) {
    if (signature.size() != static_cast<size_t>(EVP_PKEY_get_size(key_.get()))) {
      return fail(fmt::format(": an RSA signature of {} bytes for a {}-byte modulus",
                              signature.size(), EVP_PKEY_get_size(key_.get())));
    }
    md = EVP_sha256();
  }
  // RSA: PKCS#1 v1.5, then PSS (any salt length, MGF1 with SHA-256), as sigstore's verifiers
  // for the two schemes accept them.
  bool rsa = EVP_PKEY_is_a(key_.get(), "RSA");
  for (int padding :
       rsa ? std::vector<int>{RSA_PKCS1_PADDING, RSA_PKCS1_PSS_PADDING} : std::vector<int>{0}) {
    MdCtxPtr ctx(EVP_MD_CTX_new());
    EVP_PKEY_CTX* pctx = nullptr;
    int ok = ctx ? EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, key_.get()) : 0;
    if (ok == 1 && rsa) {
      ok = EVP_PKEY_CTX_set_rsa_padding(pctx, padding) == 1 &&
           (padding != RSA_PKCS1_PSS_PADDING ||
            (EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) == 1 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1));
    }
    if (ok == 1) ok = EVP_DigestVerify(ctx.get(), sig, signature.size(), in, data.size());
    ERR_clear_error();
    if (ok == 1) return {};
  }
  return fail("");
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

  std::string salt(kScryptSaltBytes, '\0'), nonce(crypto_secretbox_NONCEBYTES, '\0');
  randombytes_buf(salt.data(), salt.size());
  randombytes_buf(nonce.data(), nonce.size());
  HB_TRY(std::string box_key,
         DeriveKey(password, salt, kScryptStandard.n, kScryptStandard.r, kScryptStandard.p));
  Wiped wipe_key{box_key};
  std::string sealed(plain.size() + crypto_secretbox_MACBYTES, '\0');
  crypto_secretbox_easy(reinterpret_cast<uint8_t*>(sealed.data()),
                        reinterpret_cast<const uint8_t*>(plain.data()), plain.size(),
                        reinterpret_cast<const uint8_t*>(nonce.data()),
                        reinterpret_cast<const uint8_t*>(box_key.data()));

  // Member order as cosign (Go's encoding/json) writes it.
  Json doc = {
      {"kdf",
       {{"name", "scrypt"},
        {"params", {{"N", kScryptStandard.n}, {"r", kScryptStandard.r}, {"p", kScryptStandard.p}}},
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

  Json doc = ParseUntrustedJsonOrDiscarded<Json>(body);
  if (doc.is_discarded() || !doc.is_object()) return spec("encrypted key is not a JSON object");
  HB_TRY(const Json* kdf, Member(doc, "kdf", "the key document", what));
  HB_TRY(const Json* cipher, Member(doc, "cipher", "the key document", what));
  HB_TRY(std::string kdf_name, StringMember(*kdf, "name", "kdf", what));
  if (kdf_name != "scrypt") {
    return spec(fmt::format("unknown kdf {} (want scrypt)", JsonQuoted(kdf_name)));
  }
  HB_TRY(std::string cipher_name, StringMember(*cipher, "name", "cipher", what));
  if (cipher_name != "nacl/secretbox") {
    return spec(fmt::format("unknown cipher {} (want nacl/secretbox)", JsonQuoted(cipher_name)));
  }
  HB_TRY(const Json* params, Member(*kdf, "params", "kdf", what));
  HB_TRY(uint64_t n, UintMember(*params, "N", what));
  HB_TRY(uint64_t r, UintMember(*params, "r", what));
  HB_TRY(uint64_t p, UintMember(*params, "p", what));
  bool known = false;
  for (const ScryptParams& set : {kScryptLegacy, kScryptStandard, kScryptOwasp}) {
    known = known || (n == set.n && r == set.r && p == set.p);
  }
  if (!known) {
    return spec(
        fmt::format("scrypt parameters N={} r={} p={} are not one of cosign's (N=32768, "
                    "65536 or 131072 with r=8 p=1)",
                    n, r, p));
  }
  HB_TRY(std::string salt, Base64Member(*kdf, "salt", "kdf", what));
  if (salt.size() != kScryptSaltBytes) {
    return spec(fmt::format("scrypt salt has {} bytes, not {}", salt.size(), kScryptSaltBytes));
  }
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
