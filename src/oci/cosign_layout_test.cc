#include "oci/cosign_layout.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/fs.h"
#include "oci/layout_update.h"
#include "oci/test_images.h"

namespace hardbase::oci {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace ::hardbase::oci::testing;

const std::string kHex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const std::string kDigest = "sha256:" + kHex;

TEST(CosignLayoutTest, TagsAreMadeFromTheDigest) {
  EXPECT_EQ(CosignTag(kDigest, kCosignSignatureSuffix), "sha256-" + kHex + ".sig");
  EXPECT_EQ(CosignTag(kDigest, kCosignAttestationSuffix), "sha256-" + kHex + ".att");
  EXPECT_EQ(CosignTag(kDigest, kCosignSbomSuffix), "sha256-" + kHex + ".sbom");
  EXPECT_THAT(kCosignSuffixes, ElementsAre("sig", "att", "sbom"));
}

TEST(CosignLayoutTest, RecognisesExactlyCosignsTags) {
  for (std::string_view suffix : kCosignSuffixes) {
    std::string tag = CosignTag(kDigest, suffix);
    EXPECT_TRUE(IsCosignTag(tag)) << tag;
    auto subject = CosignSubject(tag);
    ASSERT_TRUE(subject.has_value()) << tag;
    EXPECT_EQ(subject->first, kDigest);
    EXPECT_EQ(subject->second, suffix);
  }
  // The bare digest tag counts too, with no suffix.
  auto bare = CosignSubject("sha256-" + kHex);
  ASSERT_TRUE(bare.has_value());
  EXPECT_EQ(bare->first, kDigest);
  EXPECT_EQ(bare->second, "");

  for (const std::string& tag : {
           std::string("latest"),
           std::string("sha256-") + kHex.substr(1) + ".sig",      // 63 hex digits
           "sha256-" + kHex + ".sig.sig",                         // trailing junk
           "sha256-" + kHex + ".signature",                       // unknown suffix
           "sha256-" + kHex + "sig",                              // no dot
           "sha256-" + kHex + ".",                                // a dot alone
           "sha512-" + kHex + ".sig",                             // another algorithm
           "sha256-0123456789ABCDEF" + kHex.substr(16) + ".sig",  // upper case
           "sha256:" + kHex,                                      // a digest, not a tag
       }) {
    EXPECT_FALSE(IsCosignTag(tag)) << tag;
    EXPECT_FALSE(CosignSubject(tag).has_value()) << tag;
  }
}

TEST(CosignLayoutTest, AnEntryIsACosignArtifactByItsTag) {
  Descriptor entry;
  EXPECT_FALSE(IsCosignEntry(entry));  // no tag at all
  EXPECT_EQ(RefName(entry), "");
  entry.annotations[std::string(kAnnotationRefName)] = "v1";
  EXPECT_EQ(RefName(entry), "v1");
  EXPECT_FALSE(IsCosignEntry(entry));
  entry.annotations[std::string(kAnnotationRefName)] = CosignTag(kDigest, "att");
  EXPECT_TRUE(IsCosignEntry(entry));
}

class CosignLayoutSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("oci-cosign-layout-");
    ASSERT_TRUE(dir.has_value());
    dir_.emplace(std::move(*dir));
    out_ = dir_->path() + "/img";
    image_ = MakeTestImage({Tar({FileEntry("/a", "a")})});
    ASSERT_TRUE(
        WriteImage(Output(image_.blobs, image_.manifest, "app"), OutputFormat::kOciLayout, out_));
  }

  // A manifest of two layers stored at the cosign tag `suffix` of the image.
  TestImage Attach(std::string_view suffix) {
    TestImage a = MakeTestImage(
        {Tar({FileEntry("/s1", std::string(suffix))}), Tar({FileEntry("/s2", "second")})});
    Descriptor entry = a.manifest;
    entry.platform.reset();
    entry.annotations[std::string(kAnnotationRefName)] = CosignTag(image_.manifest.digest, suffix);
    EXPECT_TRUE(AddToLayout(out_, a.blobs, {entry}).has_value());
    return a;
  }

  std::unique_ptr<ImageSource> Open() {
    auto source = OpenImage(*ParseImageRef("oci:" + out_));
    EXPECT_TRUE(source.has_value()) << source.error().message;
    return source ? std::move(*source) : nullptr;
  }

  std::optional<TempDir> dir_;
  std::string out_;
  TestImage image_;
};

TEST_F(CosignLayoutSourceTest, FindsTheArtifactsPresentInSuffixOrder) {
  auto none = FindCosignArtifacts(*Open(), image_.manifest.digest);
  ASSERT_TRUE(none.has_value()) << none.error().message;
  EXPECT_TRUE(none->empty());

  TestImage sbom = Attach("sbom");
  TestImage sig = Attach("sig");
  auto source = Open();
  auto found = FindCosignArtifacts(*source, image_.manifest.digest);
  ASSERT_TRUE(found.has_value()) << found.error().message;
  ASSERT_EQ(found->size(), 2u);
  EXPECT_EQ((*found)[0].suffix, "sig");
  EXPECT_EQ((*found)[0].tag, CosignTag(image_.manifest.digest, "sig"));
  EXPECT_EQ((*found)[0].descriptor.digest, sig.manifest.digest);
  EXPECT_EQ((*found)[1].suffix, "sbom");
  EXPECT_EQ((*found)[1].descriptor.digest, sbom.manifest.digest);

  // Only the suffixes asked for.
  constexpr std::string_view kOnlySbom[] = {kCosignSbomSuffix};
  auto only = FindCosignArtifacts(*source, image_.manifest.digest, kOnlySbom);
  ASSERT_TRUE(only.has_value());
  ASSERT_EQ(only->size(), 1u);
  EXPECT_EQ((*only)[0].suffix, "sbom");
  // Nothing is attached to another digest.
  auto other = FindCosignArtifacts(*source, kDigest);
  ASSERT_TRUE(other.has_value());
  EXPECT_TRUE(other->empty());
  // The tagged artifacts are not images: the layout still has one.
  EXPECT_EQ(source->Root()->digest, image_.manifest.digest);
}

TEST_F(CosignLayoutSourceTest, ExistingTagLayersReadsTheLayersBack) {
  std::string tag = CosignTag(image_.manifest.digest, "sig");
  auto empty = ExistingTagLayers(*Open(), tag);
  ASSERT_TRUE(empty.has_value()) << empty.error().message;
  EXPECT_TRUE(empty->empty());

  TestImage sig = Attach("sig");
  auto layers = ExistingTagLayers(*Open(), tag);
  ASSERT_TRUE(layers.has_value()) << layers.error().message;
  ASSERT_EQ(layers->size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ((*layers)[i].first, sig.layers[i]);
    EXPECT_EQ((*layers)[i].second, sig.blobs[i].bytes);
  }

  // A tag whose manifest is not a manifest is an error naming the tag, not "no layers".
  Descriptor config = sig.blobs[2].descriptor;  // the image config blob
  config.media_type = std::string(kMediaTypeManifest);
  config.annotations[std::string(kAnnotationRefName)] = CosignTag(image_.manifest.digest, "att");
  ASSERT_TRUE(AddToLayout(out_, {}, {config}).has_value());
  auto bad = ExistingTagLayers(*Open(), CosignTag(image_.manifest.digest, "att"));
  ASSERT_FALSE(bad.has_value());
  EXPECT_THAT(bad.error().message, HasSubstr("tag " + CosignTag(image_.manifest.digest, "att")));
}

}  // namespace
}  // namespace hardbase::oci
