#include "oci/memory_image.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "oci/manifest.h"
#include "oci/test_images.h"
#include "support/result_matchers.h"

namespace hardbase::oci {
namespace {

using ::hardbase::testing::FailsWith;

using ::testing::HasSubstr;
using namespace ::hardbase::oci::testing;

ImageRef Named(std::string tag) {
  ImageRef ref;
  ref.path = "memory";
  ref.tag = std::move(tag);
  return ref;
}

// Adds the one-platform `image` to `store`, tagged `tag`.
void AddImage(MemoryStore& store, const TestImage& image, const std::string& tag) {
  for (const auto& b : image.blobs) store.Add(b.descriptor.media_type, b.bytes);
  Descriptor manifest = image.manifest;
  manifest.platform.reset();
  store.SetTag(tag, manifest);
}

TEST(MemoryImageTest, SourceReadsTheImageAndDerivesReferrers) {
  auto store = std::make_shared<MemoryStore>();
  TestImage image = MakeTestImage({Tar({FileEntry("/etc/motd", "hi\n")})});
  AddImage(*store, image, "1");
  Descriptor subject = image.manifest;
  subject.platform.reset();
  Descriptor empty = store->Add(std::string(kMediaTypeEmpty), std::string(kEmptyJson));
  Descriptor layer = store->Add("application/spdx+json", "{}");
  Descriptor sbom =
      store->Add(std::string(kMediaTypeManifest),
                 ManifestJson(empty, {layer}, {{"a", "b"}}, subject, "application/spdx+json"));

  auto source = OpenMemorySource(store, Named("1"));
  auto root = source->Root();
  ASSERT_TRUE(root.has_value()) << root.error().message;
  EXPECT_EQ(root->digest, image.manifest.digest);
  auto files = ReadImageFiles(*source, *ParseManifest(*source->ReadBlob(*root)),
                              [](std::string_view) { return true; });
  ASSERT_TRUE(files.has_value()) << files.error().message;
  EXPECT_EQ((*files)["etc/motd"], "hi\n");

  auto referrers = source->Referrers(image.manifest.digest);
  ASSERT_TRUE(referrers.has_value());
  ASSERT_EQ(referrers->size(), 1u);
  EXPECT_EQ((*referrers)[0].digest, sbom.digest);
  EXPECT_EQ((*referrers)[0].artifact_type, "application/spdx+json");
  EXPECT_EQ((*referrers)[0].annotations.at("a"), "b");

  auto missing = source->Resolve("2");
  ASSERT_FALSE(missing.has_value());
  EXPECT_THAT(missing, FailsWith(ErrorCode::kNotFound));
  // Without a tag the one image is the root: the SBOM is a referrer, not an image.
  EXPECT_EQ(OpenMemorySource(store, Named(""))->Root()->digest, image.manifest.digest);
}

TEST(MemoryImageTest, SourceChecksWhatItServes) {
  auto store = std::make_shared<MemoryStore>();
  Blob layer = MakeBlob("application/octet-stream", "right");
  store->AddUnchecked(layer.descriptor, "wrong");
  auto source = OpenMemorySource(store, Named(""));
  auto read = source->ReadBlob(layer.descriptor);
  ASSERT_FALSE(read.has_value());
  EXPECT_THAT(read, FailsWith(ErrorCode::kIntegrity));
  EXPECT_THAT(read.error().message, HasSubstr(layer.descriptor.digest));
}

TEST(MemoryImageTest, TargetWritesAtCommitAndChecksWhatItIsGiven) {
  auto store = std::make_shared<MemoryStore>();
  TestImage image = MakeTestImage({Tar({FileEntry("/a", "a")})});
  auto target = OpenMemoryTarget(store, Named(""));
  for (const auto& b : image.blobs) {
    if (b.descriptor.digest == image.manifest.digest) continue;
    ASSERT_TRUE(target->PutBlob(ContentOf(b), nullptr).has_value());
    EXPECT_TRUE(*target->HasBlob(b.descriptor));  // the target knows what was put
  }
  Blob manifest{image.manifest, image.blobs.back().bytes};
  manifest.descriptor.platform.reset();
  EXPECT_TRUE(*target->PutImage(manifest, ""));   // no tag, no digest: "latest"
  EXPECT_FALSE(*target->PutImage(manifest, ""));  // there already
  EXPECT_TRUE(store->Digests().empty());          // nothing before Commit
  ASSERT_TRUE(target->Commit().has_value());
  EXPECT_EQ(store->Digests().size(), 3u);
  EXPECT_EQ(store->Tag("latest")->digest, image.manifest.digest);

  // Bytes that are not the descriptor's are refused, and nothing is stored.
  auto other = OpenMemoryTarget(store, Named("x"));
  Blob blob = MakeBlob("application/octet-stream", "right");
  auto wrong = std::make_shared<const std::string>("wrong");
  auto put = other->PutBlob({blob.descriptor, BytesOpener(wrong), ""}, nullptr);
  ASSERT_FALSE(put.has_value());
  EXPECT_THAT(put, FailsWith(ErrorCode::kIntegrity));
  auto longer = std::make_shared<const std::string>("right and more");
  EXPECT_FALSE(other->PutBlob({blob.descriptor, BytesOpener(longer), ""}, nullptr).has_value());
  Blob bad_manifest{manifest.descriptor, manifest.bytes + " "};
  EXPECT_FALSE(other->PutManifest(bad_manifest, "x").has_value());
  ASSERT_TRUE(other->Commit().has_value());
  EXPECT_EQ(store->Digests().size(), 3u);
  EXPECT_FALSE(store->Tag("x").has_value());
}

}  // namespace
}  // namespace hardbase::oci
