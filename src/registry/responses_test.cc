#include "registry/responses.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace hardbase::registry {
namespace {

using ::testing::Optional;

TEST(ResponsesTest, ErrorDocuments) {
  EXPECT_EQ(RegistryErrorText(R"({"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid",
    "detail":{}},{"code":"DENIED"}]})"),
            "MANIFEST_INVALID: manifest invalid; DENIED");
  EXPECT_EQ(RegistryErrorText("404 page not found\n"), "");
  EXPECT_EQ(RegistryErrorText(R"({"errors":"no"})"), "");
  EXPECT_EQ(RegistryErrorText(""), "");
}

TEST(ResponsesTest, UploadOffsets) {
  EXPECT_THAT(UploadOffset("0-1234"), Optional(uint64_t{1235}));
  EXPECT_THAT(UploadOffset("bytes=0-65535"), Optional(uint64_t{65536}));
  EXPECT_THAT(UploadOffset("0-0"), Optional(uint64_t{0}));  // distribution's empty upload
  EXPECT_EQ(UploadOffset("5-10"), std::nullopt);            // uploads start at 0
  EXPECT_EQ(UploadOffset("0-"), std::nullopt);
  EXPECT_EQ(UploadOffset("0-x"), std::nullopt);
  EXPECT_EQ(UploadOffset("0-18446744073709551615"), std::nullopt);
  EXPECT_EQ(UploadOffset(""), std::nullopt);
}

TEST(ResponsesTest, NextLinks) {
  EXPECT_THAT(NextLink(R"(</v2/app/tags/list?last=b&n=2>; rel="next")"),
              Optional(std::string("/v2/app/tags/list?last=b&n=2")));
  EXPECT_THAT(NextLink(R"(<https://x/prev>; rel="prev", <https://x/next>; rel="next")"),
              Optional(std::string("https://x/next")));
  EXPECT_EQ(NextLink(R"(<https://x/prev>; rel="prev")"), std::nullopt);
  EXPECT_EQ(NextLink("<unterminated; rel=\"next\""), std::nullopt);
  EXPECT_EQ(NextLink(""), std::nullopt);
}

TEST(ResponsesTest, ManifestMediaTypes) {
  EXPECT_EQ(ManifestMediaType(R"({"mediaType":"application/vnd.oci.image.index.v1+json"})",
                              "application/json"),
            "application/vnd.oci.image.index.v1+json");
  EXPECT_EQ(ManifestMediaType(R"({"schemaVersion":2})",
                              "application/vnd.docker.distribution.manifest.v2+json; x=1"),
            "application/vnd.docker.distribution.manifest.v2+json");
  EXPECT_EQ(ManifestMediaType(R"({"schemaVersion":2,"manifests":[]})", "application/json"),
            "application/vnd.oci.image.index.v1+json");
  EXPECT_EQ(ManifestMediaType(R"({"schemaVersion":2,"layers":[]})", ""),
            "application/vnd.oci.image.manifest.v1+json");
  EXPECT_EQ(ManifestMediaType("not json", ""), "application/vnd.oci.image.manifest.v1+json");
}

}  // namespace
}  // namespace hardbase::registry
