// `hardbase audit`: an image's attack surface and hygiene, from what was read of it (its whole
// file tree with the contents of a few files, its config, its packages, the vulnerability
// findings of those, the signatures and SBOMs stored with it, optionally the Dockerfile it was
// built from), as a report with a score. Pure: facts in, report out; pipeline/audit.h reads the
// facts from any image.
//
// The score starts at 100; each finding takes off points (never below 0):
//   runs as root (no User, "root", uid 0)                         high    15
//   a shell / a package manager                                   high    10 each kind
//   a compiler / a debugger / a network tool                      medium   5 each kind
//   setuid or setgid files                                        high     2 each, at most 10
//   world-writable files or directories (sticky dirs like /tmp, device nodes a runtime's own /dev
//   hides, and symlinks do not count)                             medium   2 each, at most 10
//   a secret in a file (also one a later layer deleted: it is still in the layer blob)
//                                                                 high    15 each, at most 30
//   a secret in the config's environment                          high    10 each, at most 20
//   a secret in a file a package ships (test keys in a Debian package's tests, say)
//                                                                 low      0 (listed, not scored)
//   fixable vulnerabilities                                       high/medium: 5 per critical,
//                                                                 3 per high, 1 per medium, at most
//                                                                 20
//   vulnerabilities without a fix                                 low: 2 per critical, 1 per two
//                                                                 high, at most 10
//   no package database (nothing can be scanned)                  medium   5
//   no signature / an invalid signature                           medium 5 / high 15
//   no SBOM stored with the image                                 low      3
//   no HEALTHCHECK                                                low      2
//   regular files no package owns (bookkeeping under var/lib/dpkg aside)
//                                                                 low      1 per 50, at most 5
//   packages without a copyright file                             low      1 each, at most 5
//   packages beyond 20                                            low      1 per 10, at most 10
//   with a Dockerfile: ADD (CIS 4.9) 2, "apt-get update" alone in a RUN (4.7) 2, a secret-named
//   ENV or ARG with a value (4.10) 10 each, at most 20
// Findings that cost nothing are "info" (a signature present but not checked without a key, no
// vulnerability database to match with, ports exposed, unknown file owners).
// Grade: A from 90, B from 80, C from 70, D from 60, F below.
//
// The CIS Docker Benchmark's image checks (section 4, v1.6.0), each pass/fail/n/a with evidence:
//   4.1 a non-root user; 4.2 trusted base images (a signature verified with the given key);
//   4.3 no unnecessary packages (no shell, package manager, compiler, debugger, network tool);
//   4.4 scanned and rebuilt with security patches (no fixable vulnerability);
//   4.5 content trust (a signature: verified with --key, or present without one);
//   4.6 HEALTHCHECK (in the config, or the Dockerfile); 4.7 update instructions not alone
//   (Dockerfile); 4.8 no setuid/setgid files; 4.9 COPY, not ADD (Dockerfile); 4.10 no secrets
//   (files, removed files, config environment, Dockerfile ENV/ARG); 4.11 only verified packages
//   (apt not told to trust unsigned repositories).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "deb/installed_package.h"
#include "dockerfile/dockerfile.h"
#include "oci/image.h"
#include "oci/image_source.h"
#include "vuln/match.h"

namespace hardbase::audit {

// Whether the audit wants the content of the file at `path` of an image: the dpkg database (its
// package lists and file lists), os-release, /etc/passwd and /etc/group, apt's sources and
// configuration.
bool IsAuditedFile(std::string_view path);

// A secret found in one layer's copy of a file.
struct LayerSecret {
  size_t layer = 0;
  std::string path;  // normalised
  std::string kind;
  int line = 0;
};

// What is stored with the image to prove where it came from.
struct Provenance {
  enum class Signature { kAbsent, kPresent, kVerified, kInvalid };
  Signature signature = Signature::kAbsent;
  bool key_given = false;      // verified against --key (else presence only)
  std::string key;             // the key's hint, when given
  bool sbom = false;           // an SBOM referrer, a cosign .sbom tag or an SBOM attestation
  bool sbom_verified = false;  // an SBOM attestation that verifies with the key
  int attestations = 0;        // attestations present (DSSE layers at .att, bundle referrers)
  std::string evidence;        // where the signatures are / what failed, one line
};
std::string_view SignatureName(Provenance::Signature signature);  // "absent", "present", ...

// The vulnerability findings of the image's packages, when a database could be matched.
struct VulnerabilityFacts {
  bool matched = false;
  std::vector<vuln::Finding> findings;
  std::string note;  // why nothing was matched, or the database's source and date
};

struct ImageFacts {
  std::string reference;  // as given
  std::string name;
  std::string digest;  // the platform manifest's; "" for a directory
  std::string created;
  std::string architecture;
  uint64_t size = 0;  // compressed layers (files of a directory)
  size_t layers = 0;
  oci::ImageTree tree;      // every path, with the IsAuditedFile contents
  oci::ImageConfig config;  // empty for a directory
  bool has_config = false;
  std::string package_database;  // as pipeline::Inventory names it; "" when none
  std::vector<deb::InstalledPackage> packages;
  std::vector<LayerSecret> secrets;  // every layer's, before deciding what is still there
  VulnerabilityFacts vulnerabilities;
  Provenance provenance;
  std::optional<dockerfile::Dockerfile> dockerfile;
  std::string dockerfile_path;
};

enum class Severity { kInfo, kLow, kMedium, kHigh };
std::string_view SeverityName(Severity severity);  // "info", "low", "medium", "high"

struct Tool {
  std::string path;  // "/usr/bin/bash"
  std::string package;
};

struct ModeFile {
  std::string path;
  uint32_t mode = 0;
  std::string package;
};

struct Secret {
  std::string path;
  std::string kind;
  int line = 0;
  size_t layer = 0;
  bool removed = false;  // no longer in the image's filesystem, still in its layer blob
  std::string package;   // the package that ships the file ("" when none)
};

struct ConfigSummary {
  std::string user;  // as the config says ("" = root)
  bool runs_as_root = true;
  std::string user_evidence;  // "uid 0", "nonroot (uid 65532 in /etc/passwd)", ...
  bool healthcheck = false;
  std::vector<std::string> exposed_ports;
  std::vector<std::string> env_secrets;
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
};

struct SeverityCount {
  int fixable = 0;
  int unfixed = 0;
};
struct VulnerabilitySummary {
  bool database = false;
  int total = 0;  // kernel-header findings (the kernel's, not the container's) left out
  SeverityCount critical, high, medium, low, negligible, unknown;
  std::string note;
};

struct CisCheck {
  enum class Status { kPass, kFail, kNotApplicable };
  std::string id;
  std::string title;
  Status status = Status::kNotApplicable;
  std::string evidence;
};
std::string_view CisStatusName(CisCheck::Status status);  // "pass", "fail", "n/a"

struct Finding {
  std::string id;  // "runs-as-root", "shell", "secret", ...
  Severity severity = Severity::kInfo;
  std::string title;
  std::vector<std::string> evidence;
  int points = 0;  // taken off the score
};

struct Report {
  // The image.
  std::string reference, name, digest, created, architecture;
  std::string distro;  // os-release PRETTY_NAME, "" when none
  int packages = 0;
  uint64_t size = 0;
  int files = 0;  // regular files
  size_t layers = 0;

  int score = 100;
  std::string grade;
  std::vector<std::vector<Tool>> surface;  // by ToolKinds() order
  std::vector<ModeFile> setuid;            // setuid or setgid regular files
  std::vector<ModeFile> world_writable;
  std::vector<Secret> secrets;
  bool file_lists = false;  // whether ownership is known (unowned_* mean something)
  int unowned_count = 0;
  std::vector<std::string> unowned_sample;  // up to 20, sorted
  std::vector<std::string> packages_without_copyright;
  ConfigSummary config;
  VulnerabilitySummary vulnerabilities;
  Provenance provenance;
  std::vector<CisCheck> cis;
  std::vector<Finding> findings;  // worst first
};

Report Audit(const ImageFacts& facts);

// The grade of a score.
std::string Grade(int score);

}  // namespace hardbase::audit
