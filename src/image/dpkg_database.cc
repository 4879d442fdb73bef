#include "image/dpkg_database.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <set>
#include <tuple>

#include "base/fs.h"
#include "base/printable.h"
#include "base/sha256.h"
#include "base/strings.h"
#include "deb/control.h"
#include "spec/names.h"

namespace hardbase::image {
namespace {

using oci::LayerEntry;
using oci::LayerEntryType;

constexpr std::string_view kAdminDir = "/var/lib/dpkg";
constexpr std::string_view kSourcesFile = "/etc/apt/sources.list.d/hardbase.sources";
constexpr std::string_view kKeyringDir = "/etc/apt/keyrings";

// The control.tar members dpkg keeps in its info directory.
constexpr std::array<std::string_view, 10> kInfoControlFiles = {
    "conffiles", "config", "postinst", "postrm",    "preinst",
    "prerm",     "shlibs", "symbols",  "templates", "triggers"};

// The fields dpkg writes first in a status stanza, in its order (lib/dpkg/parse.c); the others
// follow in the order they came.
// clang-format off
constexpr std::array<std::string_view, 32> kDpkgFieldOrder = {
    "Package", "Essential", "Protected", "Status", "Priority", "Section", "Installed-Size",
    "Origin", "Maintainer", "Bugs", "Architecture", "Multi-Arch", "Source", "Version",
    "Config-Version", "Replaces", "Provides", "Depends", "Pre-Depends", "Recommends", "Suggests",
    "Breaks", "Conflicts", "Enhances", "Conffiles", "Filename", "Size", "MD5sum", "MSDOS-Filename",
    "Description", "Triggers-Pending", "Triggers-Awaited"};
// clang-format on

// The directories dpkg and apt work in, and /usr/local's, which base-files' postinst makes on a
// Debian system (a build stage's `make install`, `gcc -o /usr/local/bin/app`); those the packages
// did not ship are added.
constexpr std::array<std::string_view, 27> kDirectories = {"/etc/apt",
                                                           "/etc/apt/apt.conf.d",
                                                           "/etc/apt/keyrings",
                                                           "/etc/apt/preferences.d",
                                                           "/etc/apt/sources.list.d",
                                                           "/etc/apt/trusted.gpg.d",
                                                           "/var/cache/apt/archives/partial",
                                                           "/var/lib/apt/lists/partial",
                                                           "/var/lib/dpkg/alternatives",
                                                           "/var/lib/dpkg/info",
                                                           "/var/lib/dpkg/parts",
                                                           "/var/lib/dpkg/triggers",
                                                           "/var/lib/dpkg/updates",
                                                           "/var/log/apt",
                                                           "/var/cache/apt",
                                                           "/var/lib/apt",
                                                           "/var/log",
                                                           "/usr/local",
                                                           "/usr/local/bin",
                                                           "/usr/local/etc",
                                                           "/usr/local/games",
                                                           "/usr/local/include",
                                                           "/usr/local/lib",
                                                           "/usr/local/sbin",
                                                           "/usr/local/share",
                                                           "/usr/local/share/man",
                                                           "/usr/local/src"};

std::string Parent(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == 0 || slash == std::string_view::npos ? "/" : std::string(path.substr(0, slash));
}

LayerEntry Directory(std::string path, int64_t mtime) {
  LayerEntry e;
  e.path = std::move(path);
  e.type = LayerEntryType::kDirectory;
  e.mode = 0755;
  e.mtime = mtime;
  return e;
}

LayerEntry File(std::string path, std::string content, int64_t mtime, uint32_t mode = 0644) {
  LayerEntry e;
  e.path = std::move(path);
  e.mode = mode;
  e.mtime = mtime;
  e.content = std::make_shared<const std::string>(std::move(content));
  return e;
}

// Whether `s` can stand in one of dpkg's or apt's line-based files as one word (no white space or
// control characters).
bool IsWord(std::string_view s) {
  return !s.empty() && std::none_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u <= ' ' || u == 0x7f;
  });
}

// Whether `path` fits on one line of a .list file (no newline, no other control character).
bool IsListablePath(std::string_view path) {
  return path.starts_with('/') && std::none_of(path.begin(), path.end(), [](char c) {
           auto u = static_cast<unsigned char>(c);
           return u < ' ' || u == 0x7f;
         });
}

// The md5 of each file in an md5sums text, by absolute path.
std::map<std::string, std::string, std::less<>> Md5sByPath(std::string_view md5sums) {
  std::map<std::string, std::string, std::less<>> out;
  for (const Line& row : Lines(md5sums, {.strip_cr = false})) {  // a path may end in CR
    std::string_view line = row.text;
    if (line.size() < 35 || line.substr(32, 2) != "  ") continue;
    out.emplace("/" + std::string(line.substr(34)), std::string(line.substr(0, 32)));
  }
  return out;
}

// The Conffiles field's value (continuation lines only, each " <path> <md5>[ <flag>...]").
std::string ConffilesValue(const PackageFacts& facts) {
  auto it = facts.dpkg_control.find("conffiles");
  if (it == facts.dpkg_control.end()) return "";
  auto md5s = Md5sByPath(facts.md5sums);
  std::string out;
  for (const Line& line : Lines(it->second)) {
    auto words = Words(line.text);
    if (words.empty() || !words.back().starts_with('/')) continue;
    auto found = md5s.find(words.back());
    if (found == md5s.end()) continue;  // it did not ship (the path filter left it out)
    out += fmt::format("\n {} {}", words.back(), found->second);
    for (size_t i = 0; i + 1 < words.size(); ++i) out += fmt::format(" {}", words[i]);
  }
  return out;
}

// The one stanza of a package's status.d text.
Result<deb::Stanza> OneStanza(const DpkgPackage& package) {
  auto stanzas = deb::ParseControl(package.facts->status);
  if (!stanzas) {
    return Fail(ErrorCode::kIntegrity, fmt::format("package {}: its status stanza: {}",
                                                   package.name, stanzas.error().message));
  }
  if (stanzas->size() != 1 || (*stanzas)[0].Get("Package") != package.name) {
    return Fail(
        ErrorCode::kIntegrity,
        fmt::format("package {}: its status stanza is not one stanza naming it", package.name));
  }
  return std::move((*stanzas)[0]);
}

// A trigger interest of a package's `triggers` control file.
struct Interest {
  std::string trigger;  // a name, or an absolute path for a file trigger
  bool noawait = false;
};

// The interests a `triggers` control file declares (activations are for dpkg to act on when the
// package is unpacked again, not part of the database). kIntegrity error for a trigger name that
// does not fit dpkg's files.
Result<std::vector<Interest>> Interests(const DpkgPackage& package) {
  std::vector<Interest> out;
  auto it = package.facts->dpkg_control.find("triggers");
  if (it == package.facts->dpkg_control.end()) return out;
  for (const Line& line : Lines(it->second, {.skip_blank = true, .comment = '#'})) {
    auto words = Words(line.text);
    if (words.size() != 2) continue;
    bool noawait;
    if (words[0] == "interest" || words[0] == "interest-await") {
      noawait = false;
    } else if (words[0] == "interest-noawait") {
      noawait = true;
    } else {
      continue;
    }
    std::string_view name = words[1];
    bool file_trigger = name.starts_with('/');
    // A named trigger is a file name under triggers/, beside dpkg's own files there.
    if (!IsWord(name) || (!file_trigger && (name.find('/') != std::string_view::npos ||
                                            name == "." || name == ".." || name == "File" ||
                                            name == "Unincorp" || name == "Lock"))) {
      return Fail(ErrorCode::kIntegrity,
                  fmt::format("package {}: trigger '{}' cannot be recorded in dpkg's database",
                              package.name, Printable(name)));
    }
    out.push_back({std::string(name), noawait});
  }
  return out;
}

// Where a keyring of `repository` is for apt in the image: the path the image holds it at, or a
// file of /etc/apt/keyrings/ that `entries` gets.
class KeyringPlacer {
 public:
  KeyringPlacer(const ImageView& view, int64_t epoch, std::map<std::string, LayerEntry>& entries)
      : view_(view), epoch_(epoch), entries_(entries) {}

  Result<std::string> Place(const AptKeyring& keyring) {
    if (const ViewEntry* e = view_.Find(keyring.path);
        e && e->type == LayerEntryType::kFile && view_.WritePath(keyring.path) == keyring.path) {
      return keyring.path;
    }
    return Copy(BaseName(keyring.path), keyring.content);
  }

  Result<std::string> Copy(std::string name, const std::string& content) {
    bool armored = content.find("-----BEGIN PGP PUBLIC KEY BLOCK-----") != std::string::npos;
    // The stem of the name, in characters apt accepts in file names.
    for (std::string_view ext : {".gpg", ".asc", ".kbx", ".pgp"}) {
      if (name.ends_with(ext)) name.resize(name.size() - ext.size());
    }
    std::string stem;
    for (char c : name)
      stem +=
          std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ? c : '_';
    if (stem.empty() || stem.starts_with('.')) stem = "hardbase" + stem;
    std::string sha = Sha256Hex(content);
    for (int n = 1;; ++n) {
      std::string path =
          fmt::format("{}/{}{}{}", kKeyringDir, stem, n == 1 ? "" : fmt::format("-{}", n),
                      armored ? ".asc" : ".gpg");
      if (auto it = copied_.find(path); it != copied_.end()) {
        if (it->second == sha) return path;
        continue;
      }
      if (const ViewEntry* e = view_.Find(path)) {
        if (e->type == LayerEntryType::kFile && e->sha256 == sha) return path;
        continue;  // the packages ship another file of that name
      }
      copied_.emplace(path, sha);
      entries_.emplace(path, File(path, content, epoch_));
      return path;
    }
  }

 private:
  const ImageView& view_;
  int64_t epoch_;
  std::map<std::string, LayerEntry>& entries_;
  std::map<std::string, std::string> copied_;  // path -> sha256 of what this layer puts there
};

}  // namespace

bool IsDpkgInfoControlFile(std::string_view name) {
  return std::find(kInfoControlFiles.begin(), kInfoControlFiles.end(), name) !=
         kInfoControlFiles.end();
}

std::string DpkgInfoName(const DpkgPackage& package) {
  auto stanza = deb::ParseControl(package.facts->status);
  if (stanza && stanza->size() == 1 && (*stanza)[0].Get("Multi-Arch") == "same") {
    return package.name + ":" + package.architecture;
  }
  return package.name;
}

Result<std::string> DpkgStatusStanza(const DpkgPackage& package) {
  HB_TRY(deb::Stanza stanza, OneStanza(package));
  std::string conffiles = ConffilesValue(*package.facts);
  std::map<std::string_view, std::string> known;  // by the name in kDpkgFieldOrder
  std::string rest;
  for (const auto& f : stanza.fields()) {
    // What dpkg records of the installation is the database's to say.
    if (EqualsIgnoreCase(f.name, "Status") || EqualsIgnoreCase(f.name, "Conffiles") ||
        EqualsIgnoreCase(f.name, "Config-Version") ||
        EqualsIgnoreCase(f.name, "Triggers-Pending") ||
        EqualsIgnoreCase(f.name, "Triggers-Awaited")) {
      continue;
    }
    auto it = std::find_if(kDpkgFieldOrder.begin(), kDpkgFieldOrder.end(),
                           [&](std::string_view k) { return EqualsIgnoreCase(k, f.name); });
    // A value that starts on the next line ("Field:\n continued") gets no space after the colon.
    std::string_view sep = f.value.starts_with('\n') ? ":" : ": ";
    if (it == kDpkgFieldOrder.end()) {
      rest += fmt::format("{}{}{}\n", f.name, sep, f.value);
    } else {
      known[*it] = fmt::format("{}{}{}\n", *it, sep, f.value);
    }
  }
  known["Status"] = "Status: install ok installed\n";
  if (!conffiles.empty()) known["Conffiles"] = "Conffiles:" + conffiles + "\n";
  std::string out;
  for (std::string_view name : kDpkgFieldOrder) {
    if (auto it = known.find(name); it != known.end()) out += it->second;
  }
  return out + rest;
}

Result<std::string> AptSourcesText(const std::vector<AptRepository>& repositories,
                                   const std::vector<std::vector<std::string>>& signed_by) {
  // Stanzas in first-seen order, keyed by everything but the suite.
  struct Stanza {
    std::string key;
    std::string uri;
    std::vector<std::string> suites;
    const AptRepository* first;
    std::string signed_by;
  };
  std::vector<Stanza> stanzas;
  auto check = [](std::string_view what, std::string_view value) -> Result<void> {
    if (IsWord(value)) return {};
    return Fail(ErrorCode::kSpec, fmt::format("apt sources: {} '{}' cannot be written in a "
                                              "deb822 sources file",
                                              what, Printable(value)));
  };
  for (size_t i = 0; i < repositories.size(); ++i) {
    const AptRepository& r = repositories[i];
    HB_TRY_VOID(check("URI", r.uri));
    HB_TRY_VOID(check("suite", r.suite));
    for (const auto& c : r.components) HB_TRY_VOID(check("component", c));
    for (const auto& a : r.architectures) HB_TRY_VOID(check("architecture", a));
    std::vector<std::string> keys;
    if (i < signed_by.size()) keys = signed_by[i];
    for (const auto& k : keys) HB_TRY_VOID(check("keyring path", k));
    for (const auto& s : r.signers) {
      HB_TRY_VOID(check("key fingerprint", s));
      keys.push_back(s);
    }
    std::string signed_by_value = fmt::format("{}", fmt::join(keys, " "));
    std::string key = fmt::format("{}\n{}\n{}\n{}", r.uri, fmt::join(r.components, " "),
                                  fmt::join(r.architectures, " "), signed_by_value);
    auto it =
        std::find_if(stanzas.begin(), stanzas.end(), [&](const Stanza& s) { return s.key == key; });
    if (it == stanzas.end()) {
      stanzas.push_back({key, r.uri, {}, &r, signed_by_value});
      it = stanzas.end() - 1;
    }
    if (std::find(it->suites.begin(), it->suites.end(), r.suite) == it->suites.end()) {
      it->suites.push_back(r.suite);
    }
  }
  std::string out =
      "# Written by hardbase for the dev variant: the repositories this image's packages were "
      "locked from.\n";
  for (const auto& s : stanzas) {
    out += "\nTypes: deb\n";
    out += "URIs: " + s.uri + "\n";
    out += fmt::format("Suites: {}\n", fmt::join(s.suites, " "));
    if (!s.first->components.empty()) {
      out += fmt::format("Components: {}\n", fmt::join(s.first->components, " "));
    }
    if (!s.first->architectures.empty()) {
      out += fmt::format("Architectures: {}\n", fmt::join(s.first->architectures, " "));
    }
    if (!s.signed_by.empty()) out += "Signed-By: " + s.signed_by + "\n";
  }
  return out;
}

Result<std::vector<oci::LayerEntry>> DpkgDatabaseEntries(const DpkgDatabaseInputs& in,
                                                         const ImageView& view) {
  std::map<std::string, LayerEntry> entries;  // by path
  const std::string admin(kAdminDir);
  auto put = [&](LayerEntry e) { entries[e.path] = std::move(e); };

  // The packages, sorted as dpkg writes its status file.
  std::vector<const DpkgPackage*> packages;
  for (const auto& p : in.packages) packages.push_back(&p);
  std::sort(packages.begin(), packages.end(), [](const DpkgPackage* a, const DpkgPackage* b) {
    return std::tie(a->name, a->architecture) < std::tie(b->name, b->architecture);
  });
  std::string status;
  std::map<std::string, std::vector<std::string>> named_triggers;  // trigger -> interested
  std::string file_triggers;
  std::set<std::string> info_names;
  for (const DpkgPackage* p : packages) {
    if (!spec::IsValidPackageName(p->name) || !IsWord(p->architecture)) {
      return Fail(ErrorCode::kIntegrity,
                  fmt::format("package '{}' ({}): not a name dpkg's database can hold",
                              Printable(p->name), Printable(p->architecture)));
    }
    HB_TRY(std::string stanza, DpkgStatusStanza(*p));
    status += stanza + "\n";
    std::string info = DpkgInfoName(*p);
    if (!info_names.insert(info).second) {
      return Fail(ErrorCode::kIntegrity, fmt::format("package {}: in the image twice", info));
    }
    std::string list = "/.\n";
    for (const auto& path : p->facts->dpkg_paths) {
      if (!IsListablePath(path)) {
        return Fail(ErrorCode::kIntegrity,
                    fmt::format("package {}: path '{}' cannot be listed in dpkg's database",
                                p->name, Printable(path)));
      }
      list += path + "\n";
    }
    put(File(fmt::format("{}/info/{}.list", admin, info), std::move(list), in.epoch));
    put(File(fmt::format("{}/info/{}.md5sums", admin, info), p->facts->md5sums, in.epoch));
    for (const auto& [name, text] : p->facts->dpkg_control) {
      if (!IsDpkgInfoControlFile(name)) continue;
      bool script = name == "preinst" || name == "postinst" || name == "prerm" ||
                    name == "postrm" || name == "config";
      put(File(fmt::format("{}/info/{}.{}", admin, info, name), text, in.epoch,
               script ? 0755 : 0644));
    }
    HB_TRY(auto interests, Interests(*p));
    for (const auto& i : interests) {
      std::string who = info + (i.noawait ? "/noawait" : "");
      if (i.trigger.starts_with('/')) {
        file_triggers += i.trigger + " " + who + "\n";
      } else {
        named_triggers[i.trigger].push_back(who);
      }
    }
  }
  put(File(admin + "/status", std::move(status), in.epoch));
  put(File(admin + "/available", "", in.epoch));
  put(File(admin + "/arch", in.arch + "\n", in.epoch));
  put(File(admin + "/info/format", "1\n", in.epoch));
  put(File(admin + "/triggers/File", std::move(file_triggers), in.epoch));
  put(File(admin + "/triggers/Unincorp", "", in.epoch));
  for (const auto& [trigger, who] : named_triggers) {
    put(File(fmt::format("{}/triggers/{}", admin, trigger),
             fmt::format("{}\n", fmt::join(who, "\n")), in.epoch));
  }
  // The distroless records below go: dpkg's status is the image's one database.
  if (view.Find(admin + "/status.d")) put(File(admin + "/.wh.status.d", "", in.epoch, 0));

  // apt's sources, each keyring where the image has it or copied in.
  KeyringPlacer keyrings(view, in.epoch, entries);
  std::vector<std::vector<std::string>> signed_by;
  for (const auto& r : in.repositories) {
    std::vector<std::string> paths;
    for (const auto& k : r.keyrings) {
      HB_TRY(std::string path, keyrings.Place(k));
      if (std::find(paths.begin(), paths.end(), path) == paths.end()) paths.push_back(path);
    }
    if (!r.inline_key.empty()) {
      std::string key = r.inline_key.ends_with('\n') ? r.inline_key : r.inline_key + "\n";
      HB_TRY(std::string path, keyrings.Copy("hardbase-" + r.suite, key));
      paths.push_back(path);
    }
    signed_by.push_back(std::move(paths));
  }
  HB_TRY(std::string sources, AptSourcesText(in.repositories, signed_by));
  put(File(std::string(kSourcesFile), std::move(sources), in.epoch));

  // Directories: those dpkg and apt use, and the parents of every entry, when the image lacks them.
  std::set<std::string> dirs(kDirectories.begin(), kDirectories.end());
  for (const auto& [path, e] : entries) {
    for (std::string p = Parent(path); p != "/"; p = Parent(p)) dirs.insert(p);
  }
  for (const auto& dir : dirs) {
    for (std::string p = dir; p != "/"; p = Parent(p)) {
      if (entries.count(p)) continue;
      const ViewEntry* e = view.Find(p);
      if (!e) put(Directory(p, in.epoch));
    }
  }

  // Nothing of this layer may replace what the packages ship, or land elsewhere through a link.
  std::vector<LayerEntry> out;
  for (auto& [path, e] : entries) {
    if (const ViewEntry* below = view.Find(path)) {
      if (e.type != LayerEntryType::kDirectory || below->type != LayerEntryType::kDirectory) {
        return Fail(ErrorCode::kIntegrity,
                    fmt::format("the dev variant's package database writes {}, which a package "
                                "ships: refused",
                                path));
      }
    }
    std::string parent = Parent(path);
    if (const ViewEntry* d = view.Find(parent); d && d->type != LayerEntryType::kDirectory) {
      return Fail(ErrorCode::kIntegrity,
                  fmt::format("the dev variant's package database needs the directory {}, which "
                              "a package ships as a {}: refused",
                              parent, d->type == LayerEntryType::kSymlink ? "link" : "file"));
    }
    if (auto written = view.WritePath(path); written != path) {
      return Fail(ErrorCode::kIntegrity,
                  fmt::format("the dev variant's package database writes {}, below a link of "
                              "the packages: a runtime would write it to {}: refused",
                              path, written.value_or("(a loop of links)")));
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace hardbase::image
