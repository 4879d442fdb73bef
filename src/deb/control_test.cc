#include "deb/control.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "base/fs.h"
#include "support/process.h"
#include "support/result_matchers.h"

namespace hardbase::deb {
namespace {

using ::hardbase::testing::FailsWith;

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

// Line ends do not change values: a CRLF document parses as the LF one, a value starting on the
// next line included.
TEST(ControlTest, CrLfTextParsesAsLfText) {
  const char* lf = "Files:\n a b\n c d\nX:\ty \nY: \n\nZ: z\n";
  const char* crlf = "Files:\r\n a b\r\n c d\r\nX:\ty \r\nY: \r\n\r\nZ: z\r\n";
  auto a = ParseControl(lf);
  auto b = ParseControl(crlf);
  ASSERT_TRUE(a.has_value() && b.has_value());
  ASSERT_EQ(a->size(), 2u);
  ASSERT_EQ(b->size(), 2u);
  EXPECT_EQ((*a)[0].Get("Files"), "a b\n c d");
  EXPECT_EQ((*b)[0].Get("Files"), "a b\r\n c d");  // inner line ends stay as written
  for (const char* name : {"X", "Y"}) {
    EXPECT_EQ((*a)[0].Get(name), (*b)[0].Get(name)) << name;
  }
  EXPECT_EQ((*b)[0].Get("X"), "y");
  EXPECT_EQ((*b)[1].Get("Z"), "z");
  EXPECT_EQ((*b)[1].line(), 7u);
}

// Independent oracle: apt's own parser (python3-apt's apt_pkg.TagSection) on how blanks and line
// ends around values are trimmed. Each document's fields come out one a line, "name=value", with
// '\\', LF and CR escaped.
constexpr const char* kTagSectionScript = R"(
import sys, apt_pkg
for path in sys.argv[1:]:
    section = apt_pkg.TagSection(open(path, encoding="utf-8", newline="").read())
    for name in section.keys():
        value = section[name].replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
        print(name + "=" + value)
    print("--")
)";

std::string Escaped(std::string_view s) {
  std::string out;
  for (char c : s) {
    out += c == '\\' ? "\\\\" : c == '\n' ? "\\n" : c == '\r' ? "\\r" : std::string(1, c);
  }
  return out;
}

TEST(ControlTest, TrimsValuesAsAptDoes) {
  if (testing::RunProcess({"/usr/bin/python3", "-c", "import apt_pkg"}).exit_code != 0) {
    GTEST_SKIP() << "/usr/bin/python3 with apt_pkg (python3-apt) is missing";
  }
  const std::vector<std::string> documents = {
      "Package: a\r\nDescription:\r\n more\r\n x\r\n",
      "Package:\ra\nX: b\n",
      "Package: a \r\r\n",
      "Package: a\nFiles:\n a b\n c d\n",
      "Package:\ta\t\nVersion:  1.0  \n",
      "Package: a\nDepends: b,\n\tc\n",
      "Package: a\nEmpty:\nNext: b\n",
      "Package: a\nX: \r\n y\n",
      "Package: a\nX: 1\n  \r\n",
  };
  auto dir = TempDir::Create("hardbase-control");
  ASSERT_TRUE(dir) << dir.error().message;
  std::vector<std::string> argv = {"/usr/bin/python3", "-c", kTagSectionScript};
  std::string ours;
  for (size_t i = 0; i < documents.size(); ++i) {
    std::string path = dir->path() + "/" + std::to_string(i);
    std::ofstream(path, std::ios::binary) << documents[i];
    argv.push_back(path);
    auto stanzas = ParseControl(documents[i]);
    ASSERT_TRUE(stanzas.has_value()) << stanzas.error().message;
    ASSERT_EQ(stanzas->size(), 1u) << Escaped(documents[i]);
    for (const Field& f : (*stanzas)[0].fields()) {
      ours += std::string(f.name) + "=" + Escaped(f.value) + "\n";
    }
    ours += "--\n";
  }
  auto apt = testing::RunProcess(argv);
  ASSERT_EQ(apt.exit_code, 0) << apt.err;
  EXPECT_EQ(ours, apt.out);
}

TEST(ControlTest, MalformedLinesNameTheLine) {
  auto r = ParseControl("Package: a\nno colon here\n");
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r, FailsWith(ErrorCode::kSpec));
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
