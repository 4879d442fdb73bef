#include "pipeline/remote_layer_cache.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "base/sha256.h"
#include "oci/image.h"
#include "oci/image_target.h"
#include "support/registry_fixture.h"
#include "support/repo_fixture.h"
#include "support/result_matchers.h"

namespace hardbase::pipeline {
namespace {

using testing::FailsWith;
using ::testing::HasSubstr;

registry::RegistryOptions Plain() {
  registry::RegistryOptions o;
  o.plain_http = true;
  o.max_attempts = 1;
  return o;
}

// A real registry, and a real package's layer built into a first cache; other caches fetch it.
class RemoteLayerCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("hardbase-remote-cache-");
    ASSERT_TRUE(dir.has_value());
    dir_ = std::move(*dir);
    auto server = testing::RegistryServer::Start();
    ASSERT_TRUE(server.has_value()) << server.error().message;
    server_ = std::move(*server);

    testing::RepoFixture repo(dir_->path() + "/repo");
    testing::PackageSpec spec{.name = "demo", .version = "1.0-1"};
    spec.files = {{"usr/bin/demo", "#!/bin/true\n"}, {"usr/share/demo/data", "data\n"}};
    spec.modes = {{"usr/bin/demo", 0755}};
    auto published = repo.AddPackage("bookworm", "amd64", spec);
    ASSERT_TRUE(published.has_value()) << published.error().message;
    auto deb = ReadFile(published->path);
    ASSERT_TRUE(deb.has_value());
    package_.name = "demo";
    package_.version = "1.0-1";
    package_.architecture = "amd64";
    package_.filename = published->filename;
    package_.size = published->size;
    package_.sha256 = published->sha256;
    settings_ = {&policy_, 1700000000, oci::Compression::kGzip};
    key_ = PackageLayerKey(package_, settings_);

    builder_ = Store("builder");
    ASSERT_TRUE(builder_->Put(*deb).has_value());
    auto built = BuildPackageLayer(*builder_, package_, settings_, key_);
    ASSERT_TRUE(built.has_value()) << built.error().message;
    built_ = std::move(*built);
  }

  std::optional<cache::BlobStore> Store(const std::string& name) {
    auto store = cache::BlobStore::Open(dir_->path() + "/" + name);
    EXPECT_TRUE(store.has_value()) << store.error().message;
    return std::move(*store);
  }

  std::unique_ptr<RemoteLayerCache> Cache() {
    auto cache = RemoteLayerCache::Open(server_->host() + "/hardbase/layers", Plain());
    EXPECT_TRUE(cache.has_value()) << cache.error().message;
    return std::move(*cache);
  }

  // Stores a hand-made artifact under `tag`: a record and a blob, as a hostile writer would.
  void PutArtifact(const std::string& tag, const std::string& record, const std::string& blob,
                   const std::string& key_annotation) {
    auto reg = registry::Registry::Open(server_->host(), Plain());
    ASSERT_TRUE(reg.has_value()) << reg.error().message;
    oci::Descriptor config{.media_type = std::string(kLayerRecordMediaType),
                           .digest = "sha256:" + Sha256Hex(record),
                           .size = static_cast<int64_t>(record.size()),
                           .platform = {},
                           .artifact_type = {},
                           .annotations = {}};
    oci::Descriptor layer = config;
    layer.media_type = "application/vnd.oci.image.layer.v1.tar+gzip";
    layer.digest = "sha256:" + Sha256Hex(blob);
    layer.size = static_cast<int64_t>(blob.size());
    for (const auto& [d, bytes] : {std::pair{config, record}, std::pair{layer, blob}}) {
      auto put =
          (*reg)->PutBlob("hardbase/layers", d,
                          oci::BytesOpener(std::make_shared<const std::string>(bytes)), nullptr);
      ASSERT_TRUE(put.has_value()) << put.error().message;
    }
    std::string manifest =
        oci::ManifestJson(config, {layer}, {{"dev.hardbase.layer.key", key_annotation}},
                          std::nullopt, kLayerCacheArtifactType);
    auto put =
        (*reg)->PutManifest("hardbase/layers", tag, std::string(oci::kMediaTypeManifest), manifest);
    ASSERT_TRUE(put.has_value()) << put.error().message;
  }

  std::optional<TempDir> dir_;
  std::unique_ptr<testing::RegistryServer> server_;
  image::FilePolicy policy_;
  PackageLayerSettings settings_;
  spec::LockedPackage package_;
  std::string key_;
  std::optional<cache::BlobStore> builder_;
  PackageLayer built_;
};

TEST_F(RemoteLayerCacheTest, APublishedLayerIsFetchedIntoAnotherCache) {
  auto cache = Cache();
  auto runner = Store("runner");
  auto absent = cache->Fetch(key_, *runner);
  ASSERT_TRUE(absent.has_value()) << absent.error().message;
  EXPECT_FALSE(absent->has_value()) << "nothing published yet";
  const std::set<std::string> keys = {key_, std::string(64, 'f')};
  auto none = cache->Present(keys);
  ASSERT_TRUE(none.has_value()) << none.error().message;
  EXPECT_TRUE(none->empty()) << "the repository does not exist yet";

  ASSERT_TRUE(cache->Publish(key_, settings_.compression, *builder_).has_value());
  ASSERT_TRUE(cache->Publish(key_, settings_.compression, *builder_).has_value());
  EXPECT_EQ(cache->published(), 1u) << "the second publish finds it there";
  auto present = cache->Present(keys);
  ASSERT_TRUE(present.has_value()) << present.error().message;
  EXPECT_EQ(*present, std::set<std::string>{key_});

  auto fetched = cache->Fetch(key_, *runner);
  ASSERT_TRUE(fetched.has_value()) << fetched.error().message;
  ASSERT_TRUE(fetched->has_value());
  EXPECT_EQ((*fetched)->layer.digest, built_.layer.digest);
  EXPECT_EQ((*fetched)->layer.diff_id, built_.layer.diff_id);
  EXPECT_EQ((*fetched)->entries.size(), built_.entries.size());
  EXPECT_EQ((*fetched)->facts.status, built_.facts.status);
  // Now it is the runner's own: found without the registry.
  auto local = FindPackageLayer(*runner, key_);
  ASSERT_TRUE(local.has_value());
  ASSERT_TRUE(local->has_value());
  EXPECT_EQ((*local)->layer.digest, built_.layer.digest);
  EXPECT_EQ(cache->fetched(), 1u);

  // The artifact holds the record and the very blob, tagged with the key.
  auto manifest = server_->GetManifest("hardbase/layers", key_);
  ASSERT_TRUE(manifest.has_value()) << manifest.error().message;
  auto j = nlohmann::json::parse(manifest->body);
  EXPECT_EQ(j["artifactType"], kLayerCacheArtifactType);
  EXPECT_EQ(j["layers"][0]["digest"], "sha256:" + built_.layer.digest);
  EXPECT_EQ(j["layers"][0]["mediaType"], "application/vnd.oci.image.layer.v1.tar+gzip");
}

TEST_F(RemoteLayerCacheTest, DamagedOrMisplacedEntriesAreRefusedThenReplaced) {
  auto record = PackageLayerRecord(*builder_, key_);
  ASSERT_TRUE(record.has_value() && record->has_value());
  auto blob_path = builder_->Find(built_.layer.digest);
  ASSERT_TRUE(blob_path.has_value() && blob_path->has_value());
  auto blob = ReadFile(**blob_path);
  ASSERT_TRUE(blob.has_value());
  auto cache = Cache();

  // Another key's artifact copied under this key.
  PutArtifact(key_, **record, *blob, std::string(64, 'a'));
  auto runner = Store("runner");
  auto misplaced = cache->Fetch(key_, *runner);
  EXPECT_THAT(misplaced, FailsWith(ErrorCode::kIntegrity));
  EXPECT_THAT(misplaced.error().message, HasSubstr("not the one made for this key"));

  // A record whose diff_id is not the blob's tar: the mix-up is found before anything is cached.
  auto j = nlohmann::json::parse(**record);
  j["diffId"] = std::string(64, '0');
  PutArtifact(key_, j.dump(), *blob, key_);
  auto mixed = cache->Fetch(key_, *runner);
  EXPECT_THAT(mixed, FailsWith(ErrorCode::kIntegrity));
  EXPECT_THAT(mixed.error().message, HasSubstr("does not hold the tar its record names"));
  auto nothing = FindPackageLayer(*runner, key_);
  ASSERT_TRUE(nothing.has_value());
  EXPECT_FALSE(nothing->has_value()) << "a refused entry leaves no record behind";

  // A record naming another blob than the artifact's layer.
  j = nlohmann::json::parse(**record);
  j["digest"] = std::string(64, '1');
  PutArtifact(key_, j.dump(), *blob, key_);
  auto other = cache->Fetch(key_, *runner);
  EXPECT_THAT(other, FailsWith(ErrorCode::kIntegrity));
  EXPECT_THAT(other.error().message, HasSubstr("names blob sha256:1111"));

  // In a batch the damage is a warning, and the next publish replaces the entry.
  std::vector<std::string> warnings;
  auto batch = cache->FetchAll({key_}, 2, *runner, warnings);
  ASSERT_TRUE(batch.has_value()) << batch.error().message;
  EXPECT_TRUE(batch->empty());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], HasSubstr("built again and replaced"));
  EXPECT_TRUE(cache->Damaged(key_));
  ASSERT_TRUE(cache->PublishAll({key_}, settings_.compression, 2, *builder_).has_value());
  auto fixed = Cache()->Fetch(key_, *runner);
  ASSERT_TRUE(fixed.has_value()) << fixed.error().message;
  ASSERT_TRUE(fixed->has_value());
  EXPECT_EQ((*fixed)->layer.digest, built_.layer.digest);
}

TEST_F(RemoteLayerCacheTest, BadRepositoriesAndUnreachableRegistries) {
  EXPECT_THAT(RemoteLayerCache::Open(server_->host() + "/layers:latest", Plain()),
              FailsWith(ErrorCode::kUsage));
  EXPECT_THAT(RemoteLayerCache::Open("not a repository", Plain()), FailsWith(ErrorCode::kUsage));
  std::string host = server_->host();
  server_->Stop();
  auto cache = RemoteLayerCache::Open(host + "/layers", Plain());
  ASSERT_TRUE(cache.has_value());
  auto runner = Store("runner");
  std::vector<std::string> warnings;
  auto down = (*cache)->FetchAll({key_}, 1, *runner, warnings);
  EXPECT_THAT(down, FailsWith(ErrorCode::kNetwork));
  EXPECT_THAT(down.error().message, HasSubstr(host + "/layers"));
}

}  // namespace
}  // namespace hardbase::pipeline
