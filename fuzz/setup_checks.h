// What the setup fuzz targets (sysusers_fuzz, tmpfiles_fuzz, maintainer_script_fuzz) check of
// every parse: the promises of image/setup_actions.h for what a parser gives, then those of
// image::ApplySetup for applying it to a small image (the skeleton, a few files, a loop of
// links): no error, accounts /etc/passwd and /etc/group can hold, and entries a layer can hold.
#pragma once

#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "image/accounts.h"
#include "image/image_files.h"
#include "image/setup.h"
#include "oci/layer.h"

namespace setup_fuzz {

inline void Check(bool ok) {
  if (!ok) std::abort();
}

inline bool Normalised(std::string_view path) {
  auto n = hardbase::image::NormaliseSetupPath(path);
  return n && *n == path;
}

inline void CheckParsed(const hardbase::image::ParsedSetup& p, std::string_view prefix) {
  using Kind = hardbase::image::SetupAction::Kind;
  std::string with_colon = std::string(prefix) + ":";
  for (const auto& a : p.actions) {
    Check(a.origin.starts_with(with_colon));
    if (a.kind == Kind::kGroup || a.kind == Kind::kUser || a.kind == Kind::kMember) {
      Check(hardbase::image::IsValidAccountName(a.name));
    } else {
      Check(Normalised(a.path));
    }
    if (a.kind == Kind::kCopy) Check(Normalised(a.target));
    if (a.kind == Kind::kSymlink) Check(!a.target.empty());
    Check(!a.mode || *a.mode <= 07777);
    for (const auto& c : a.when) {
      Check(c.kind != hardbase::image::SetupCondition::Kind::kPath || Normalised(c.name));
    }
  }
  for (const auto& n : p.not_applied) {
    Check(n.origin.starts_with(prefix));
    Check(n.text.size() <= 243 && n.text.find('\n') == std::string::npos);
  }
}

inline void CheckApplied(const hardbase::image::ParsedSetup& p) {
  namespace image = hardbase::image;
  constexpr int64_t kEpoch = 1234;
  auto db = image::SystemAccounts("", "");
  Check(db.has_value());
  image::ImageView view;
  view.Add(image::SkeletonEntries("amd64"));
  view.Add("/etc/f", {hardbase::oci::LayerEntryType::kFile, 0644, "", "00"});
  view.Add("/var/log/x", {hardbase::oci::LayerEntryType::kDirectory, 0755, ""});
  view.Add("/loop", {hardbase::oci::LayerEntryType::kSymlink, 0777, "/loop/x"});
  // Content is known for paths of even length.
  image::ContentLookup content = [](std::string_view path) -> std::shared_ptr<const std::string> {
    if (path.size() % 2) return nullptr;
    return std::make_shared<const std::string>("x");
  };
  auto r = image::ApplySetup(p.actions, p.not_applied, *db, view, kEpoch, content);
  Check(r.has_value());
  Check(image::PasswdText(*db).has_value() && image::GroupText(*db).has_value());
  Check(r->not_applied.size() <= p.not_applied.size());
  for (size_t i = 0; i < r->entries.size(); ++i) {
    const auto& e = r->entries[i];
    Check(Normalised(e.path) && e.path != "/");
    Check(i == 0 || r->entries[i - 1].path < e.path);
    Check(e.mtime == kEpoch && e.mode <= 07777);
    Check(!e.path.starts_with("/proc/") && !e.path.starts_with("/dev/") &&
          !e.path.starts_with("/sys/") && !e.path.starts_with("/var/lib/dpkg/"));
    if (e.type == hardbase::oci::LayerEntryType::kFile) Check(e.content != nullptr);
  }
  Check(hardbase::oci::WriteLayerTar(r->entries).has_value());
}

}  // namespace setup_fuzz
