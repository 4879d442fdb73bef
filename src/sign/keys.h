// cosign-compatible keys. hardbase signs with ECDSA P-256 and SHA-256, keeping private keys in
// cosign's password-encrypted file format (see FORMATS.md, "cosign / sigstore compatibility"), so
// that keys move freely between hardbase and cosign; it verifies with every public key type
// cosign verifies with, read as Go's crypto/x509 reads them.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/error.h"

struct evp_pkey_st;

namespace hardbase::sign {

// A public key that verifies signatures: RSA (2048 to 16384 bits), ECDSA on P-256, P-384 or P-521,
// or Ed25519. Copies share the underlying OpenSSL key, which is never modified.
class PublicKey {
 public:
  // Reads a PEM "PUBLIC KEY" (PKIX) file holding exactly one block. kSpec naming `what` when it is
  // malformed or truncated, has text after the block, or holds a key Go's crypto/x509 would
  // refuse (bytes after the DER, explicit curve parameters, a compressed point, non-canonical
  // DER) or cosign would not verify with (RSA under 2048 bits, other curves or types):
  // "<what>: an EC secp256k1 key; cosign verifies RSA (...), ECDSA P-256/P-384/P-521 and Ed25519
  // keys".
  static Result<PublicKey> FromPem(std::string_view pem, std::string_view what);

  std::string Pem() const;
  // PKIX (SubjectPublicKeyInfo) DER encoding.
  std::string Der() const;
  // base64(sha256(PKIX DER)): how a sigstore bundle names its key
  // (verificationMaterial.publicKey.hint).
  std::string Hint() const;

  // Checks `signature` over `data`: for ECDSA an ASN.1 DER signature over the curve's hash
  // (SHA-256, SHA-384, SHA-512 for P-256, P-384, P-521), for RSA a PKCS#1 v1.5 or PSS signature
  // over SHA-256, for Ed25519 a pure Ed25519 signature. kVerification naming the key's hint when
  // it does not verify, also when it is not of the key's form at all.
  Result<void> Verify(std::string_view data, std::string_view signature) const;

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
// kdf or cipher, scrypt parameters other than the three sets cosign's library decrypts (N=32768,
// 65536 or 131072, each with r=8 p=1: weaker ones make the password cheap to guess, larger ones
// cost minutes), a salt that is not 32 bytes, or a decrypted key that is not ECDSA P-256. The
// parameters are checked before any scrypt work.
Result<PrivateKey> DecryptPrivateKey(std::string_view pem, std::string_view password,
                                     std::string_view what);

}  // namespace hardbase::sign
