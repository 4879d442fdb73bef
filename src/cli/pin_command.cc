// `hardbase pin REF`: the digest-pinned form of a reference ("HOST/REPO@sha256:..."), for FROM
// lines and deployment manifests, so that what runs cannot change when a tag moves.
#include "cli/command.h"
#include "oci/image_ref.h"
#include "registry/registry_source.h"

namespace hardbase::cli {
namespace {

struct PinFlags {
  std::string image;
  RegistryFlags registry;
};

Result<int> RunPin(const PinFlags& flags) {
  HB_TRY(oci::ImageRef ref, oci::ParseImageRef(flags.image));
  HB_TRY(auto options, RegistryOptionsFrom(flags.registry));
  auto resolve = [&]() -> Result<oci::Descriptor> {
    HB_TRY(auto source, registry::OpenAnyImage(ref, options));
    return source->Root();
  };
  HB_TRY(oci::Descriptor root, WithContext(resolve(), "pin " + flags.image));
  oci::ImageRef pinned = ref;
  pinned.digest = root.digest;
  if (ref.transport == oci::ImageRef::Transport::kRegistry) {
    // Without the tag: "host/repo@sha256:..." is what Dockerfiles and Kubernetes take.
    std::printf("%s/%s@%s\n", ref.registry.c_str(), ref.repository.c_str(), root.digest.c_str());
  } else {
    std::printf("%s\n", pinned.ToString().c_str());
  }
  return 0;
}

}  // namespace

void AddPinCommand(CLI::App& app, CommandRunner& runner) {
  auto flags = std::make_shared<PinFlags>();
  CLI::App* cmd =
      app.add_subcommand("pin", "Print the reference pinned by digest: HOST/REPO@sha256:...");
  cmd->add_option("IMAGE", flags->image, "[docker://]HOST/REPO[:TAG], oci:DIR[:TAG], ...")
      ->required();
  AddRegistryFlags(cmd, flags->registry);
  cmd->callback([&runner, flags] { runner = [flags] { return RunPin(*flags); }; });
}

}  // namespace hardbase::cli
