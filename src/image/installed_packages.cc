#include "image/installed_packages.h"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>

#include "deb/control.h"

namespace hardbase::image {
namespace {

bool InStatusDir(std::string_view path) {
  return path.starts_with(kDpkgStatusDir) && path.size() > kDpkgStatusDir.size() &&
         path[kDpkgStatusDir.size()] == '/';
}

}  // namespace

bool IsPackageDatabasePath(std::string_view path) {
  if (path == kDpkgStatusFile) return true;
  if (!InStatusDir(path) || path.size() == kDpkgStatusDir.size() + 1) return false;
  std::string_view name = path.substr(kDpkgStatusDir.size() + 1);
  // status.d also holds "<name>.md5sums" files next to each stanza.
  return name.find('/') == std::string_view::npos && !name.ends_with(".md5sums") &&
         !name.starts_with('.');
}

Result<std::vector<std::string>> InstalledStanzas(const std::map<std::string, std::string>& files) {
  std::vector<std::string> out;
  if (auto it = files.find(std::string(kDpkgStatusFile)); it != files.end()) {
    // dpkg's own database: only packages that are installed count.
    HB_TRY_VOID(WithContext(deb::ForEachStanza(it->second,
                                               [&](const deb::Stanza& s) -> Result<void> {
                                                 if (!s.Get("Status").ends_with(" installed"))
                                                   return {};
                                                 std::string text;
                                                 for (const auto& f : s.fields()) {
                                                   text += fmt::format("{}: {}\n", f.name, f.value);
                                                 }
                                                 out.push_back(std::move(text));
                                                 return {};
                                               }),
                            std::string(kDpkgStatusFile)));
  }
  for (const auto& [path, text] : files) {
    if (InStatusDir(path)) out.push_back(text);
  }
  return out;
}

Result<std::vector<deb::InstalledPackage>> PackagesFromDatabase(
    const std::map<std::string, std::string>& files) {
  std::vector<deb::InstalledPackage> out;
  auto add = [&out](const deb::Stanza& s) -> Result<void> {
    HB_TRY(auto p, deb::InstalledPackageFromStanza(s));
    out.push_back(std::move(p));
    return {};
  };
  if (auto it = files.find(std::string(kDpkgStatusFile)); it != files.end()) {
    HB_TRY_VOID(WithContext(deb::ForEachStanza(it->second,
                                               [&](const deb::Stanza& s) -> Result<void> {
                                                 if (!s.Get("Status").ends_with(" installed")) {
                                                   return {};
                                                 }
                                                 return add(s);
                                               }),
                            std::string(kDpkgStatusFile)));
  }
  for (const auto& [path, text] : files) {
    if (!InStatusDir(path)) continue;
    HB_TRY_VOID(WithContext(deb::ForEachStanza(text, add), path));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::tie(a.name, a.architecture) < std::tie(b.name, b.architecture);
  });
  return out;
}

std::string PackageDatabaseName(const std::map<std::string, std::string>& files) {
  std::vector<std::string_view> databases;
  if (files.count(std::string(kDpkgStatusFile))) databases.push_back(kDpkgStatusFile);
  if (std::any_of(files.begin(), files.end(), [](const auto& f) { return InStatusDir(f.first); })) {
    databases.push_back(kDpkgStatusDir);
  }
  return fmt::format("{}", fmt::join(databases, " + "));
}

}  // namespace hardbase::image
