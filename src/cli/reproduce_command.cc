// `hardbase reproduce IMAGE [--spec FILE] [--lock FILE] [--key PUB] [--json]`: rebuild an image
// from the SLSA provenance attached to it; exit 0 only when the rebuild is the same bytes, 14
// (not-reproducible) naming the first differing layer and file otherwise.
#include <nlohmann/json.hpp>

#include "base/printable.h"
#include "base/version.h"
#include "cli/command.h"
#include "pipeline/reproduce.h"

namespace hardbase::cli {
namespace {

struct ReproduceFlags {
  pipeline::ReproduceOptions options;
  std::string key;
  bool json = false;
  RegistryFlags registry;
};

// "layer 3 (tzdata 2025a (all))".
std::string LayerName(const pipeline::LayerDifference& d) {
  return fmt::format("layer {}{}", d.index, d.content.empty() ? "" : " (" + d.content + ")");
}

// The first difference of a platform, in a line.
std::string FirstDifference(const pipeline::PlatformComparison& c) {
  if (c.layer) {
    const auto& d = *c.layer;
    if (d.file) return fmt::format("{}, file {}: {}", LayerName(d), d.file->path, d.file->what);
    return fmt::format("{}: {}", LayerName(d), d.note);
  }
  if (!c.config.empty()) return "config: " + c.config.front();
  return c.note;
}

nlohmann::json ReproductionJson(const pipeline::Reproduction& r) {
  nlohmann::json platforms = nlohmann::json::array();
  for (const auto& c : r.platforms) {
    nlohmann::json p = {{"platform", c.platform}, {"image", c.original}, {"rebuilt", c.rebuilt},
                        {"reproduced", c.same()}, {"config", c.config},  {"note", c.note}};
    if (c.layer) {
      const auto& d = *c.layer;
      p["layer"] = {{"index", d.index},
                    {"image", d.original},
                    {"rebuilt", d.rebuilt},
                    {"content", d.content},
                    {"note", d.note}};
      if (d.file) p["layer"]["file"] = {{"path", d.file->path}, {"difference", d.file->what}};
    }
    platforms.push_back(std::move(p));
  }
  return {{"image", r.image},       {"rebuilt", r.rebuilt},
          {"reproduced", r.same()}, {"provenanceVerified", r.verified},
          {"key", r.key_hint},      {"provenance", r.provenance},
          {"spec", r.spec_path},    {"lock", r.lock_path},
          {"packages", r.packages}, {"builtBy", r.built_by},
          {"platforms", platforms}, {"note", r.root_note}};
}

// Every line is escaped: paths, notes and config values come from the image.
void PrintReproduction(const pipeline::Reproduction& r) {
  for (const auto& c : r.platforms) {
    if (c.same()) {
      std::printf("%s: %s reproduced\n", Printable(c.platform).c_str(), c.original.c_str());
      continue;
    }
    std::printf("%s: %s differs from its rebuild %s\n", Printable(c.platform).c_str(),
                Printable(c.original).c_str(),
                c.rebuilt.empty() ? "(none)" : Printable(c.rebuilt).c_str());
    for (const auto& line : c.config) std::printf("  config %s\n", Printable(line).c_str());
    if (c.layer) {
      const auto& d = *c.layer;
      std::printf("  %s: %s in the image, %s rebuilt\n", Printable(LayerName(d)).c_str(),
                  d.original.empty() ? "none" : Printable(d.original).c_str(),
                  d.rebuilt.empty() ? "none" : Printable(d.rebuilt).c_str());
      if (d.file) {
        std::printf("    first differing file: %s: %s\n", Printable(d.file->path).c_str(),
                    Printable(d.file->what).c_str());
      } else {
        std::printf("    %s\n", Printable(d.note).c_str());
      }
    }
    if (!c.note.empty()) std::printf("  %s\n", Printable(c.note).c_str());
  }
  if (!r.root_note.empty()) std::printf("%s\n", Printable(r.root_note).c_str());
  if (r.same()) {
    std::printf("%s reproduced bit for bit from %s and %s (%zu packages)\n", r.image.c_str(),
                Printable(r.spec_path).c_str(), Printable(r.lock_path).c_str(), r.packages);
  }
}

Result<int> RunReproduce(ReproduceFlags flags, const GlobalOptions& global) {
  std::optional<sign::PublicKey> key;
  if (!flags.key.empty()) {
    HB_TRY(key, LoadPublicKey(flags.key));
    flags.options.key = &*key;
  }
  HB_TRY(flags.options.registry, RegistryOptionsFrom(flags.registry));
  HB_TRY(cache::BlobStore store, OpenCache(global));
  auto http = net::MakeCurlClient();
  const std::string& image = flags.options.image;
  HB_TRY(pipeline::Reproduction r,
         WithContext(pipeline::ReproduceImage(flags.options, *http, store), "reproduce " + image));
  if (flags.json) {
    std::printf(
        "%s\n",
        ReproductionJson(r).dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    PrintReproduction(r);
  }
  if (r.same()) return 0;
  std::string first;
  for (const auto& c : r.platforms) {
    if (c.same()) continue;
    first =
        fmt::format("the {} image differs from its rebuild at {}", c.platform, FirstDifference(c));
    break;
  }
  if (first.empty()) first = r.root_note;
  std::string built_by = r.built_by == HardbaseVersion()
                             ? ""
                             : fmt::format(" (it was built by hardbase {}, this is {})", r.built_by,
                                           HardbaseVersion());
  return Fail(ErrorCode::kNotReproducible, fmt::format("reproduce {}: {} is not reproducible{}: {}",
                                                       image, r.image, built_by, first));
}

}  // namespace

void AddReproduceCommand(CLI::App& app, const GlobalOptions& global, CommandRunner& runner) {
  auto flags = std::make_shared<ReproduceFlags>();
  CLI::App* cmd = app.add_subcommand(
      "reproduce",
      "Rebuild an image from its SLSA provenance and compare: exit 0 only when bit for bit the "
      "same, else name the first differing layer and file");
  pipeline::ReproduceOptions& options = flags->options;
  cmd->add_option("IMAGE", options.image,
                  "oci:DIR[:TAG|@DIGEST], oci-archive:FILE[:TAG], docker-archive:FILE, "
                  "[docker://]HOST/REPO[:TAG|@DIGEST]")
      ->required();
  cmd->add_option("--spec", options.spec_path,
                  "The spec (default: the path the provenance records, from the current "
                  "directory); its sha256 must be the provenance's");
  cmd->add_option("--lock", options.lock_path,
                  "The lock (default: beside --spec, else the path the provenance records); its "
                  "sha256 must be the provenance's");
  cmd->add_option("--key", flags->key,
                  "Public key (NAME.pub) the provenance attestation must verify with (without "
                  "it the provenance is read unverified, and a warning says so)");
  cmd->add_option("-o,--output", options.output,
                  "Keep the rebuilt image in this OCI layout directory (default: a temporary "
                  "one, removed)");
  cmd->add_option("--apt-root", options.apt_root,
                  "Read the default repositories from this root's etc/apt (default /)");
  cmd->add_flag("--allow-outside-files", options.allow_outside_files,
                "As for build: let the spec's `files:` copy sources from outside its directory");
  AddRegistryFlags(cmd, flags->registry);
  cmd->add_flag("--json", flags->json, "Print what was compared as JSON on stdout");
  cmd->callback([&runner, flags, &global] {
    runner = [flags, &global] { return RunReproduce(*flags, global); };
  });
}

}  // namespace hardbase::cli
