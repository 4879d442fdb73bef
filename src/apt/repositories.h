// The verified path from a Debian repository to the text of its Packages indexes.
//
// For every suite: fetch dists/<suite>/InRelease, verify its OpenPGP signature against the suite's
// keyring, refuse it once Valid-Until has passed, take the SHA256 and size of each
// <component>/binary-<arch>/Packages.xz from it, fetch that (by hash when the archive supports it),
// check it, and decompress it. Nothing that fails a check is used or cached; every failure names
// the suite, the file and what did not match.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/error.h"
#include "cache/blob_store.h"
#include "deb/release.h"
#include "net/http.h"
#include "spec/image_spec.h"

namespace hardbase::apt {

// One suite of one repository, with what is needed to fetch and trust it.
struct SuiteSource {
  std::string uri;  // base URL without a trailing slash
  std::string suite;
  std::vector<std::string> components;
  std::vector<std::string> keyring_paths;
  std::string inline_key;                    // an armored key block from a deb822 Signed-By
  std::vector<std::string> allowed_signers;  // apt's Signed-By fingerprints; empty: any key
  std::vector<std::string> architectures;    // empty: every architecture asked for
  std::string where;                         // where it was configured, for messages

  // "bookworm-security (http://…/debian-security)" for messages.
  std::string Label() const;
};

// The suites a spec's packages come from: its `repositories`, or the host's apt sources (read
// under `apt_root`, normally "/") when it names none.
Result<std::vector<SuiteSource>> SuiteSourcesFor(const spec::ImageSpec& spec,
                                                 const std::string& apt_root = "/");

// The decompressed Packages text of one component and architecture of a suite.
struct PackagesText {
  std::string component;
  std::string arch;
  std::shared_ptr<const std::string> text;
};

struct LoadedSuite {
  SuiteSource source;
  deb::ReleaseFile release;
  std::vector<std::string> signers;  // primary fingerprints of the good signatures
  std::vector<std::string> keyring;  // primary fingerprints of every key trusted for this suite
  std::vector<PackagesText> packages;
};

struct LoadOptions {
  // Use the InRelease files verified by an earlier run instead of asking the servers again (they
  // are verified again, Valid-Until included).
  bool offline = false;
  int64_t now = 0;  // seconds since the epoch; 0 means the clock
};

// Fetches, verifies and decompresses the indexes of `archs` for every suite.
Result<std::vector<LoadedSuite>> LoadSuites(const std::vector<SuiteSource>& sources,
                                            const std::vector<std::string>& archs,
                                            net::HttpClient& http, cache::BlobStore& store,
                                            const LoadOptions& options);

}  // namespace hardbase::apt
