// cosign-compatible signing keys: ECDSA P-256 with SHA-256, public keys as PEM "PUBLIC KEY" (PKIX)
// and private keys in cosign's password-encrypted file format (see FORMATS.md, "cosign / sigstore
// compatibility"), so that keys move freely between hardbase and cosign.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/error.h"

struct evp_pkey_st;

namespace hardbase::sign {

// An ECDSA P-256 public key. Copies share the underlying OpenSSL key, which is never modified.
class PublicKey {
 public:
  // Reads PEM "PUBLIC KEY" (PKIX). kSpec naming `what` when it is malformed or truncated, or a key
  // of another type or curve ("<what>: an RSA key; cosign keys are ECDSA P-256").
  static Result<PublicKey> FromPem(std::string_view pem, std::string_view what);

  std::string Pem() const;
  // PKIX (SubjectPublicKeyInfo) DER encoding.
  std::string Der() const;
  // base64(sha256(PKIX DER)): how a sigstore bundle names its key
  // (verificationMaterial.publicKey.hint).
  std::string Hint() const;

  // Checks `signature_der` (ASN.1 DER ECDSA) over SHA-256(data). kVerification naming the key's
  // hint when it does not verify, also when the signature is not DER at all.
  Result<void> Verify(std::string_view data, std::string_view signature_der) const;

 private:
  explicit PublicKey(std::shared_ptr<evp_pkey_st> key) : key_(std::move(key)) {}
  std::shared_ptr<evp_pkey_st> key_;
  friend class PrivateKey;
};

// An ECDSA P-256 private key; copies share the underlying OpenSSL key.
class PrivateKey {
 public:
  static Result<PrivateKey> Generate();

  // ASN.1 DER ECDSA signature over SHA-256(data).
  Result<std::string> Sign(std::string_view data) const;
  PublicKey Public() const;

 private:
  explicit PrivateKey(std::shared_ptr<evp_pkey_st> key) : key_(std::move(key)) {}
  std::shared_ptr<evp_pkey_st> key_;
  friend Result<std::string> EncryptPrivateKey(const PrivateKey&, std::string_view);
  friend Result<PrivateKey> DecryptPrivateKey(std::string_view, std::string_view, std::string_view);
};

// cosign's encrypted private key file: the PKCS#8 DER key sealed with nacl/secretbox (random
// 24-byte nonce) under scrypt(password, random 32-byte salt, N=65536, r=8, p=1), as JSON inside
// PEM "ENCRYPTED SIGSTORE PRIVATE KEY". An empty password is allowed, as cosign allows it.
Result<std::string> EncryptPrivateKey(const PrivateKey& key, std::string_view password);

// Reads that file (also the older "ENCRYPTED COSIGN PRIVATE KEY" label), naming it `what` in
// errors. kAuth when the password is wrong; kSpec for malformed PEM, JSON or base64, an unknown
// kdf or cipher, scrypt parameters too costly to run (N*r > 2^21 or N*r*p > 2^22, i.e. more than
// 256 MiB or eight times cosign's work) or a decrypted key that is not ECDSA P-256.
Result<PrivateKey> DecryptPrivateKey(std::string_view pem, std::string_view password,
                                     std::string_view what);

}  // namespace hardbase::sign
