#include "oci/image_ref.h"

#include <gtest/gtest.h>

#include "support/result_matchers.h"

namespace hardbase::oci {
namespace {

using ::hardbase::testing::FailsWith;

using T = ImageRef::Transport;
const std::string kRefDigest = "sha256:" + std::string(64, 'a');

TEST(ImageRefTest, ParsesEveryTransport) {
  struct Case {
    std::string text;
    ImageRef want;
  } cases[] = {
      {"oci:out/java17", {T::kOciLayout, "out/java17", "", "", "", ""}},
      {"oci:out:1.0", {T::kOciLayout, "out", "1.0", "", "", ""}},
      {"oci:out:app:1.0", {T::kOciLayout, "out", "app:1.0", "", "", ""}},
      {"oci:/abs/out@" + kRefDigest, {T::kOciLayout, "/abs/out", "", kRefDigest, "", ""}},
      {"oci:out:t@" + kRefDigest, {T::kOciLayout, "out", "t", kRefDigest, "", ""}},
      {"oci-archive:img.tar:t", {T::kOciArchive, "img.tar", "t", "", "", ""}},
      {"docker-archive:img.tar", {T::kDockerArchive, "img.tar", "", "", "", ""}},
      {"docker://127.0.0.1:5000/library/app:1.0",
       {T::kRegistry, "", "1.0", "", "127.0.0.1:5000", "library/app"}},
      {"127.0.0.1:5000/app", {T::kRegistry, "", "", "", "127.0.0.1:5000", "app"}},
      {"localhost/a/b@" + kRefDigest, {T::kRegistry, "", "", kRefDigest, "localhost", "a/b"}},
      {"registry.example:443/x/y:v1-2.3",
       {T::kRegistry, "", "v1-2.3", "", "registry.example:443", "x/y"}},
  };
  for (const auto& c : cases) {
    auto ref = ParseImageRef(c.text);
    ASSERT_TRUE(ref.has_value()) << c.text << ": " << ref.error().message;
    EXPECT_EQ(*ref, c.want) << c.text;
    auto again = ParseImageRef(ref->ToString());
    ASSERT_TRUE(again.has_value()) << ref->ToString();
    EXPECT_EQ(*again, *ref) << ref->ToString();
  }
  EXPECT_EQ(ParseImageRef("127.0.0.1:5000/app:2")->ToString(), "docker://127.0.0.1:5000/app:2");
}

TEST(ImageRefTest, RejectsMalformedReferences) {
  for (std::string text : std::vector<std::string>{
           "", "oci:", "oci::tag", "oci:dir:", "oci:dir:bad tag", "oci:dir@sha256:12",
           "oci:dir@sha512:" + std::string(128, 'a'), "docker-archive:", "app", "app:1.0",
           "library/app", "docker://host.example/UPPER", "docker://host.example/app:bad/tag",
           "ftp://x/y", "docker://localhost/app:" + std::string(129, 't')}) {
    auto ref = ParseImageRef(text);
    ASSERT_FALSE(ref.has_value()) << text;
    EXPECT_THAT(ref, FailsWith(ErrorCode::kUsage)) << text;
    EXPECT_NE(ref.error().message.find("image reference"), std::string::npos);
  }
}

}  // namespace
}  // namespace hardbase::oci
