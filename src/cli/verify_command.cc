// `hardbase verify IMAGE --key NAME.pub [--attestations]`: exit 0 only when a valid signature
// covers exactly the image's digest; exit 10 (verification) otherwise, naming the failed check.
#include <nlohmann/json.hpp>

#include "base/printable.h"
#include "cli/command.h"
#include "oci/image_ref.h"
#include "pipeline/attach.h"

namespace hardbase::cli {
namespace {

struct VerifyFlags {
  std::string image;
  std::string key;
  bool attestations = false;
  bool json = false;
  RegistryFlags registry;
};

Result<int> RunVerify(const VerifyFlags& flags) {
  HB_TRY(oci::ImageRef ref, oci::ParseImageRef(flags.image));
  HB_TRY(sign::PublicKey key, LoadPublicKey(flags.key));
  HB_TRY(auto options, RegistryOptionsFrom(flags.registry));
  HB_TRY(pipeline::Verification v,
         WithContext(pipeline::VerifyImage(ref, key, flags.attestations, options),
                     "verify " + flags.image));
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : v.reports) {
    nlohmann::json findings = nlohmann::json::array();
    for (const auto* list : {&r.signatures, &r.attestations}) {
      for (const auto& f : *list) {
        bool signature = list == &r.signatures;
        findings.push_back({{"kind", signature ? "signature" : "attestation"},
                            {"where", f.where},
                            {"valid", f.valid},
                            {"predicateType", f.predicate_type},
                            {"dockerReference", f.docker_reference},
                            {"problem", f.problem}});
        if (flags.json) continue;
        // Values from the registry and the signed payloads: escaped, so none fakes a line.
        std::string digest = Printable(r.digest), where = Printable(f.where);
        if (!f.valid) {
          std::printf("%s: invalid %s: %s: %s\n", digest.c_str(),
                      signature ? "signature" : "attestation", where.c_str(),
                      Printable(f.problem).c_str());
        } else if (signature) {
          std::printf(
              "%s: verified signature (%s)%s\n", digest.c_str(), where.c_str(),
              f.docker_reference.empty() ? "" : (" for " + Printable(f.docker_reference)).c_str());
        } else {
          std::printf("%s: verified attestation %s (%s)\n", digest.c_str(),
                      Printable(f.predicate_type).c_str(), where.c_str());
        }
      }
    }
    out.push_back({{"digest", r.digest}, {"signed", r.signed_ok()}, {"findings", findings}});
  }
  if (flags.json) {
    std::printf("%s\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  }
  return 0;
}

}  // namespace

void AddVerifyCommand(CLI::App& app, CommandRunner& runner) {
  auto flags = std::make_shared<VerifyFlags>();
  CLI::App* cmd = app.add_subcommand(
      "verify", "Verify an image's cosign signatures (and attestations) with a public key");
  cmd->add_option("IMAGE", flags->image,
                  "oci:DIR[:TAG|@DIGEST], oci-archive:FILE, [docker://]HOST/REPO[:TAG|@DIGEST]")
      ->required();
  AddRegistryFlags(cmd, flags->registry);
  cmd->add_option("--key", flags->key, "Public key file (NAME.pub)")->required();
  cmd->add_flag("--attestations", flags->attestations,
                "Also require a valid attestation of the image");
  cmd->add_flag("--json", flags->json, "Print what was checked as JSON");
  cmd->callback([&runner, flags] { runner = [flags] { return RunVerify(*flags); }; });
}

}  // namespace hardbase::cli
