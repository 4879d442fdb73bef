#include "deb/relation.h"

#include <glob.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "base/fs.h"
#include "deb/control.h"
#include "support/process.h"
#include "support/result_matchers.h"

namespace hardbase::deb {
namespace {

using ::hardbase::testing::FailsWith;

using testing::RunProcess;

RelationList MustParse(std::string_view text, RelationKind kind = RelationKind::kDepends) {
  auto r = ParseRelations(text, kind);
  EXPECT_TRUE(r) << text << ": " << (r ? "" : r.error().message);
  return r ? *r : RelationList{};
}

std::string ParseError(std::string_view text, RelationKind kind = RelationKind::kDepends) {
  auto r = ParseRelations(text, kind);
  EXPECT_FALSE(r) << "'" << text << "' parsed";
  if (r) return "";
  EXPECT_THAT(r, FailsWith(ErrorCode::kSpec));
  return r.error().message;
}

TEST(RelationTest, GroupsAndAlternatives) {
  RelationList l =
      MustParse("libc6 (>= 2.36), libgcc-s1 | libgcc1, debconf (>= 0.5) | debconf-2.0");
  ASSERT_EQ(l.size(), 3u);
  ASSERT_EQ(l[0].size(), 1u);
  EXPECT_EQ(l[0][0].name, "libc6");
  EXPECT_EQ(l[0][0].op, Relation::kGreaterEq);
  EXPECT_EQ(l[0][0].version, "2.36");
  ASSERT_EQ(l[1].size(), 2u);
  EXPECT_EQ(l[1][0].name, "libgcc-s1");
  EXPECT_EQ(l[1][0].op, Relation::kAny);
  EXPECT_EQ(l[1][0].version, "");
  EXPECT_EQ(l[1][1].name, "libgcc1");
  ASSERT_EQ(l[2].size(), 2u);
  EXPECT_EQ(l[2][1].name, "debconf-2.0");
  EXPECT_EQ(FormatGroup(l[2]), "debconf (>= 0.5) | debconf-2.0");
}

TEST(RelationTest, EveryOperatorAndTheObsoleteOnes) {
  struct {
    const char* text;
    Relation op;
  } cases[] = {
      {"a (<< 1)", Relation::kLess},
      {"a (<= 1)", Relation::kLessEq},
      {"a (= 1)", Relation::kEq},
      {"a (>= 1)", Relation::kGreaterEq},
      {"a (>> 1)", Relation::kGreater},
      {"a (< 1)", Relation::kLessEq},
      {"a (> 1)", Relation::kGreaterEq},
      {"a (<<1)", Relation::kLess},
      {"a(>=1:2.0-1~b)", Relation::kGreaterEq},
  };
  for (const auto& c : cases) {
    RelationList l = MustParse(c.text);
    ASSERT_EQ(l.size(), 1u) << c.text;
    EXPECT_EQ(l[0][0].op, c.op) << c.text;
  }
  EXPECT_EQ(MustParse("a(>=1:2.0-1~b)")[0][0].version, "1:2.0-1~b");
  EXPECT_EQ(FormatAtom(MustParse("a (< 1)")[0][0]), "a (<= 1)");
}

TEST(RelationTest, WhiteSpaceAndNewlinesBetweenTokens) {
  RelationList l = MustParse(
      "  foo\n ( >=\t1.0 )\n |\n bar:any ( << 2 ) ,\n baz [ amd64  !i386 ] < !nocheck >"
      " <stage1\n cross> ,qux  ");
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(l[0][0].name, "foo");
  EXPECT_EQ(l[0][0].version, "1.0");
  EXPECT_EQ(l[0][1].name, "bar");
  EXPECT_EQ(l[0][1].arch_qualifier, "any");
  EXPECT_EQ(l[0][1].op, Relation::kLess);
  EXPECT_EQ(l[1][0].name, "baz");
  EXPECT_EQ(l[1][0].architectures, (std::vector<std::string_view>{"amd64", "!i386"}));
  ASSERT_EQ(l[1][0].build_profiles.size(), 2u);
  EXPECT_EQ(l[1][0].build_profiles[0], (std::vector<std::string_view>{"!nocheck"}));
  EXPECT_EQ(l[1][0].build_profiles[1], (std::vector<std::string_view>{"stage1", "cross"}));
  EXPECT_EQ(l[2][0].name, "qux");
}

TEST(RelationTest, ArchQualifiersStaySeparate) {
  RelationList l = MustParse("python3:any (>= 3.11~), gcc:native, libc6:amd64, perl");
  EXPECT_EQ(l[0][0].name, "python3");
  EXPECT_EQ(l[0][0].arch_qualifier, "any");
  EXPECT_EQ(l[0][0].version, "3.11~");
  EXPECT_EQ(l[1][0].arch_qualifier, "native");
  EXPECT_EQ(l[2][0].arch_qualifier, "amd64");
  EXPECT_EQ(l[3][0].arch_qualifier, "");
  EXPECT_EQ(FormatAtom(l[0][0]), "python3:any (>= 3.11~)");
}

TEST(RelationTest, OffsetsPointAtTheNames) {
  std::string_view text = "a, bb (= 1) |\n  cc";
  RelationList l = MustParse(text);
  EXPECT_EQ(l[0][0].offset, 0u);
  EXPECT_EQ(l[1][0].offset, 3u);
  EXPECT_EQ(text.substr(l[1][1].offset, 2), "cc");
  // Views point into the text.
  EXPECT_EQ(l[1][0].name.data(), text.data() + 3);
}

TEST(RelationTest, EmptyFieldIsEmptyList) {
  EXPECT_TRUE(MustParse("").empty());
  EXPECT_TRUE(MustParse(" \n\t ").empty());
}

TEST(RelationTest, ProvidesSyntax) {
  RelationList l = MustParse("java-runtime-headless, java17-runtime-headless (= 17), foo:any",
                             RelationKind::kProvides);
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(l[1][0].op, Relation::kEq);
  EXPECT_EQ(l[1][0].version, "17");
  EXPECT_EQ(ParseError("foo (>= 1)", RelationKind::kProvides),
            "position 6: only '=' is allowed in Provides");
  EXPECT_EQ(ParseError("a | b", RelationKind::kProvides),
            "position 3: alternatives ('|') are not allowed here");
  EXPECT_EQ(ParseError("a [amd64]", RelationKind::kProvides),
            "position 3: architecture restrictions are not allowed here");
  EXPECT_EQ(ParseError("a <stage1>", RelationKind::kProvides),
            "position 3: build profiles are not allowed here");
}

TEST(RelationTest, ConflictsHaveNoAlternatives) {
  EXPECT_EQ(MustParse("a (<< 2), b", RelationKind::kConflicts).size(), 2u);
  EXPECT_EQ(ParseError("a | b", RelationKind::kConflicts),
            "position 3: alternatives ('|') are not allowed here");
  EXPECT_EQ(ParseError("a b", RelationKind::kConflicts), "position 3: expected ','");
}

TEST(RelationTest, ErrorsNameThePosition) {
  EXPECT_EQ(ParseError("foo (>= )"), "position 9: expected a version");
  EXPECT_EQ(ParseError("foo (>> 1.0"), "position 12: expected ')'");
  EXPECT_EQ(ParseError("foo (>= 1.0 1.1)"), "position 13: expected ')'");
  EXPECT_EQ(ParseError("foo,,bar"), "position 5: expected a package name");
  EXPECT_EQ(ParseError("foo, "), "position 6: expected a package name after ','");
  EXPECT_EQ(ParseError("foo bar"), "position 5: expected ',' or '|'");
  EXPECT_EQ(ParseError("foo |"), "position 6: expected a package name");
  EXPECT_EQ(ParseError("Foo"), "position 1: expected a package name");
  EXPECT_EQ(ParseError("foo (1.0)"),
            "position 6: expected a relation operator (<<, <=, =, >=, >>)");
  EXPECT_EQ(ParseError("foo:"), "position 5: expected an architecture after ':'");
  EXPECT_EQ(ParseError("foo (>= a.0)"),
            "position 9: invalid version 'a.0': upstream version does not start with a digit");
  EXPECT_EQ(ParseError("foo [amd64"), "position 11: expected an architecture or ']'");
  EXPECT_EQ(ParseError("foo []"), "position 6: empty architecture restriction");
  EXPECT_EQ(ParseError("foo <>"), "position 6: empty build profile restriction");
  EXPECT_EQ(ParseError("foo <stage1"), "position 12: expected a build profile or '>'");
  EXPECT_EQ(ParseError("foo (>= 1) (>= 2)"), "position 12: expected ',' or '|'");
}

TEST(RelationTest, VisitDoesNotBuildALists) {
  std::vector<std::pair<std::string, bool>> seen;
  ASSERT_TRUE(VisitRelations("a | b, c", RelationKind::kDepends,
                             [&](const RelationAtom& atom, bool starts_group) {
                               seen.emplace_back(std::string(atom.name), starts_group);
                             }));
  EXPECT_EQ(seen,
            (std::vector<std::pair<std::string, bool>>{{"a", true}, {"b", false}, {"c", true}}));
}

// Independent oracle: apt's own parser (python3-apt's apt_pkg.parse_depends) over tricky texts
// and, where the host has them, every relation field of its real Packages lists.
std::string Canonical(const RelationList& list) {
  std::string out;
  for (const RelationGroup& g : list) {
    for (size_t i = 0; i < g.size(); ++i) {
      const RelationAtom& a = g[i];
      std::string op(RelationOperatorName(a.op));
      if (op == "<<") op = "<";
      if (op == ">>") op = ">";
      out += std::string(a.name);
      if (!a.arch_qualifier.empty()) out += ":" + std::string(a.arch_qualifier);
      out += "/" + op + "/" + std::string(a.version) + (i + 1 < g.size() ? "|" : "");
    }
    out += ";";
  }
  return out;
}

constexpr const char* kAptPkgScript = R"(
import sys, apt_pkg
apt_pkg.init()
for line in open(sys.argv[1], encoding="utf-8"):
    text = line.rstrip("\n").replace("\\n", "\n")
    try:
        groups = apt_pkg.parse_depends(text, False)
    except ValueError:
        print("ERROR"); continue
    print("".join("|".join(n + "/" + o + "/" + v for n, v, o in g) + ";" for g in groups))
)";

// Runs apt_pkg over `texts` (one per line, newlines escaped); empty when python3-apt is missing.
std::vector<std::string> AptPkgCanonical(const std::vector<std::string>& texts) {
  auto dir = TempDir::Create("hardbase-relation");
  if (!dir) return {};
  std::string input = dir->path() + "/input";
  {
    std::ofstream f(input);
    for (std::string t : texts) {
      for (size_t p = 0; (p = t.find('\n', p)) != std::string::npos; p += 2) t.replace(p, 1, "\\n");
      f << t << "\n";
    }
  }
  std::string script = dir->path() + "/parse.py";
  std::ofstream(script) << kAptPkgScript;
  auto r = RunProcess({"/usr/bin/python3", script, input});
  if (r.exit_code != 0) return {};
  std::vector<std::string> out;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) out.push_back(line);
  return out;
}

bool HaveAptPkg() {
  return RunProcess({"/usr/bin/python3", "-c", "import apt_pkg"}).exit_code == 0;
}

TEST(RelationTest, AgreesWithAptPkgOnTrickyTexts) {
  if (!HaveAptPkg()) GTEST_SKIP() << "/usr/bin/python3 with apt_pkg (python3-apt) is missing";
  std::vector<std::string> texts = {
      "libc6 (>= 2.36)",
      "  a ( >= 1 ) |b,\n c",
      "a (< 1) | b:any (>> 2),\n c (= 1:2.3-4~bpo1)",
      "foo:native, bar:amd64 (<< 3)",
      "x (<=1.0),y(>=2)",
      "debconf (>= 0.5) | debconf-2.0",
  };
  std::vector<std::string> apt = AptPkgCanonical(texts);
  ASSERT_EQ(apt.size(), texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    EXPECT_EQ(Canonical(MustParse(texts[i])), apt[i]) << texts[i];
  }
}

TEST(RelationTest, AgreesWithAptPkgOnHostPackagesLists) {
  if (!HaveAptPkg()) GTEST_SKIP() << "/usr/bin/python3 with apt_pkg (python3-apt) is missing";
  // The main bookworm list, whatever mirror the host's sources name.
  std::string list;
  glob_t g{};
  if (::glob("/var/lib/apt/lists/*_dists_bookworm_main_binary-amd64_Packages*", 0, nullptr, &g) ==
      0) {
    list = g.gl_pathv[0];
  }
  ::globfree(&g);
  auto cat = RunProcess({"/usr/lib/apt/apt-helper", "cat-file", list});
  if (list.empty() || cat.exit_code != 0) {
    if (std::getenv("CI"))
      FAIL() << "no readable bookworm main amd64 list under /var/lib/apt/lists";
    GTEST_SKIP() << "no bookworm main amd64 list under /var/lib/apt/lists";
  }
  std::set<std::string> unique;
  ASSERT_TRUE(ForEachStanza(cat.out, [&](const Stanza& s) -> Result<void> {
    for (const char* field : {"Depends", "Pre-Depends", "Conflicts", "Breaks", "Provides",
                              "Recommends", "Suggests", "Replaces", "Enhances"}) {
      std::string_view v = s.Get(field);
      if (!v.empty()) unique.insert(std::string(v));
    }
    return {};
  }));
  std::vector<std::string> texts(unique.begin(), unique.end());
  ASSERT_GT(texts.size(), 10000u);
  std::vector<std::string> apt = AptPkgCanonical(texts);
  ASSERT_EQ(apt.size(), texts.size());
  size_t mismatches = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    auto ours = ParseRelations(texts[i]);
    std::string mine = ours ? Canonical(*ours) : "ERROR";
    if (mine != apt[i] && ++mismatches <= 10) {
      ADD_FAILURE() << "'" << texts[i] << "': hardbase " << mine << ", apt " << apt[i];
    }
  }
  EXPECT_EQ(mismatches, 0u) << "of " << texts.size() << " distinct field values";
}

}  // namespace
}  // namespace hardbase::deb
