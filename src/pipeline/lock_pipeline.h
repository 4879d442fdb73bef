// `hardbase lock`: from a spec to a lock, through verified repositories and the resolver.
#pragma once

#include <string>
#include <vector>

#include "apt/repositories.h"
#include "base/error.h"
#include "cache/blob_store.h"
#include "net/http.h"
#include "spec/image_spec.h"
#include "spec/lock.h"

namespace hardbase::pipeline {

struct LockOptions {
  apt::LoadOptions load;
  std::string apt_root = "/";  // where the host's apt sources are read
};

// Resolves every architecture of the spec against its repositories. The result depends only on
// the spec and the repositories' signed state, never on the clock or the machine: its
// source_date_epoch is the newest InRelease Date.
//
// What the image's variant leaves out for hardening (image::HardeningExclusions) is left out of
// the closure as `exclude` leaves packages out, with what only it needs; the lock records such a
// package in `left_out` when something wanted it. A closure with libc6 gets libc-bin for its
// C.UTF-8 locale (required by spec::kRequiredForLocale) unless the spec excludes it. Warns about
// an `exclude` entry nothing needs (not recorded: "image.yaml:7:5: exclude: 'foo' is not needed
// by any package of amd64") and a requested package the variant leaves out.
Result<spec::Lock> LockSpec(const spec::ImageSpec& spec, net::HttpClient& http,
                            cache::BlobStore& store, const LockOptions& options);

// Writes the lock to `path` atomically, as LockToJson gives it, once ParseLock has read that text
// back to the same lock: no command writes a lock that a later command would refuse (kInternal,
// with what the reader said, and nothing written). Every writer of locks goes through here.
Result<void> WriteLock(const spec::Lock& lock, const std::string& path);

// What differs between two locks in what an image is built from, one line each:
// "amd64: openssl 3.0.15-1 -> 3.0.16-1", "amd64: + libfoo 1.2-3", "amd64: - libbar 2.0-1", an
// exclusion's change, a new architecture, or a note that the spec digest changed. Release dates
// and signatures are not compared: a suite re-signed with the same packages changes nothing.
std::vector<std::string> DiffLocks(const spec::Lock& before, const spec::Lock& after);

}  // namespace hardbase::pipeline
