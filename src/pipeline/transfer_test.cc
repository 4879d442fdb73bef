// The copy flow of `push`, `pull` and `copy` on in-memory images: what travels, what is not sent
// again, what a corrupt blob does. (Registries, layouts and archives at either end are the e2e
// tests' and image_target_test's.)
#include "pipeline/transfer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "oci/cosign_layout.h"
#include "oci/manifest.h"
#include "oci/memory_image.h"
#include "oci/test_images.h"
#include "support/result_matchers.h"

namespace hardbase::pipeline {
namespace {

using ::hardbase::testing::FailsWith;

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAreArray;
using namespace ::hardbase::oci::testing;
using oci::Descriptor;
using oci::MemoryStore;

oci::ImageRef Named(std::string tag, std::string digest = "") {
  oci::ImageRef ref;
  ref.path = "memory";
  ref.tag = std::move(tag);
  ref.digest = std::move(digest);
  return ref;
}

bool IsDocument(const Descriptor& d) {
  return oci::IsManifestMediaType(d.media_type) || oci::IsIndexMediaType(d.media_type);
}

// A two-platform image tagged "1" in a memory store, with a cosign signature at the index's .sig
// tag and an SBOM referrer of the amd64 manifest.
struct Source {
  std::shared_ptr<MemoryStore> store = std::make_shared<MemoryStore>();
  TestImage amd64 = MakeTestImage(
      {Tar({FileEntry("/etc/motd", "amd64\n")}), Tar({FileEntry("/etc/hostname", "box\n")})});
  TestImage arm64 =
      MakeTestImage({Tar({FileEntry("/etc/motd", "arm64\n")})}, {"arm64", "linux", "v8"});
  Descriptor index, signature, sbom;
  std::vector<Descriptor> image_blobs;     // configs and layers of the image
  std::vector<Descriptor> artifact_blobs;  // those of the signature and the SBOM

  Source() {
    for (const TestImage* image : {&amd64, &arm64}) {
      for (const auto& b : image->blobs) {
        store->Add(b.descriptor.media_type, b.bytes);
        if (!IsDocument(b.descriptor)) image_blobs.push_back(b.descriptor);
      }
    }
    index = store->Add(std::string(oci::kMediaTypeIndex),
                       oci::IndexJson({amd64.manifest, arm64.manifest}));
    store->SetTag("1", index);
    Descriptor empty = store->Add(std::string(oci::kMediaTypeEmpty), std::string(oci::kEmptyJson));
    Descriptor payload = store->Add("application/vnd.dev.cosign.simplesigning.v1+json", "payload");
    signature =
        store->Add(std::string(oci::kMediaTypeManifest), oci::ManifestJson(empty, {payload}, {}));
    store->SetTag(oci::CosignTag(index.digest, oci::kCosignSignatureSuffix), signature);
    Descriptor subject = amd64.manifest;
    subject.platform.reset();
    Descriptor document = store->Add("application/spdx+json", R"({"spdxVersion":"SPDX-2.3"})");
    sbom = store->Add(std::string(oci::kMediaTypeManifest),
                      oci::ManifestJson(empty, {document}, {}, subject, "application/spdx+json"));
    artifact_blobs = {empty, payload, document};
  }

  std::unique_ptr<oci::ImageSource> Open() const {
    return oci::OpenMemorySource(store, Named("1"));
  }
  uint64_t Bytes(const std::vector<Descriptor>& blobs) const {
    uint64_t total = 0;
    for (const auto& d : blobs) total += static_cast<uint64_t>(d.size);
    return total;
  }
};

Result<TransferReport> Copy(const Source& from, std::shared_ptr<MemoryStore> to,
                            oci::ImageRef ref = Named("2"), bool artifacts = true) {
  auto source = from.Open();
  auto target = oci::OpenMemoryTarget(std::move(to), std::move(ref));
  TransferOptions options;
  options.artifacts = artifacts;
  return CopyImage(*source, *target, options);
}

std::vector<std::string> Digests(const std::vector<Descriptor>& a,
                                 const std::vector<Descriptor>& b = {},
                                 const std::vector<Descriptor>& c = {}) {
  std::vector<std::string> out;
  for (const auto* list : {&a, &b, &c}) {
    for (const auto& d : *list) out.push_back(d.digest);
  }
  return out;
}

TEST(TransferTest, CopiesBothPlatformsWithTheSignatureAndTheReferrer) {
  Source from;
  auto to = std::make_shared<MemoryStore>();
  auto report = Copy(from, to);
  ASSERT_TRUE(report.has_value()) << report.error().message;

  EXPECT_EQ(report->root.digest, from.index.digest);
  EXPECT_EQ(to->Tag("2")->digest, from.index.digest);
  EXPECT_EQ(to->Tag(oci::CosignTag(from.index.digest, "sig"))->digest, from.signature.digest);
  auto referrers = to->Referrers(from.amd64.manifest.digest);
  ASSERT_EQ(referrers.size(), 1u);
  EXPECT_EQ(referrers[0].digest, from.sbom.digest);
  EXPECT_EQ(referrers[0].artifact_type, "application/spdx+json");
  // Every blob and document, byte for byte, and nothing else.
  std::vector<Descriptor> documents = {from.index, from.amd64.manifest, from.arm64.manifest,
                                       from.signature, from.sbom};
  EXPECT_THAT(to->Digests(),
              UnorderedElementsAreArray(Digests(from.image_blobs, from.artifact_blobs, documents)));
  for (const auto& digest : to->Digests())
    EXPECT_EQ(to->Get(digest)->bytes, from.store->Get(digest)->bytes);

  EXPECT_EQ(report->blobs, static_cast<int>(from.image_blobs.size() + from.artifact_blobs.size()));
  EXPECT_EQ(report->blobs_present, 0);
  EXPECT_EQ(report->blobs_mounted, 0);
  EXPECT_EQ(report->bytes_sent, from.Bytes(from.image_blobs) + from.Bytes(from.artifact_blobs));
  EXPECT_EQ(report->manifests, 5);  // the index, two manifests, the signature, the SBOM
  EXPECT_EQ(report->artifacts, 2);

  // The copy reads back as the image it was.
  auto copied = oci::OpenMemorySource(to, Named("2"));
  auto platforms = oci::ResolvePlatforms(*copied, *copied->Root());
  ASSERT_TRUE(platforms.has_value()) << platforms.error().message;
  EXPECT_EQ(platforms->size(), 2u);
}

TEST(TransferTest, WithoutArtifactsTheSignatureAndReferrerStayBehind) {
  Source from;
  auto to = std::make_shared<MemoryStore>();
  auto report = Copy(from, to, Named("2"), false);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_EQ(report->artifacts, 0);
  EXPECT_EQ(report->manifests, 3);
  EXPECT_EQ(to->Tags().size(), 1u);
  EXPECT_TRUE(to->Referrers(from.amd64.manifest.digest).empty());
  std::vector<Descriptor> documents = {from.index, from.amd64.manifest, from.arm64.manifest};
  EXPECT_THAT(to->Digests(), UnorderedElementsAreArray(Digests(from.image_blobs, documents)));
}

TEST(TransferTest, BlobsTheDestinationHoldsAreNotSentAgain) {
  Source from;
  auto to = std::make_shared<MemoryStore>();
  // The destination has the arm64 image's blobs. The source serves corrupt bytes for them: had
  // they been read, the copy would fail.
  std::vector<Descriptor> held;
  for (const auto& b : from.arm64.blobs) {
    if (IsDocument(b.descriptor)) continue;
    to->Add(b.descriptor.media_type, b.bytes);
    from.store->AddUnchecked(b.descriptor, std::string(b.bytes.size(), 'x'));
    held.push_back(b.descriptor);
  }
  auto report = Copy(from, to);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_EQ(report->blobs_present, static_cast<int>(held.size()));
  EXPECT_EQ(report->bytes_sent,
            from.Bytes(from.image_blobs) + from.Bytes(from.artifact_blobs) - from.Bytes(held));

  // Again: the destination holds both manifests, so no blob of theirs is even asked about, and
  // nothing is stored.
  for (const auto& d : from.image_blobs) {
    from.store->AddUnchecked(d, std::string(static_cast<size_t>(d.size), 'x'));
  }
  auto again = Copy(from, to);
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_EQ(again->blobs, report->blobs);
  EXPECT_EQ(again->blobs_present, again->blobs);
  EXPECT_EQ(again->bytes_sent, 0u);
  EXPECT_EQ(again->manifests, 0);
  EXPECT_EQ(again->artifacts, 2);
}

TEST(TransferTest, BlobNotMatchingItsDigestFailsAndTheTargetStaysUnchanged) {
  Source from;
  const Descriptor& layer = from.amd64.layers[1];
  from.store->AddUnchecked(layer, std::string(static_cast<size_t>(layer.size), '\0'));
  auto to = std::make_shared<MemoryStore>();
  Descriptor before = to->Add("text/plain", "already there");
  auto report = Copy(from, to);
  ASSERT_FALSE(report.has_value());
  EXPECT_THAT(report, FailsWith(ErrorCode::kIntegrity));
  EXPECT_THAT(report.error().message, HasSubstr(layer.digest));
  EXPECT_EQ(to->Digests(), std::vector<std::string>{before.digest});
  EXPECT_TRUE(to->Tags().empty());
}

TEST(TransferTest, PinnedDestinationMustBeTheImagesDigest) {
  Source from;
  auto to = std::make_shared<MemoryStore>();
  auto wrong = Copy(from, to, Named("", "sha256:" + std::string(64, '0')));
  ASSERT_FALSE(wrong.has_value());
  EXPECT_THAT(wrong, FailsWith(ErrorCode::kUsage));
  EXPECT_TRUE(to->Digests().empty());
  // The right digest, no tag: the source's tag names it.
  auto pinned = Copy(from, to, Named("", from.index.digest));
  ASSERT_TRUE(pinned.has_value()) << pinned.error().message;
  EXPECT_EQ(to->Tag("1")->digest, from.index.digest);
  EXPECT_FALSE(to->Tag("latest").has_value());
}

// A source named without a tag: the destination's digest, else "latest", names the image (as for a
// registry).
TEST(TransferTest, UntaggedImageGoesToTheDigestElseLatest) {
  Source from;
  for (std::string digest : {from.index.digest, std::string()}) {
    auto to = std::make_shared<MemoryStore>();
    auto source = oci::OpenMemorySource(from.store, Named(""));
    auto target = oci::OpenMemoryTarget(to, Named("", digest));
    auto report = CopyImage(*source, *target, TransferOptions{});
    ASSERT_TRUE(report.has_value()) << report.error().message;
    EXPECT_TRUE(to->Has(from.index.digest));
    EXPECT_EQ(to->Tag("latest").has_value(), digest.empty());
  }
}

TEST(TransferTest, StoreArtifactsTagsSignaturesAndListsReferrers) {
  Source from;
  auto store = std::make_shared<MemoryStore>();
  // The image, then a signature (tagged) and an SBOM (a referrer) stored beside it.
  ASSERT_TRUE(Copy(from, store, Named("1"), false).has_value());
  std::vector<oci::BlobSource> blobs;
  std::vector<Descriptor> entries;
  for (const Descriptor* d : {&from.signature, &from.sbom}) {
    entries.push_back(*d);
    blobs.push_back({*d, from.store->Get(d->digest)->bytes, ""});
  }
  entries[0].annotations[std::string(oci::kAnnotationRefName)] = "sha256-x.sig";
  for (const auto& d : from.artifact_blobs)
    blobs.push_back({d, from.store->Get(d.digest)->bytes, ""});
  auto target = oci::OpenMemoryTarget(store, Named("1"));
  auto stored = StoreArtifacts(*target, blobs, entries);
  ASSERT_TRUE(stored.has_value()) << stored.error().message;
  EXPECT_EQ(store->Tag("sha256-x.sig")->digest, from.signature.digest);
  auto referrers = store->Referrers(from.amd64.manifest.digest);
  ASSERT_EQ(referrers.size(), 1u);
  EXPECT_EQ(referrers[0].digest, from.sbom.digest);
  for (const auto& d : from.artifact_blobs) EXPECT_TRUE(store->Has(d.digest)) << d.digest;

  // An entry without a tag must be a referrer.
  auto other = oci::OpenMemoryTarget(store, Named("1"));
  auto refused = StoreArtifacts(*other, blobs, {from.signature});
  ASSERT_FALSE(refused.has_value());
  EXPECT_THAT(refused.error().message, HasSubstr("no tag and no subject"));
}

}  // namespace
}  // namespace hardbase::pipeline
