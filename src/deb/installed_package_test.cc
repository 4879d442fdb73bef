#include "deb/installed_package.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/result_matchers.h"

namespace hardbase::deb {
namespace {

using ::hardbase::testing::FailsWith;

using ::testing::HasSubstr;
using ::testing::Pair;

TEST(SplitSourceTest, SplitsNameAndVersion) {
  EXPECT_THAT(SplitSource("glibc (2.36-9+deb12u4)"), Pair("glibc", "2.36-9+deb12u4"));
  EXPECT_THAT(SplitSource("glibc"), Pair("glibc", ""));
  EXPECT_THAT(SplitSource(""), Pair("", ""));
  // An unclosed parenthesis keeps what follows it rather than reading past the field.
  EXPECT_THAT(SplitSource("openssl (3.0"), Pair("openssl", "3.0"));
}

Stanza One(const std::string& text) {
  auto stanzas = ParseControl(text);
  EXPECT_TRUE(stanzas.has_value() && stanzas->size() == 1u);
  return stanzas ? (*stanzas)[0] : Stanza();
}

TEST(InstalledPackageFromStanzaTest, ReadsTheRecordAndDefaultsTheSource) {
  std::string text =
      "Package: libc6\nVersion: 2.36-9+deb12u4\nArchitecture: amd64\n"
      "Source: glibc\nInstalled-Size: 12986\n";
  auto p = InstalledPackageFromStanza(One(text));
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->name, "libc6");
  EXPECT_EQ(p->version, "2.36-9+deb12u4");
  EXPECT_EQ(p->architecture, "amd64");
  EXPECT_EQ(p->source, "glibc");
  EXPECT_EQ(p->source_version, "2.36-9+deb12u4");  // no version in Source: the binary's
  EXPECT_EQ(p->installed_size, 12986);

  std::string binnmu = "Package: bash\nVersion: 5.2.15-2+b2\nSource: bash (5.2.15-2)\n";
  auto b = InstalledPackageFromStanza(One(binnmu));
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->source, "bash");
  EXPECT_EQ(b->source_version, "5.2.15-2");
  EXPECT_EQ(b->installed_size, 0);

  auto own = InstalledPackageFromStanza(One("Package: tzdata\nVersion: 2024a-0+deb12u1\n"));
  ASSERT_TRUE(own.has_value());
  EXPECT_EQ(own->source, "tzdata");
  EXPECT_EQ(own->source_version, "2024a-0+deb12u1");
}

TEST(InstalledPackageFromStanzaTest, RefusesAStanzaWithoutNameOrVersion) {
  for (const char* text : {"Package: bash\n", "Version: 1.0\n", "Package:\nVersion: 1\n"}) {
    auto p = InstalledPackageFromStanza(One(text));
    ASSERT_FALSE(p.has_value()) << text;
    EXPECT_THAT(p, FailsWith(ErrorCode::kSpec));
    EXPECT_THAT(p.error().message, HasSubstr("no Package or Version"));
  }
}

}  // namespace
}  // namespace hardbase::deb
