#include "oci/image.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/result_matchers.h"

namespace hardbase::oci {
namespace {

using ::hardbase::testing::FailsWith;

constexpr char kCreated[] = "2025-02-08T10:44:01Z";

Descriptor Desc(std::string media_type, std::string digest, int64_t size) {
  Descriptor d;
  d.media_type = std::move(media_type);
  d.digest = std::move(digest);
  d.size = size;
  return d;
}

TEST(ImageTest, ConfigJsonHasFixedKeyOrder) {
  ImageConfig config;
  config.platform = {"arm64", "linux", "v8"};
  config.created = kCreated;
  config.user = "65532:65532";
  config.env = {"PATH=/usr/bin", "LANG=C.UTF-8"};
  config.entrypoint = {"/usr/bin/java", "-jar"};
  config.cmd = {"app.jar"};
  config.working_dir = "/app";
  config.labels = {{"b", "2"}, {"a", "1"}};
  config.diff_ids = {"sha256:aaa", "sha256:bbb"};
  config.history = {{kCreated, "hardbase: libc6 2.36-9+deb12u14", "base", false},
                    {kCreated, "hardbase: config", "", true}};
  EXPECT_EQ(ConfigJson(config),
            R"({"created":"2025-02-08T10:44:01Z","architecture":"arm64","variant":"v8",)"
            R"("os":"linux","config":{"User":"65532:65532","Env":["PATH=/usr/bin",)"
            R"("LANG=C.UTF-8"],"Entrypoint":["/usr/bin/java","-jar"],"Cmd":["app.jar"],)"
            R"("WorkingDir":"/app","Labels":{"a":"1","b":"2"}},"rootfs":{"type":"layers",)"
            R"("diff_ids":["sha256:aaa","sha256:bbb"]},"history":[{"created":)"
            R"("2025-02-08T10:44:01Z","created_by":"hardbase: libc6 2.36-9+deb12u14",)"
            R"("comment":"base"},{"created":"2025-02-08T10:44:01Z","created_by":)"
            R"("hardbase: config","empty_layer":true}]})");
}

TEST(ImageTest, ConfigJsonOmitsEmptyFields) {
  ImageConfig config;
  config.platform = {"amd64", "linux", ""};
  EXPECT_EQ(ConfigJson(config), R"({"architecture":"amd64","os":"linux","config":{},)"
                                R"("rootfs":{"type":"layers","diff_ids":[]}})");
}

TEST(ImageTest, InvalidUtf8IsReplacedNotThrown) {
  ImageConfig config;
  config.platform = {"amd64", "linux", ""};
  config.labels = {{"x", "a\xff"}};
  std::string json = ConfigJson(config);
  std::string replaced = R"("Labels":{"x":"a)" + std::string("\xef\xbf\xbd") + R"("})";
  EXPECT_NE(json.find(replaced), std::string::npos) << json;
}

TEST(ImageTest, ManifestJson) {
  Descriptor config = Desc(std::string(kMediaTypeConfig), "sha256:c", 10);
  Descriptor layer = Desc("application/vnd.oci.image.layer.v1.tar+gzip", "sha256:l", 100);
  EXPECT_EQ(ManifestJson(config, {layer}, {{std::string(kAnnotationCreated), kCreated}}),
            R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
            R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json",)"
            R"("digest":"sha256:c","size":10},"layers":[{"mediaType":)"
            R"("application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:l","size":100}],)"
            R"("annotations":{"org.opencontainers.image.created":"2025-02-08T10:44:01Z"}})");
}

TEST(ImageTest, ArtifactManifestJson) {
  Blob empty = MakeBlob("application/vnd.oci.empty.v1+json", "{}");
  Descriptor bundle = Desc("application/vnd.dev.sigstore.bundle.v0.3+json", "sha256:b", 5);
  bundle.annotations = {{"k", "v"}};
  Descriptor subject = Desc(std::string(kMediaTypeManifest), "sha256:m", 7);
  EXPECT_EQ(ManifestJson(empty.descriptor, {bundle}, {}, subject,
                         "application/vnd.dev.sigstore.bundle.v0.3+json"),
            R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
            R"("artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json",)"
            R"("config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":)"
            R"("sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",)"
            R"("size":2},"layers":[{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json",)"
            R"("digest":"sha256:b","size":5,"annotations":{"k":"v"}}],"subject":{"mediaType":)"
            R"("application/vnd.oci.image.manifest.v1+json","digest":"sha256:m","size":7}})");
}

TEST(ImageTest, IndexJson) {
  Descriptor amd64 = Desc(std::string(kMediaTypeManifest), "sha256:m1", 7);
  amd64.platform = Platform{"amd64", "linux", ""};
  Descriptor arm64 = Desc(std::string(kMediaTypeManifest), "sha256:m2", 8);
  arm64.platform = Platform{"arm64", "linux", "v8"};
  arm64.annotations = {{"x", "y"}};
  Descriptor sbom = Desc(std::string(kMediaTypeManifest), "sha256:s", 3);
  sbom.artifact_type = "application/spdx+json";
  EXPECT_EQ(IndexJson({amd64, arm64, sbom}, {{std::string(kAnnotationRefName), "latest"}}),
            R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",)"
            R"("manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
            R"("digest":"sha256:m1","size":7,"platform":{"architecture":"amd64","os":"linux"}},)"
            R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:m2",)"
            R"("size":8,"platform":{"architecture":"arm64","os":"linux","variant":"v8"},)"
            R"("annotations":{"x":"y"}},{"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
            R"("artifactType":"application/spdx+json","digest":"sha256:s","size":3}],)"
            R"("annotations":{"org.opencontainers.image.ref.name":"latest"}})");
  EXPECT_EQ(IndexJson({}),
            R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",)"
            R"("manifests":[]})");
}

TEST(ImageTest, MakeBlobDigestsTheBytes) {
  // The OCI empty descriptor, as the image spec gives it.
  Blob empty = MakeBlob("application/vnd.oci.empty.v1+json", "{}");
  EXPECT_EQ(empty.descriptor.digest,
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
  EXPECT_EQ(empty.descriptor.size, 2);
  EXPECT_EQ(empty.descriptor.media_type, "application/vnd.oci.empty.v1+json");
  EXPECT_EQ(empty.bytes, "{}");
}

TEST(ImageTest, Rfc3339) {
  EXPECT_EQ(Rfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(Rfc3339(1739011441), kCreated);
  EXPECT_EQ(Rfc3339(951782400), "2000-02-29T00:00:00Z");
  EXPECT_EQ(Rfc3339(-1), "1969-12-31T23:59:59Z");
}

TEST(ImageTest, PlatformForDebianArch) {
  struct Case {
    const char* debian;
    Platform platform;
  };
  for (const auto& c : std::vector<Case>{{"amd64", {"amd64", "linux", ""}},
                                         {"arm64", {"arm64", "linux", "v8"}},
                                         {"armhf", {"arm", "linux", "v7"}},
                                         {"armel", {"arm", "linux", "v5"}},
                                         {"i386", {"386", "linux", ""}},
                                         {"ppc64el", {"ppc64le", "linux", ""}},
                                         {"s390x", {"s390x", "linux", ""}},
                                         {"riscv64", {"riscv64", "linux", ""}},
                                         {"mips64el", {"mips64le", "linux", ""}}}) {
    auto platform = PlatformForDebianArch(c.debian);
    ASSERT_TRUE(platform.has_value()) << c.debian;
    EXPECT_EQ(*platform, c.platform) << c.debian;
  }
  auto unknown = PlatformForDebianArch("hurd-i386");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_THAT(unknown, FailsWith(ErrorCode::kSpec));
  EXPECT_NE(unknown.error().message.find("hurd-i386"), std::string::npos);
}

}  // namespace
}  // namespace hardbase::oci
