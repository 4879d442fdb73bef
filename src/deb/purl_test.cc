#include "deb/purl.h"

#include <gtest/gtest.h>

namespace hardbase::deb {
namespace {

const Distro kBookwormDistro{"debian", "12", "bookworm"};

TEST(PackagePurlTest, NamesTheBinaryPackageOfTheDistro) {
  EXPECT_EQ(PackagePurl(kBookwormDistro, "libc6", "2.36-9+deb12u10", "amd64", "glibc").ToString(),
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u10?arch=amd64&distro=debian-12&upstream=glibc");
  // An epoch keeps its colon.
  EXPECT_EQ(
      PackagePurl(kBookwormDistro, "zlib1g", "1:1.2.13.dfsg-1", "amd64", "zlib", "1:1.2.13.dfsg-1")
          .ToString(),
      "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12&upstream=zlib");
}

// Either way of saying "the same as the binary's" (empty, or equal) gives the same purl.
TEST(PackagePurlTest, UpstreamOnlyWhenTheSourceDiffers) {
  std::string plain = "pkg:deb/debian/tzdata@2024a-0%2Bdeb12u1?arch=all&distro=debian-12";
  EXPECT_EQ(PackagePurl(kBookwormDistro, "tzdata", "2024a-0+deb12u1", "all").ToString(), plain);
  EXPECT_EQ(
      PackagePurl(kBookwormDistro, "tzdata", "2024a-0+deb12u1", "all", "tzdata", "2024a-0+deb12u1")
          .ToString(),
      plain);
  // A binNMU: the source version differs.
  EXPECT_EQ(PackagePurl(kBookwormDistro, "libfoo1", "1.0-1+b1", "arm64", "foo", "1.0-1").ToString(),
            "pkg:deb/debian/libfoo1@1.0-1%2Bb1?arch=arm64&distro=debian-12&upstream=foo%401.0-1");
  EXPECT_EQ(PackagePurl(kBookwormDistro, "foo", "1.0-1+b1", "arm64", "", "1.0-1").ToString(),
            "pkg:deb/debian/foo@1.0-1%2Bb1?arch=arm64&distro=debian-12&upstream=foo%401.0-1");
}

TEST(PackagePurlTest, TheVendorIsTheDistrosAndDebianWhenUnknown) {
  Distro ubuntu{"ubuntu", "24.04", "noble"};
  EXPECT_EQ(PackagePurl(ubuntu, "bash", "5.2.21-2ubuntu4", "amd64").ToString(),
            "pkg:deb/ubuntu/bash@5.2.21-2ubuntu4?arch=amd64&distro=ubuntu-24.04");
  EXPECT_EQ(PackagePurl(Distro{}, "bash", "5.2.15-2+b2", "", "", "5.2.15-2").ToString(),
            "pkg:deb/debian/bash@5.2.15-2%2Bb2?upstream=bash%405.2.15-2");
}

// What it makes parses back to itself.
TEST(PackagePurlTest, RoundTrips) {
  Purl purl = PackagePurl(kBookwormDistro, "libstdc++6", "12.2.0-14", "amd64", "gcc-12");
  auto parsed = Purl::Parse(purl.ToString());
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_EQ(*parsed, purl);
}

}  // namespace
}  // namespace hardbase::deb
