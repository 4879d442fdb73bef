// The image spec: what a user asks for in `image.yaml`, as a plain value with every default filled.
//
// ParseImageSpec turns YAML text into an ImageSpec and rejects anything it does not understand
// with a kSpec error "file:line:column: where: what" (unknown keys get a did-you-mean). It reports
// every mistake of a spec at once: one is the error's message, several are its details, in source
// order, under the message "file: N errors".
// It does no file IO: relative paths (keyrings, `files` sources) are kept exactly as written, and
// ImageSpec::ResolvePath makes them absolute against the spec's directory when a later step needs
// the file. The whole key set (see docs/spec.md) is parsed and validated here, including the keys
// that only the image builder uses, so later code reads fields and never YAML.
//
// ResolutionDigest condenses the part of a spec that decides *which packages* get locked; a lock
// records it, and a lock whose digest differs from its spec's is stale.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "spec/names.h"

namespace hardbase::spec {

// Where a value was written in the spec (1-based; 0 when not from a file, e.g. a default), so that
// later steps can point at it: "image.yaml:12:5: unknown package 'foo'".
struct SourceLocation {
  int line = 0;
  int column = 0;
  bool operator==(const SourceLocation&) const = default;
};

// The Debian archive keyring, used for a `repositories` entry that names no keyring.
inline constexpr std::string_view kDefaultKeyring =
    "/usr/share/keyrings/debian-archive-keyring.gpg";

// One `repositories` entry: an apt repository in deb822 terms (URIs/Suites/Components/Signed-By).
struct Repository {
  std::string url;                  // http(s):// or file:// base URL
  std::vector<std::string> suites;  // e.g. bookworm, bookworm-security; non-empty
  std::vector<std::string> components = {"main"};
  std::string keyring = std::string(kDefaultKeyring);  // as written; relative to the spec's dir
  std::vector<std::string> architectures;              // empty: every arch of the image
  SourceLocation where;
  bool operator==(const Repository&) const = default;
};

// One `packages` entry: "name" (newest available) or "name=version" (exactly that version).
struct PackageRequest {
  std::string name;
  std::string version;  // empty unless pinned
  SourceLocation where;
  // "name" or "name=version", as the user would write it.
  std::string ToString() const { return version.empty() ? name : name + "=" + version; }
  bool operator==(const PackageRequest&) const = default;
};

// `paths`: globs over package contents (absolute paths as in the .deb, e.g. /usr/lib/x/*.so).
// A package file is dropped when it matches an `exclude` glob (or the builder's default strip list:
// docs, man pages, locales) unless it also matches an `include` glob. `*` and `?` stay within one
// path component, `**` spans components, `[...]` is a character class.
struct PathFilter {
  std::vector<std::string> include;
  std::vector<std::string> exclude;
  bool operator==(const PathFilter&) const = default;
};

// One `files` entry: a local file or directory copied into the image.
struct FileEntry {
  std::string src;               // as written; relative to the spec's dir
  std::string dest;              // absolute path in the image
  std::optional<uint32_t> mode;  // permission bits (<= 07777); nullopt: 0755 for directories and
                                 // owner-executable files, 0644 otherwise
  // `owner`: "user:group", each a name or a decimal id; a lone name means that user and its
  // primary group (group left empty), a lone number n means n:n. Default 0:0.
  std::string user = "0";
  std::string group = "0";
  SourceLocation where;
  bool operator==(const FileEntry&) const = default;
};

// One `dirs` entry: a directory the image has, with its owner and mode, for what a package's
// maintainer scripts would have made and hardbase could not read from them (a service's data, log
// or runtime directory). Missing parents are made 0755 root; an existing directory (a package's)
// gets this owner and mode.
struct DirEntry {
  std::string path;  // absolute, normalised, not "/"
  uint32_t mode = 0755;
  // `owner`, as for FileEntry: each a name (the spec's accounts, base-passwd's or a package's
  // service user, checked when the image is built) or a decimal id; "" group: the user's primary
  // group.
  std::string user = "0";
  std::string group = "0";
  SourceLocation where;
  bool operator==(const DirEntry&) const = default;
};

struct Group {
  std::string name;
  uint32_t gid = 0;
  bool operator==(const Group&) const = default;
};

struct User {
  std::string name;
  uint32_t uid = 0;
  uint32_t gid = 0;  // default: the uid
  std::string home;  // default: /home/<name>
  std::string shell = "/usr/sbin/nologin";
  bool operator==(const User&) const = default;
};

// The image's own accounts, added to base-passwd's system users by the builder.
// Without `accounts`: user and group `nonroot` (65532), home /home/nonroot, run as nonroot (as root
// in the dev variant, a build stage).
// With `accounts`: `users` absent keeps that default user; `groups` absent gives each user whose
// gid is not a Debian system gid (below 1000, or 65534 nogroup) a group of its own name; `run-as`
// absent means the first user (an empty `users` list then needs an explicit `run-as`).
struct Accounts {
  std::vector<Group> groups;
  std::vector<User> users;
  // A user name (from `users`, base-passwd, or made by a package's setup: checked when the image
  // is built, against its final /etc/passwd), "root", or a decimal uid.
  std::string run_as;
  bool operator==(const Accounts&) const = default;
};

enum class Variant {
  kStandard,
  kDebug,  // adds busybox, as a shell for troubleshooting, and nothing else
  // The build stage of a multi-stage build: nothing is left out for hardening (shells, apt, dpkg
  // stay), dpkg's database and apt's sources are written so that apt works, and it runs as root.
  kDev,
};

// "standard", "debug" or "dev".
std::string_view VariantName(Variant variant);

inline constexpr uint32_t kNonrootId = 65532;

struct ImageSpec {
  std::string source_file;  // the file name given to ParseImageSpec (used in messages)
  std::string base_dir;     // where relative paths in the spec start: the spec file's directory

  std::string name;
  std::vector<Repository> repositories;       // empty: the host's apt sources
  std::vector<std::string> archs;             // default: {HostArchitecture()}
  std::vector<PackageRequest> packages;       // non-empty, no name twice
  std::vector<std::string> exclude;           // package names; may repeat
  std::vector<SourceLocation> exclude_where;  // where each `exclude` entry is written, in order
  PathFilter paths;
  std::vector<FileEntry> files;
  std::vector<DirEntry> dirs;
  Accounts accounts;
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::map<std::string, std::string> env;  // PATH defaults to Debian's standard PATH
  std::string workdir = "/";
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  Variant variant = Variant::kStandard;

  // `path` if absolute, else `path` under base_dir, lexically normalised ("./a/../b" -> "b").
  std::string ResolvePath(std::string_view path) const;
  // "image.yaml:12:5" for a location in this spec (just the file name when the location is unset).
  std::string Locate(SourceLocation where) const;

  bool operator==(const ImageSpec&) const = default;
};

// Debian's default PATH, which `env` gets when it does not set PATH.
inline constexpr std::string_view kDefaultPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// Parses and validates spec text. `file_name` is used in messages and to set source_file and
// base_dir (its directory part); nothing is read from disk. When `archs` is absent the host's
// architecture is filled in (see HostArchitecture in spec/names.h).
// On failure, a single mistake is the kSpec error's one-line message; several (up to 1000, after
// which reading stops) give the message "file: N errors" and one detail line each, sorted by line
// and column, the first 20 listed and then "... and M more errors". A YAML syntax error is always
// reported alone.
Result<ImageSpec> ParseImageSpec(std::string_view yaml_text, std::string_view file_name);

// Reads `path` and parses it: kIo if it cannot be read or is not a regular file (a FIFO would
// block), kSpec if it is larger than 4 MiB.
Result<ImageSpec> LoadImageSpec(const std::string& path);

// `path` if absolute, else `path` under `base_dir` ("" or "." mean the current directory),
// lexically normalised.
std::string ResolveRelativePath(std::string_view base_dir, std::string_view path);

// The packages the resolver must install: `packages`, plus busybox for the debug variant (unless
// the spec already names it).
std::vector<PackageRequest> RequestedPackages(const ImageSpec& spec);

// "sha256:<hex>" over a canonical JSON of exactly what decides resolution:
//   repositories (in order, with url, suites, components, keyring path as written, architectures),
//   archs (sorted), packages ("name" or "name=version", sorted, deduplicated), exclude (sorted,
//   deduplicated), and variant ("debug" adds busybox).
// Everything else (name, paths, files, dirs, accounts, entrypoint, cmd, env, workdir, labels,
// annotations) only shapes the image built from the locked packages, so editing it keeps the lock
// valid; the order in which keys or packages are written does not matter either. The keyring's
// *content* is not hashed here: the lock records the fingerprints that verified each release.
// With no `repositories`, the host's apt sources are used and are not part of the digest; the
// lock's `releases` say which suites it came from.
std::string ResolutionDigest(const ImageSpec& spec);

}  // namespace hardbase::spec
