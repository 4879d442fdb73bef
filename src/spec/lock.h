// The lockfile: exactly which .debs an image is built from, pinned by hash, and the trust facts
// behind them (which releases, signed by which keys).
//
// A lock names no mirror: packages are given by repository-relative filename plus size and sha256,
// so any mirror (or a local copy) can serve them and the hashes pin the content. It holds no host
// name and no local clock time, so locking the same repositories on two machines gives the same
// bytes. `hardbase lock` writes it (LockToJson, through pipeline::WriteLock, which first reads it
// back); every later command reads it (ParseLock) and first checks that it still belongs to its
// spec (CheckLockMatchesSpec).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "spec/image_spec.h"

namespace hardbase::spec {

// The lock format this code reads and writes; ParseLock rejects any other.
inline constexpr int kLockVersion = 1;

// Where a package came from, without a mirror URL.
struct LockedRepository {
  std::string origin;     // the release's Origin, e.g. "Debian"
  std::string suite;      // the Codename-style name used in sources, e.g. bookworm-security
  std::string component;  // e.g. main
  bool operator==(const LockedRepository&) const = default;
};

struct LockedPackage {
  std::string name;
  std::string version;
  std::string architecture;    // the package's own: an image arch, or "all"
  std::string source;          // source package name (the binary's name when Packages omits it)
  std::string source_version;  // source version (the binary's version when Packages omits it)
  LockedRepository repository;
  std::string
      filename;  // repository-relative, e.g. pool/main/b/base-files/base-files_12.4_amd64.deb
  uint64_t size = 0;
  std::string sha256;                    // 64 lowercase hex digits
  std::vector<std::string> required_by;  // packages that pulled it in, or "(spec)" if named there
  bool operator==(const LockedPackage&) const = default;
};

// The "(spec)" entry of LockedPackage::required_by and Exclusion::wanted_by.
inline constexpr std::string_view kRequiredBySpec = "(spec)";
// The LockedPackage::required_by entry of libc-bin when hardbase added it to a closure that has
// libc6 for the C.UTF-8 locale it ships (/usr/lib/locale/C.utf8), which programs expect to find.
inline constexpr std::string_view kRequiredForLocale = "(hardbase: C.UTF-8 locale)";
// The LockedPackage::required_by entry of a package of Debian's Essential set that a dev image's
// lock adds, since apt and maintainer scripts take that set for granted.
inline constexpr std::string_view kRequiredForEssential = "(hardbase: Essential)";

// A package left out of the closure, and who depended on it (never no one).
struct Exclusion {
  std::string name;
  std::vector<std::string> wanted_by;
  bool operator==(const Exclusion&) const = default;
};

struct ArchLock {
  std::string arch;
  std::vector<LockedPackage> packages;
  std::vector<Exclusion> excluded;  // by the spec's `exclude`
  // By the image's hardening policy (image::HardeningExclusions of the spec's variant): only
  // those something depended on. Optional when read (locks before it have none).
  std::vector<Exclusion> left_out;
  bool operator==(const ArchLock&) const = default;
};

// One InRelease file the resolution used.
struct ReleaseRecord {
  std::string origin;
  std::string suite;                   // as written in sources (e.g. bookworm-security)
  std::string codename;                // the release's Codename field
  std::string date;                    // its Date, as RFC 3339 UTC: 2025-02-08T10:44:01Z
  std::vector<std::string> signed_by;  // fingerprints (hex) of the keys whose signatures verified
  bool operator==(const ReleaseRecord&) const = default;
};

struct Lock {
  int lock_version = kLockVersion;
  std::string spec_digest;                        // ResolutionDigest of the spec, "sha256:<hex>"
  std::vector<std::string> keyring_fingerprints;  // every key of the keyrings used (hex)
  std::vector<ReleaseRecord> releases;
  int64_t source_date_epoch = 0;  // newest release Date, in seconds; the image's timestamps
  std::vector<ArchLock> archs;
  bool operator==(const Lock&) const = default;
};

// The lock as JSON, deterministically: fixed key order, 2-space indentation, trailing newline.
// Lists are written in a canonical order whatever the order in `lock`: archs by arch, packages by
// name (then architecture, version), exclusions and left-outs by name, releases by (origin,
// suite), and fingerprints, required_by and wanted_by sorted and deduplicated. Pure: same Lock,
// same bytes.
std::string LockToJson(const Lock& lock);

// The lock in LockToJson's canonical order, so that ParseLock(LockToJson(l)) == CanonicalLock(l).
Lock CanonicalLock(Lock lock);

// Parses and validates a lock. Errors are kSpec and name the JSON pointer of the bad value:
// "image.lock.json: /archs/0/packages/3/sha256: expected 64 lowercase hex digits". Unknown keys and
// an unknown lock_version are rejected (a newer hardbase wrote it); duplicate packages in one arch
// and duplicate archs too, and a package both locked and left out (or excluded) or one left out
// that no one wanted.
Result<Lock> ParseLock(std::string_view json, std::string_view file_name);

// Reads and parses a lock file (kIo if it cannot be read or is not a regular file, kNotFound if
// it does not exist, kSpec if it is larger than 64 MiB).
Result<Lock> LoadLock(const std::string& path);

// "dir/image.yaml" -> "dir/image.lock.json"; ".yml" likewise; any other name gets ".lock.json"
// appended.
std::string DefaultLockPath(const std::string& spec_path);

// kStale when `lock` was not made from a spec that resolves like `spec` (their ResolutionDigest
// differ): "image.lock.json was made for another spec (digest sha256:aaa, spec now sha256:bbb):
// run hardbase lock".
Result<void> CheckLockMatchesSpec(const Lock& lock, const ImageSpec& spec,
                                  std::string_view lock_path);

}  // namespace hardbase::spec
