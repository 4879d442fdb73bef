// Builds signed Debian repositories on disk for tests: real .deb files (dpkg-deb), Packages and
// Packages.xz indexes, a Release file and an InRelease clear-signed by GnuPG with a throw-away
// key, plus deliberately broken variants (tampered, wrongly signed, unsigned, expired, bad
// hashes, truncated index, corrupt .deb).
//
// Everything here is made with Debian's own tools (gpg, dpkg-deb, xz), not with hardbase code,
// so tests that read these repositories check hardbase against independent implementations.
// The keys are generated once per test process in a private GNUPGHOME that is removed (and its
// gpg-agent stopped) at exit. Not thread-safe: use one fixture from one thread.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.h"

namespace hardbase::testing {

// One binary package to build. Every member has a default, so designated initializers may
// name only what a test needs: PackageSpec{.name = "hello", .version = "1.0"}.
struct PackageSpec {
  std::string name = {};
  std::string version = {};  // may carry an epoch ("1:2.0-1"); the pool file name drops it
  std::string architecture = "amd64";  // the package's Architecture field ("all" allowed)
  // Further control fields in order, e.g. {"Depends", "libc6 (>= 2.36)"}, {"Multi-Arch", "same"},
  // {"Source", "foo (1.0-1)"}. Written into the .deb and into the Packages stanza.
  std::vector<std::pair<std::string, std::string>> fields = {};
  // Regular files in the package: path relative to the root ("usr/bin/hello") -> content.
  std::map<std::string, std::string> files = {};
  // Symbolic links: path -> target.
  std::map<std::string, std::string> symlinks = {};
  // Mode overrides for `files` (default 0644, or 0755 under bin/ and sbin/ directories).
  std::map<std::string, int> modes = {};
  // Control members besides "control": "postinst", "conffiles", "md5sums", ...
  std::map<std::string, std::string> control_files = {};
  // Change one byte of the built .deb after its SHA256 went into the index.
  bool corrupt_deb = false;
  // When not empty, published (and hashed into the index) instead of what dpkg-deb built: a .deb
  // crafted by the test, e.g. one dpkg-deb refuses to build.
  std::string deb_bytes = {};
};

// What AddPackage put into the repository.
struct PublishedPackage {
  std::string name, version, architecture;
  std::string filename;  // repository-relative: "pool/main/h/hello/hello_1.0_amd64.deb"
  std::string path;      // absolute path of the .deb
  uint64_t size = 0;
  std::string sha256;
  std::string stanza;  // the Packages stanza, without a trailing blank line
};

struct PublishOptions {
  enum class Signature {
    kGood,        // clear-signed by the key in KeyringPath()
    kTampered,    // as kGood, then one byte of the signed text changed (the Origin value's first)
    kUnknownKey,  // clear-signed by a second key that KeyringPath() does not hold
    kSubkey,      // clear-signed by a signing subkey of a third key that KeyringPath() holds
    kUnsigned,    // InRelease is the bare Release text
  };
  Signature signature = Signature::kGood;
  int64_t date = 0;      // the Release Date; 0: now
  bool expired = false;  // Date 8 days ago, Valid-Until 1 day ago
  // Packages.xz bytes that differ from what the Release lists (a valid xz of other text).
  bool packages_xz_hash_mismatch = false;
  // Packages.xz cut in half after the Release recorded the hash of the whole.
  bool packages_xz_truncated = false;
  // Raw text appended to every Packages index before it is hashed and signed (malformed stanzas).
  std::string extra_packages_text;
  std::string origin = "hardbase-test";
  std::string label = "hardbase-test";
  std::string codename;  // default: the suite name
  // binary-<arch> indexes to write; default: the architectures AddPackage used for the suite
  // (amd64 when there are none).
  std::vector<std::string> architectures;
};

// Throw-away OpenPGP keys for one test process.
struct TestSigningKeys {
  std::string gnupg_home;                  // GNUPGHOME holding all keys (pass it to gpg --homedir)
  std::string fingerprint;                 // primary key that signs kGood repositories
  std::string other_fingerprint;           // key for kUnknownKey, absent from keyring_path
  std::string subkey_primary_fingerprint;  // primary of the kSubkey signer
  std::string subkey_fingerprint;          // its signing subkey
  std::string keyring_path;                // binary public keyring: `fingerprint` + subkey primary
  std::string armored_public_key;          // armored public key of `fingerprint` only
};

class RepoFixture {
 public:
  // A repository rooted at `root` (created if missing): pool/ and dists/ go below it.
  explicit RepoFixture(std::string root);

  const std::string& root() const { return root_; }

  // Builds the .deb into pool/main/<p>/<source>/ and adds its stanza to the binary-`arch` index
  // of `suite` (published by the next Publish). Adding the same package to several
  // architectures (Architecture: all) builds it once.
  Result<PublishedPackage> AddPackage(const std::string& suite, const std::string& arch,
                                      const PackageSpec& spec);

  // Writes dists/<suite>/{Release,InRelease} and main/binary-<arch>/Packages{,.xz}.
  Result<void> Publish(const std::string& suite, const PublishOptions& options = {});

  // deb822 sources text for this repository at `uri` (e.g. "http://127.0.0.1:8080" or
  // "file:///tmp/x"): Signed-By names KeyringPath(), or embeds the armored key when
  // `inline_key`.
  Result<std::string> Deb822Sources(std::string_view uri, const std::vector<std::string>& suites,
                                    bool inline_key = false) const;
  Result<void> WriteDeb822Sources(const std::string& path, std::string_view uri,
                                  const std::vector<std::string>& suites,
                                  bool inline_key = false) const;

  // The process's keys, generated on first use.
  static Result<const TestSigningKeys*> Keys();
  // Keys()->keyring_path, or "" when the keys could not be made (Publish reports why).
  static std::string KeyringPath();

  // RunProcess (support/process.h) as a Result: the program's stdout, or a kIo error quoting
  // its stderr when it exits non-zero. `env` adds variables to the environment.
  static Result<std::string> RunTool(const std::vector<std::string>& argv,
                                     const std::map<std::string, std::string>& env = {});

 private:
  std::string root_;
  // suite -> arch -> package key ("name version arch") -> stanza
  std::map<std::string, std::map<std::string, std::map<std::string, std::string>>> indexes_;
  std::set<std::string> built_;  // repository-relative .deb paths already built
  std::map<std::string, PublishedPackage> by_filename_;
};

}  // namespace hardbase::testing
