#include "oci/layout_update.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "base/fs.h"
#include "oci/image_source.h"
#include "oci/test_images.h"
#include "support/process.h"
#include "support/result_matchers.h"

namespace hardbase::oci {
namespace {

using ::hardbase::testing::FailsWith;

using ::hardbase::testing::ProcessResult;
using ::hardbase::testing::RunProcess;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace ::hardbase::oci::testing;

// A signature-like artifact about `subject`, tagged as cosign tags it.
struct Artifact {
  std::vector<BlobSource> blobs;
  Descriptor entry;
};

Artifact MakeArtifact(const Descriptor& subject, const std::string& payload) {
  Blob empty = MakeBlob(std::string(kMediaTypeEmpty), std::string(kEmptyJson));
  Blob layer = MakeBlob("application/vnd.dev.cosign.simplesigning.v1+json", payload);
  Blob manifest =
      MakeBlob(std::string(kMediaTypeManifest),
               ManifestJson(empty.descriptor, {layer.descriptor}, {{"n", payload}}, subject,
                            "application/vnd.dev.cosign.artifact.sig.v1+json"));
  Artifact a;
  for (const Blob* b : {&empty, &layer, &manifest})
    a.blobs.push_back({b->descriptor, b->bytes, ""});
  a.entry = manifest.descriptor;
  a.entry.annotations[std::string(kAnnotationRefName)] =
      "sha256-" + subject.digest.substr(7) + ".sig";
  return a;
}

class LayoutUpdateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("oci-update-test-");
    ASSERT_TRUE(dir.has_value());
    dir_.emplace(std::move(*dir));
    out_ = dir_->path() + "/img";
    image_ = MakeTestImage({Tar({FileEntry("/f", "f")})});
    ASSERT_TRUE(
        WriteImage(Output(image_.blobs, image_.manifest, "app"), OutputFormat::kOciLayout, out_));
    subject_ = image_.manifest;
    subject_.platform.reset();
  }

  std::vector<Descriptor> IndexEntries() const {
    return ParseIndex(*ReadFile(out_ + "/index.json"))->manifests;
  }

  std::optional<TempDir> dir_;
  std::string out_;
  TestImage image_;
  Descriptor subject_;
};

TEST_F(LayoutUpdateTest, AddsReplacesSameTagAndNeverDuplicates) {
  Artifact first = MakeArtifact(subject_, "one");
  ASSERT_TRUE(AddToLayout(out_, first.blobs, {first.entry}).has_value());
  ASSERT_TRUE(AddToLayout(out_, first.blobs, {first.entry}).has_value());
  std::vector<Descriptor> entries = IndexEntries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].digest, image_.manifest.digest);  // the image itself is untouched
  EXPECT_EQ(entries[1], first.entry);
  for (const auto& blob : first.blobs) {
    EXPECT_EQ("sha256:" + *Sha256File(out_ + "/blobs/sha256/" + blob.descriptor.digest.substr(7)),
              blob.descriptor.digest);
  }

  Artifact second = MakeArtifact(subject_, "two");  // re-signing: same tag
  ASSERT_TRUE(AddToLayout(out_, second.blobs, {second.entry}).has_value());
  EXPECT_THAT(IndexEntries(), ElementsAre(IndexEntries()[0], second.entry));

  // The referrer is found, and the result still reads with skopeo and umoci.
  auto source = OpenImage(*ParseImageRef("oci:" + out_));
  ASSERT_TRUE(source.has_value()) << source.error().message;
  EXPECT_EQ((*source)->Root()->digest, image_.manifest.digest);
  auto referrers = (*source)->Referrers(image_.manifest.digest);
  ASSERT_TRUE(referrers.has_value()) << referrers.error().message;
  ASSERT_EQ(referrers->size(), 1u);
  EXPECT_EQ(referrers->at(0).digest, second.entry.digest);
  EXPECT_EQ(referrers->at(0).artifact_type, "application/vnd.dev.cosign.artifact.sig.v1+json");
  EXPECT_EQ(referrers->at(0).annotations.at("n"), "two");
  EXPECT_TRUE((*source)->Referrers(second.entry.digest)->empty());

  ProcessResult inspect = RunProcess({"skopeo", "inspect", "oci:" + out_ + ":app"});
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  EXPECT_EQ(nlohmann::json::parse(inspect.out)["Digest"], image_.manifest.digest);
  ProcessResult ls = RunProcess({"umoci", "ls", "--layout", out_});
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_THAT(ls.out, HasSubstr("app\n"));
  EXPECT_THAT(ls.out, HasSubstr(".sig\n"));
}

TEST_F(LayoutUpdateTest, ConcurrentAddsKeepEveryEntry) {
  constexpr int kPerThread = 10;
  auto add = [&](char who) {
    for (int i = 0; i < kPerThread; ++i) {
      Descriptor entry = image_.manifest;
      entry.annotations[std::string(kAnnotationRefName)] = who + std::to_string(i);
      auto added = AddToLayout(out_, {}, {entry});
      EXPECT_TRUE(added.has_value()) << added.error().message;
    }
  };
  std::thread a(add, 'a'), b(add, 'b');
  a.join();
  b.join();
  EXPECT_EQ(IndexEntries().size(), 1u + 2 * kPerThread);
}

TEST_F(LayoutUpdateTest, ChecksBlobsAndTheLayout) {
  Artifact art = MakeArtifact(subject_, "x");
  art.blobs[1].bytes = "tampered";
  auto added = AddToLayout(out_, art.blobs, {art.entry});
  ASSERT_FALSE(added.has_value());
  EXPECT_THAT(added, FailsWith(ErrorCode::kIntegrity));
  EXPECT_EQ(IndexEntries().size(), 1u);
  EXPECT_THAT(AddToLayout(dir_->path() + "/none", {}, {}), FailsWith(ErrorCode::kNotFound));
  EXPECT_THAT(AddToLayout(dir_->path(), {}, {}), FailsWith(ErrorCode::kSpec));
}

}  // namespace
}  // namespace hardbase::oci
