#include "report/documents.h"

#include <fmt/format.h>

#include <array>
#include <limits>
#include <span>
#include <utility>

#include "base/json_limits.h"

namespace hardbase::report {
namespace {

std::string_view TypeName(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::object:
      return "an object";
    case nlohmann::json::value_t::array:
      return "an array";
    case nlohmann::json::value_t::string:
      return "a string";
    case nlohmann::json::value_t::boolean:
      return "a boolean";
    case nlohmann::json::value_t::number_float:
      return "a fractional number";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
      return "an integer";
    default:
      return "a binary value";
  }
}

// A JSON object of a document and where it is (the file, the field path from the root), so that
// every error names both. The document outlives it.
class Node {
 public:
  Node(const nlohmann::json& value, const std::string& file, std::string path)
      : value_(&value), file_(&file), path_(std::move(path)) {}

  // kSpec "FILE: PATH.KEY: what" (just "FILE: what" at the root without a key).
  Error Wrong(std::string_view key, std::string_view what) const {
    std::string at = PathOf(key);
    return Error{ErrorCode::kSpec, at.empty() ? fmt::format("{}: {}", *file_, what)
                                              : fmt::format("{}: {}: {}", *file_, at, what)};
  }

  // The member `key`, or nullptr when it is absent or null ("not reported").
  const nlohmann::json* Member(std::string_view key) const {
    auto it = value_->find(key);
    if (it == value_->end() || it->is_null()) return nullptr;
    return &*it;
  }

  Result<std::string> String(std::string_view key, bool required = false) const {
    const nlohmann::json* v = Member(key);
    if (v == nullptr) {
      if (required) return Fail(Wrong(key, "missing"));
      return std::string();
    }
    if (!v->is_string()) return Fail(Expected(key, "a string", *v));
    return v->get<std::string>();
  }

  // A string that must be one of `allowed` ("" when missing and not required).
  Result<std::string> Enum(std::string_view key, std::span<const std::string_view> allowed,
                           bool required = false) const {
    HB_TRY(std::string value, String(key, required));
    if (value.empty() && !required) return value;
    for (std::string_view a : allowed) {
      if (value == a) return value;
    }
    std::string list;
    for (std::string_view a : allowed) list += fmt::format("{}\"{}\"", list.empty() ? "" : ", ", a);
    return Fail(Wrong(key, "expected one of " + list));
  }

  Result<std::optional<int64_t>> Int(std::string_view key, int64_t min = 0,
                                     int64_t max = std::numeric_limits<int64_t>::max()) const {
    const nlohmann::json* v = Member(key);
    if (v == nullptr) return std::optional<int64_t>();
    if (!v->is_number_integer()) return Fail(Expected(key, "an integer", *v));
    bool in_range;
    int64_t value = 0;
    if (v->is_number_unsigned()) {
      uint64_t u = v->get<uint64_t>();
      in_range = u <= static_cast<uint64_t>(max);
      value = in_range ? static_cast<int64_t>(u) : 0;
      in_range = in_range && value >= min;
    } else {
      value = v->get<int64_t>();
      in_range = value >= min && value <= max;
    }
    if (!in_range)
      return Fail(Wrong(key, fmt::format("expected an integer from {} to {}", min, max)));
    return std::optional<int64_t>(value);
  }

  Result<int64_t> RequiredInt(std::string_view key, int64_t min = 0,
                              int64_t max = std::numeric_limits<int64_t>::max()) const {
    HB_TRY(std::optional<int64_t> value, Int(key, min, max));
    if (!value) return Fail(Wrong(key, "missing"));
    return *value;
  }

  Result<std::optional<bool>> Bool(std::string_view key) const {
    const nlohmann::json* v = Member(key);
    if (v == nullptr) return std::optional<bool>();
    if (!v->is_boolean()) return Fail(Expected(key, "true or false", *v));
    return std::optional<bool>(v->get<bool>());
  }

  Result<std::optional<Node>> Object(std::string_view key, bool required = false) const {
    const nlohmann::json* v = Member(key);
    if (v == nullptr) {
      if (required) return Fail(Wrong(key, "missing"));
      return std::optional<Node>();
    }
    if (!v->is_object()) return Fail(Expected(key, "an object", *v));
    return std::optional<Node>(Node(*v, *file_, PathOf(key)));
  }

  // The elements of the array `key`, each an object; unset when the array is missing.
  Result<std::optional<std::vector<Node>>> Objects(std::string_view key) const {
    const nlohmann::json* v = Member(key);
    if (v == nullptr) return std::optional<std::vector<Node>>();
    if (!v->is_array()) return Fail(Expected(key, "an array", *v));
    std::vector<Node> nodes;
    for (size_t i = 0; i < v->size(); ++i) {
      std::string element = fmt::format("{}[{}]", key, i);
      if (!(*v)[i].is_object()) return Fail(Expected(element, "an object", (*v)[i]));
      nodes.emplace_back((*v)[i], *file_, PathOf(element));
    }
    return std::optional<std::vector<Node>>(std::move(nodes));
  }

  // The array of strings `key`; unset when it is missing.
  Result<std::optional<std::vector<std::string>>> Strings(std::string_view key) const {
    const nlohmann::json* v = Member(key);
    if (v == nullptr) return std::optional<std::vector<std::string>>();
    if (!v->is_array()) return Fail(Expected(key, "an array of strings", *v));
    std::vector<std::string> strings;
    for (size_t i = 0; i < v->size(); ++i) {
      if (!(*v)[i].is_string()) {
        return Fail(Expected(fmt::format("{}[{}]", key, i), "a string", (*v)[i]));
      }
      strings.push_back((*v)[i].get<std::string>());
    }
    return std::optional<std::vector<std::string>>(std::move(strings));
  }

 private:
  std::string PathOf(std::string_view key) const {
    if (key.empty()) return path_;
    return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
  }
  Error Expected(std::string_view key, std::string_view what, const nlohmann::json& v) const {
    return Wrong(key, fmt::format("expected {}, found {}", what, TypeName(v)));
  }

  const nlohmann::json* value_;
  const std::string* file_;
  std::string path_;
};

// The root of a document, which must be an object.
Result<Node> Root(const Document& document) {
  if (!document.json.is_object()) {
    return Fail(ErrorCode::kSpec, fmt::format("{}: expected a JSON object, found {}", document.file,
                                              TypeName(document.json)));
  }
  return Node(document.json, document.file, "");
}

Result<std::vector<std::string>> StringsOrEmpty(const Node& node, std::string_view key) {
  HB_TRY(auto strings, node.Strings(key));
  return strings.value_or(std::vector<std::string>());
}

// A list of {path, package, mode} objects (surface, setuid, world_writable).
Result<std::optional<std::vector<AuditFile>>> ReadFiles(const Node& node, std::string_view key) {
  HB_TRY(auto nodes, node.Objects(key));
  if (!nodes) return std::optional<std::vector<AuditFile>>();
  std::vector<AuditFile> files;
  for (const Node& n : *nodes) {
    AuditFile f;
    HB_TRY(f.path, n.String("path", true));
    HB_TRY(f.package, n.String("package"));
    HB_TRY(f.mode, n.String("mode"));
    files.push_back(std::move(f));
  }
  return std::optional<std::vector<AuditFile>>(std::move(files));
}

constexpr std::string_view kGrades[] = {"A", "B", "C", "D", "E", "F"};
constexpr std::string_view kCisStatuses[] = {"pass", "fail", "n/a"};
constexpr std::string_view kFindingSeverities[] = {"high", "medium", "low", "info"};
constexpr std::string_view kSignatureStates[] = {"verified", "present", "absent", "invalid"};

Result<Audit> ReadAudit(const Node& node) {
  Audit a;
  HB_TRY(std::optional<Node> image, node.Object("image", true));
  HB_TRY(a.reference, image->String("reference"));
  HB_TRY(a.name, image->String("name"));
  HB_TRY(a.digest, image->String("digest"));
  HB_TRY(a.created, image->String("created"));
  HB_TRY(a.architecture, image->String("architecture"));
  HB_TRY(a.distro, image->String("distro"));
  HB_TRY(a.user, image->String("user"));
  HB_TRY(a.packages, image->Int("packages"));
  HB_TRY(a.size_bytes, image->Int("size_bytes"));
  HB_TRY(a.files, image->Int("files"));
  HB_TRY(a.layers, image->Int("layers"));
  HB_TRY(a.score, node.RequiredInt("score", 0, 100));
  HB_TRY(a.grade, node.Enum("grade", kGrades, true));

  HB_TRY(std::optional<Node> surface, node.Object("surface"));
  if (surface) {
    for (std::string_view category : kSurfaceCategories) {
      HB_TRY(auto files, ReadFiles(*surface, category));
      if (files) a.surface.emplace(category, std::move(*files));
    }
  }
  HB_TRY(a.setuid, ReadFiles(node, "setuid"));
  HB_TRY(a.world_writable, ReadFiles(node, "world_writable"));

  HB_TRY(auto secrets, node.Objects("secrets"));
  if (secrets) {
    a.secrets.emplace();
    for (const Node& n : *secrets) {
      AuditSecret s;
      HB_TRY(s.path, n.String("path", true));
      HB_TRY(s.kind, n.String("kind"));
      HB_TRY(std::optional<int64_t> line, n.Int("line"));
      HB_TRY(std::optional<int64_t> layer, n.Int("layer"));
      HB_TRY(std::optional<bool> removed, n.Bool("removed"));
      s.line = line.value_or(0);
      s.layer = layer.value_or(0);
      s.removed = removed.value_or(false);
      a.secrets->push_back(std::move(s));
    }
  }
  HB_TRY(std::optional<Node> unowned, node.Object("unowned_files"));
  if (unowned) {
    HB_TRY(a.unowned_files, unowned->Int("count"));
    HB_TRY(a.unowned_sample, StringsOrEmpty(*unowned, "sample"));
  }
  HB_TRY(a.packages_without_copyright, node.Strings("packages_without_copyright"));

  HB_TRY(std::optional<Node> config, node.Object("config"));
  if (config) {
    HB_TRY(a.config_user, config->String("user"));
    HB_TRY(a.runs_as_root, config->Bool("runs_as_root"));
    HB_TRY(a.healthcheck, config->Bool("healthcheck"));
    HB_TRY(a.exposed_ports, StringsOrEmpty(*config, "exposed_ports"));
    HB_TRY(a.env_secrets, config->Strings("env_secrets"));
    HB_TRY(a.entrypoint, StringsOrEmpty(*config, "entrypoint"));
    HB_TRY(a.cmd, StringsOrEmpty(*config, "cmd"));
  }

  HB_TRY(std::optional<Node> vulns, node.Object("vulnerabilities"));
  if (vulns) {
    HB_TRY(std::optional<bool> database, vulns->Bool("database"));
    a.vuln_database = database.value_or(true);
    HB_TRY(a.vuln_note, vulns->String("note"));
    HB_TRY(std::optional<int64_t> total, vulns->Int("total"));
    a.vuln_total = total.value_or(0);
    HB_TRY(std::optional<Node> by_severity, vulns->Object("by_severity"));
    for (std::string_view severity : kSeverities) {
      SeverityCount count;
      if (by_severity) {
        HB_TRY(std::optional<Node> n, by_severity->Object(severity));
        if (n) {
          HB_TRY(std::optional<int64_t> fixable, n->Int("fixable"));
          HB_TRY(std::optional<int64_t> unfixed, n->Int("unfixed"));
          count.fixable = fixable.value_or(0);
          count.unfixed = unfixed.value_or(0);
        }
      }
      a.by_severity.emplace(severity, count);
    }
  }

  HB_TRY(std::optional<Node> provenance, node.Object("provenance"));
  if (provenance) {
    HB_TRY(a.signature, provenance->Enum("signature", kSignatureStates));
    HB_TRY(a.sbom, provenance->Bool("sbom"));
    HB_TRY(a.attestations, provenance->Int("attestations"));
  }

  HB_TRY(auto cis, node.Objects("cis"));
  for (const Node& n : cis.value_or(std::vector<Node>())) {
    CisCheck c;
    HB_TRY(c.id, n.String("id", true));
    HB_TRY(c.title, n.String("title"));
    HB_TRY(c.status, n.Enum("status", kCisStatuses, true));
    HB_TRY(c.evidence, n.String("evidence"));
    a.cis.push_back(std::move(c));
  }
  HB_TRY(auto findings, node.Objects("findings"));
  for (const Node& n : findings.value_or(std::vector<Node>())) {
    AuditFinding f;
    HB_TRY(f.id, n.String("id"));
    HB_TRY(f.severity, n.Enum("severity", kFindingSeverities, true));
    HB_TRY(f.title, n.String("title"));
    HB_TRY(f.evidence, StringsOrEmpty(n, "evidence"));
    a.findings.push_back(std::move(f));
  }
  return a;
}

Result<std::vector<DiffFinding>> ReadDiffFindings(const Node& node, std::string_view key) {
  HB_TRY(auto nodes, node.Objects(key));
  std::vector<DiffFinding> findings;
  for (const Node& n : nodes.value_or(std::vector<Node>())) {
    DiffFinding f;
    HB_TRY(f.id, n.String("id", true));
    HB_TRY(f.package, n.String("package"));
    HB_TRY(f.severity, n.String("severity"));
    HB_TRY(f.fixed_version, n.String("fixed_version"));
    findings.push_back(std::move(f));
  }
  return findings;
}

Result<DiffImage> ReadDiffImage(const Node& node, std::string_view key) {
  HB_TRY(std::optional<Node> n, node.Object(key, true));
  DiffImage image;
  HB_TRY(image.reference, n->String("reference"));
  HB_TRY(image.digest, n->String("digest"));
  HB_TRY(std::optional<int64_t> packages, n->Int("packages"));
  HB_TRY(std::optional<int64_t> bytes, n->Int("bytes"));
  image.packages = packages.value_or(0);
  image.bytes = bytes.value_or(0);
  return image;
}

Result<std::vector<MigrationChange>> ReadMigrationChanges(const Node& node, std::string_view key,
                                                          bool with_kind) {
  HB_TRY(auto nodes, node.Objects(key));
  std::vector<MigrationChange> changes;
  for (const Node& n : nodes.value_or(std::vector<Node>())) {
    MigrationChange c;
    HB_TRY(std::optional<int64_t> line, n.Int("line"));
    c.line = line.value_or(0);
    if (with_kind) {
      HB_TRY(c.kind, n.String("kind"));
    }
    HB_TRY(c.message, n.String("message", true));
    changes.push_back(std::move(c));
  }
  return changes;
}

}  // namespace

Result<Document> ParseDocument(std::string_view text, std::string file) {
  HB_TRY(nlohmann::json json, ParseUntrustedJson(text, file));
  return Document{std::move(json), std::move(file)};
}

Result<AuditComparison> ReadAuditDocument(const Document& document) {
  HB_TRY(Node root, Root(document));
  HB_TRY(std::string schema, root.String("schema", true));
  AuditComparison comparison;
  if (schema == "hardbase.audit/v1") {
    HB_TRY(comparison.after, ReadAudit(root));
  } else if (schema == "hardbase.audit-compare/v1") {
    HB_TRY(std::optional<Node> before, root.Object("before", true));
    HB_TRY(std::optional<Node> after, root.Object("after", true));
    HB_TRY(comparison.before, ReadAudit(*before));
    HB_TRY(comparison.after, ReadAudit(*after));
  } else {
    return Fail(root.Wrong("schema",
                           "expected \"hardbase.audit-compare/v1\" or \"hardbase.audit/v1\" (the "
                           "output of `hardbase audit --json`)"));
  }
  return comparison;
}

Result<PackageDiff> ReadDiffDocument(const Document& document) {
  HB_TRY(Node root, Root(document));
  if (root.Member("schema") != nullptr) {
    return Fail(root.Wrong("schema", "not expected: not the output of `hardbase diff --json`"));
  }
  PackageDiff diff;
  HB_TRY(diff.before, ReadDiffImage(root, "before"));
  HB_TRY(diff.after, ReadDiffImage(root, "after"));
  HB_TRY(std::optional<int64_t> size_change,
         root.Int("size_change", std::numeric_limits<int64_t>::min()));
  diff.size_change = size_change.value_or(diff.after.bytes - diff.before.bytes);
  HB_TRY(std::optional<Node> packages, root.Object("packages", true));
  HB_TRY(auto changes, packages->Objects("changes"));
  if (!changes) return Fail(packages->Wrong("changes", "missing"));
  for (const Node& n : *changes) {
    DiffPackage p;
    HB_TRY(p.name, n.String("name", true));
    HB_TRY(p.architecture, n.String("architecture"));
    HB_TRY(p.before, n.String("before"));
    HB_TRY(p.after, n.String("after"));
    HB_TRY(std::optional<int64_t> size_before, n.Int("size_before_kib"));
    HB_TRY(std::optional<int64_t> size_after, n.Int("size_after_kib"));
    p.size_before_kib = size_before.value_or(0);
    p.size_after_kib = size_after.value_or(0);
    HB_TRY(p.closed, ReadDiffFindings(n, "closed"));
    HB_TRY(p.opened, ReadDiffFindings(n, "opened"));
    diff.changes.push_back(std::move(p));
  }
  HB_TRY(std::optional<int64_t> unchanged, packages->Int("unchanged"));
  HB_TRY(std::optional<int64_t> closed, packages->Int("closed"));
  HB_TRY(std::optional<int64_t> opened, packages->Int("opened"));
  diff.unchanged = unchanged.value_or(0);
  diff.closed = closed.value_or(0);
  diff.opened = opened.value_or(0);
  HB_TRY(diff.matched, packages->Bool("matched"));
  HB_TRY(diff.remaining_with_fix, ReadDiffFindings(*packages, "remaining_with_fix"));
  return diff;
}

Result<Migration> ReadMigrationDocument(const Document& document) {
  HB_TRY(Node root, Root(document));
  constexpr std::string_view kSchemas[] = {"hardbase.migration/v1"};
  HB_TRY(std::string schema, root.Enum("schema", kSchemas, true));
  Migration m;
  HB_TRY(m.source, root.String("source"));
  HB_TRY(m.before, root.String("before", true));
  HB_TRY(m.after, root.String("after"));
  HB_TRY(m.spec, root.String("spec"));
  HB_TRY(m.changes, ReadMigrationChanges(root, "changes", true));
  HB_TRY(m.refused, ReadMigrationChanges(root, "refused", false));
  return m;
}

}  // namespace hardbase::report
