// `hardbase attest IMAGE --key K --type T --predicate FILE`: an in-toto statement about the image
// in a DSSE envelope, stored as cosign stores attestations.
#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "base/json_limits.h"
#include "base/log.h"
#include "cli/command.h"
#include "oci/image_ref.h"
#include "pipeline/attach.h"
#include "sign/dsse.h"

namespace hardbase::cli {
namespace {

struct AttestFlags {
  std::string image;
  std::string key;
  std::string type;
  std::string predicate;
  RegistryFlags registry;
};

Result<std::string> PredicateType(std::string_view type) {
  if (type == "spdx" || type == "spdxjson") return std::string(sign::kPredicateSpdx);
  if (type == "cyclonedx") return std::string(sign::kPredicateCycloneDx);
  if (type == "slsaprovenance" || type == "slsaprovenance1") {
    return std::string(sign::kPredicateSlsaProvenance);
  }
  if (type == "openvex") return std::string(sign::kPredicateOpenVex);
  if (type.starts_with("https://")) return std::string(type);
  return Fail(ErrorCode::kUsage,
              fmt::format("--type {}: use spdx, cyclonedx, slsaprovenance, openvex or a "
                          "predicate type URI",
                          type));
}

Result<int> RunAttest(const AttestFlags& flags) {
  HB_TRY(oci::ImageRef ref, oci::ParseImageRef(flags.image));
  HB_TRY(std::string type, PredicateType(flags.type));
  HB_TRY(std::string predicate, ReadFile(flags.predicate));
  auto parsed = ParseUntrustedJsonOrDiscarded(predicate);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return Fail(ErrorCode::kSpec,
                fmt::format("--predicate {}: not a JSON object", flags.predicate));
  }
  HB_TRY(auto options, RegistryOptionsFrom(flags.registry));
  HB_TRY(sign::PrivateKey key, LoadPrivateKey(flags.key));
  HB_TRY(pipeline::Signed done,
         WithContext(pipeline::AttestImage(ref, key, {type, parsed.dump()}, options),
                     "attest " + flags.image));
  for (const auto& d : done.digests) std::printf("attested %s (%s)\n", d.c_str(), type.c_str());
  return 0;
}

}  // namespace

void AddAttestCommand(CLI::App& app, CommandRunner& runner) {
  auto flags = std::make_shared<AttestFlags>();
  CLI::App* cmd = app.add_subcommand(
      "attest", "Attach a signed in-toto attestation (SBOM, provenance, VEX) to an image");
  cmd->add_option("IMAGE", flags->image, "oci:DIR[:TAG] or [docker://]HOST/REPO[:TAG|@DIGEST]")
      ->required();
  AddRegistryFlags(cmd, flags->registry);
  cmd->add_option("--key", flags->key, "cosign private key file (NAME.key)")->required();
  cmd->add_option("--type", flags->type,
                  "spdx, cyclonedx, slsaprovenance, openvex, or a predicate type URI")
      ->required();
  cmd->add_option("--predicate", flags->predicate, "The predicate: a JSON file")->required();
  cmd->callback([&runner, flags] { runner = [flags] { return RunAttest(*flags); }; });
}

}  // namespace hardbase::cli
