#include "audit/audit.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <set>

#include "audit/ownership.h"
#include "audit/secrets.h"
#include "audit/tools.h"
#include "base/strings.h"
#include "deb/distro.h"
#include "image/installed_packages.h"

namespace hardbase::audit {
namespace {

using Type = oci::TreeNode::Type;
using Status = CisCheck::Status;

constexpr size_t kUnownedSample = 20;
constexpr size_t kEvidenceLines = 10;  // of a finding's evidence, the rest summed up

std::string Slash(std::string_view path) { return "/" + std::string(path); }

std::string_view BaseName(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string_view ParentName(std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return "";
  return BaseName(path.substr(0, slash));
}

const std::string* FileText(const oci::ImageTree& tree, std::string_view path) {
  auto it = tree.files.find(std::string(path));
  return it == tree.files.end() ? nullptr : &it->second;
}

std::string OsReleaseText(const oci::ImageTree& tree) {
  for (std::string_view path : {"etc/os-release", "usr/lib/os-release"}) {
    if (const std::string* text = FileText(tree, path)) return *text;
  }
  return "";
}

std::optional<uint32_t> ParseId(std::string_view text) {
  uint32_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// The uid of a user name in /etc/passwd.
std::optional<uint32_t> PasswdUid(const oci::ImageTree& tree, std::string_view name) {
  const std::string* passwd = FileText(tree, "etc/passwd");
  if (!passwd) return std::nullopt;
  for (auto [line, number] : Lines(*passwd, {.skip_blank = true, .comment = '#'})) {
    // name:password:uid:gid:gecos:home:shell
    size_t c1 = line.find(':');
    if (c1 == std::string_view::npos || line.substr(0, c1) != name) continue;
    size_t c2 = line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) return std::nullopt;
    size_t c3 = line.find(':', c2 + 1);
    return ParseId(line.substr(c2 + 1, c3 == std::string_view::npos ? line.npos : c3 - c2 - 1));
  }
  return std::nullopt;
}

std::string PasswdName(const oci::ImageTree& tree, uint32_t uid) {
  const std::string* passwd = FileText(tree, "etc/passwd");
  if (!passwd) return "";
  for (auto [line, number] : Lines(*passwd, {.skip_blank = true, .comment = '#'})) {
    size_t c1 = line.find(':');
    size_t c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
    size_t c3 = c2 == std::string_view::npos ? c2 : line.find(':', c2 + 1);
    if (c3 == std::string_view::npos) continue;
    if (ParseId(line.substr(c2 + 1, c3 - c2 - 1)) == uid) return std::string(line.substr(0, c1));
  }
  return "";
}

ConfigSummary SummariseConfig(const ImageFacts& facts) {
  ConfigSummary c;
  const oci::ImageConfig& config = facts.config;
  c.user = config.user;
  c.healthcheck = !config.healthcheck.empty() && config.healthcheck.front() != "NONE";
  c.exposed_ports = config.exposed_ports;
  c.env_secrets = SecretEnvNames(config.env);
  c.entrypoint = config.entrypoint;
  c.cmd = config.cmd;
  if (!facts.has_config) {
    c.user_evidence =
        "no image config (a root filesystem directory): root unless the runtime "
        "sets a user";
    return c;
  }
  std::string_view user = std::string_view(config.user).substr(0, config.user.find(':'));
  if (user.empty()) {
    c.user_evidence = "the config sets no User: root";
    return c;
  }
  if (auto uid = ParseId(user)) {
    c.runs_as_root = *uid == 0;
    std::string name = PasswdName(facts.tree, *uid);
    c.user_evidence = fmt::format("User {}: uid {}{}", config.user, *uid,
                                  name.empty() ? "" : ", " + name + " in /etc/passwd");
    return c;
  }
  if (auto uid = PasswdUid(facts.tree, user)) {
    c.runs_as_root = *uid == 0;
    c.user_evidence = fmt::format("User {}: uid {} in /etc/passwd", config.user, *uid);
    return c;
  }
  c.runs_as_root = user == "root";
  c.user_evidence =
      c.runs_as_root
          ? fmt::format("User {}", config.user)
          : fmt::format("User {}: not in /etc/passwd (a runtime refuses to start it)", config.user);
  return c;
}

std::vector<std::vector<Tool>> FindSurface(const oci::ImageTree& tree, const FileOwners& owners) {
  std::vector<std::vector<Tool>> surface(ToolKinds().size());
  for (const auto& [path, node] : tree.nodes) {
    std::string_view dir = ParentName(path);
    if (dir != "bin" && dir != "sbin") continue;
    auto kind = ClassifyTool(BaseName(path));
    if (!kind) continue;
    const oci::TreeNode* target = &node;
    if (node.type == Type::kSymlink) target = NodeAt(tree, path);
    if (!target || target->type != Type::kFile || (target->mode & 0111) == 0) continue;
    surface[static_cast<size_t>(*kind)].push_back({Slash(path), owners.OwnerFollowing(tree, path)});
  }
  return surface;
}

// Whether layer `layer`'s member `path` is still what some path of the image holds.
bool StillPresent(const oci::ImageTree& tree, size_t layer, const std::string& path) {
  auto it = tree.nodes.find(path);
  if (it != tree.nodes.end() && it->second.type == Type::kFile && it->second.layer == layer &&
      it->second.origin == path) {
    return true;
  }
  return std::any_of(tree.nodes.begin(), tree.nodes.end(), [&](const auto& entry) {
    return entry.second.type == Type::kFile && entry.second.layer == layer &&
           entry.second.origin == path;
  });
}

std::vector<Secret> DecideSecrets(const ImageFacts& facts, const FileOwners& owners) {
  std::vector<Secret> out;
  std::set<std::tuple<size_t, std::string, std::string, int>> seen;
  for (const auto& s : facts.secrets) {
    if (!seen.insert({s.layer, s.path, s.kind, s.line}).second) continue;
    Secret secret{Slash(s.path), s.kind, s.line, s.layer, false, ""};
    secret.removed = !StillPresent(facts.tree, s.layer, s.path);
    if (!secret.removed) secret.package = owners.Owner(s.path);
    out.push_back(std::move(secret));
  }
  std::sort(out.begin(), out.end(), [](const Secret& a, const Secret& b) {
    return std::tie(a.path, a.layer, a.line, a.kind) < std::tie(b.path, b.layer, b.line, b.kind);
  });
  return out;
}

VulnerabilitySummary SummariseVulnerabilities(const VulnerabilityFacts& facts) {
  VulnerabilitySummary v;
  v.database = facts.matched;
  v.note = facts.note;
  for (const auto& f : facts.findings) {
    if (f.kernel_headers || f.suppressed) continue;
    SeverityCount* count = &v.unknown;
    switch (f.severity) {
      case vuln::Severity::kCritical:
        count = &v.critical;
        break;
      case vuln::Severity::kHigh:
        count = &v.high;
        break;
      case vuln::Severity::kMedium:
        count = &v.medium;
        break;
      case vuln::Severity::kLow:
        count = &v.low;
        break;
      case vuln::Severity::kNegligible:
        count = &v.negligible;
        break;
      case vuln::Severity::kUnknown:
        break;
    }
    ++(f.status == vuln::FixStatus::kFixable ? count->fixable : count->unfixed);
    ++v.total;
  }
  return v;
}

// What a finding's evidence lists: the first kEvidenceLines of `lines`, then how many more of
// `total` (lines.size() unless they are a sample).
std::vector<std::string> Evidence(std::vector<std::string> lines, size_t total) {
  total = std::max(total, lines.size());
  if (lines.size() > kEvidenceLines || total > lines.size()) {
    lines.resize(std::min(lines.size(), kEvidenceLines));
    lines.push_back(fmt::format("... and {} more", total - lines.size()));
  }
  return lines;
}

std::string WithPackage(const std::string& path, const std::string& package) {
  return package.empty() ? path : fmt::format("{} ({})", path, package);
}

// The Dockerfile's instructions of one keyword.
std::vector<const dockerfile::Instruction*> Instructions(const dockerfile::Dockerfile& d,
                                                         std::string_view keyword) {
  std::vector<const dockerfile::Instruction*> out;
  for (const auto& i : d.instructions) {
    if (i.keyword == keyword) out.push_back(&i);
  }
  return out;
}

std::string Located(const ImageFacts& facts, const dockerfile::Instruction& i) {
  return fmt::format("{}:{}: {} {}", facts.dockerfile_path, i.line, i.keyword, i.text);
}

// RUN instructions that update the package lists without installing anything in the same layer
// (CIS 4.7: the cached lists go stale, later installs get old packages).
std::vector<std::string> UpdatesAlone(const ImageFacts& facts) {
  std::vector<std::string> out;
  for (const auto* i : Instructions(*facts.dockerfile, "RUN")) {
    std::string text = i->exec_form ? "" : i->text;
    for (const auto& arg : i->exec_args) text += " " + arg;
    bool update = false;
    for (std::string_view u : {"apt-get update", "apt update", "apk update", "yum update",
                               "dnf update", "yum makecache", "dnf makecache"}) {
      update = update || text.find(u) != std::string::npos;
    }
    bool install = text.find("install") != std::string::npos ||
                   text.find("upgrade") != std::string::npos ||
                   text.find("apk add") != std::string::npos;
    if (update && !install) out.push_back(Located(facts, *i));
  }
  return out;
}

// ENV and ARG instructions that set a secret-named variable to a value.
std::vector<std::string> DockerfileSecrets(const ImageFacts& facts) {
  std::vector<std::string> out;
  for (const auto& i : facts.dockerfile->instructions) {
    if (i.keyword != "ENV" && i.keyword != "ARG") continue;
    for (const auto& [name, value] : i.KeyValues(facts.dockerfile->escape)) {
      if (IsSecretName(name) && value && !Trim(*value).empty() && !value->starts_with('$')) {
        out.push_back(fmt::format("{}:{}: {} {}", facts.dockerfile_path, i.line, i.keyword, name));
      }
    }
  }
  return out;
}

class Scorer {
 public:
  void Add(std::string id, Severity severity, std::string title, std::vector<std::string> evidence,
           int points, size_t total = 0) {
    findings_.push_back(
        {std::move(id), severity, std::move(title), Evidence(std::move(evidence), total), points});
  }
  std::vector<Finding> Take() {
    std::stable_sort(findings_.begin(), findings_.end(), [](const Finding& a, const Finding& b) {
      return std::tie(a.severity, a.points) > std::tie(b.severity, b.points);
    });
    return std::move(findings_);
  }
  int Score() const {
    int score = 100;
    for (const auto& f : findings_) score -= f.points;
    return std::max(score, 0);
  }

 private:
  std::vector<Finding> findings_;
};

}  // namespace

bool IsAuditedFile(std::string_view path) {
  if (image::IsPackageDatabasePath(path) || IsFileListPath(path)) return true;
  for (std::string_view exact : {"etc/os-release", "usr/lib/os-release", "etc/passwd", "etc/group",
                                 "etc/apt/sources.list", "etc/apt/apt.conf"}) {
    if (path == exact) return true;
  }
  for (std::string_view dir : {"etc/apt/sources.list.d/", "etc/apt/apt.conf.d/"}) {
    if (path.starts_with(dir) && path.find('/', dir.size()) == std::string_view::npos) return true;
  }
  return false;
}

std::string_view SignatureName(Provenance::Signature signature) {
  switch (signature) {
    case Provenance::Signature::kAbsent:
      return "absent";
    case Provenance::Signature::kPresent:
      return "present";
    case Provenance::Signature::kVerified:
      return "verified";
    case Provenance::Signature::kInvalid:
      return "invalid";
  }
  return "absent";
}

std::string_view SeverityName(Severity severity) {
  switch (severity) {
    case Severity::kInfo:
      return "info";
    case Severity::kLow:
      return "low";
    case Severity::kMedium:
      return "medium";
    case Severity::kHigh:
      return "high";
  }
  return "info";
}

std::string_view CisStatusName(CisCheck::Status status) {
  switch (status) {
    case Status::kPass:
      return "pass";
    case Status::kFail:
      return "fail";
    case Status::kNotApplicable:
      return "n/a";
  }
  return "n/a";
}

std::string Grade(int score) {
  if (score >= 90) return "A";
  if (score >= 80) return "B";
  if (score >= 70) return "C";
  if (score >= 60) return "D";
  return "F";
}

Report Audit(const ImageFacts& facts) {
  Report r;
  r.reference = facts.reference;
  r.name = facts.name;
  r.digest = facts.digest;
  r.created = facts.created;
  r.architecture = facts.architecture;
  auto os_release = deb::ParseOsReleaseFields(OsReleaseText(facts.tree));
  if (auto it = os_release.find("PRETTY_NAME"); it != os_release.end()) r.distro = it->second;
  r.packages = static_cast<int>(facts.packages.size());
  r.size = facts.size;
  r.layers = facts.layers;
  for (const auto& [path, node] : facts.tree.nodes) r.files += node.type == Type::kFile;

  FileOwners owners(facts.tree);
  r.file_lists = owners.known();
  r.surface = FindSurface(facts.tree, owners);
  for (const auto& [path, node] : facts.tree.nodes) {
    if (node.type == Type::kFile && (node.mode & 06000) != 0) {
      r.setuid.push_back({Slash(path), node.mode, owners.Owner(path)});
    }
    // Symlinks are 0777 by nature; a device node (/dev/null 0666 in a root filesystem tarball) is
    // hidden by the /dev a runtime mounts; a sticky directory (/tmp 1777) is meant to be shared.
    bool sticky_dir = node.type == Type::kDirectory && (node.mode & 01000) != 0;
    bool counts = node.type == Type::kFile || node.type == Type::kDirectory ||
                  node.type == Type::kFifo || node.type == Type::kOther;
    if (counts && (node.mode & 0002) != 0 && !sticky_dir) {
      r.world_writable.push_back({Slash(path), node.mode, owners.Owner(path)});
    }
    if (owners.known() && node.type == Type::kFile && !path.starts_with("var/lib/dpkg/") &&
        owners.Owner(path).empty()) {
      if (r.unowned_sample.size() < kUnownedSample) r.unowned_sample.push_back(Slash(path));
      ++r.unowned_count;
    }
  }
  r.secrets = DecideSecrets(facts, owners);
  std::set<std::string> names;
  for (const auto& p : facts.packages) names.insert(p.name);
  for (const auto& name : names) {
    const oci::TreeNode* copyright = NodeAt(facts.tree, "usr/share/doc/" + name + "/copyright");
    if (!copyright || copyright->type != Type::kFile) r.packages_without_copyright.push_back(name);
  }
  r.config = SummariseConfig(facts);
  r.vulnerabilities = SummariseVulnerabilities(facts.vulnerabilities);
  r.provenance = facts.provenance;

  // --- findings and the score ---
  Scorer score;
  const ConfigSummary& config = r.config;
  if (config.runs_as_root) {
    score.Add("runs-as-root", Severity::kHigh, "runs as root", {config.user_evidence}, 15);
  }
  std::vector<std::string> unneeded;  // for CIS 4.3
  for (ToolKind kind : ToolKinds()) {
    const auto& tools = r.surface[static_cast<size_t>(kind)];
    if (tools.empty()) continue;
    std::vector<std::string> evidence;
    for (const auto& t : tools) evidence.push_back(WithPackage(t.path, t.package));
    bool severe = kind == ToolKind::kShell || kind == ToolKind::kPackageManager;
    std::string id(ToolKindName(kind));
    std::replace(id.begin(), id.end(), ' ', '-');
    score.Add(id, severe ? Severity::kHigh : Severity::kMedium,
              fmt::format("{} present ({})", ToolKindName(kind), tools.size()), evidence,
              severe ? 10 : 5);
    unneeded.push_back(fmt::format("{}: {}", ToolKindKey(kind), tools.front().path));
  }
  if (!r.setuid.empty()) {
    std::vector<std::string> evidence;
    for (const auto& f : r.setuid) {
      evidence.push_back(WithPackage(fmt::format("{} {}", FormatMode(f.mode), f.path), f.package));
    }
    int n = static_cast<int>(r.setuid.size());
    score.Add("setuid", Severity::kHigh, Plural(n, "setuid/setgid file", "setuid/setgid files"),
              evidence, std::min(10, 2 * n));
  }
  if (!r.world_writable.empty()) {
    std::vector<std::string> evidence;
    for (const auto& f : r.world_writable) {
      evidence.push_back(fmt::format("{} {}", FormatMode(f.mode), f.path));
    }
    int n = static_cast<int>(r.world_writable.size());
    score.Add("world-writable", Severity::kMedium,
              Plural(n, "world-writable path", "world-writable paths"), evidence,
              std::min(10, 2 * n));
  }
  std::vector<std::string> image_secrets, package_secrets;
  for (const auto& s : r.secrets) {
    std::string line =
        fmt::format("{}:{}: {} (layer {}{})", s.path, s.line, s.kind, s.layer,
                    s.removed ? ", deleted by a later layer but still in its blob" : "");
    (s.package.empty() ? image_secrets : package_secrets)
        .push_back(s.package.empty() ? line : fmt::format("{} in package {}", line, s.package));
  }
  if (!image_secrets.empty()) {
    int n = static_cast<int>(image_secrets.size());
    score.Add("secret", Severity::kHigh, Plural(n, "secret in a file", "secrets in files"),
              image_secrets, std::min(30, 15 * n));
  }
  if (!package_secrets.empty()) {
    score.Add("package-secret", Severity::kLow,
              Plural(static_cast<int>(package_secrets.size()), "key or token a package ships",
                     "keys or tokens packages ship") +
                  " (test data, most likely)",
              package_secrets, 0);
  }
  if (!config.env_secrets.empty()) {
    int n = static_cast<int>(config.env_secrets.size());
    score.Add(
        "env-secret", Severity::kHigh,
        Plural(n, "secret in the config's environment", "secrets in the config's environment"),
        config.env_secrets, std::min(20, 10 * n));
  }
  const VulnerabilitySummary& v = r.vulnerabilities;
  int fixable_points = 5 * v.critical.fixable + 3 * v.high.fixable + v.medium.fixable;
  int fixable = v.critical.fixable + v.high.fixable + v.medium.fixable + v.low.fixable +
                v.negligible.fixable + v.unknown.fixable;
  auto counts = [&](bool fixable_ones) {
    std::vector<std::string> out;
    for (auto [name, c] :
         {std::pair<std::string_view, const SeverityCount*>{"critical", &v.critical},
          {"high", &v.high},
          {"medium", &v.medium},
          {"low", &v.low},
          {"negligible", &v.negligible},
          {"unknown", &v.unknown}}) {
      int n = fixable_ones ? c->fixable : c->unfixed;
      if (n > 0) out.push_back(fmt::format("{} {}", n, name));
    }
    return out;
  };
  if (!v.database) {
    score.Add("no-vulnerability-data", Severity::kInfo, "vulnerabilities not matched",
              {v.note.empty() ? "no vulnerability database" : v.note}, 0);
  } else {
    if (fixable > 0) {
      score.Add("fixable-vulnerabilities",
                v.critical.fixable + v.high.fixable > 0 ? Severity::kHigh : Severity::kMedium,
                Plural(fixable, "vulnerability with a fix", "vulnerabilities with a fix") +
                    ": rebuild with the fixed packages",
                counts(true), std::min(20, fixable_points));
    }
    int unfixed = v.total - fixable;
    if (unfixed > 0) {
      score.Add("unfixed-vulnerabilities", Severity::kLow,
                Plural(unfixed, "vulnerability without a fix", "vulnerabilities without a fix"),
                counts(false), std::min(10, 2 * v.critical.unfixed + v.high.unfixed / 2));
    }
  }
  if (facts.package_database.empty()) {
    score.Add("no-package-database", Severity::kMedium,
              "no package database: scanners cannot tell what the image holds",
              {"no var/lib/dpkg/status nor var/lib/dpkg/status.d/"}, 5);
  }
  const Provenance& p = r.provenance;
  switch (p.signature) {
    case Provenance::Signature::kAbsent:
      score.Add("no-signature", Severity::kMedium, "not signed",
                {p.evidence.empty() ? "no cosign signature tag and no sigstore bundle referrer"
                                    : p.evidence},
                5);
      break;
    case Provenance::Signature::kInvalid:
      score.Add("invalid-signature", Severity::kHigh, "no signature verifies with the key",
                {p.evidence}, 15);
      break;
    case Provenance::Signature::kPresent:
      score.Add("signature-unverified", Severity::kInfo,
                "signed, not verified (give --key KEY.pub to check it)", {p.evidence}, 0);
      break;
    case Provenance::Signature::kVerified:
      break;
  }
  if (!p.sbom) {
    score.Add("no-sbom", Severity::kLow, "no SBOM stored with the image",
              {"no SBOM referrer, .sbom tag or SBOM attestation"}, 3);
  }
  bool dockerfile_healthcheck =
      facts.dockerfile && !Instructions(*facts.dockerfile, "HEALTHCHECK").empty();
  if (!config.healthcheck && !dockerfile_healthcheck) {
    score.Add("no-healthcheck", Severity::kLow, "no HEALTHCHECK",
              {facts.has_config ? "the config has no Healthcheck" : "no image config"}, 2);
  }
  if (!config.exposed_ports.empty()) {
    score.Add("exposed-ports", Severity::kInfo, "ports exposed", config.exposed_ports, 0);
  }
  if (!r.file_lists) {
    score.Add("no-file-lists", Severity::kInfo,
              "no package file lists: which package owns a file is unknown",
              {"no var/lib/dpkg/info/*.list nor var/lib/dpkg/status.d/*.md5sums"}, 0);
  } else if (r.unowned_count > 0) {
    score.Add("unowned-files", Severity::kLow,
              Plural(r.unowned_count, "file no package owns", "files no package owns"),
              r.unowned_sample, std::min(5, r.unowned_count / 50),
              static_cast<size_t>(r.unowned_count));
  }
  if (!r.packages_without_copyright.empty()) {
    int n = static_cast<int>(r.packages_without_copyright.size());
    score.Add("no-copyright", Severity::kLow,
              Plural(n, "package without a copyright file", "packages without a copyright file"),
              r.packages_without_copyright, std::min(5, n));
  }
  if (r.packages > 20) {
    score.Add("packages", Severity::kLow, fmt::format("{} packages", r.packages),
              {"each one more to patch; a minimal image holds what its program needs"},
              std::min(10, (r.packages - 20) / 10));
  }
  std::vector<std::string> adds, alone, dockerfile_secrets;
  if (facts.dockerfile) {
    for (const auto* i : Instructions(*facts.dockerfile, "ADD")) adds.push_back(Located(facts, *i));
    alone = UpdatesAlone(facts);
    dockerfile_secrets = DockerfileSecrets(facts);
    if (!adds.empty()) score.Add("dockerfile-add", Severity::kLow, "ADD instead of COPY", adds, 2);
    if (!alone.empty()) {
      score.Add("dockerfile-update-alone", Severity::kLow,
                "package lists updated in a RUN that installs nothing", alone, 2);
    }
    if (!dockerfile_secrets.empty()) {
      int n = static_cast<int>(dockerfile_secrets.size());
      score.Add("dockerfile-secret", Severity::kHigh,
                Plural(n, "secret set in the Dockerfile", "secrets set in the Dockerfile"),
                dockerfile_secrets, std::min(20, 10 * n));
    }
  }
  r.score = score.Score();
  r.grade = Grade(r.score);
  r.findings = score.Take();

  // --- the CIS Docker Benchmark's image checks ---
  auto check = [&r](std::string id, std::string title, Status status, std::string evidence) {
    r.cis.push_back({std::move(id), std::move(title), status, std::move(evidence)});
  };
  auto pass_if = [](bool ok) { return ok ? Status::kPass : Status::kFail; };
  auto join = [](const std::vector<std::string>& lines, size_t most = 3) {
    std::string out;
    for (size_t i = 0; i < lines.size() && i < most; ++i) out += (i ? "; " : "") + lines[i];
    if (lines.size() > most) out += fmt::format("; and {} more", lines.size() - most);
    return out;
  };
  check("4.1", "Ensure that a user for the container has been created",
        pass_if(!config.runs_as_root), config.user_evidence);
  {
    std::string evidence;
    switch (p.signature) {
      case Provenance::Signature::kVerified:
        evidence = fmt::format("signature verified with key {}", p.key);
        break;
      case Provenance::Signature::kInvalid:
        evidence = "no signature verifies with the key: " + p.evidence;
        break;
      case Provenance::Signature::kPresent:
        evidence = "signed, but not verified: give --key KEY.pub of the builder you trust";
        break;
      case Provenance::Signature::kAbsent:
        evidence = "not signed: nothing ties the image to a builder you trust";
        break;
    }
    if (!r.distro.empty()) evidence += "; " + r.distro;
    if (facts.dockerfile) {
      std::vector<std::string> bases;
      for (const auto& stage : facts.dockerfile->Stages()) bases.push_back("FROM " + stage.base);
      if (!bases.empty()) evidence += "; " + join(bases, 5);
    }
    check("4.2", "Ensure that containers use only trusted base images",
          pass_if(p.signature == Provenance::Signature::kVerified), evidence);
  }
  check("4.3", "Ensure that unnecessary packages are not installed in the container",
        pass_if(unneeded.empty()),
        unneeded.empty() ? fmt::format("no shell, package manager, compiler, debugger or network "
                                       "tool among {} packages",
                                       r.packages)
                         : join(unneeded, 5));
  if (!v.database) {
    check("4.4", "Ensure images are scanned and rebuilt to include security patches",
          Status::kNotApplicable, v.note.empty() ? "no vulnerability database" : v.note);
  } else {
    check("4.4", "Ensure images are scanned and rebuilt to include security patches",
          pass_if(fixable == 0),
          fixable == 0 ? fmt::format("no fixable vulnerability ({} without a fix)", v.total)
                       : fmt::format("{} fixable: {}", fixable, join(counts(true), 6)));
  }
  check("4.5", "Ensure Content trust for Docker is enabled",
        pass_if(p.signature == Provenance::Signature::kVerified ||
                p.signature == Provenance::Signature::kPresent),
        p.signature == Provenance::Signature::kVerified
            ? fmt::format("signature verified with key {}: {}", p.key, p.evidence)
        : p.signature == Provenance::Signature::kPresent
            ? fmt::format("signature present, not verified: {}", p.evidence)
        : p.signature == Provenance::Signature::kInvalid ? "invalid signature: " + p.evidence
                                                         : std::string("no signature"));
  check("4.6", "Ensure that HEALTHCHECK instructions have been added to container images",
        pass_if(config.healthcheck || dockerfile_healthcheck),
        config.healthcheck       ? "Healthcheck " + join(facts.config.healthcheck, 8)
        : dockerfile_healthcheck ? "HEALTHCHECK in " + facts.dockerfile_path
                                 : "no Healthcheck in the config");
  if (facts.dockerfile) {
    check("4.7", "Ensure update instructions are not used alone in the Dockerfile",
          pass_if(alone.empty()),
          alone.empty() ? "no RUN updates package lists without installing" : join(alone));
  } else {
    check("4.7", "Ensure update instructions are not used alone in the Dockerfile",
          Status::kNotApplicable, "no Dockerfile given (--dockerfile)");
  }
  {
    std::vector<std::string> modes;
    for (const auto& f : r.setuid)
      modes.push_back(fmt::format("{} {}", FormatMode(f.mode), f.path));
    check("4.8", "Ensure setuid and setgid permissions are removed", pass_if(modes.empty()),
          modes.empty() ? "no setuid or setgid file" : join(modes, 5));
  }
  if (facts.dockerfile) {
    check("4.9", "Ensure that COPY is used instead of ADD in Dockerfiles", pass_if(adds.empty()),
          adds.empty() ? "no ADD in " + facts.dockerfile_path : join(adds));
  } else {
    check("4.9", "Ensure that COPY is used instead of ADD in Dockerfiles", Status::kNotApplicable,
          "no Dockerfile given (--dockerfile)");
  }
  {
    std::vector<std::string> evidence = image_secrets;
    for (const auto& name : config.env_secrets) evidence.push_back("config Env " + name);
    evidence.insert(evidence.end(), dockerfile_secrets.begin(), dockerfile_secrets.end());
    check("4.10", "Ensure secrets are not stored in Dockerfiles", pass_if(evidence.empty()),
          evidence.empty() ? "no private key, token or password in the image's files (every "
                             "layer), its config or its Dockerfile"
                           : join(evidence, 6));
  }
  {
    std::vector<std::string> unverified;
    for (const auto& [path, text] : facts.tree.files) {
      bool sources = path.starts_with("etc/apt/sources.list");
      bool conf = path.starts_with("etc/apt/apt.conf");
      if (!sources && !conf) continue;
      for (auto [line, number] : Lines(text, {.skip_blank = true, .comment = '#'})) {
        std::string lower = AsciiLower(line);
        bool bad = sources ? lower.find("trusted=yes") != std::string::npos ||
                                 lower.find("trusted: yes") != std::string::npos
                           : (lower.find("allowunauthenticated") != std::string::npos ||
                              lower.find("allowinsecurerepositories") != std::string::npos) &&
                                 lower.find("true") != std::string::npos;
        if (bad) unverified.push_back(fmt::format("/{}:{}: {}", path, number, Trim(line)));
      }
    }
    if (facts.package_database.empty()) {
      check("4.11", "Ensure only verified packages are installed", Status::kNotApplicable,
            "no package database");
    } else {
      check("4.11", "Ensure only verified packages are installed", pass_if(unverified.empty()),
            unverified.empty()
                ? fmt::format("{} packages in {}; apt is not told to trust unsigned repositories",
                              r.packages, facts.package_database)
                : join(unverified));
    }
  }
  return r;
}

}  // namespace hardbase::audit
