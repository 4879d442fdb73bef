#include "deb/distro.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/result_matchers.h"

namespace hardbase::deb {
namespace {

using ::hardbase::testing::FailsWith;

using ::testing::HasSubstr;

// /usr/lib/os-release of bookworm's base-files 12.4+deb12u5.
constexpr std::string_view kBookworm = R"os(PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
)os";

TEST(DistroTest, ReadsBookwormsOsRelease) {
  Distro d = ParseOsRelease(kBookworm);
  EXPECT_EQ(d, (Distro{"debian", "12", "bookworm"}));
  EXPECT_EQ(d.PurlQualifier(), "debian-12");
  EXPECT_EQ(d.DebianRelease(), "12");
}

TEST(DistroTest, UnquotesAsOsReleaseSays) {
  auto fields = ParseOsReleaseFields(
      "# comment\n\nA=plain\nB=\"double \\\"quoted\\\" \\$x \\\\\"\nC='single \\n'\r\n"
      "  D = x\nnot an assignment\nE=\"unterminated\nA=again\n=nokey\nF-G=bad key\n");
  EXPECT_EQ(fields["A"], "again");
  EXPECT_EQ(fields["B"], "double \"quoted\" $x \\");
  EXPECT_EQ(fields["C"], "single \\n");
  EXPECT_EQ(fields["E"], "unterminated");
  EXPECT_FALSE(fields.count("D "));
  EXPECT_FALSE(fields.count("F-G"));
  EXPECT_FALSE(fields.count(""));
}

TEST(DistroTest, TestingHasACodenameButNoVersion) {
  Distro trixie = ParseOsRelease("ID=debian\nVERSION_CODENAME=trixie\n");
  EXPECT_EQ(trixie.PurlQualifier(), "debian-trixie");
  EXPECT_EQ(trixie.DebianRelease(), "13");
  Distro sid = ParseOsRelease("ID=debian\nVERSION_CODENAME=sid\n");
  ASSERT_FALSE(sid.DebianRelease().has_value());
  EXPECT_THAT(sid.DebianRelease().error().message, HasSubstr("--release"));
  EXPECT_EQ(ParseOsRelease("ID=debian\n").PurlQualifier(), "debian");
  // A point release's VERSION_ID is matched as its major release.
  EXPECT_EQ(ParseOsRelease("ID=debian\nVERSION_ID=\"11.9\"").DebianRelease(), "11");
}

TEST(DistroTest, OtherDistributionsAreNamedButNotMatched) {
  Distro ubuntu = ParseOsRelease("ID=Ubuntu\nVERSION_ID=\"24.04\"\nID_LIKE=debian\n");
  EXPECT_EQ(ubuntu.PurlQualifier(), "ubuntu-24.04");
  ASSERT_FALSE(ubuntu.DebianRelease().has_value());
  EXPECT_THAT(ubuntu.DebianRelease(), FailsWith(ErrorCode::kSpec));
  EXPECT_THAT(ubuntu.DebianRelease().error().message, HasSubstr("ubuntu, not Debian"));

  Distro none = ParseOsRelease("");
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(none.PurlQualifier(), "");
  EXPECT_THAT(none.DebianRelease().error().message, HasSubstr("unknown distribution"));
}

TEST(DistroTest, ReleaseForCodename) {
  EXPECT_EQ(ReleaseForCodename("bookworm"), "12");
  EXPECT_EQ(ReleaseForCodename("bullseye"), "11");
  EXPECT_EQ(ReleaseForCodename("buster"), "10");
  EXPECT_EQ(ReleaseForCodename("stretch"), "9");
  EXPECT_EQ(ReleaseForCodename("jessie"), "8");
  EXPECT_EQ(ReleaseForCodename("wheezy"), "7");
  EXPECT_EQ(ReleaseForCodename("trixie"), "13");
  EXPECT_EQ(ReleaseForCodename("forky"), "14");
  EXPECT_EQ(ReleaseForCodename("woody"), "3.0");
  EXPECT_EQ(ReleaseForCodename("sid"), std::nullopt);
  EXPECT_EQ(ReleaseForCodename("Bookworm"), std::nullopt);
  EXPECT_EQ(ReleaseForCodename(""), std::nullopt);
}

TEST(DistroTest, ARepositorysCodenameNamesItsRelease) {
  EXPECT_EQ(DebianDistroOfCodename("bookworm"), (Distro{"debian", "12", "bookworm"}));
  EXPECT_EQ(DebianDistroOfCodename("bookworm-security"), (Distro{"debian", "12", "bookworm"}));
  EXPECT_EQ(DebianDistroOfCodename("bullseye-updates"), (Distro{"debian", "11", "bullseye"}));
  EXPECT_EQ(DebianDistroOfCodename("stable"), std::nullopt);
  EXPECT_EQ(DebianDistroOfCodename("sid"), std::nullopt);
  EXPECT_EQ(DebianDistroOfCodename(""), std::nullopt);
}

}  // namespace
}  // namespace hardbase::deb
