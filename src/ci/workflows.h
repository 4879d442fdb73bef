// The CI files `hardbase ci init` writes: GitHub Actions workflows and a GitLab CI pipeline that
// run the patch loop on a catalog with the CI a team already has, the registry being the only
// shared store.
//
// Three pipelines, the same on both:
// - update: every night, `catalog update` re-resolves the locks; its exit 9 (a rebuild is due)
//   opens or updates a pull (merge) request with the new locks and its Markdown (the CVEs the
//   new versions close) as the description; 0 is nothing to do; anything else fails.
// - publish: on a change of the catalog on the default branch, `catalog plan --shards N` splits
//   it, a matrix job per shard builds its share (`catalog build --shard i/N --locked`, layers
//   shared through the registry cache `--cache-repo`), and every image whose digest is not the
//   one the registry has under the tag is signed for its repository, pushed, and compared with
//   the previous one (`diff`).
// - gate: for each image consumed, `verify --key` then `scan --fail-on` with a SARIF report,
//   uploaded to GitHub code scanning (kept as an artifact on GitLab).
//
// Pure: options in, file texts out. Every value from the user is checked against the narrow
// alphabet its kind needs (a registry, a path, a secret's name...) and refused otherwise, so no
// value can carry a newline, a quote, a `$` or a `${{`: nothing the user gives is ever read as
// YAML structure, shell code or a GitHub expression. In the GitHub workflows, values reach
// scripts only through environment variables (no `${{ }}` inside a `run:` script).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace hardbase::ci {

struct CiOptions {
  std::string catalog = "catalog";  // the catalog directory, relative to the repository's root
  std::string registry;             // HOST[:PORT]/PREFIX: entry NAME is pushed as REGISTRY/NAME
  std::string cache_repo;           // HOST[:PORT]/REPO of the shared layer cache; "": none
  int shards = 2;                   // 1..256, the publish pipeline's matrix
  std::string tag = "latest";       // the tag pushed, and compared with
  std::string branch = "main";      // the default branch: publish runs on it, PRs go to it
  // The CI secret (GitHub) or variable (GitLab) holding the cosign private key; its password is
  // in COSIGN_PASSWORD.
  std::string key_secret = "COSIGN_PRIVATE_KEY";
  std::string public_key = "cosign.pub";  // the gate's public key, relative to the root
  // What the gate verifies and scans: these images, else REGISTRY/NAME:TAG for each entry.
  std::vector<std::string> gate_images;
  std::vector<std::string> catalog_entries;  // the catalog's entry names, as found on disk
  std::string fail_on = "high";              // the gate's `scan --fail-on` severity
  // Where hardbase comes from. GitHub: its action, "OWNER/REPO[/PATH]@REF". GitLab: a clone of
  // `source_url` at `source_ref`, built with its scripts/.
  std::string action;
  std::string source_url;
  std::string source_ref;
};

// A file to write, `path` relative to the repository's root.
struct CiFile {
  std::string path;
  std::string text;
};

// kUsage naming the option (by its `ci init` flag) when a value is outside its alphabet or
// otherwise not what its kind is (an absolute or `..` path, a secret name GitHub reserves, ...).
// `github`/`gitlab` say which values are needed: the action for GitHub, the source for GitLab.
Result<void> CheckCiOptions(const CiOptions& options, bool github, bool gitlab);

// The images the gate checks: `gate_images`, else each catalog entry's REGISTRY/NAME:TAG.
std::vector<std::string> GateImages(const CiOptions& options);

// .github/workflows/hardbase-update.yml, hardbase-publish.yml and hardbase-gate.yml.
Result<std::vector<CiFile>> GitHubWorkflows(const CiOptions& options);
// .gitlab-ci.yml with the three pipelines (update on schedules, publish on the default branch,
// the gate on merge requests, the default branch and schedules).
Result<CiFile> GitLabPipeline(const CiOptions& options);

// `s` as a YAML double-quoted scalar that reads back as exactly `s`: quotes, backslashes and
// every control or non-ASCII byte escaped (invalid UTF-8 bytes as \xXX).
std::string YamlString(std::string_view s);

}  // namespace hardbase::ci
