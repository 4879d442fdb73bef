// `hardbase push SRC DEST`, `pull SRC DEST`, `copy SRC DEST`: one operation under three names
// (push wants a registry destination, pull a registry source); the image travels whole, with its
// signatures, attestations and SBOMs, and keeps its digest.
#include "base/fs.h"
#include "base/log.h"
#include "cli/command.h"
#include "oci/image_ref.h"
#include "pipeline/transfer.h"

namespace hardbase::cli {
namespace {

struct CopyFlags {
  std::string verb;
  std::string source;
  std::string destination;
  RegistryFlags registry;
  std::string src_creds, dest_creds;
  int parallel = 4;
  uint64_t chunk_size = 0;
  bool no_artifacts = false;
  std::string digest_file;
};

Result<int> RunCopy(const CopyFlags& flags) {
  HB_TRY(oci::ImageRef from, oci::ParseImageRef(flags.source));
  HB_TRY(oci::ImageRef to, oci::ParseImageRef(flags.destination));
  using T = oci::ImageRef::Transport;
  if (flags.verb == "push" && to.transport != T::kRegistry) {
    return Fail(ErrorCode::kUsage, "push: the destination " + flags.destination +
                                       " is not a registry (docker://HOST/REPO:TAG); use copy");
  }
  if (flags.verb == "pull" && from.transport != T::kRegistry) {
    return Fail(ErrorCode::kUsage, "pull: the source " + flags.source +
                                       " is not a registry (docker://HOST/REPO:TAG); use copy");
  }
  // --creds is for the one registry involved; two different registries get their own.
  if (!flags.registry.creds.empty() && from.transport == T::kRegistry &&
      to.transport == T::kRegistry && from.registry != to.registry) {
    return Fail(ErrorCode::kUsage, flags.verb +
                                       ": two registries: give --src-creds and "
                                       "--dest-creds instead of --creds");
  }
  pipeline::TransferOptions options;
  HB_TRY(options.source_registry, RegistryOptionsFrom(flags.registry, flags.src_creds));
  HB_TRY(options.dest_registry, RegistryOptionsFrom(flags.registry, flags.dest_creds));
  if (flags.chunk_size > 0) {
    options.source_registry.chunk_size = options.dest_registry.chunk_size = flags.chunk_size;
  }
  options.parallel = flags.parallel;
  options.artifacts = !flags.no_artifacts;
  HB_TRY(pipeline::TransferReport report, pipeline::CopyImage(from, to, options));
  LogInfo(
      "{}: {} blobs ({} already there, {} mounted, {} bytes sent), {} manifests stored, {} "
      "artifacts along",
      report.destination, report.blobs, report.blobs_present, report.blobs_mounted,
      report.bytes_sent, report.manifests, report.artifacts);
  std::printf("%s\n", report.root.digest.c_str());
  if (!flags.digest_file.empty()) {
    HB_TRY_VOID(WriteFileAtomic(flags.digest_file, report.root.digest + "\n"));
  }
  return 0;
}

void AddCopyCommand(CLI::App& app, CommandRunner& runner, const std::string& verb,
                    const std::string& description) {
  auto flags = std::make_shared<CopyFlags>();
  flags->verb = verb;
  CLI::App* cmd = app.add_subcommand(verb, description);
  cmd->add_option("SOURCE", flags->source,
                  "oci:DIR[:TAG], oci-archive:FILE, docker-archive:FILE or "
                  "[docker://]HOST/REPO[:TAG|@DIGEST]")
      ->required();
  cmd->add_option("DESTINATION", flags->destination, "the same forms")->required();
  AddRegistryFlags(cmd, flags->registry);
  cmd->add_option("--src-creds", flags->src_creds, "USER:PASS for the source registry");
  cmd->add_option("--dest-creds", flags->dest_creds, "USER:PASS for the destination registry");
  cmd->add_option("--parallel", flags->parallel, "Blobs uploaded at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--chunk-size", flags->chunk_size,
                  "Upload blobs larger than this many bytes in resumable chunks of this size "
                  "(default 32 MiB)")
      ->check(CLI::Range(uint64_t{1024}, uint64_t{1} << 40));
  cmd->add_flag("--no-artifacts", flags->no_artifacts,
                "Leave signatures, attestations and SBOMs behind");
  cmd->add_option("--digestfile", flags->digest_file, "Also write the image's digest to FILE");
  cmd->footer("Prints the digest of the image; the tag at the destination names exactly it.");
  cmd->callback([&runner, flags] { runner = [flags] { return RunCopy(*flags); }; });
}

}  // namespace

void AddCopyCommands(CLI::App& app, CommandRunner& runner) {
  AddCopyCommand(app, runner, "push", "Push an image to a registry, signatures and SBOMs along");
  AddCopyCommand(app, runner, "pull", "Pull an image from a registry, signatures and SBOMs along");
  AddCopyCommand(app, runner, "copy", "Copy an image between any two places");
}

}  // namespace hardbase::cli
