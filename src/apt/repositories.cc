#include "apt/repositories.h"

#include <fmt/core.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <map>

#include "apt/blob_fetch.h"
#include "base/log.h"
#include "base/parallel.h"
#include "base/sha256.h"
#include "deb/apt_sources.h"
#include "deb/decompress.h"
#include "deb/keyring.h"

namespace hardbase::apt {
namespace {

std::string TrimSlash(std::string uri) {
  while (!uri.empty() && uri.back() == '/') uri.pop_back();
  return uri;
}

std::string Join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

// Keyrings are loaded once per distinct configuration: every suite of a source shares one.
class KeyringCache {
 public:
  Result<const deb::Keyring*> For(const SuiteSource& source) {
    std::string key = Join(source.keyring_paths, "\n") + "\n--\n" + source.inline_key;
    auto it = keyrings_.find(key);
    if (it != keyrings_.end()) return &it->second;
    HB_TRY(deb::Keyring keyring, deb::Keyring::FromFiles(source.keyring_paths));
    if (!source.inline_key.empty()) {
      HB_TRY_VOID(keyring.AddArmored(source.inline_key, "Signed-By of " + source.where));
    }
    return &keyrings_.emplace(key, std::move(keyring)).first->second;
  }

 private:
  std::map<std::string, deb::Keyring> keyrings_;
};

// One Packages index to obtain, with what the Release says about it.
struct IndexPlan {
  size_t suite = 0;
  std::string component;
  std::string arch;
  std::string path;                        // "main/binary-amd64/Packages"
  std::optional<deb::ReleaseEntry> plain;  // the uncompressed file's hash, when listed
  std::optional<deb::ReleaseEntry> xz;
};

std::string DistsUrl(const SuiteSource& s) { return s.uri + "/dists/" + s.suite + "/"; }

Result<std::string> FetchInRelease(const SuiteSource& source, net::HttpClient& http,
                                   cache::BlobStore& store, bool offline,
                                   const std::string& meta_key) {
  if (offline) {
    HB_TRY(auto cached, store.ReadMeta(meta_key));
    if (!cached) {
      return Fail(ErrorCode::kNotFound,
                  "no InRelease of this suite in the cache: run once without --offline");
    }
    return std::move(*cached);
  }
  return http.Get(DistsUrl(source) + "InRelease");
}

}  // namespace

std::string SuiteSource::Label() const { return suite + " (" + uri + ")"; }

Result<std::vector<SuiteSource>> SuiteSourcesFor(const spec::ImageSpec& spec,
                                                 const std::string& apt_root) {
  std::vector<SuiteSource> out;
  if (!spec.repositories.empty()) {
    for (const spec::Repository& repo : spec.repositories) {
      for (const std::string& suite : repo.suites) {
        SuiteSource s;
        s.uri = TrimSlash(repo.url);
        s.suite = suite;
        s.components = repo.components;
        s.keyring_paths = {spec.ResolvePath(repo.keyring)};
        s.architectures = repo.architectures;
        s.where = spec.Locate(repo.where);
        out.push_back(std::move(s));
      }
    }
    return out;
  }
  HB_TRY(auto apt_sources, WithContext(deb::LoadHostAptSources(apt_root), "read apt sources"));
  std::optional<std::vector<std::string>> default_keyrings;
  for (const deb::AptSource& apt : apt_sources) {
    std::string where = fmt::format("{} line {}", apt.origin_file, apt.line);
    if (apt.trusted && apt.signed_by_paths.empty() && apt.signed_by_inline_key.empty()) {
      LogWarn("{}: skipped: marked trusted=yes, so nothing could verify it", where);
      continue;
    }
    for (const std::string& uri : apt.uris) {
      for (const std::string& suite : apt.suites) {
        if (!suite.empty() && suite.back() == '/') {
          LogWarn("{}: skipped flat repository {} {}: not supported", where, uri, suite);
          continue;
        }
        SuiteSource s;
        s.uri = TrimSlash(uri);
        s.suite = suite;
        s.components = apt.components;
        s.architectures = apt.architectures;
        s.where = where;
        s.inline_key = apt.signed_by_inline_key;
        s.keyring_paths = apt.signed_by_paths;
        s.allowed_signers = apt.signed_by_fingerprints;
        if (s.keyring_paths.empty() && s.inline_key.empty()) {
          if (!default_keyrings) {
            HB_TRY(auto paths, deb::DefaultAptKeyringPaths(apt_root));
            default_keyrings = std::move(paths);
          }
          s.keyring_paths = *default_keyrings;
        }
        out.push_back(std::move(s));
      }
    }
  }
  if (out.empty()) {
    return Fail(ErrorCode::kSpec, spec.source_file +
                                      ": names no repositories and the host's apt sources list "
                                      "none: add a `repositories` entry");
  }
  return out;
}

Result<std::vector<LoadedSuite>> LoadSuites(const std::vector<SuiteSource>& sources,
                                            const std::vector<std::string>& archs,
                                            net::HttpClient& http, cache::BlobStore& store,
                                            const LoadOptions& options) {
  int64_t now = options.now ? options.now : static_cast<int64_t>(std::time(nullptr));
  KeyringCache keyrings;
  std::vector<LoadedSuite> suites;
  // Verified InRelease files and their dates, recorded for --offline and replay checks only once
  // every index they vouch for is in the cache.
  std::vector<std::pair<std::string, std::string>> seen;
  std::vector<IndexPlan> plans;

  // 1. InRelease: fetch all at once, then verify, parse and check freshness one by one, planning
  //    the indexes each vouches for.
  //    Every fetch runs to its end (one thread per suite) and a failure is reported in suite
  //    order, as the loop below meets it.
  std::vector<std::string> meta_keys;
  for (const SuiteSource& source : sources) {
    meta_keys.push_back(cache::MetaKey("inrelease", source.uri + " " + source.suite));
  }
  std::vector<Result<std::string>> fetches(sources.size(), std::string());
  auto fetch = [&](size_t n) -> Result<void> {
    fetches[n] = FetchInRelease(sources[n], http, store, options.offline, meta_keys[n]);
    return {};
  };
  HB_TRY_VOID(ParallelFor(sources.size(), static_cast<unsigned>(sources.size()), fetch));
  for (size_t n = 0; n < sources.size(); ++n) {
    const SuiteSource& source = sources[n];
    std::string label = source.Label();
    const std::string& meta_key = meta_keys[n];
    HB_TRY(std::string inrelease, WithContext(std::move(fetches[n]), label + ": InRelease"));
    HB_TRY(const deb::Keyring* keyring, WithContext(keyrings.For(source), label + ": keyring"));
    HB_TRY(deb::VerifiedText verified,
           deb::VerifyClearsigned(*keyring, inrelease, "InRelease of " + label));
    if (!source.allowed_signers.empty()) {
      bool allowed = std::any_of(verified.signer_fingerprints.begin(),
                                 verified.signer_fingerprints.end(), [&](const std::string& fp) {
                                   return std::find(source.allowed_signers.begin(),
                                                    source.allowed_signers.end(),
                                                    fp) != source.allowed_signers.end();
                                 });
      if (!allowed) {
        return Fail(ErrorCode::kIntegrity, "InRelease of " + label + ": signed by " +
                                               Join(verified.signer_fingerprints, ", ") +
                                               ", none of the keys its Signed-By allows");
      }
    }
    HB_TRY(deb::ReleaseFile release,
           WithContext(deb::ParseRelease(verified.signed_text), "InRelease of " + label));
    HB_TRY_VOID(WithContext(deb::CheckFreshness(release, now), "InRelease of " + label));
    // Signed is not enough: the archive's keys sign every suite. A mirror must not pass off
    // another suite, nor an older signed state of this one (Debian's main suites carry no
    // Valid-Until), as what was asked for.
    if (release.suite != source.suite && release.codename != source.suite) {
      return Fail(ErrorCode::kIntegrity,
                  fmt::format("InRelease of {} is for suite {} (codename {})", label, release.suite,
                              release.codename));
    }
    std::string date_key = meta_key + ".date";
    HB_TRY(auto seen_text, store.ReadMeta(date_key));
    int64_t seen_date = seen_text ? std::atoll(seen_text->c_str()) : 0;
    if (release.date < seen_date) {
      return Fail(ErrorCode::kIntegrity,
                  fmt::format("InRelease of {} is dated {}, older than the {} seen before: a "
                              "mirror serving an outdated release?",
                              label, deb::FormatRfc2822Date(release.date),
                              deb::FormatRfc2822Date(seen_date)));
    }
    if (!options.offline) {
      seen.push_back({meta_key, std::move(inrelease)});
      seen.push_back({date_key, std::to_string(release.date)});
    }

    size_t index = suites.size();
    for (const std::string& arch : archs) {
      if (!source.architectures.empty() &&
          std::find(source.architectures.begin(), source.architectures.end(), arch) ==
              source.architectures.end()) {
        continue;
      }
      for (const std::string& component : source.components) {
        IndexPlan plan;
        plan.suite = index;
        plan.component = component;
        plan.arch = arch;
        plan.path = component + "/binary-" + arch + "/Packages";
        if (auto e = release.Lookup(plan.path)) plan.plain = *e;
        if (auto e = release.Lookup(plan.path + ".xz")) plan.xz = *e;
        if (!plan.plain && !plan.xz) {
          return Fail(ErrorCode::kNotFound, fmt::format("InRelease of {} lists no {}.xz: is "
                                                        "'{}' a component and '{}' an "
                                                        "architecture of this suite?",
                                                        label, plan.path, component, arch));
        }
        plans.push_back(std::move(plan));
      }
    }
    suites.push_back(LoadedSuite{source,
                                 std::move(release),
                                 verified.signer_fingerprints,
                                 keyring->PrimaryFingerprints(),
                                 {}});
  }

  // 2. Indexes: the decompressed file from the cache when the Release lists its hash; otherwise
  //    the .xz from the cache or the server, checked against the Release before anything reads it.
  std::vector<std::optional<std::string>> texts(plans.size());
  std::vector<size_t> to_download;
  for (size_t i = 0; i < plans.size(); ++i) {
    const IndexPlan& p = plans[i];
    if (p.plain) {
      HB_TRY(auto text, store.Read(p.plain->sha256));
      if (text) {
        texts[i] = std::move(*text);
        continue;
      }
    }
    if (!p.xz) {
      to_download.push_back(i);  // only the uncompressed file is listed
      continue;
    }
    HB_TRY(auto found, store.Find(p.xz->sha256));
    if (!found) to_download.push_back(i);
  }

  if (!to_download.empty()) {
    if (options.offline) {
      const IndexPlan& p = plans[to_download.front()];
      return Fail(ErrorCode::kNotFound, fmt::format("{}: {}.xz is not in the cache (--offline)",
                                                    suites[p.suite].source.Label(), p.path));
    }
    std::vector<BlobRequest> blobs;
    for (size_t i : to_download) {
      const IndexPlan& p = plans[i];
      const LoadedSuite& suite = suites[p.suite];
      const deb::ReleaseEntry& e = p.xz ? *p.xz : *p.plain;
      std::string file = p.xz ? p.path + ".xz" : p.path;
      BlobRequest b{e.sha256, e.size, {}, suite.source.Label() + ": " + file};
      // By hash where the archive offers it: immune to the index changing during the download.
      if (suite.release.acquire_by_hash) {
        b.urls.push_back(DistsUrl(suite.source) + p.component + "/binary-" + p.arch +
                         "/by-hash/SHA256/" + e.sha256);
      }
      b.urls.push_back(DistsUrl(suite.source) + file);
      blobs.push_back(std::move(b));
    }
    HB_TRY_VOID(EnsureBlobs(std::move(blobs), http, store, "fetching package indexes"));
  }

  for (size_t i = 0; i < plans.size(); ++i) {
    const IndexPlan& p = plans[i];
    std::string label = suites[p.suite].source.Label();
    if (!texts[i]) {
      const deb::ReleaseEntry& e = p.xz ? *p.xz : *p.plain;
      HB_TRY(auto raw, store.Read(e.sha256));
      if (!raw) {
        return Fail(ErrorCode::kIo, fmt::format("{}: {}: vanished from the cache", label, p.path));
      }
      if (p.xz) {
        // The listed size of the decompressed index bounds the output; without one, 1 GiB.
        uint64_t limit = p.plain ? p.plain->size : (uint64_t{1} << 30);
        HB_TRY(std::string text, deb::Decompress(*raw, label + ": " + p.path + ".xz", limit));
        if (p.plain) {
          if (text.size() != p.plain->size || Sha256Hex(text) != p.plain->sha256) {
            return Fail(ErrorCode::kIntegrity,
                        fmt::format("{}: {}: decompressed index does not match the hash in "
                                    "InRelease",
                                    label, p.path));
          }
          HB_TRY_VOID(store.Put(text));
        }
        texts[i] = std::move(text);
      } else {
        texts[i] = std::move(*raw);
      }
    }
    suites[p.suite].packages.push_back(PackagesText{
        p.component, p.arch, std::make_shared<const std::string>(std::move(*texts[i]))});
  }
  for (const auto& [key, data] : seen) HB_TRY_VOID(store.WriteMeta(key, data));
  return suites;
}

}  // namespace hardbase::apt
