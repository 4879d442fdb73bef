// OpenPGP public keys trusted to sign repositories, and verification of clear-signed InRelease
// files against them (librnp).
//
// This is the root of the trust chain: VerifyClearsigned returns only text that a key of the
// keyring signed, so everything parsed from it afterwards (Release hashes, then Packages, then
// .debs) inherits that signature.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

struct rnp_ffi_st;

namespace hardbase::deb {

struct VerifiedText {
  // Exactly the text the signatures cover (dash-escaping undone); anything before the
  // "-----BEGIN PGP SIGNED MESSAGE-----" line or after the signature block is not part of it.
  std::string signed_text;
  // Primary-key fingerprints of the good signatures (a subkey's signature names its primary),
  // unique, in signature order.
  std::vector<std::string> signer_fingerprints;
};

// A set of public keys. Owns its librnp context; movable, not copyable. One Keyring may be used
// by several threads: calls are serialized internally (librnp contexts are not thread-safe).
class Keyring {
 public:
  // An empty keyring (verifies nothing until keys are added).
  static Result<Keyring> Create();
  // A keyring holding the keys of every file in `paths` (see AddFile).
  static Result<Keyring> FromFiles(const std::vector<std::string>& paths);

  Keyring(Keyring&&) noexcept;
  Keyring& operator=(Keyring&&) noexcept;
  Keyring(const Keyring&) = delete;
  Keyring& operator=(const Keyring&) = delete;
  ~Keyring();

  // Adds the public keys of a keyring file, binary (apt's *.gpg, `gpg --export`) or armored
  // (*.asc). kIo when unreadable; kSpec when it holds no usable OpenPGP public key (a GnuPG
  // keybox file, which apt does not read either, is named as such).
  Result<void> AddFile(const std::string& path);
  // Adds keys from armored text, e.g. the key block a deb822 Signed-By field embeds. `what`
  // names the text in errors and in VerifyClearsigned's messages.
  Result<void> AddArmored(std::string_view armored, std::string_view what);

  // Fingerprints (40 uppercase hex digits for v4 keys, as gpg prints them) of the primary keys,
  // sorted.
  std::vector<std::string> PrimaryFingerprints() const;
  // What the keys were loaded from, in order: file paths and `what` names of inline keys.
  const std::vector<std::string>& sources() const { return sources_; }

 private:
  struct FfiDeleter {
    void operator()(rnp_ffi_st* ffi) const;
  };
  explicit Keyring(std::unique_ptr<rnp_ffi_st, FfiDeleter> ffi);
  Result<void> Import(std::string_view data, const std::string& source);

  std::unique_ptr<rnp_ffi_st, FfiDeleter> ffi_;
  std::unique_ptr<std::mutex> mu_;
  std::vector<std::string> sources_;

  friend Result<VerifiedText> VerifyClearsigned(const Keyring& keyring,
                                                std::string_view clearsigned,
                                                std::string_view what);
};

// Verifies a clear-signed document such as InRelease. `what` names it in errors
// ("InRelease of bookworm"). At least one signature must be good; otherwise kIntegrity listing
// what was wrong with each ("InRelease of bookworm: no good signature from keyring
// /usr/share/keyrings/x.gpg: 1 signature by unknown key 0x6ED0E7B82643E131"). Input that is not
// clear-signed, including OpenPGP messages of other kinds, is kIntegrity "not an OpenPGP
// clear-signed document".
Result<VerifiedText> VerifyClearsigned(const Keyring& keyring, std::string_view clearsigned,
                                       std::string_view what);

}  // namespace hardbase::deb
