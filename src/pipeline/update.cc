#include "pipeline/update.h"

#include <fmt/format.h>

#include <ctime>
#include <optional>

#include "pipeline/inventory.h"
#include "pipeline/scan.h"
#include "spec/image_spec.h"
#include "vuln/database.h"

namespace hardbase::pipeline {

Result<SpecUpdate> UpdateSpec(const std::string& spec_path, const std::string& lock_path,
                              const UpdateOptions& options, net::HttpClient& http,
                              cache::BlobStore& store) {
  SpecUpdate out;
  HB_TRY(spec::ImageSpec image_spec, spec::LoadImageSpec(spec_path));
  HB_TRY(out.before, WithContext(spec::LoadLock(lock_path), "update (run `hardbase lock` first)"));
  HB_TRY(out.after,
         WithContext(LockSpec(image_spec, http, store, options.lock), "update " + spec_path));

  out.release = options.release.empty() ? LockRelease(out.after).value_or("") : options.release;
  if (out.release.empty()) {
    return Fail(ErrorCode::kUsage,
                fmt::format("update {}: no repository of the lock names a Debian release by its "
                            "codename (bookworm, trixie, ...): say which to match with --release",
                            spec_path));
  }
  std::optional<vuln::Database> db;
  if (!options.vuln_db.empty()) {
    // The part of the database that matters for the packages of both locks.
    std::vector<vuln::InstalledPackage> all;
    for (const spec::Lock* lock : {&out.before, &out.after}) {
      for (const auto& arch : lock->archs) {
        auto packages = PackagesFromLock(arch);
        all.insert(all.end(), packages.begin(), packages.end());
      }
    }
    if (auto loaded = LoadVulnDbFor(options.vuln_db, out.release, all)) {
      db = std::move(*loaded);
      int64_t now = options.now != 0 ? options.now : static_cast<int64_t>(std::time(nullptr));
      out.warnings = DatabaseWarnings(db->metadata(), now);
    } else if (loaded.error().code == ErrorCode::kNotFound) {
      out.warnings.push_back(loaded.error().message + ": showing version changes only");
    } else {
      return Fail(loaded.error());
    }
  }
  for (const auto& arch : out.after.archs) {
    spec::ArchLock empty;
    const spec::ArchLock* old = &empty;
    for (const auto& a : out.before.archs) {
      if (a.arch == arch.arch) old = &a;
    }
    out.archs.emplace_back(arch.arch,
                           ComparePackages(PackagesFromLock(*old), PackagesFromLock(arch),
                                           db ? &*db : nullptr, out.release));
  }
  out.changes = DiffLocks(out.before, out.after);
  return out;
}

}  // namespace hardbase::pipeline
