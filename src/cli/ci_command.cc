// `hardbase ci init --github|--gitlab --registry HOST/PREFIX [--catalog DIR] [--cache-repo
//  HOST/REPO] [--shards N] [--key-secret NAME] [--image REF]... [--action OWNER/REPO@REF] [-o DIR]
//  [--force] ...`: the CI files that run the patch loop (ci/workflows.h), written into the
// repository at DIR.
#include <algorithm>

#include "base/fs.h"
#include "base/log.h"
#include "ci/workflows.h"
#include "cli/command.h"
#include "oci/image_ref.h"
#include "pipeline/catalog.h"
#include "pipeline/catalog_plan.h"
#include "vuln/severity.h"

namespace hardbase::cli {
namespace {

struct CiInitFlags {
  bool github = false;
  bool gitlab = false;
  ci::CiOptions options;
  std::string output = ".";
  bool force = false;
};

// `flag`'s value names a repository of a registry (HOST[:PORT]/PATH), as image references do.
Result<void> CheckRegistryRepository(std::string_view flag, const std::string& value) {
  auto ref = oci::ParseImageRef("docker://" + value);
  if (!ref || ref->transport != oci::ImageRef::Transport::kRegistry) {
    return Fail(ErrorCode::kUsage,
                fmt::format("{} {}: not a registry repository (HOST[:PORT]/PATH){}", flag, value,
                            ref ? "" : ": " + ref.error().message));
  }
  return {};
}

Result<int> RunCiInit(const CiInitFlags& flags) {
  if (!flags.github && !flags.gitlab) {
    return Fail(ErrorCode::kUsage, "say which CI: --github, --gitlab or both");
  }
  ci::CiOptions options = flags.options;
  std::string root = flags.output;
  std::string prefix = root == "." ? "" : root + (root.ends_with('/') ? "" : "/");
  // Without --image, the gate checks the catalog's images (a catalog that cannot be read has
  // none: the check below says so).
  if (options.gate_images.empty()) {
    if (auto entries = pipeline::DiscoverCatalog(prefix + options.catalog)) {
      for (const auto& e : *entries) options.catalog_entries.push_back(e.name);
    }
  }
  // GitLab clones hardbase's source; by default from the GitHub repository of the action.
  if (flags.gitlab && options.source_url.empty() && !options.action.empty()) {
    std::string repo = options.action.substr(0, options.action.find('@'));
    size_t second = repo.find('/', repo.find('/') + 1);
    options.source_url = "https://github.com/" + repo.substr(0, second) + ".git";
    if (options.source_ref.empty()) options.source_ref = options.action.substr(repo.size() + 1);
  }
  // Every value in its alphabet first; then the references as image references read.
  HB_TRY_VOID(ci::CheckCiOptions(options, flags.github, flags.gitlab));
  HB_TRY_VOID(CheckRegistryRepository("--registry", options.registry));
  if (!options.cache_repo.empty()) {
    HB_TRY_VOID(CheckRegistryRepository("--cache-repo", options.cache_repo));
  }
  std::vector<std::string> gate_images = ci::GateImages(options);
  for (const auto& image : gate_images) {
    auto ref = oci::ParseImageRef(image);
    if (!ref || ref->transport != oci::ImageRef::Transport::kRegistry) {
      return Fail(ErrorCode::kUsage, fmt::format("--image {}: not an image in a registry{}", image,
                                                 ref ? "" : ": " + ref.error().message));
    }
  }

  std::vector<ci::CiFile> files;
  if (flags.github) {
    HB_TRY(files, ci::GitHubWorkflows(options));
  }
  if (flags.gitlab) {
    HB_TRY(ci::CiFile file, ci::GitLabPipeline(options));
    files.push_back(std::move(file));
  }
  // Nothing is written unless everything can be.
  for (auto& file : files) {
    file.path = prefix + file.path;
    if (!flags.force && PathExists(file.path)) {
      return Fail(ErrorCode::kUsage,
                  fmt::format("{} exists; pass --force to replace it", file.path));
    }
  }
  for (const auto& file : files) {
    if (size_t slash = file.path.rfind('/'); slash != std::string::npos) {
      HB_TRY_VOID(MakeDirs(file.path.substr(0, slash)));
    }
    HB_TRY_VOID(WriteFileAtomic(file.path, file.text));
    LogInfo("wrote {}", file.path);
  }
  LogInfo("the gate checks {} image{} with the public key {}", gate_images.size(),
          gate_images.size() == 1 ? "" : "s", options.public_key);
  LogInfo(
      "secrets to set: {} (the cosign private key), COSIGN_PASSWORD, REGISTRY_USERNAME and "
      "REGISTRY_PASSWORD{}",
      options.key_secret, flags.gitlab ? "; on GitLab also HARDBASE_GITLAB_TOKEN" : "");
  return 0;
}

}  // namespace

void AddCiCommand(CLI::App& app, CommandRunner& runner) {
  CLI::App* ci = app.add_subcommand("ci", "Continuous patching in CI: write the workflows");
  ci->require_subcommand(1);

  auto flags = std::make_shared<CiInitFlags>();
  ci::CiOptions& o = flags->options;
  CLI::App* init = ci->add_subcommand(
      "init",
      "Write CI files for a catalog: a nightly update opening a pull request with the CVEs it "
      "closes, publishing by shard matrix on the default branch (build, sign, push, diff), and a "
      "consumer gate (verify, scan, SARIF)");
  init->add_flag("--github", flags->github,
                 "GitHub Actions: .github/workflows/hardbase-{update,publish,gate}.yml");
  init->add_flag("--gitlab", flags->gitlab, "GitLab CI: .gitlab-ci.yml");
  init->add_option("--catalog", o.catalog, "The catalog's directory, relative to the repository")
      ->capture_default_str();
  init->add_option("--registry", o.registry,
                   "Where images are published: entry NAME goes to HOST[:PORT]/PREFIX/NAME")
      ->required();
  init->add_option("--cache-repo", o.cache_repo,
                   "The registry repository the shards share package layers through "
                   "(catalog build --cache-repo)");
  init->add_option("--shards", o.shards, "Matrix jobs the catalog is built by")
      ->check(CLI::Range(1, static_cast<int>(pipeline::kMaxShards)))
      ->capture_default_str();
  init->add_option("--tag", o.tag, "The tag images are published under")->capture_default_str();
  init->add_option("--branch", o.branch, "The default branch: publishing runs on it")
      ->capture_default_str();
  init->add_option("--key-secret", o.key_secret,
                   "The CI secret holding the cosign private key (its password: COSIGN_PASSWORD)")
      ->capture_default_str();
  init->add_option("--public-key", o.public_key,
                   "The gate's public key file, relative to the repository")
      ->capture_default_str();
  init->add_option("--image", o.gate_images,
                   "An image the gate verifies and scans (repeatable; default: every catalog "
                   "entry as REGISTRY/NAME:TAG)");
  std::vector<std::string> severities = Choices(vuln::SeverityNames());
  std::reverse(severities.begin(), severities.end());  // worst first, as the help lists them
  init->add_option("--fail-on", o.fail_on, "The gate fails on findings this severe or worse")
      ->check(CLI::IsMember(severities))
      ->capture_default_str();
  init->add_option("--action", o.action,
                   "GitHub: hardbase's action, OWNER/REPO@REF (a commit or tag of the repository "
                   "holding action.yml)");
  init->add_option("--source", o.source_url,
                   "GitLab: the git URL of hardbase's source (default: the --action repository)");
  init->add_option("--source-ref", o.source_ref,
                   "GitLab: the commit or tag of it to build (default: the --action ref)");
  init->add_option("-o,--output", flags->output, "The repository's root, where the files go")
      ->capture_default_str();
  init->add_flag("-f,--force", flags->force, "Replace files that exist");
  init->callback(
      [&runner, flags] { runner = [flags] { return WithContext(RunCiInit(*flags), "ci init"); }; });
}

}  // namespace hardbase::cli
