// `hardbase sbom IMAGE --format spdx-json|cyclonedx-json [--key K.pub] [-o FILE]`: the SBOM of
// any image, saying on stderr which one it is and whether a signature covers it.
#include <optional>

#include "base/log.h"
#include "base/printable.h"
#include "cli/command.h"
#include "oci/image_ref.h"
#include "pipeline/attach.h"
#include "sbom/format.h"
#include "spec/lock.h"

namespace hardbase::cli {
namespace {

struct SbomFlags {
  std::string image;
  std::string format = "spdx-json";
  std::string output;
  std::string platform;
  std::string lock;
  std::string key;
  bool regenerate = false;
  RegistryFlags registry;
};

Result<int> RunSbom(const SbomFlags& flags) {
  HB_TRY(oci::ImageRef ref, oci::ParseImageRef(flags.image));
  HB_TRY(sbom::SbomFormat format, sbom::ParseSbomFormat(flags.format));
  HB_TRY(auto options, RegistryOptionsFrom(flags.registry));
  std::optional<spec::Lock> lock;
  if (!flags.lock.empty()) {
    HB_TRY(lock, spec::LoadLock(flags.lock));
  }
  std::optional<sign::PublicKey> key;
  if (!flags.key.empty()) {
    if (flags.regenerate || lock) {
      return Fail(ErrorCode::kUsage,
                  "sbom: --key prints a signed SBOM; --regenerate and --lock make an unsigned one");
    }
    HB_TRY(key, LoadPublicKey(flags.key));
  }
  HB_TRY(pipeline::ImageSbomResult sbom,
         WithContext(pipeline::ImageSbom(ref, format, flags.platform, lock ? &*lock : nullptr,
                                         flags.regenerate || lock.has_value(),
                                         key ? &*key : nullptr, options),
                     "sbom " + flags.image));
  HB_TRY_VOID(WriteOutput(flags.output, std::move(sbom.document)));
  // Even with --quiet: whoever reads the SBOM must be able to tell a signed one from one that
  // anybody could have attached.
  LogLine(Verbosity::kQuiet, fmt::format("sbom: {} {}", sbom.verified ? "verified:" : "UNVERIFIED:",
                                         Printable(sbom.origin)));
  return 0;
}

}  // namespace

void AddSbomCommand(CLI::App& app, CommandRunner& runner) {
  auto flags = std::make_shared<SbomFlags>();
  CLI::App* cmd = app.add_subcommand(
      "sbom",
      "Print the SBOM of an image: the one stored at build time, or one made from its "
      "dpkg database");
  cmd->add_option("IMAGE", flags->image,
                  "oci:DIR[:TAG|@DIGEST], oci-archive:FILE[:TAG], docker-archive:FILE or "
                  "[docker://]HOST/REPO[:TAG|@DIGEST]")
      ->required();
  AddRegistryFlags(cmd, flags->registry);
  cmd->add_option("--format", flags->format, "spdx-json or cyclonedx-json")
      ->check(CLI::IsMember(Choices(sbom::SbomFormatNames())))
      ->capture_default_str();
  cmd->add_option("-o,--output", flags->output, "Write to FILE (atomically) instead of stdout");
  cmd->add_option("--platform", flags->platform,
                  "Which image of a multi-platform index: amd64, linux/arm64, ... (default: the "
                  "only one, else the host's)");
  cmd->add_option("--lock", flags->lock,
                  "The image's lock: make the SBOM from the image, with each .deb's SHA256 from "
                  "the lock");
  cmd->add_option("--key", flags->key,
                  "Public key file (NAME.pub): print only the SBOM of an attestation that "
                  "verifies with it, never an unsigned SBOM referrer");
  cmd->add_flag("--regenerate", flags->regenerate,
                "Make the SBOM from the image's dpkg database even when one is stored with it");
  cmd->callback([&runner, flags] { runner = [flags] { return RunSbom(*flags); }; });
}

}  // namespace hardbase::cli
