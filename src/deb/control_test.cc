#include "deb/control.h"

#include <gtest/gtest.h>

namespace hardbase::deb {
namespace {

TEST(ControlTest, ParsesStanzasFieldsAndFoldedValues) {
  const char* text =
      "Package: libc6\n"
      "Version: 2.36-9+deb12u13\n"
      "Description: GNU C Library: Shared libraries\n"
      " Contains the standard libraries.\n"
      " .\n"
      " More text.\n"
      "depends: libgcc-s1\n"
      "\n\n"
      "Package: tzdata\r\n"
      "Version:   2025b-0+deb12u1  \r\n";
  auto stanzas = ParseControl(text);
  ASSERT_TRUE(stanzas.has_value()) << stanzas.error().message;
  ASSERT_EQ(stanzas->size(), 2u);
  const Stanza& a = (*stanzas)[0];
  EXPECT_EQ(a.line(), 1u);
  EXPECT_EQ(a.Get("package"), "libc6");
  EXPECT_EQ(a.Get("Depends"), "libgcc-s1");
  EXPECT_EQ(a.Get("Description"),
            "GNU C Library: Shared libraries\n Contains the standard libraries.\n .\n More text.");
  EXPECT_FALSE(a.Has("Missing"));
  EXPECT_EQ(a.Get("Missing"), "");
  const Stanza& b = (*stanzas)[1];
  EXPECT_EQ(b.line(), 10u);
  EXPECT_EQ(b.Get("Version"), "2025b-0+deb12u1");
}

TEST(ControlTest, ValueStartingOnTheNextLine) {
  auto stanzas = ParseControl("Files:\n a b\n c d\nX: y\n");
  ASSERT_TRUE(stanzas.has_value());
  EXPECT_EQ((*stanzas)[0].Get("Files"), "a b\n c d");
  EXPECT_EQ((*stanzas)[0].Get("X"), "y");
}

TEST(ControlTest, MalformedLinesNameTheLine) {
  auto r = ParseControl("Package: a\nno colon here\n");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kSpec);
  EXPECT_EQ(r.error().message, "line 2: expected 'Field: value'");

  r = ParseControl(" continuation first\n");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "line 1: continuation line outside a field");

  r = ParseControl("Package: a\n: empty name\n");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "line 2: expected 'Field: value'");
}

TEST(ControlTest, CommentsOnlyWhenAllowed) {
  const char* text = "# comment\nTypes: deb\n";
  EXPECT_FALSE(ParseControl(text).has_value());
  auto r = ParseControl(text, ControlOptions{.allow_comments = true});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ((*r)[0].Get("Types"), "deb");
}

TEST(ControlTest, VisitorErrorStopsParsing) {
  int seen = 0;
  auto r = ForEachStanza("A: 1\n\nA: 2\n\nA: 3\n", [&](const Stanza& s) -> Result<void> {
    ++seen;
    if (s.Get("A") == "2") return Fail(ErrorCode::kSpec, "stop");
    return {};
  });
  EXPECT_FALSE(r.has_value());
  EXPECT_EQ(seen, 2);
}

}  // namespace
}  // namespace hardbase::deb
