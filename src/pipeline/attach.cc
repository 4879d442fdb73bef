#include "pipeline/attach.h"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <optional>

#include "base/fs.h"
#include "oci/cosign_layout.h"
#include "oci/image_source.h"
#include "oci/image_target.h"
#include "oci/manifest.h"
#include "pipeline/transfer.h"
#include "registry/registry_source.h"
#include "registry/registry_target.h"
#include "sign/dsse.h"

namespace hardbase::pipeline {
namespace {

constexpr std::string_view kTitleAnnotation = "org.opencontainers.image.title";

struct Opened {
  std::unique_ptr<oci::ImageSource> source;
  oci::Descriptor root;
};

Result<Opened> Open(const oci::ImageRef& ref, const registry::RegistryOptions& registry) {
  HB_TRY(auto source, registry::OpenAnyImage(ref, registry));
  HB_TRY(oci::Descriptor root, source->Root());
  return Opened{std::move(source), std::move(root)};
}

// The image's own store, to add signatures and attestations to (a layout directory or a
// registry; an archive is read-only here: kUsage), locked from now on: held from reading the
// signatures already at the cosign tags to writing the new ones, so that a concurrent sign does
// not lose one (ImageTarget::Lock).
Result<std::unique_ptr<oci::ImageTarget>> OpenStore(const oci::ImageRef& ref,
                                                    const registry::RegistryOptions& registry) {
  HB_TRY(auto target, registry::OpenAnyTarget(ref, registry, {.add_only = true}));
  HB_TRY_VOID(target->Lock());
  return target;
}

// The root and, for an index, its platform manifests.
Result<std::vector<oci::Descriptor>> Subjects(oci::ImageSource& source,
                                              const oci::Descriptor& root) {
  std::vector<oci::Descriptor> out = {root};
  if (root.media_type != oci::kMediaTypeIndex) return out;
  HB_TRY(auto platforms, oci::ResolvePlatforms(source, root));
  for (const auto& p : platforms) out.push_back(p.descriptor);
  return out;
}

std::string Now() { return oci::Rfc3339(static_cast<int64_t>(std::time(nullptr))); }

// The failed checks of a report, for an error message.
std::string Problems(const std::vector<Finding>& findings) {
  std::string out;
  for (const auto& f : findings) {
    if (f.valid) continue;
    out += fmt::format("{}{}: {}", out.empty() ? "" : "; ", f.where, f.problem);
  }
  return out;
}

// The title annotation of a manifest or index, or "".
std::string Title(oci::ImageSource& source, const oci::Descriptor& d) {
  auto bytes = source.ReadBlob(d);
  if (!bytes) return "";
  std::map<std::string, std::string> annotations;
  if (d.media_type == oci::kMediaTypeIndex) {
    if (auto index = oci::ParseIndex(*bytes)) annotations = index->annotations;
  } else if (auto manifest = oci::ParseManifest(*bytes)) {
    annotations = manifest->annotations;
  }
  auto it = annotations.find(std::string(kTitleAnnotation));
  return it == annotations.end() ? "" : it->second;
}

}  // namespace

std::string DefaultDockerReference(const oci::ImageRef& ref) {
  if (ref.transport == oci::ImageRef::Transport::kRegistry) {
    return ref.registry + "/" + ref.repository;
  }
  return BaseName(ref.path);
}

std::string ImageName(oci::ImageSource& source, const oci::Descriptor& d,
                      const oci::ImageRef& ref) {
  std::string title = ref.transport == oci::ImageRef::Transport::kRegistry ? "" : Title(source, d);
  return title.empty() ? DefaultDockerReference(ref) : title;
}

Result<Signed> SignImage(const oci::ImageRef& ref, const sign::PrivateKey& key,
                         std::string docker_reference, const registry::RegistryOptions& registry) {
  HB_TRY(auto store, OpenStore(ref, registry));
  HB_TRY(Opened image, Open(ref, registry));
  if (docker_reference.empty()) docker_reference = DefaultDockerReference(ref);
  HB_TRY(auto subjects, Subjects(*image.source, image.root));
  Signed out;
  Artifacts all;
  std::string created = Now();
  for (const auto& subject : subjects) {
    Attachment a{subject, created, {}};
    HB_TRY(a.existing_layers,
           oci::ExistingTagLayers(*image.source,
                                  oci::CosignTag(subject.digest, oci::kCosignSignatureSuffix)));
    HB_TRY(Artifacts artifacts, SignatureArtifacts(key, a, docker_reference));
    all.Append(std::move(artifacts));
    out.digests.push_back(subject.digest);
  }
  out.artifacts = all.entries.size();
  out.docker_reference = docker_reference;
  HB_TRY_VOID(StoreArtifacts(*store, all.blobs, all.entries));
  return out;
}

Result<Signed> AttestImage(const oci::ImageRef& ref, const sign::PrivateKey& key,
                           const Predicate& predicate, const registry::RegistryOptions& registry) {
  HB_TRY(auto store, OpenStore(ref, registry));
  HB_TRY(Opened image, Open(ref, registry));
  Attachment a{image.root, Now(), {}};
  HB_TRY(a.existing_layers,
         oci::ExistingTagLayers(*image.source,
                                oci::CosignTag(image.root.digest, oci::kCosignAttestationSuffix)));
  HB_TRY(Artifacts artifacts, AttestationArtifacts(key, a, {predicate}));
  HB_TRY_VOID(StoreArtifacts(*store, artifacts.blobs, artifacts.entries));
  return Signed{{image.root.digest}, artifacts.entries.size(), ""};
}

Result<Verification> VerifyImage(const oci::ImageRef& ref, const sign::PublicKey& key,
                                 bool attestations, const registry::RegistryOptions& registry) {
  HB_TRY(Opened image, Open(ref, registry));
  Verification out;
  HB_TRY(DigestReport root, CheckAttached(*image.source, image.root, key));
  if (!root.signed_ok()) {
    std::string problems = Problems(root.signatures);
    return Fail(ErrorCode::kVerification,
                fmt::format("no valid signature covers {}: {}", root.digest,
                            problems.empty() ? fmt::format("none found (no tag {} and no "
                                                           "sigstore bundle referrer)",
                                                           oci::CosignTag(root.digest, "sig"))
                                             : problems));
  }
  bool root_attested = root.attested_ok();
  std::string root_problems = Problems(root.attestations);
  std::string root_digest = root.digest;
  out.reports.push_back(std::move(root));
  HB_TRY(auto subjects, Subjects(*image.source, image.root));
  for (size_t i = 1; i < subjects.size(); ++i) {
    HB_TRY(DigestReport r, CheckAttached(*image.source, subjects[i], key));
    out.reports.push_back(std::move(r));
  }
  if (attestations && !root_attested) {
    // A multi-platform build attests each platform's image (its SBOM and provenance are per
    // platform): an index is attested when every platform manifest is.
    bool every_platform = out.reports.size() > 1 &&
                          std::all_of(out.reports.begin() + 1, out.reports.end(),
                                      [](const DigestReport& r) { return r.attested_ok(); });
    if (!every_platform) {
      return Fail(ErrorCode::kVerification,
                  fmt::format("no valid attestation covers {}{}: {}", root_digest,
                              out.reports.size() > 1 ? " or each of its platform manifests" : "",
                              root_problems.empty() ? std::string("none found") : root_problems));
    }
  }
  return out;
}

Result<ImageSbomResult> ImageSbom(const oci::ImageRef& ref, sbom::SbomFormat format,
                                  const std::string& platform, const spec::Lock* lock,
                                  bool regenerate, const sign::PublicKey* key,
                                  const registry::RegistryOptions& registry) {
  HB_TRY(Opened image, Open(ref, registry));
  HB_TRY(oci::PlatformImage selected, oci::SelectPlatform(*image.source, image.root, platform));
  if (key != nullptr) {
    std::string_view predicate_type =
        format == sbom::SbomFormat::kSpdx ? sign::kPredicateSpdx : sign::kPredicateCycloneDx;
    std::vector<oci::Descriptor> subjects = {selected.descriptor};
    if (image.root.digest != selected.descriptor.digest) subjects.push_back(image.root);
    std::string problems;
    for (const auto& subject : subjects) {
      HB_TRY(DigestReport report, CheckAttached(*image.source, subject, *key));
      for (const auto& f : report.attestations) {
        if (f.valid && f.predicate_type == predicate_type) {
          return ImageSbomResult{f.predicate_json, true,
                                 fmt::format("the {} attestation of {} ({}), verified with key {}",
                                             predicate_type, subject.digest, f.where, key->Hint())};
        }
        if (!f.valid && (f.predicate_type.empty() || f.predicate_type == predicate_type)) {
          problems += fmt::format("; {}: {}", f.where, f.problem);
        }
      }
    }
    return Fail(ErrorCode::kVerification,
                fmt::format("no attestation of predicate type {} covering {}{} verifies with key "
                            "{}{}",
                            predicate_type, selected.descriptor.digest,
                            subjects.size() > 1 ? " or its index" : "", key->Hint(), problems));
  }
  if (!regenerate) {
    HB_TRY(auto referrers, image.source->Referrers(selected.descriptor.digest));
    for (const auto& r : referrers) {
      if (r.artifact_type != sbom::SbomMediaType(format)) continue;
      HB_TRY(std::string bytes, image.source->ReadBlob(r));
      HB_TRY(oci::Manifest manifest, WithContext(oci::ParseManifest(bytes), "SBOM " + r.digest));
      if (manifest.layers.size() != 1) continue;
      HB_TRY(std::string document, image.source->ReadBlob(manifest.layers[0]));
      return ImageSbomResult{
          std::move(document), false,
          fmt::format("the unsigned SBOM referrer {} of {} (anyone who can write to the "
                      "image's store can add one; --key KEY.pub prints an attested one)",
                      r.digest, selected.descriptor.digest)};
    }
  }
  const spec::ArchLock* arch_lock = nullptr;
  if (lock) {
    for (const auto& a : lock->archs) {
      auto p = oci::PlatformForDebianArch(a.arch);
      if (p && p->architecture == selected.config.platform.architecture) arch_lock = &a;
    }
  }
  HB_TRY(sbom::Document doc,
         DescribeImage(*image.source, selected, ImageName(*image.source, selected.descriptor, ref),
                       arch_lock));
  return ImageSbomResult{
      sbom::SbomJson(doc, format), false,
      fmt::format("made from the dpkg database of {}{}", selected.descriptor.digest,
                  arch_lock != nullptr ? " with hashes from the lock" : "")};
}

}  // namespace hardbase::pipeline
