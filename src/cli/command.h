// The CLI's shared pieces: global options and how a subcommand plugs into main.
//
// Each command lives in its own file: it declares its flags on a CLI11 subcommand and returns a
// function that runs it. Commands call library functions and print; exit codes come from the
// ErrorCode of a returned Error, mapped in one place (main.cc).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "cache/blob_store.h"
#include "pipeline/build_pipeline.h"
#include "pipeline/remote_layer_cache.h"
#include "registry/client.h"
#include "sign/keys.h"

namespace hardbase::cli {

struct GlobalOptions {
  bool quiet = false;
  bool verbose = false;
  std::string cache_dir;  // empty: cache::DefaultCacheDir()
};

// The cache directory the options select, opened for this process.
Result<cache::BlobStore> OpenCache(const GlobalOptions& global);
std::string CacheDir(const GlobalOptions& global);

// The password of a cosign key: $COSIGN_PASSWORD when set (even empty), else asked on the
// terminal (twice when `confirm`); kUsage when neither is possible (no terminal in CI).
Result<std::string> KeyPassword(bool confirm);
// One line read from the terminal without echo (kUsage when there is no terminal).
Result<std::string> PromptSecret(std::string_view question);
// A cosign private key file, decrypted with KeyPassword (kAuth on a wrong password).
Result<sign::PrivateKey> LoadPrivateKey(const std::string& path);
// A PEM public key file.
Result<sign::PublicKey> LoadPublicKey(const std::string& path);

// How to reach registries, shared by every command that takes an image reference:
// --plain-http, --tls-verify=false, --cert-file, --authfile, --creds USER:PASS.
struct RegistryFlags {
  bool plain_http = false;
  bool tls_verify = true;
  std::string cert_file;
  std::string auth_file;
  std::string creds;
};
// Declares the flags on `cmd`.
void AddRegistryFlags(CLI::App* cmd, RegistryFlags& flags);
// The options the flags say; `creds` overrides flags.creds when not empty.
Result<registry::RegistryOptions> RegistryOptionsFrom(const RegistryFlags& flags,
                                                      const std::string& creds = "");

// The options `build` and `catalog build` share: how to lock, compress and sign an image.
struct ImageBuildFlags {
  pipeline::BuildOptions options;
  std::string compression = "gzip";
  std::string sign_key;
  std::string cache_repo;
  RegistryFlags registry;  // of the --cache-repo registry
};
// Declares --locked, --tag, --compression, --strict, --allow-outside-files, --offline, --apt-root,
// --sign-key, --cache-repo and the registry flags on `cmd`.
void AddImageBuildFlags(CLI::App* cmd, ImageBuildFlags& flags);
// What the build options point at, kept alive by the caller for the build.
struct ImageBuildResources {
  std::optional<sign::PrivateKey> key;
  std::unique_ptr<pipeline::RemoteLayerCache> remote_cache;
};
// The build options the flags say, with SOURCE_DATE_EPOCH; with --sign-key, the key is loaded
// (its password asked for), with --cache-repo the remote layer cache opened, into `resources`.
Result<pipeline::BuildOptions> ImageBuildOptions(const ImageBuildFlags& flags,
                                                 ImageBuildResources& resources);

// A library's table of the names its parser accepts (oci::CompressionNames(), ...) as the set a
// CLI::IsMember check takes, so that --help, the completion scripts and the man page list exactly
// what the parser reads.
std::vector<std::string> Choices(std::span<const std::string_view> names);

// Writes a command's document to stdout (`path` empty or "-"), else atomically to `path`; ends it
// with a newline.
Result<void> WriteOutput(const std::string& path, std::string text);

// Runs a parsed command; returns its exit code on success (0, or a documented non-zero status
// such as "lock would change"), an Error otherwise.
using CommandRunner = std::function<Result<int>()>;

void AddInitCommand(CLI::App& app, CommandRunner& runner);
void AddLockCommand(CLI::App& app, const GlobalOptions& global, CommandRunner& runner);
void AddCacheCommand(CLI::App& app, const GlobalOptions& global, CommandRunner& runner);
void AddFetchCommand(CLI::App& app, const GlobalOptions& global, CommandRunner& runner);
void AddBuildCommand(CLI::App& app, const GlobalOptions& global, CommandRunner& runner);
void AddCatalogCommand(CLI::App& app, const GlobalOptions& global, CommandRunner& runner);
void AddSbomCommand(CLI::App& app, CommandRunner& runner);
void AddKeygenCommand(CLI::App& app, CommandRunner& runner);
void AddSignCommand(CLI::App& app, CommandRunner& runner);
void AddAttestCommand(CLI::App& app, CommandRunner& runner);
void AddVerifyCommand(CLI::App& app, CommandRunner& runner);
void AddReproduceCommand(CLI::App& app, const GlobalOptions& global, CommandRunner& runner);
void AddCopyCommands(CLI::App& app, CommandRunner& runner);  // push, pull, copy
void AddPinCommand(CLI::App& app, CommandRunner& runner);
void AddInspectCommand(CLI::App& app, CommandRunner& runner);
void AddLoginCommands(CLI::App& app, CommandRunner& runner);  // login, logout
void AddVulnCommands(CLI::App& app, const GlobalOptions& global, CommandRunner& runner);
void AddScanCommand(CLI::App& app, const GlobalOptions& global, CommandRunner& runner);
void AddUpdateCommand(CLI::App& app, const GlobalOptions& global, CommandRunner& runner);
void AddDiffCommand(CLI::App& app, const GlobalOptions& global, CommandRunner& runner);
void AddAuditCommand(CLI::App& app, const GlobalOptions& global, CommandRunner& runner);
void AddMigrateCommand(CLI::App& app, const GlobalOptions& global, CommandRunner& runner);
void AddReportCommand(CLI::App& app, CommandRunner& runner);
void AddCiCommand(CLI::App& app, CommandRunner& runner);  // ci init
// completion, and the hidden manpage: scripts and page describing all of `app` when they run.
void AddCompletionCommands(CLI::App& app, CommandRunner& runner);

}  // namespace hardbase::cli
