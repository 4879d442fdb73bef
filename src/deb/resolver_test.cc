#include "deb/resolver.h"

#include <fmt/core.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>

#include "base/fs.h"
#include "support/process.h"
#include "support/result_matchers.h"

namespace hardbase::deb {
namespace {

using ::hardbase::testing::FailsWith;

using ::hardbase::testing::RunProcess;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A stanza with the required fields; `fields` are more "Name: value" lines.
std::string P(std::string_view name, std::string_view version, std::string_view fields = "",
              std::string_view arch = "amd64") {
  std::string s = fmt::format("Package: {}\nVersion: {}\nArchitecture: {}\n", name, version, arch);
  s += fields;
  if (!fields.empty() && fields.back() != '\n') s += "\n";
  s += fmt::format("Filename: pool/main/{}_{}_{}.deb\nSize: 100\nSHA256: {}\n\n", name, version,
                   arch, std::string(64, 'a'));
  return s;
}

// The same repositories handed to real apt (flat file: repositories, an empty dpkg status), as an
// independent oracle for every hand-written case: `apt-get install --simulate
// --no-install-recommends` must install what the resolver selects, and fail where it fails.
class AptOracle {
 public:
  static bool Available() {
    static bool available = RunProcess({"apt-get", "--version"}).exit_code == 0;
    return available;
  }

  // Installs `packages` from `repos` (Packages texts, in sources order). Sets `ok` to apt's
  // success and returns "name=version" of what it would install, sorted.
  std::vector<std::string> Install(const std::vector<std::string>& repos,
                                   const std::vector<std::string>& packages, bool* ok,
                                   std::string* output) {
    if (!dir_ || repos != repos_) Update(repos);
    std::vector<std::string> argv = {"apt-get", "install", "--simulate", "--no-install-recommends",
                                     "-q"};
    AddOptions(argv);
    argv.insert(argv.end(), packages.begin(), packages.end());
    auto r = RunProcess(argv, {{"LC_ALL", "C"}});
    *ok = r.exit_code == 0;
    *output = r.out + r.err;
    std::vector<std::string> out;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
      // "Inst p8 (1 localhost [amd64])"
      if (line.rfind("Inst ", 0) != 0) continue;
      std::istringstream words(line.substr(5));
      std::string name, version;
      words >> name >> version;
      out.push_back(name + "=" + version.substr(1));
    }
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  void AddOptions(std::vector<std::string>& argv) const {
    const std::string& d = dir_->path();
    for (const std::string& o :
         {"Dir::Etc::SourceList=" + d + "/sources.list", "Dir::Etc::SourceParts=" + d + "/none",
          "Dir::Etc::PreferencesParts=" + d + "/none", "Dir::Etc::Preferences=" + d + "/none/x",
          "Dir::State::Lists=" + d + "/lists", "Dir::State::status=" + d + "/status",
          "Dir::State::extended_states=" + d + "/extended_states",
          "Dir::Cache::archives=" + d + "/archives", std::string("Dir::Cache::pkgcache="),
          std::string("Dir::Cache::srcpkgcache="), std::string("Debug::NoLocking=1"),
          std::string("Acquire::AllowInsecureRepositories=1"),
          std::string("APT::Architectures=amd64"), std::string("APT::Architecture=amd64")}) {
      argv.push_back("-o");
      argv.push_back(o);
    }
  }

  void Update(const std::vector<std::string>& repos) {
    auto dir = TempDir::Create("hardbase-apt");
    ASSERT_TRUE(dir) << dir.error().message;
    dir_.emplace(std::move(*dir));
    repos_ = repos;
    const std::string& d = dir_->path();
    for (const char* sub : {"/none", "/lists/partial", "/archives/partial"}) {
      ASSERT_TRUE(MakeDirs(d + sub));
    }
    std::ofstream(d + "/status").flush();
    std::ofstream sources(d + "/sources.list");
    for (size_t i = 0; i < repos.size(); ++i) {
      std::string repo = d + "/repo" + std::to_string(i);
      ASSERT_TRUE(MakeDirs(repo));
      std::ofstream(repo + "/Packages") << repos[i];
      sources << "deb [trusted=yes] file:" << repo << " ./\n";
    }
    sources.close();
    std::vector<std::string> argv = {"apt-get", "update", "-q"};
    AddOptions(argv);
    auto r = RunProcess(argv, {{"LC_ALL", "C"}});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }

  std::optional<TempDir> dir_;
  std::vector<std::string> repos_;
};

class ResolverTest : public ::testing::Test {
 protected:
  // Adds a repository; repositories are labelled "bookworm", "bookworm-security", ... in order.
  void Repo(std::string text) {
    static const char* kLabels[] = {"bookworm", "bookworm-security", "extra"};
    RepositoryId id = next_repo_++;
    index_.SetRepositoryLabel(id, kLabels[id]);
    texts_.push_back(text);
    auto r = index_.AddPackagesFile(std::make_shared<const std::string>(std::move(text)), id);
    ASSERT_TRUE(r) << r.error().message;
  }

  Result<Resolution> Resolve(std::vector<std::string> packages,
                             std::vector<std::string> exclude = {}) {
    ResolveRequest req;
    req.arch = "amd64";
    req.packages = std::move(packages);
    req.exclude = std::move(exclude);
    return ResolveClosure(index_, req);
  }

  // "name=version" of every selected package, sorted by name. Without exclusions (which apt
  // has no notion of), apt must install exactly the same, plus `apt_also`: packages apt keeps
  // although nothing in the result needs them.
  std::vector<std::string> Closure(std::vector<std::string> packages,
                                   std::vector<std::string> exclude = {},
                                   std::vector<std::string> apt_also = {}) {
    auto r = Resolve(packages, exclude);
    EXPECT_TRUE(r) << r.error().message;
    std::vector<std::string> out;
    if (!r) return out;
    for (const SelectedPackage& p : r->packages) {
      out.push_back(fmt::format("{}={}", p.record->name, p.record->version));
    }
    if (exclude.empty() && AptOracle::Available()) {
      bool ok = false;
      std::string output;
      std::vector<std::string> apt = apt_.Install(texts_, packages, &ok, &output);
      EXPECT_TRUE(ok) << "apt failed where hardbase resolved:\n" << output;
      std::vector<std::string> expected = out;
      expected.insert(expected.end(), apt_also.begin(), apt_also.end());
      std::sort(expected.begin(), expected.end());
      EXPECT_EQ(apt, expected) << "apt said:\n" << output;
    }
    return out;
  }

  // The error message; apt must fail on the same request too.
  std::string ResolveError(std::vector<std::string> packages,
                           std::vector<std::string> exclude = {}) {
    auto r = Resolve(packages, exclude);
    EXPECT_FALSE(r) << "resolved";
    if (r) return "";
    EXPECT_THAT(r, FailsWith(ErrorCode::kResolve));
    if (exclude.empty() && AptOracle::Available()) {
      bool ok = true;
      std::string output;
      apt_.Install(texts_, packages, &ok, &output);
      EXPECT_FALSE(ok) << "apt succeeded where hardbase failed:\n" << output;
    }
    return r.error().message;
  }

  PackageIndex index_;
  RepositoryId next_repo_ = 0;
  std::vector<std::string> texts_;
  AptOracle apt_;
};

TEST_F(ResolverTest, FollowsDependsAndPreDependsTransitively) {
  Repo(P("app", "1.0", "Depends: libfoo1 (>= 1.2), libc6\nPre-Depends: dpkg") +
       P("libfoo1", "1.3", "Depends: libc6 (>= 2.36)") +
       P("libc6", "2.36-9", "Depends: libgcc-s1") + P("libgcc-s1", "12.2") + P("dpkg", "1.21") +
       P("unrelated", "1.0"));
  auto r = Resolve({"app"});
  ASSERT_TRUE(r) << r.error().message;
  std::map<std::string, std::vector<std::string>> by;
  for (const auto& p : r->packages) by[std::string(p.record->name)] = p.required_by;
  EXPECT_EQ(by.size(), 5u);
  EXPECT_THAT(by["app"], ElementsAre("(spec)"));
  EXPECT_THAT(by["libc6"], ElementsAre("app", "libfoo1"));
  EXPECT_THAT(by["libgcc-s1"], ElementsAre("libc6"));
  EXPECT_THAT(by["dpkg"], ElementsAre("app"));
  // Sorted by name.
  EXPECT_EQ(r->packages.front().record->name, "app");
  EXPECT_EQ(r->packages.back().record->name, "libgcc-s1");
  EXPECT_TRUE(r->exclusions.empty());
}

TEST_F(ResolverTest, EssentialIsNotImplied) {
  Repo(P("base-files", "12.4", "Essential: yes\nPriority: required") + P("hello", "2.10"));
  EXPECT_THAT(Closure({"hello"}), ElementsAre("hello=2.10"));
}

TEST_F(ResolverTest, HighestVersionAcrossRepositoriesWins) {
  Repo(P("app", "1", "Depends: libssl3") + P("libssl3", "3.0.15-1~deb12u1") + P("old", "2.0"));
  Repo(P("libssl3", "3.0.16-1~deb12u1") + P("old", "1.0"));
  auto r = Resolve({"app", "old"});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->packages.size(), 3u);
  EXPECT_EQ(r->packages[1].record->version, "3.0.16-1~deb12u1");
  EXPECT_EQ(r->packages[1].record->repository, 1u);
  EXPECT_EQ(r->packages[2].record->version, "2.0");
}

TEST_F(ResolverTest, ArchAllSatisfiesNativeAndOtherArchitecturesDoNot) {
  Repo(P("app", "1", "Depends: app-data, helper") + P("app-data", "1", "", "all") +
       P("helper", "2", "", "arm64") + P("helper", "1"));
  EXPECT_THAT(Closure({"app"}), ElementsAre("app=1", "app-data=1", "helper=1"));
  Repo(P("armonly", "1", "", "arm64"));
  EXPECT_EQ(ResolveError({"armonly"}),
            "package 'armonly' has no version for amd64; available: 1 (bookworm-security, arm64)");
}

TEST_F(ResolverTest, VersionedDependencyThatNoVersionSatisfies) {
  Repo(P("openjdk-17-jre-headless", "17.0.13", "Depends: libfoo (>= 2.0)") + P("libfoo", "1.9"));
  EXPECT_EQ(ResolveError({"openjdk-17-jre-headless"}),
            "openjdk-17-jre-headless -> libfoo (>= 2.0): no version satisfies; available: 1.9 "
            "(bookworm)");
}

TEST_F(ResolverTest, OnlyCandidatesAreInstalledLikeApt) {
  // An older version would satisfy "<< 2", but apt (and so hardbase) installs only the candidate.
  Repo(P("app", "1", "Depends: libbar (<< 2)") + P("libbar", "1.5"));
  Repo(P("libbar", "2.1"));
  EXPECT_EQ(ResolveError({"app"}),
            "app -> libbar (<< 2): the candidate 2.1 does not satisfy it and only candidates are "
            "installed (require libbar=1.5 to use that version); available: 2.1 "
            "(bookworm-security), 1.5 (bookworm)");
  // Pinning the old version in the request works.
  EXPECT_THAT(Closure({"app", "libbar=1.5"}), ElementsAre("app=1", "libbar=1.5"));
}

TEST_F(ResolverTest, ErrorShowsTheWholeChain) {
  Repo(P("top", "1", "Depends: middle") + P("middle", "1", "Depends: bottom (>= 2)") +
       P("bottom", "1"));
  EXPECT_EQ(ResolveError({"top"}),
            "top -> middle -> bottom (>= 2): no version satisfies; available: 1 (bookworm)");
}

TEST_F(ResolverTest, UnknownPackagesSuggestNearNames) {
  Repo(P("openjdk-17-jre", "17") + P("openjdk-17-jre-headless", "17") +
       P("needs-typo", "1", "Depends: libcurl5"));
  Repo(P("libcurl4", "7.88"));
  EXPECT_EQ(ResolveError({"opnjdk-17-jre"}),
            "unknown package 'opnjdk-17-jre' (did you mean openjdk-17-jre?)");
  EXPECT_EQ(ResolveError({"zzzzzz"}), "unknown package 'zzzzzz'");
  EXPECT_EQ(ResolveError({"needs-typo"}),
            "needs-typo -> libcurl5: unknown package (did you mean libcurl4?)");
}

TEST_F(ResolverTest, AlternativesTakeTheFirstInstallable) {
  Repo(P("a", "1", "Depends: x | y") + P("x", "1") + P("y", "1") +
       P("b", "1", "Depends: missing | y") + P("c", "1", "Depends: x (>= 5) | y") +
       P("d", "1", "Depends: broken | y") + P("broken", "1", "Depends: nothing-provides-this"));
  EXPECT_THAT(Closure({"a"}), ElementsAre("a=1", "x=1"));
  EXPECT_THAT(Closure({"b"}), ElementsAre("b=1", "y=1"));
  EXPECT_THAT(Closure({"c"}), ElementsAre("c=1", "y=1"));
  // "broken" exists but its own dependency cannot be met: apt skips it.
  EXPECT_THAT(Closure({"d"}), ElementsAre("d=1", "y=1"));
}

TEST_F(ResolverTest, AlreadySelectedAlternativeSatisfiesTheGroup) {
  Repo(P("a", "1", "Depends: x | y") + P("x", "1") + P("y", "1"));
  EXPECT_THAT(Closure({"y", "a"}), ElementsAre("a=1", "y=1"));
  // Order matters as in apt: requested first, then their dependencies in request order.
  Repo(P("b", "1", "Depends: y") + P("c", "1", "Depends: x | y"));
  EXPECT_THAT(Closure({"b", "c"}), ElementsAre("b=1", "c=1", "y=1"));
  EXPECT_THAT(Closure({"c", "b"}), ElementsAre("b=1", "c=1", "x=1", "y=1"));
}

TEST_F(ResolverTest, DeepFailureFallsBackWithoutLeftovers) {
  // x is tried first: its dependency p is marked, then q's dependency fails, so apt gives x up
  // and takes y. p stays marked, but apt drops new installs that nothing needs (its garbage
  // sweep), and hardbase keeps only what the requested packages reach.
  Repo(P("a", "1", "Depends: x | y") + P("x", "1", "Depends: p, q") + P("p", "1") +
       P("q", "1", "Depends: r") + P("r", "1", "Depends: gone") + P("y", "1"));
  EXPECT_THAT(Closure({"a"}), ElementsAre("a=1", "y=1"));
}

TEST_F(ResolverTest, LeftoversAptKeepsAreDroppedOnPurpose) {
  // Deliberate difference: apt's garbage sweep never drops a marked package that is Essential or
  // Protected, nor one that a kept package Recommends. Here p (Essential) and s (recommended by
  // y) were only marked while apt tried x; the image holds only what the request needs.
  Repo(P("a", "1", "Depends: x | y") + P("x", "1", "Depends: p, s, q") +
       P("p", "1", "Essential: yes") + P("s", "1") + P("q", "1", "Depends: r") +
       P("r", "1", "Depends: gone") + P("y", "1", "Recommends: s"));
  EXPECT_THAT(Closure({"a"}, {}, {"p=1", "s=1"}), ElementsAre("a=1", "y=1"));
}

TEST_F(ResolverTest, NoAlternativeInstallable) {
  Repo(P("a", "1", "Depends: x | y (>= 2)") + P("y", "1"));
  EXPECT_EQ(ResolveError({"a"}),
            "a -> x | y (>= 2): no alternative can be installed (x: unknown package; y (>= 2): no "
            "version satisfies; available: 1 (bookworm))");
}

TEST_F(ResolverTest, VirtualPackagesAndVersionedProvides) {
  Repo(P("app", "1", "Depends: java-runtime (>= 17), libjpeg") +
       P("jre11", "11", "Provides: java-runtime (= 11)") +
       P("jre17", "17", "Provides: java-runtime (= 17)") +
       P("jre-unversioned", "21", "Provides: java-runtime") +
       P("libjpeg62-turbo", "2.1", "Provides: libjpeg"));
  EXPECT_THAT(Closure({"app"}), ElementsAre("app=1", "jre17=17", "libjpeg62-turbo=2.1"));
  auto r = Resolve({"app"});
  ASSERT_TRUE(r);
  EXPECT_THAT(r->packages[1].required_by, ElementsAre("app"));
}

TEST_F(ResolverTest, SelectedProviderSatisfiesVirtualDependency) {
  Repo(P("mutt", "2", "Depends: default-mta | mail-transport-agent") +
       P("exim4-daemon-light", "4.96",
         "Provides: mail-transport-agent, default-mta\nPriority: standard") +
       P("postfix", "3.7", "Provides: mail-transport-agent\nPriority: optional"));
  EXPECT_THAT(Closure({"mutt"}), ElementsAre("exim4-daemon-light=4.96", "mutt=2"));
  EXPECT_THAT(Closure({"postfix", "mutt"}), ElementsAre("mutt=2", "postfix=3.7"));
}

TEST_F(ResolverTest, ProviderRankingFollowsApt) {
  // apt's CompareProviders: the real package of the name first, then Essential, then
  // Important/Protected, then Priority (required first), then the later-created package.
  Repo(P("want-real", "1", "Depends: awk") + P("awk", "1", "Priority: optional") +
       P("gawk", "1", "Provides: awk\nPriority: required") +
       P("want-essential", "1", "Depends: v1") + P("p1", "1", "Provides: v1\nPriority: required") +
       P("p2", "1", "Provides: v1\nPriority: optional\nEssential: yes") +
       P("want-protected", "1", "Depends: v2") + P("p3", "1", "Provides: v2\nPriority: required") +
       P("p4", "1", "Provides: v2\nPriority: optional\nProtected: yes") +
       P("want-priority", "1", "Depends: v3") + P("p5", "1", "Provides: v3\nPriority: optional") +
       P("p6", "1", "Provides: v3\nPriority: important") + P("want-order", "1", "Depends: v4") +
       P("p7", "1", "Provides: v4") + P("p8", "1", "Provides: v4"));
  EXPECT_THAT(Closure({"want-real"}), ElementsAre("awk=1", "want-real=1"));
  EXPECT_THAT(Closure({"want-essential"}), ElementsAre("p2=1", "want-essential=1"));
  EXPECT_THAT(Closure({"want-protected"}), ElementsAre("p4=1", "want-protected=1"));
  EXPECT_THAT(Closure({"want-priority"}), ElementsAre("p6=1", "want-priority=1"));
  EXPECT_THAT(Closure({"want-order"}), ElementsAre("p8=1", "want-order=1"));
}

TEST_F(ResolverTest, RequestingAVirtualPackage) {
  Repo(P("only", "1", "Provides: single-virtual") + P("p1", "1", "Provides: multi") +
       P("p2", "1", "Provides: multi"));
  EXPECT_THAT(Closure({"single-virtual"}), ElementsAre("only=1"));
  EXPECT_EQ(ResolveError({"multi"}),
            "'multi' is a virtual package provided by p1 or p2: name one of them");
}

TEST_F(ResolverTest, AnyQualifierNeedsMultiArchAllowed) {
  Repo(P("script", "1", "Depends: python3:any (>= 3.11)") +
       P("python3", "3.11.2", "Multi-Arch: allowed") + P("uses-perl", "1", "Depends: perl:any") +
       P("perl", "5.36", "Multi-Arch: foreign") + P("uses-virtual", "1", "Depends: pyapi:any") +
       P("pyimpl", "1", "Multi-Arch: allowed\nProvides: pyapi"));
  EXPECT_THAT(Closure({"script"}), ElementsAre("python3=3.11.2", "script=1"));
  EXPECT_THAT(Closure({"uses-virtual"}), ElementsAre("pyimpl=1", "uses-virtual=1"));
  EXPECT_EQ(ResolveError({"uses-perl"}),
            "uses-perl -> perl:any: no version satisfies; available: 5.36 (bookworm, not "
            "Multi-Arch: allowed)");
}

TEST_F(ResolverTest, ArchQualifiedNativeDependency) {
  Repo(P("a", "1", "Depends: libc6:amd64, gcc:native") + P("libc6", "2.36") + P("gcc", "12") +
       P("b", "1", "Depends: libc6:arm64"));
  EXPECT_THAT(Closure({"a"}), ElementsAre("a=1", "gcc=12", "libc6=2.36"));
  EXPECT_EQ(ResolveError({"b"}),
            "b -> libc6:arm64: architecture 'arm64' is not the target (amd64)");
}

TEST_F(ResolverTest, MultiArchSameAndForeignResolveAsUsual) {
  Repo(P("app", "1", "Depends: libc6, perl-base") + P("libc6", "2.36", "Multi-Arch: same") +
       P("perl-base", "5.36", "Multi-Arch: foreign\nDepends: libc6"));
  EXPECT_THAT(Closure({"app"}), ElementsAre("app=1", "libc6=2.36", "perl-base=5.36"));
}

TEST_F(ResolverTest, CyclesAreFine) {
  Repo(P("a", "1", "Depends: b") + P("b", "1", "Depends: a, c") + P("c", "1", "Depends: b"));
  EXPECT_THAT(Closure({"a"}), ElementsAre("a=1", "b=1", "c=1"));
}

TEST_F(ResolverTest, ConflictsBetweenSelectedPackagesFail) {
  Repo(P("a", "1", "Conflicts: b") + P("b", "2") + P("c", "1", "Depends: d") +
       P("d", "3", "Breaks: e (<< 2)") + P("e", "1.5") + P("f", "1", "Depends: e"));
  EXPECT_EQ(ResolveError({"a", "b"}), "cannot install both a 1 and b 2: a Conflicts: b (a; b)");
  EXPECT_EQ(ResolveError({"f", "c"}),
            "cannot install both d 3 and e 1.5: d Breaks: e (<< 2) (c -> d; f -> e)");
}

TEST_F(ResolverTest, BreaksOutsideTheVersionRangeIsFine) {
  Repo(P("d", "3", "Breaks: e (<< 2)") + P("e", "2.5"));
  EXPECT_THAT(Closure({"d", "e"}), ElementsAre("d=3", "e=2.5"));
}

TEST_F(ResolverTest, ConflictsThroughProvidesButNotWithItself) {
  Repo(P("exim", "4", "Provides: mta\nConflicts: mta") +
       P("postfix", "3", "Provides: mta\nConflicts: mta"));
  EXPECT_THAT(Closure({"exim"}), ElementsAre("exim=4"));
  EXPECT_THAT(ResolveError({"exim", "postfix"}),
              HasSubstr("cannot install both exim 4 and postfix 3: exim Conflicts: mta"));
}

TEST_F(ResolverTest, ConflictsSteerAlternativesAsInApt) {
  // A requested package's Conflicts rule its targets out, so "x | y" takes y.
  Repo(P("a", "1", "Conflicts: x") + P("c", "1", "Depends: x | y") + P("x", "1") + P("y", "1"));
  EXPECT_THAT(Closure({"a", "c"}), ElementsAre("a=1", "c=1", "y=1"));
  // A candidate that conflicts with a requested package is skipped.
  Repo(P("g", "1", "Depends: z | w") + P("z", "1", "Conflicts: a") + P("w", "1"));
  EXPECT_THAT(Closure({"a", "g"}), ElementsAre("a=1", "g=1", "w=1"));
}

TEST_F(ResolverTest, ExcludeCutsThePackageAndWhatOnlyItPullsIn) {
  Repo(P("app", "1", "Depends: libfoo (>= 9), shared") +
       P("libfoo", "1", "Depends: only-foo, shared") + P("only-foo", "1") + P("shared", "1") +
       P("other", "1", "Depends: libfoo"));
  auto r = Resolve({"app", "other"}, {"libfoo"});
  ASSERT_TRUE(r) << r.error().message;
  std::vector<std::string> names;
  for (const auto& p : r->packages) names.emplace_back(p.record->name);
  EXPECT_THAT(names, ElementsAre("app", "other", "shared"));
  ASSERT_EQ(r->exclusions.size(), 1u);
  EXPECT_EQ(r->exclusions[0].name, "libfoo");
  EXPECT_THAT(r->exclusions[0].wanted_by, ElementsAre("app", "other"));
}

TEST_F(ResolverTest, ExcludeVirtualNamesAndUnusedExclusions) {
  Repo(P("mutt", "2", "Depends: mail-transport-agent") +
       P("exim", "4", "Provides: mail-transport-agent") + P("nothing-needs-me", "1"));
  auto r = Resolve({"mutt"}, {"mail-transport-agent", "nothing-needs-me"});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->packages.size(), 1u);
  ASSERT_EQ(r->exclusions.size(), 2u);
  EXPECT_EQ(r->exclusions[0].name, "mail-transport-agent");
  EXPECT_THAT(r->exclusions[0].wanted_by, ElementsAre("mutt"));
  EXPECT_TRUE(r->exclusions[1].wanted_by.empty());
  // Excluding a provider satisfies what depends on the virtual name.
  r = Resolve({"mutt"}, {"exim"});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->packages.size(), 1u);
  EXPECT_THAT(r->exclusions[0].wanted_by, ElementsAre("mutt"));
}

TEST_F(ResolverTest, ExcludeErrors) {
  Repo(P("mutt", "2") + P("exim4", "4"));
  EXPECT_EQ(ResolveError({"mutt"}, {"exim5"}),
            "exclude: unknown package 'exim5' (did you mean exim4?)");
  EXPECT_EQ(ResolveError({"mutt"}, {"mutt"}), "package 'mutt' is both requested and excluded");
}

// The hardening leave-outs (dpkg, adduser, shells...) are cut as exclusions are: what only they
// need goes too, what another selected package needs stays.
TEST_F(ResolverTest, LeaveOutDropsWhatOnlyItNeededAndKeepsWhatOthersNeed) {
  Repo(P("redis", "7", "Depends: adduser, libc6, lsb-base") +
       P("adduser", "3", "Depends: passwd, perl-base") +
       P("passwd", "4", "Depends: libpam, libc6") + P("libpam", "1", "Depends: libc6") +
       P("perl-base", "5", "Depends: libc6") + P("lsb-base", "11", "Depends: perl-base") +
       P("libc6", "2.36") + P("tool", "1"));
  // Without the leave-outs, as apt does it.
  EXPECT_THAT(Closure({"redis"}), ElementsAre("adduser=3", "libc6=2.36", "libpam=1", "lsb-base=11",
                                              "passwd=4", "perl-base=5", "redis=7"));
  ResolveRequest req;
  req.arch = "amd64";
  req.packages = {"redis"};
  req.leave_out = {"adduser", "passwd", "bash", "dpkg"};  // names the index lacks are no error
  auto r = ResolveClosure(index_, req);
  ASSERT_TRUE(r) << r.error().message;
  std::vector<std::string> names;
  for (const auto& p : r->packages) names.emplace_back(p.record->name);
  // perl-base stays: lsb-base needs it too. passwd and libpam were adduser's alone.
  EXPECT_THAT(names, ElementsAre("libc6", "lsb-base", "perl-base", "redis"));
  for (const auto& p : r->packages) {
    if (p.record->name == "perl-base") {
      EXPECT_THAT(p.required_by, ElementsAre("lsb-base"));
    }
  }
  EXPECT_TRUE(r->exclusions.empty());
  // Only what something wanted is listed: passwd was wanted by adduser alone, which is out.
  ASSERT_EQ(r->left_out.size(), 1u);
  EXPECT_EQ(r->left_out[0].name, "adduser");
  EXPECT_THAT(r->left_out[0].wanted_by, ElementsAre("redis"));

  // Without lsb-base, perl-base goes too.
  req.packages = {"redis", "tool"};
  req.exclude = {"lsb-base"};
  r = ResolveClosure(index_, req);
  ASSERT_TRUE(r) << r.error().message;
  names.clear();
  for (const auto& p : r->packages) names.emplace_back(p.record->name);
  EXPECT_THAT(names, ElementsAre("libc6", "redis", "tool"));
  ASSERT_EQ(r->exclusions.size(), 1u);
  EXPECT_EQ(r->exclusions[0].name, "lsb-base");
}

TEST_F(ResolverTest, LeaveOutAgainstExcludeAndTheRequest) {
  Repo(P("app", "1", "Depends: dpkg, tar") + P("dpkg", "1.21", "Depends: tar") + P("tar", "1.34") +
       P("bash", "5.2", "Depends: base-files") + P("base-files", "12"));
  ResolveRequest req;
  req.arch = "amd64";
  // A name in both lists is the user's exclusion; a requested leave-out is left out, wanted by
  // the spec, and its dependencies are not followed.
  req.packages = {"app", "bash"};
  req.exclude = {"dpkg"};
  req.leave_out = {"bash", "dpkg"};
  auto r = ResolveClosure(index_, req);
  ASSERT_TRUE(r) << r.error().message;
  std::vector<std::string> names;
  for (const auto& p : r->packages) names.emplace_back(p.record->name);
  EXPECT_THAT(names, ElementsAre("app", "tar"));
  ASSERT_EQ(r->exclusions.size(), 1u);
  EXPECT_EQ(r->exclusions[0].name, "dpkg");
  EXPECT_THAT(r->exclusions[0].wanted_by, ElementsAre("app"));
  ASSERT_EQ(r->left_out.size(), 1u);
  EXPECT_EQ(r->left_out[0].name, "bash");
  EXPECT_THAT(r->left_out[0].wanted_by, ElementsAre("(spec)"));
  // Everything requested left out: an empty closure, which the caller refuses.
  req.packages = {"bash"};
  req.exclude = {};
  r = ResolveClosure(index_, req);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->packages.empty());
}

TEST_F(ResolverTest, PinnedVersions) {
  Repo(P("libssl3", "3.0.15", "Depends: libc6 (>= 2.34)") + P("libc6", "2.36"));
  Repo(P("libssl3", "3.0.16", "Depends: libc6 (>= 2.36), libzstd1"));
  EXPECT_THAT(Closure({"libssl3=3.0.15"}), ElementsAre("libc6=2.36", "libssl3=3.0.15"));
  EXPECT_EQ(ResolveError({"libssl3=3.0.99"}),
            "no version '3.0.99' of 'libssl3'; available: 3.0.16 (bookworm-security), 3.0.15 "
            "(bookworm)");
  EXPECT_EQ(ResolveError({"libssl3"}), "libssl3 -> libzstd1: unknown package");
  EXPECT_EQ(ResolveError({"libssl3="}), "'libssl3=': empty version after '='");
}

TEST_F(ResolverTest, PinThatADependencyCannotUse) {
  Repo(P("app", "1", "Depends: lib (>= 2)") + P("lib", "1") + P("lib", "2"));
  EXPECT_EQ(ResolveError({"app", "lib=1"}),
            "app -> lib (>= 2): the candidate 1 does not satisfy it and only candidates are "
            "installed (require lib=2 to use that version); available: 2 (bookworm), 1 (bookworm)");
}

TEST_F(ResolverTest, DuplicateRequestsAreOne) {
  Repo(P("a", "1"));
  auto r = Resolve({"a", "a"});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->packages.size(), 1u);
  EXPECT_THAT(r->packages[0].required_by, ElementsAre("(spec)"));
}

}  // namespace
}  // namespace hardbase::deb
