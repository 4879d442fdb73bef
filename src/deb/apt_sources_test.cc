#include "deb/apt_sources.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <tuple>

#include "base/fs.h"
#include "deb/keyring.h"
#include "support/repo_fixture.h"
#include "support/result_matchers.h"

namespace hardbase::deb {
namespace {

using ::hardbase::testing::FailsWith;

using hardbase::testing::RepoFixture;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST(Deb822SourcesTest, StanzasCommentsAndMultiLineFields) {
  constexpr std::string_view kText =
      "# Debian, from a local mirror\n"
      "Types: deb deb-src\n"
      "# comment between fields\n"
      "URIs: http://127.0.0.1:8080/debian\n"
      "  file:///srv/mirror/debian\n"
      "Suites: bookworm\n"
      " bookworm-updates\n"
      "Components: main contrib\n"
      "Architectures: amd64, arm64\n"
      "Signed-By: /usr/share/keyrings/a.gpg\n"
      "  /usr/share/keyrings/b.gpg\n"
      "\n"
      "Types: deb-src\n"
      "URIs: http://127.0.0.1:8080/debian\n"
      "Suites: bookworm\n"
      "Components: main\n"
      "\n"
      "Enabled: no\n"
      "Types: deb\n"
      "URIs: http://127.0.0.1:9/off\n"
      "Suites: off\n"
      "Components: main\n"
      "\n"
      "types: deb\n"
      "uris: http://127.0.0.1:8080/flat\n"
      "suites: ./\n"
      "enabled: yes\n"
      "trusted: yes\n";
  auto r = ParseDeb822Sources(kText, "/etc/apt/sources.list.d/x.sources");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  const AptSource& a = (*r)[0];
  EXPECT_THAT(a.uris, ElementsAre("http://127.0.0.1:8080/debian", "file:///srv/mirror/debian"));
  EXPECT_THAT(a.suites, ElementsAre("bookworm", "bookworm-updates"));
  EXPECT_THAT(a.components, ElementsAre("main", "contrib"));
  EXPECT_THAT(a.architectures, ElementsAre("amd64", "arm64"));
  EXPECT_THAT(a.signed_by_paths,
              ElementsAre("/usr/share/keyrings/a.gpg", "/usr/share/keyrings/b.gpg"));
  EXPECT_TRUE(a.signed_by_inline_key.empty());
  EXPECT_FALSE(a.trusted);
  EXPECT_EQ(a.origin_file, "/etc/apt/sources.list.d/x.sources");
  EXPECT_EQ(a.line, 2u);
  const AptSource& flat = (*r)[1];
  EXPECT_THAT(flat.suites, ElementsAre("./"));
  EXPECT_THAT(flat.components, IsEmpty());
  EXPECT_TRUE(flat.trusted);
  EXPECT_EQ(flat.line, 24u);
}

TEST(Deb822SourcesTest, CommentInsideAMultiLineValueIsSkipped) {
  auto r = ParseDeb822Sources(
      "Types: deb\nURIs: http://127.0.0.1:1/a\n# http://127.0.0.1:2/commented\n"
      " http://127.0.0.1:3/c\nSuites: s\nComponents: main\n",
      "c.sources");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 1u);
  EXPECT_THAT((*r)[0].uris, ElementsAre("http://127.0.0.1:1/a", "http://127.0.0.1:3/c"));
}

TEST(Deb822SourcesTest, SignedByFingerprints) {
  auto r = ParseDeb822Sources(
      "Types: deb\nURIs: http://127.0.0.1:1/a\nSuites: s\nComponents: main\n"
      "Signed-By: 4D64FEC119C2029067D6E791F8D2585B8783D481, 6ED0E7B82643E131!\n",
      "f.sources");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_THAT((*r)[0].signed_by_fingerprints,
              ElementsAre("4D64FEC119C2029067D6E791F8D2585B8783D481", "6ED0E7B82643E131!"));
  EXPECT_THAT((*r)[0].signed_by_paths, IsEmpty());
}

// The inline key block written the way apt documents it (" ." for empty lines) comes back as
// the exact armored text gpg exported, and librnp can load it.
TEST(Deb822SourcesTest, InlineSignedByKey) {
  auto dir = TempDir::Create("sources-test-");
  ASSERT_TRUE(dir);
  RepoFixture repo(dir->path());
  auto text = repo.Deb822Sources("http://127.0.0.1:8080", {"stable", "stable-security"}, true);
  ASSERT_TRUE(text) << text.error().message;
  ASSERT_THAT(*text, HasSubstr("\n .\n"));
  auto r = ParseDeb822Sources(*text, "inline.sources");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 1u);
  const AptSource& s = (*r)[0];
  EXPECT_THAT(s.suites, ElementsAre("stable", "stable-security"));
  EXPECT_THAT(s.signed_by_paths, IsEmpty());
  auto keys = RepoFixture::Keys();
  ASSERT_TRUE(keys);
  EXPECT_EQ(s.signed_by_inline_key, (*keys)->armored_public_key);

  auto keyring = Keyring::Create();
  ASSERT_TRUE(keyring);
  auto added = keyring->AddArmored(s.signed_by_inline_key, "Signed-By of inline.sources");
  ASSERT_TRUE(added) << added.error().message;
  EXPECT_THAT(keyring->PrimaryFingerprints(), ElementsAre((*keys)->fingerprint));
}

TEST(Deb822SourcesTest, ErrorsNameFileAndLine) {
  struct Case {
    const char* text;
    const char* want;
  };
  for (
      const Case& c : {
          Case{"Types: deb\nURIs: http://127.0.0.1/a\nComponents: main\n",
               "x.sources line 1: no suite"},
          Case{"\n\nTypes: deb\nSuites: s\nComponents: main\n", "x.sources line 3: no URI"},
          Case{"Types: deb\nURIs: http://127.0.0.1/a\nSuites: s\n",
               "x.sources line 1: suite 's' needs at least one component"},
          Case{"Types: deb\nURIs: http://127.0.0.1/a\nSuites: ./\nComponents: main\n",
               "x.sources line 1: flat repository"},
          Case{"URIs: http://127.0.0.1/a\nSuites: s\nComponents: main\n",
               "x.sources line 1: no Types"},
          Case{"Types: rpm\nURIs: http://127.0.0.1/a\nSuites: s\nComponents: main\n",
               "x.sources line 1: unknown type 'rpm'"},
          Case{
              "Types: deb\nURIs: http://127.0.0.1/a\nSuites: s\nComponents: main\nEnabled: maybe\n",
              "x.sources line 5: Enabled must be yes or no"},
          Case{
              "Types: deb\nURIs: http://127.0.0.1/a\nSuites: s\nComponents: main\nSigned-By: key\n",
              "x.sources line 5: Signed-By 'key'"},
          Case{"Types: deb\nURIs: http://127.0.0.1/a\nSuites: s\nComponents: main\n"
               "Signed-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n abc\n",
               "x.sources line 5: Signed-By key block has no END line"},
          Case{"Types: deb\nURIs http://127.0.0.1/a\n", "x.sources: line 2:"},
      }) {
    auto r = ParseDeb822Sources(c.text, "x.sources");
    ASSERT_THAT(r, FailsWith(ErrorCode::kSpec)) << c.want;
    EXPECT_THAT(r.error().message, HasSubstr(c.want));
  }
}

TEST(OneLineSourcesTest, EntriesOptionsAndComments) {
  constexpr std::string_view kText =
      "# the main archive\n"
      "deb [arch=amd64,arm64 signed-by=/usr/share/keyrings/x.gpg trusted=yes] "
      "http://127.0.0.1:8080/debian bookworm main contrib  # trailing comment\n"
      "\n"
      "deb-src http://127.0.0.1:8080/debian bookworm main\n"
      "   deb http://127.0.0.1:8080/debian-security bookworm-security main\n"
      "deb [ arch+=i386 lang=none ] file:/srv/flat ./\n"
      "#deb http://127.0.0.1:9/disabled x main\n";
  auto r = ParseOneLineSources(kText, "/etc/apt/sources.list");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 3u);
  const AptSource& a = (*r)[0];
  EXPECT_THAT(a.uris, ElementsAre("http://127.0.0.1:8080/debian"));
  EXPECT_THAT(a.suites, ElementsAre("bookworm"));
  EXPECT_THAT(a.components, ElementsAre("main", "contrib"));
  EXPECT_THAT(a.architectures, ElementsAre("amd64", "arm64"));
  EXPECT_THAT(a.signed_by_paths, ElementsAre("/usr/share/keyrings/x.gpg"));
  EXPECT_TRUE(a.trusted);
  EXPECT_EQ(a.line, 2u);
  EXPECT_EQ(a.origin_file, "/etc/apt/sources.list");
  const AptSource& b = (*r)[1];
  EXPECT_THAT(b.suites, ElementsAre("bookworm-security"));
  EXPECT_THAT(b.architectures, IsEmpty());
  EXPECT_THAT(b.signed_by_paths, IsEmpty());
  EXPECT_FALSE(b.trusted);
  EXPECT_EQ(b.line, 5u);
  const AptSource& c = (*r)[2];
  EXPECT_THAT(c.uris, ElementsAre("file:/srv/flat"));
  EXPECT_THAT(c.suites, ElementsAre("./"));
  EXPECT_THAT(c.components, IsEmpty());
  EXPECT_THAT(c.architectures, ElementsAre("i386"));
}

TEST(OneLineSourcesTest, ErrorsNameFileAndLine) {
  struct Case {
    const char* text;
    const char* want;
  };
  for (const Case& c : {
           Case{"\ndeb http://127.0.0.1/a\n", "l.list line 2: expected 'deb URI suite"},
           Case{"deb http://127.0.0.1/a bookworm\n", "l.list line 1: suite 'bookworm' needs"},
           Case{"deb http://127.0.0.1/a ./ main\n", "l.list line 1: flat repository"},
           Case{"deb [arch=amd64 http://127.0.0.1/a s main\n", "l.list line 1: options '['"},
           Case{"deb [arch] http://127.0.0.1/a s main\n", "l.list line 1: option 'arch'"},
           Case{"deb [arch-=i386] http://127.0.0.1/a s main\n", "l.list line 1: option"},
           Case{"rpm http://127.0.0.1/a s main\n", "l.list line 1: unknown type 'rpm'"},
           Case{"deb [trusted=perhaps] http://127.0.0.1/a s main\n", "l.list line 1: trusted"},
       }) {
    auto r = ParseOneLineSources(c.text, "l.list");
    ASSERT_THAT(r, FailsWith(ErrorCode::kSpec)) << c.want;
    EXPECT_THAT(r.error().message, HasSubstr(c.want));
  }
}

class HostSourcesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("apt-root-");
    ASSERT_TRUE(dir);
    dir_.emplace(std::move(*dir));
    root_ = dir_->path();
  }
  void Write(const std::string& rel, std::string_view text) {
    ASSERT_TRUE(MakeDirs(DirName(root_ + "/" + rel)));
    ASSERT_TRUE(WriteFileAtomic(root_ + "/" + rel, text));
  }
  std::optional<TempDir> dir_;
  std::string root_;
};

TEST_F(HostSourcesTest, ReadsAllFilesInAptOrder) {
  Write("etc/apt/sources.list", "deb http://127.0.0.1:1/main stable main\n");
  Write("etc/apt/sources.list.d/b.sources",
        "Types: deb\nURIs: http://127.0.0.1:2/b\nSuites: b\nComponents: main\n"
        "Signed-By: /usr/share/keyrings/b.gpg\n");
  Write("etc/apt/sources.list.d/a.list",
        "deb [signed-by=/etc/apt/keyrings/a.asc] http://127.0.0.1:3/a a main\n");
  Write("etc/apt/sources.list.d/c.sources.disabled",
        "Types: deb\nURIs: http://127.0.0.1:4/c\nSuites: c\nComponents: main\n");
  Write("etc/apt/sources.list.d/d.list.save", "deb http://127.0.0.1:5/d d main\n");
  Write("etc/apt/sources.list.d/bad name.list", "deb http://127.0.0.1:6/e e main\n");

  auto r = LoadHostAptSources(root_);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 3u);
  EXPECT_THAT((*r)[0].uris, ElementsAre("http://127.0.0.1:1/main"));
  EXPECT_EQ((*r)[0].origin_file, root_ + "/etc/apt/sources.list");
  EXPECT_THAT((*r)[1].uris, ElementsAre("http://127.0.0.1:3/a"));
  EXPECT_THAT((*r)[1].signed_by_paths, ElementsAre(root_ + "/etc/apt/keyrings/a.asc"));
  EXPECT_THAT((*r)[2].uris, ElementsAre("http://127.0.0.1:2/b"));
  EXPECT_THAT((*r)[2].signed_by_paths, ElementsAre(root_ + "/usr/share/keyrings/b.gpg"));
  EXPECT_EQ((*r)[2].origin_file, root_ + "/etc/apt/sources.list.d/b.sources");
}

TEST_F(HostSourcesTest, ErrorsNameTheFile) {
  Write("etc/apt/sources.list.d/broken.list", "\n\ndeb http://127.0.0.1:1/x\n");
  auto r = LoadHostAptSources(root_);
  ASSERT_THAT(r, FailsWith(ErrorCode::kSpec));
  EXPECT_THAT(r.error().message, HasSubstr(root_ + "/etc/apt/sources.list.d/broken.list line 3"));
}

TEST_F(HostSourcesTest, EmptyRootHasNoSources) {
  auto r = LoadHostAptSources(root_);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_THAT(*r, IsEmpty());
  auto keys = DefaultAptKeyringPaths(root_);
  ASSERT_TRUE(keys);
  EXPECT_THAT(*keys, IsEmpty());
}

TEST_F(HostSourcesTest, DefaultKeyrings) {
  Write("etc/apt/trusted.gpg.d/z.gpg", "x");
  Write("etc/apt/trusted.gpg.d/a.asc", "x");
  Write("etc/apt/trusted.gpg.d/m.gpg~", "x");
  Write("etc/apt/trusted.gpg.d/readme.txt", "x");
  Write("etc/apt/trusted.gpg", "x");
  auto keys = DefaultAptKeyringPaths(root_);
  ASSERT_TRUE(keys) << keys.error().message;
  EXPECT_THAT(*keys,
              ElementsAre(root_ + "/etc/apt/trusted.gpg.d/a.asc",
                          root_ + "/etc/apt/trusted.gpg.d/z.gpg", root_ + "/etc/apt/trusted.gpg"));
}

// (uri without trailing '/', suite, component) triples apt itself derives from a root's
// sources, via `apt-get indextargets`; file:/// is written file:/ by apt.
using Target = std::tuple<std::string, std::string, std::string>;
std::string NormalizeUri(std::string uri) {
  while (!uri.empty() && uri.back() == '/') uri.pop_back();
  if (uri.rfind("file:///", 0) == 0) uri = "file:/" + uri.substr(8);
  return uri;
}
std::optional<std::set<Target>> AptTargets(const std::string& root) {
  std::vector<std::string> argv = {"apt-get"};
  if (root != "/") {
    argv.insert(argv.end(), {"-o", "Dir=" + root, "-o", "Dir::State::status=/dev/null"});
  }
  argv.insert(argv.end(), {"indextargets", "--no-release-info", "--format",
                           "$(REPO_URI)|$(RELEASE)|$(COMPONENT)", "Created-By: Packages"});
  auto out = RepoFixture::RunTool(argv);
  if (!out) return std::nullopt;
  std::set<Target> targets;
  std::istringstream in(*out);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    size_t a = line.find('|'), b = line.find('|', a + 1);
    targets.emplace(NormalizeUri(line.substr(0, a)), line.substr(a + 1, b - a - 1),
                    line.substr(b + 1));
  }
  return targets;
}
std::set<Target> OurTargets(const std::vector<AptSource>& sources) {
  std::set<Target> targets;
  for (const AptSource& s : sources) {
    for (const std::string& uri : s.uris) {
      for (const std::string& suite : s.suites) {
        for (const std::string& comp : s.components) {
          targets.emplace(NormalizeUri(uri), suite, comp);
        }
      }
    }
  }
  return targets;
}

TEST_F(HostSourcesTest, AgreesWithApt) {
  if (!PathExists("/usr/bin/apt-get")) GTEST_SKIP() << "no apt-get";
  Write("etc/apt/sources.list",
        "deb [arch=amd64] http://127.0.0.1:1/x stable main contrib # c\n"
        "deb-src http://127.0.0.1:1/y stable main\n");
  Write("etc/apt/sources.list.d/a.sources",
        "Types: deb\nURIs: file:///srv/r\n  http://127.0.0.1:2/r\nSuites: s1\n# c\n s2\n"
        "Components: main non-free\n\nEnabled: no\nTypes: deb\nURIs: http://127.0.0.1:3/o\n"
        "Suites: off\nComponents: main\n");
  Write("etc/apt/sources.list.d/b.list.disabled", "deb http://127.0.0.1:4/d d main\n");
  ASSERT_TRUE(MakeDirs(root_ + "/var/lib/apt/lists/partial"));
  auto apt = AptTargets(root_);
  if (!apt) GTEST_SKIP() << "apt-get indextargets failed";
  auto ours = LoadHostAptSources(root_);
  ASSERT_TRUE(ours) << ours.error().message;
  EXPECT_EQ(OurTargets(*ours), *apt);
  EXPECT_EQ(apt->size(), 2u * 2u * 2u + 2u);
}

TEST(HostAptSourcesTest, HostAgreesWithApt) {
  if (!PathExists("/usr/bin/apt-get")) GTEST_SKIP() << "no apt-get";
  auto ours = LoadHostAptSources("/");
  ASSERT_TRUE(ours) << ours.error().message;
  auto apt = AptTargets("/");
  if (!apt) GTEST_SKIP() << "apt-get indextargets failed";
  EXPECT_EQ(OurTargets(*ours), *apt);
  auto keyrings = DefaultAptKeyringPaths("/");
  ASSERT_TRUE(keyrings) << keyrings.error().message;
  for (const std::string& path : *keyrings) EXPECT_TRUE(PathExists(path)) << path;
}

}  // namespace
}  // namespace hardbase::deb
