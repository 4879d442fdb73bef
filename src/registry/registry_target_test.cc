// The registry target against Debian's real docker-registry (distribution 2.8, which has no
// referrers API: referrers go to the fallback tag). What it holds afterwards is read back with
// the fixture's own libcurl requests.
#include "registry/registry_target.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "oci/manifest.h"
#include "oci/test_images.h"
#include "registry/registry_source.h"
#include "support/registry_fixture.h"

namespace hardbase::registry {
namespace {

using namespace ::hardbase::oci::testing;

RegistryOptions PlainHttp() {
  RegistryOptions o;
  o.plain_http = true;
  o.initial_backoff = std::chrono::milliseconds(10);
  return o;
}

class RegistryTargetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_REGISTRY();
    auto server = ::hardbase::testing::RegistryServer::Start();
    ASSERT_TRUE(server.has_value()) << server.error().message;
    server_ = std::move(*server);
    auto registry = Registry::Open(server_->host(), PlainHttp());
    ASSERT_TRUE(registry.has_value());
    registry_ = std::move(*registry);
  }

  std::unique_ptr<oci::ImageTarget> Open(const std::string& repo_and_tag) {
    auto ref = oci::ParseImageRef(server_->host() + "/" + repo_and_tag);
    EXPECT_TRUE(ref.has_value());
    auto target = OpenRegistryTarget(*ref, registry_);
    EXPECT_TRUE(target.has_value());
    return std::move(*target);
  }

  // Puts the image's configs and layers, then its manifest as the image.
  static void Push(oci::ImageTarget& target, const TestImage& image, std::string_view tag) {
    for (const auto& b : image.blobs) {
      if (b.descriptor.digest == image.manifest.digest) continue;
      auto put = target.PutBlob(oci::ContentOf(b), nullptr);
      ASSERT_TRUE(put.has_value()) << put.error().message;
    }
    auto sent = target.PutImage(Manifest(image), tag);
    ASSERT_TRUE(sent.has_value()) << sent.error().message;
    EXPECT_TRUE(*sent);
  }
  static oci::Blob Manifest(const TestImage& image) {
    oci::Blob out{image.manifest, image.blobs.back().bytes};
    out.descriptor.platform.reset();
    return out;
  }

  std::unique_ptr<::hardbase::testing::RegistryServer> server_;
  std::shared_ptr<Registry> registry_;
};

TEST_F(RegistryTargetTest, StoresTheImageAndListsReferrersInTheFallbackTag) {
  TestImage image = MakeTestImage({Tar({FileEntry("/etc/motd", "hi\n")})});
  auto target = Open("team/app:1");
  Push(*target, image, "1");
  auto stored = server_->GetManifest("team/app", "1");
  ASSERT_TRUE(stored.has_value()) << stored.error().message;
  EXPECT_EQ(stored->body, Manifest(image).bytes);
  EXPECT_EQ(stored->digest, image.manifest.digest);

  // An SBOM referrer: stored by digest and listed in the index at sha256-<hex>.
  oci::Blob empty = oci::MakeBlob(std::string(oci::kMediaTypeEmpty), std::string(oci::kEmptyJson));
  oci::Blob document = oci::MakeBlob("application/spdx+json", "{}");
  oci::Descriptor subject = Manifest(image).descriptor;
  oci::Blob sbom = oci::MakeBlob(std::string(oci::kMediaTypeManifest),
                                 oci::ManifestJson(empty.descriptor, {document.descriptor}, {},
                                                   subject, "application/spdx+json"));
  for (const oci::Blob* b : {&empty, &document}) {
    ASSERT_TRUE(target->PutBlob(oci::ContentOf({b->descriptor, b->bytes, ""}), nullptr));
  }
  oci::Descriptor entry = sbom.descriptor;
  entry.artifact_type = "application/spdx+json";
  auto put = target->PutReferrers(subject.digest, {{sbom, entry}});
  ASSERT_TRUE(put.has_value()) << put.error().message;
  EXPECT_EQ(*put, 2);  // the SBOM and the fallback index
  std::string fallback = "sha256-" + std::string(oci::DigestHex(subject.digest));
  auto listed = server_->GetManifest("team/app", fallback);
  ASSERT_TRUE(listed.has_value()) << listed.error().message;
  auto index = oci::ParseIndex(listed->body);
  ASSERT_TRUE(index.has_value());
  ASSERT_EQ(index->manifests.size(), 1u);
  EXPECT_EQ(index->manifests[0], entry);
  auto referrers = ListReferrers(*registry_, "team/app", subject.digest);
  ASSERT_TRUE(referrers.has_value());
  EXPECT_EQ(referrers->size(), 1u);

  // Everything again, through a new target: nothing is stored twice.
  auto again = Open("team/app:1");
  EXPECT_TRUE(*again->HasManifest(subject));
  EXPECT_TRUE(*again->HasBlob(image.layers[0]));
  EXPECT_FALSE(*again->PutImage(Manifest(image), "1"));
  EXPECT_EQ(*again->PutReferrers(subject.digest, {{sbom, entry}}), 0);
  EXPECT_TRUE(again->Commit().has_value());
  // No tag: the reference's digest, else "latest".
  EXPECT_TRUE(*Open("team/app")->PutImage(Manifest(image), ""));
  auto tags = server_->ListTags("team/app");
  ASSERT_TRUE(tags.has_value());
  EXPECT_THAT(*tags, ::testing::UnorderedElementsAre("1", "latest", fallback));
}

TEST_F(RegistryTargetTest, MountsBlobsFromAnotherRepositoryOfTheSameRegistry) {
  TestImage image = MakeTestImage({Tar({FileEntry("/a", "a")})});
  Push(*Open("one/app:1"), image, "1");
  auto target = Open("two/app:1");
  EXPECT_EQ(target->TransferLabel(), "push " + server_->host() + "/two/app");
  const oci::Descriptor& layer = image.layers[0];
  EXPECT_FALSE(*target->HasBlob(layer));
  // Another registry, or the same repository: nothing to mount from.
  EXPECT_FALSE(*target->MountBlob(layer, *oci::ParseImageRef("other.test/one/app:1")));
  EXPECT_FALSE(*target->MountBlob(layer, *oci::ParseImageRef(server_->host() + "/two/app:1")));
  EXPECT_FALSE(*target->MountBlob(layer, *oci::ParseImageRef("oci:/tmp/x")));
  auto mounted = target->MountBlob(layer, *oci::ParseImageRef(server_->host() + "/one/app:1"));
  ASSERT_TRUE(mounted.has_value()) << mounted.error().message;
  EXPECT_TRUE(*mounted);
  EXPECT_TRUE(*target->HasBlob(layer));
  EXPECT_EQ(*server_->GetBlob("two/app", layer.digest), image.blobs[0].bytes);
}

}  // namespace
}  // namespace hardbase::registry
