// `hardbase sign IMAGE --key NAME.key [--reference REPO]`: cosign signatures of the image (and of
// each platform manifest of an index), stored with it.
#include "base/log.h"
#include "cli/command.h"
#include "oci/image_ref.h"
#include "pipeline/attach.h"

namespace hardbase::cli {
namespace {

struct SignFlags {
  std::string image;
  std::string key;
  std::string reference;
  RegistryFlags registry;
};

Result<int> RunSign(const SignFlags& flags) {
  HB_TRY(oci::ImageRef ref, oci::ParseImageRef(flags.image));
  HB_TRY(auto options, RegistryOptionsFrom(flags.registry));
  HB_TRY(sign::PrivateKey key, LoadPrivateKey(flags.key));
  HB_TRY(pipeline::Signed done, WithContext(pipeline::SignImage(ref, key, flags.reference, options),
                                            "sign " + flags.image));
  for (const auto& d : done.digests) std::printf("signed %s\n", d.c_str());
  LogInfo("stored {} signature manifests with {}, for docker-reference {}", done.artifacts,
          ref.ToString(), done.docker_reference);
  return 0;
}

}  // namespace

void AddSignCommand(CLI::App& app, CommandRunner& runner) {
  auto flags = std::make_shared<SignFlags>();
  CLI::App* cmd = app.add_subcommand(
      "sign", "Sign an image the way cosign does (tag scheme and sigstore bundle referrer)");
  cmd->add_option("IMAGE", flags->image, "oci:DIR[:TAG] or [docker://]HOST/REPO[:TAG|@DIGEST]")
      ->required();
  AddRegistryFlags(cmd, flags->registry);
  cmd->add_option("--key", flags->key, "cosign private key file (NAME.key)")->required();
  cmd->add_option("--reference", flags->reference,
                  "Repository the signature names (default: HOST/REPO of a registry image, else "
                  "the layout directory's name; never what the image's annotations say)");
  cmd->footer("The key password comes from $COSIGN_PASSWORD, or is asked for on the terminal.");
  cmd->callback([&runner, flags] { runner = [flags] { return RunSign(*flags); }; });
}

}  // namespace hardbase::cli
