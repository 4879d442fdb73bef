// `hardbase catalog update DIR`: `hardbase update` (update.h) over every entry of a catalog, the
// nightly half of the patch loop. Each entry's lock is re-resolved against today's repositories;
// the report says per image which packages have new versions and which CVEs those close, for
// people (a table), for programs (JSON) and for a pull request that carries the new locks
// (Markdown). With `write`, each changed lock is written beside its spec, and `catalog build
// --changed-only` then rebuilds only those images (build_record.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "cache/blob_store.h"
#include "net/http.h"
#include "pipeline/update.h"

namespace hardbase::pipeline {

struct CatalogUpdateOptions {
  std::string dir;
  std::vector<std::string> only;  // entry names; empty: every entry
  unsigned jobs = 0;              // entries re-resolved at once; 0: one per core
  bool write = false;             // write each changed lock (atomically)
  UpdateOptions update;           // how to lock, and the database to match with
};

enum class EntryUpdateStatus { kUnchanged, kChanged, kFailed };

struct CatalogEntryUpdate {
  std::string name;
  std::string spec_path;
  std::string lock_path;  // beside the spec
  EntryUpdateStatus status = EntryUpdateStatus::kFailed;
  std::optional<SpecUpdate> update;  // unless the update itself failed
  std::optional<Error> error;        // with kFailed: what failed, naming the entry
  bool written = false;              // its new lock was written
};

struct CatalogUpdateReport {
  std::vector<CatalogEntryUpdate> entries;  // in catalog order
  // About the vulnerability data, each once.
  std::vector<std::string> warnings;
};

// Updates the catalog's entries, `jobs` at a time. Fails as a whole only when nothing can be
// tried (the directory cannot be read, holds no entry, `only` names an unknown one); an entry's
// failure (no lock yet, a repository that cannot be read, a lock that cannot be written) is in
// its CatalogEntryUpdate and does not stop the others.
Result<CatalogUpdateReport> UpdateCatalog(const CatalogUpdateOptions& options,
                                          net::HttpClient& http, cache::BlobStore& store);

// The summary for people: each changed image's package changes as `hardbase update` prints them,
// then one row per image (name, status, packages changed, CVEs closed) and the totals. Names,
// versions and ids are made printable.
std::string RenderCatalogUpdateTable(const CatalogUpdateReport& report);

// The same as JSON: {"images": [{name, spec, lock, status ("changed", "unchanged", "failed"),
// written, release, changes (the lock's changed lines), archs: {ARCH: what `hardbase update
// --json` prints for it}, cvesClosed, error?}], "totals": {images, changed, unchanged, failed,
// packagesChanged, cvesClosed}, "warnings": []}. cvesClosed counts distinct ids.
std::string RenderCatalogUpdateJson(const CatalogUpdateReport& report);

// A pull request body: a summary line, then per changed image a table (package, old → new, the
// CVEs closed with their severity, and any opened), the unchanged images in one line and the
// failed ones with their error. Every name, version, id and message is a code span
// (base/markdown.h), so nothing from a repository or a database is read as Markdown.
std::string RenderCatalogUpdateMarkdown(const CatalogUpdateReport& report);

}  // namespace hardbase::pipeline
