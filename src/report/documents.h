// The JSON documents `hardbase report` renders, read into plain values and checked.
//
// They come from `audit --json` (one image, or two with --compare), `diff --json` and
// `migrate --json`, but a report is rendered from whatever files it is given: every field is
// type-checked, and a field of the wrong type is a kSpec error naming the file and the field
// ("before.json: after.surface.shells[2].path: expected a string, found a number"), never an
// exception. A field that is missing (or null) is read as "not reported": an empty string, an
// unset optional; only what the report cannot do without is required.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace hardbase::report {

// A parsed JSON document and the file it came from, which errors name.
struct Document {
  nlohmann::json json;
  std::string file;
};

// `text` parsed within base/json_limits.h's bounds; kSpec naming `file` when it is not JSON.
Result<Document> ParseDocument(std::string_view text, std::string file);

// --- hardbase.audit/v1 -----------------------------------------------------------------------

// A file the audit found: an executable of the attack surface, a setuid or world-writable file.
struct AuditFile {
  std::string path;
  std::string package;  // "" when no package owns it (or not reported)
  std::string mode;     // "4755"; "" for the surface lists
};

struct AuditSecret {
  std::string path;
  std::string kind;
  int64_t line = 0;
  int64_t layer = 0;
  bool removed = false;  // deleted by a later layer, still in a layer blob
};

struct CisCheck {
  std::string id;
  std::string title;
  std::string status;  // "pass", "fail" or "n/a"
  std::string evidence;
};

struct AuditFinding {
  std::string id;
  std::string severity;  // "high", "medium", "low" or "info"
  std::string title;
  std::vector<std::string> evidence;
};

// The severities of vulnerabilities, most severe first: the keys of "by_severity" (Debian's
// "negligible" for what its tracker calls unimportant; a key the document lacks counts 0).
inline constexpr std::string_view kSeverities[] = {"critical", "high",       "medium",
                                                   "low",      "negligible", "unknown"};

struct SeverityCount {
  int64_t fixable = 0;
  int64_t unfixed = 0;
};

// The attack-surface categories, in the order of the report: the keys of "surface".
inline constexpr std::string_view kSurfaceCategories[] = {"shells", "package_managers", "compilers",
                                                          "debuggers", "network_tools"};

// One image's audit. Optional fields and sections are unset when the document lacks them.
struct Audit {
  std::string reference, name, digest, created, architecture, distro, user;
  std::optional<int64_t> packages, size_bytes, files, layers;
  int64_t score = 0;  // 0..100
  std::string grade;  // "A".."F"
  // kSurfaceCategories -> files found; a category the document lacks is absent.
  std::map<std::string, std::vector<AuditFile>, std::less<>> surface;
  std::optional<std::vector<AuditFile>> setuid, world_writable;
  std::optional<std::vector<AuditSecret>> secrets;
  std::optional<int64_t> unowned_files;
  std::vector<std::string> unowned_sample;
  std::optional<std::vector<std::string>> packages_without_copyright;
  // config
  std::optional<bool> runs_as_root, healthcheck;
  std::string config_user;
  std::vector<std::string> exposed_ports, entrypoint, cmd;
  std::optional<std::vector<std::string>> env_secrets;
  // vulnerabilities: unset when the document has no "vulnerabilities"; `database` false when
  // the audit had no vulnerability database to match with (the counts then mean nothing).
  std::optional<bool> vuln_database;
  std::string vuln_note;  // why there was no database, when there was none
  int64_t vuln_total = 0;
  std::map<std::string, SeverityCount, std::less<>> by_severity;  // kSeverities -> counts
  // provenance
  std::string signature;  // "verified", "present", "absent", "invalid"; "" when not reported
  std::optional<bool> sbom;
  std::optional<int64_t> attestations;
  std::vector<CisCheck> cis;
  std::vector<AuditFinding> findings;
};

// A single audit ("hardbase.audit/v1": `after` only) or a comparison
// ("hardbase.audit-compare/v1": both).
struct AuditComparison {
  std::optional<Audit> before;
  Audit after;
};

Result<AuditComparison> ReadAuditDocument(const Document& document);

// --- diff --json -----------------------------------------------------------------------------

struct DiffImage {
  std::string reference, digest;
  int64_t packages = 0;
  int64_t bytes = 0;
};

struct DiffFinding {
  std::string id, package, severity, fixed_version;
};

struct DiffPackage {
  std::string name, architecture;
  std::string before, after;  // versions; "" when added / removed
  int64_t size_before_kib = 0, size_after_kib = 0;
  std::vector<DiffFinding> closed, opened;
};

struct PackageDiff {
  DiffImage before, after;
  int64_t size_change = 0;
  std::vector<DiffPackage> changes;
  int64_t unchanged = 0, closed = 0, opened = 0;
  std::optional<bool> matched;  // false: no vulnerability database, so no CVE changes
  std::vector<DiffFinding> remaining_with_fix;
};

Result<PackageDiff> ReadDiffDocument(const Document& document);

// --- hardbase.migration/v1 -------------------------------------------------------------------

struct MigrationChange {
  int64_t line = 0;  // line of the original Dockerfile; 0: the whole file
  std::string kind;  // "" for a refusal
  std::string message;
};

struct Migration {
  std::string source;
  std::string before, after;  // Dockerfile texts; `after` is "" when the migration was refused
  std::string spec;           // spec YAML, or ""
  std::vector<MigrationChange> changes, refused;
};

Result<Migration> ReadMigrationDocument(const Document& document);

}  // namespace hardbase::report
