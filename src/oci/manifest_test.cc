#include "oci/manifest.h"

#include <gtest/gtest.h>

#include "base/sha256.h"
#include "support/result_matchers.h"

namespace hardbase::oci {
namespace {

using ::hardbase::testing::FailsWith;

const std::string kFilledHex = std::string(64, 'b');

Descriptor FilledDesc(std::string media_type, char fill, int64_t size) {
  return {std::move(media_type), "sha256:" + std::string(64, fill), size, std::nullopt, "", {}};
}

TEST(ManifestTest, ReadsWhatManifestJsonWrites) {
  Descriptor config = FilledDesc(std::string(kMediaTypeConfig), 'c', 10);
  Descriptor layer = FilledDesc("application/vnd.oci.image.layer.v1.tar+zstd", 'd', 20);
  layer.annotations["k"] = "v";
  Descriptor subject = FilledDesc(std::string(kMediaTypeManifest), 'e', 30);
  subject.platform = Platform{"arm64", "linux", "v8"};
  auto m = ParseManifest(ManifestJson(config, {layer}, {{"a", "b"}}, subject, "text/spdx"));
  ASSERT_TRUE(m.has_value()) << m.error().message;
  EXPECT_EQ(m->media_type, kMediaTypeManifest);
  EXPECT_EQ(m->config, config);
  EXPECT_EQ(m->layers, std::vector<Descriptor>{layer});
  EXPECT_EQ(m->subject, subject);
  EXPECT_EQ(m->artifact_type, "text/spdx");
  EXPECT_EQ(m->annotations.at("a"), "b");
}

TEST(ManifestTest, ReadsDockerManifestAndList) {
  std::string docker = R"({"schemaVersion":2,
    "mediaType":"application/vnd.docker.distribution.manifest.v2+json",
    "config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":7,
              "digest":"sha256:)" +
                       kFilledHex + R"("},
    "layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":9,
               "digest":"sha256:)" +
                       kFilledHex + R"("}]})";
  auto m = ParseManifest(docker);
  ASSERT_TRUE(m.has_value()) << m.error().message;
  EXPECT_EQ(m->media_type, kMediaTypeDockerManifest);
  EXPECT_TRUE(IsLayerMediaType(m->layers.at(0).media_type));

  std::string list = R"({"schemaVersion":2,
    "mediaType":"application/vnd.docker.distribution.manifest.list.v2+json",
    "manifests":[{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":5,
      "digest":"sha256:)" +
                     kFilledHex +
                     R"(","platform":{"architecture":"arm","os":"linux","variant":"v7"}}]})";
  auto index = ParseIndex(list);
  ASSERT_TRUE(index.has_value()) << index.error().message;
  EXPECT_EQ(index->manifests.at(0).platform, (Platform{"arm", "linux", "v7"}));
  // The same index written by IndexJson reads back equal.
  auto again = ParseIndex(IndexJson(index->manifests, {{"x", "y"}}));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->manifests, index->manifests);
  EXPECT_EQ(again->annotations.at("x"), "y");
}

TEST(ManifestTest, RejectsBadDescriptorsAndDocuments) {
  auto manifest = [](const std::string& layer) {
    return R"({"schemaVersion":2,"config":{"mediaType":"a/b","size":1,"digest":"sha256:)" +
           kFilledHex + R"("},"layers":[)" + layer + "]}";
  };
  ASSERT_TRUE(ParseManifest(manifest("")).has_value());
  struct Case {
    std::string json, message;
  } cases[] = {
      {manifest(R"({"mediaType":"a/b","size":1,"digest":"sha512:)" + std::string(128, 'a') +
                R"("})"),
       "unsupported digest algorithm"},
      {manifest(R"({"mediaType":"a/b","size":1,"digest":"sha256:ABC"})"), "is not a digest"},
      {manifest(R"({"mediaType":"a/b","size":-1,"digest":"sha256:)" + kFilledHex + R"("})"),
       "\"size\" is not a non-negative integer"},
      {manifest(R"({"mediaType":"a/b","size":1.5,"digest":"sha256:)" + kFilledHex + R"("})"),
       "\"size\""},
      {manifest(R"({"size":1,"digest":"sha256:)" + kFilledHex + R"("})"), "missing \"mediaType\""},
      {manifest(R"(7)"), "layers[0]: not an object"},
      {R"({"schemaVersion":1})", "schemaVersion"},
      {R"([])", "not a JSON object"},
      {R"({"schemaVersion":2,)", "not valid JSON"},
      {R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json"})", "mediaType"},
  };
  for (const auto& c : cases) {
    auto m = ParseManifest(c.json);
    ASSERT_FALSE(m.has_value()) << c.json;
    EXPECT_THAT(m, FailsWith(ErrorCode::kSpec));
    EXPECT_NE(m.error().message.find(c.message), std::string::npos) << m.error().message;
  }
  EXPECT_FALSE(ParseIndex(R"({"schemaVersion":2,"manifests":{}})").has_value());
}

TEST(ManifestTest, ConfigRoundTripsAndReadsDockerNulls) {
  ImageConfig c;
  c.platform = {"arm64", "linux", "v8"};
  c.created = "2025-02-08T10:44:01Z";
  c.user = "1000:1000";
  c.env = {"PATH=/bin"};
  c.entrypoint = {"/bin/java"};
  c.cmd = {"-version"};
  c.working_dir = "/app";
  c.labels = {{"l", "v"}};
  c.exposed_ports = {"53/udp", "8080/tcp"};
  c.healthcheck = {"CMD", "/bin/check", "--quick"};
  c.diff_ids = {"sha256:" + kFilledHex};
  c.history = {{"2025-02-08T10:44:01Z", "hardbase: x", "c", true}};
  auto parsed = ParseConfig(ConfigJson(c));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_EQ(ConfigJson(*parsed), ConfigJson(c));

  auto docker = ParseConfig(R"({"architecture":"amd64","os":"linux","config":{"Env":null,
    "Cmd":null,"Labels":null,"User":""},"rootfs":{"type":"layers","diff_ids":[]}})");
  ASSERT_TRUE(docker.has_value()) << docker.error().message;
  EXPECT_TRUE(docker->cmd.empty());
  EXPECT_TRUE(docker->exposed_ports.empty());
  EXPECT_TRUE(docker->healthcheck.empty());
  auto ports = ParseConfig(R"({"architecture":"amd64","os":"linux","config":{
    "ExposedPorts":{"80/tcp":{},"443/tcp":{}},"Healthcheck":{"Test":["CMD-SHELL","curl -f x"],
    "Interval":30000000000}}})");
  ASSERT_TRUE(ports.has_value()) << ports.error().message;
  EXPECT_EQ(ports->exposed_ports, (std::vector<std::string>{"443/tcp", "80/tcp"}));
  EXPECT_EQ(ports->healthcheck, (std::vector<std::string>{"CMD-SHELL", "curl -f x"}));
  EXPECT_FALSE(
      ParseConfig(R"({"architecture":"amd64","os":"linux","config":{"ExposedPorts":["80/tcp"]}})"));
  EXPECT_FALSE(ParseConfig(R"({"os":"linux"})").has_value());
  EXPECT_FALSE(ParseConfig(R"({"architecture":"amd64","os":"linux","config":{"Env":"x"}})"));
  EXPECT_FALSE(
      ParseConfig(R"({"architecture":"amd64","os":"linux","rootfs":{"diff_ids":["md5:x"]}})"));
}

}  // namespace
}  // namespace hardbase::oci
