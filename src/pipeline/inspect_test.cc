#include "pipeline/inspect.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/fs.h"
#include "oci/cosign_layout.h"
#include "oci/layout_update.h"
#include "oci/test_images.h"
#include "pipeline/signatures.h"

namespace hardbase::pipeline {
namespace {

using namespace ::hardbase::oci::testing;

// A layout holding an image, a manifest at its .att tag and an SBOM referrer of it: inspect
// lists the tagged artifact first, then the referrer.
TEST(AttachedArtifactsTest, ListsCosignTagsThenReferrers) {
  auto dir = TempDir::Create("hardbase-inspect-");
  ASSERT_TRUE(dir.has_value());
  std::string out = dir->path() + "/img";
  TestImage image = MakeTestImage({Tar({FileEntry("/a", "a")})});
  ASSERT_TRUE(oci::WriteImage(Output(image.blobs, image.manifest, "app"),
                              oci::OutputFormat::kOciLayout, out));
  auto open = [&] { return std::move(*oci::OpenImage(*oci::ParseImageRef("oci:" + out))); };

  auto nothing = AttachedArtifacts(*open(), image.manifest.digest);
  ASSERT_TRUE(nothing.has_value()) << nothing.error().message;
  EXPECT_TRUE(nothing->empty());

  TestImage att = MakeTestImage({Tar({FileEntry("/statement", "{}")})});
  oci::Descriptor tagged = att.manifest;
  tagged.platform.reset();
  std::string tag = oci::CosignTag(image.manifest.digest, oci::kCosignAttestationSuffix);
  tagged.annotations[std::string(oci::kAnnotationRefName)] = tag;
  ASSERT_TRUE(oci::AddToLayout(out, att.blobs, {tagged}).has_value());
  Artifacts sbom =
      SbomArtifact(image.manifest, "application/spdx+json", "{}", "2025-01-01T00:00:00Z");
  ASSERT_TRUE(oci::AddToLayout(out, sbom.blobs, sbom.entries).has_value());

  auto attached = AttachedArtifacts(*open(), image.manifest.digest);
  ASSERT_TRUE(attached.has_value()) << attached.error().message;
  ASSERT_EQ(attached->size(), 2u);
  EXPECT_EQ((*attached)[0].tag, tag);
  EXPECT_EQ((*attached)[0].artifact_type, "");
  EXPECT_EQ((*attached)[0].digest, att.manifest.digest);
  EXPECT_EQ((*attached)[1].tag, "");
  EXPECT_EQ((*attached)[1].artifact_type, "application/spdx+json");
  ASSERT_EQ(sbom.entries.size(), 1u);
  EXPECT_EQ((*attached)[1].digest, sbom.entries[0].digest);

  // Of another manifest, nothing.
  auto other = AttachedArtifacts(*open(), att.manifest.digest);
  ASSERT_TRUE(other.has_value());
  EXPECT_TRUE(other->empty());
}

}  // namespace
}  // namespace hardbase::pipeline
