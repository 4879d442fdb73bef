// `hardbase update` for one spec, the nightly job of a team that keeps its images patched: its
// lock re-resolved against today's repositories, and per package the version change and the
// vulnerabilities it closes or opens. `hardbase update` and `hardbase catalog update` print it.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/error.h"
#include "cache/blob_store.h"
#include "net/http.h"
#include "pipeline/compare.h"
#include "pipeline/lock_pipeline.h"
#include "spec/lock.h"

namespace hardbase::pipeline {

struct UpdateOptions {
  LockOptions lock;
  // The Debian release to match for ("12"); empty: the one the new lock's repositories name by
  // their codename.
  std::string release;
  // The vulnerability database; when there is none at this path, the update shows version
  // changes only (and says so in `warnings`). Empty: no database.
  std::string vuln_db;
  int64_t now = 0;  // seconds since the epoch, for the database's age; 0 means the clock
};

struct SpecUpdate {
  spec::Lock before;  // the lock as it is on disk
  spec::Lock after;   // as the repositories resolve the spec today
  std::string release;
  // DiffLocks(before, after): what a rebuild would change; empty when the lock is up to date.
  std::vector<std::string> changes;
  // Per architecture of `after`, in its order: the packages compared, with the findings each
  // change closes and opens when there was a database.
  std::vector<std::pair<std::string, Comparison>> archs;
  // About the database: missing (version changes only), old, records skipped at import.
  std::vector<std::string> warnings;
};

// Loads the spec and its lock at `lock_path` (kNotFound, "run `hardbase lock` first", when there
// is none), re-resolves the spec and compares. kUsage when no release is given and none of the
// new lock's repositories names a Debian release; a database that exists but cannot be read is
// an error, one that does not exist only a warning. Writes nothing.
Result<SpecUpdate> UpdateSpec(const std::string& spec_path, const std::string& lock_path,
                              const UpdateOptions& options, net::HttpClient& http,
                              cache::BlobStore& store);

}  // namespace hardbase::pipeline
