#include "deb/package_index.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "support/result_matchers.h"

namespace hardbase::deb {
namespace {

using ::hardbase::testing::FailsWith;

constexpr const char* kSha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

// A minimal valid stanza; `extra` is appended as more fields.
std::string Stanza(std::string_view name, std::string_view version, std::string_view arch = "amd64",
                   std::string_view extra = "") {
  std::string s = "Package: " + std::string(name) + "\nVersion: " + std::string(version) +
                  "\nArchitecture: " + std::string(arch) + "\n" + std::string(extra) +
                  "Filename: pool/main/" + std::string(name.substr(0, 1)) + "/" +
                  std::string(name) + "/" + std::string(name) + "_" + std::string(version) + "_" +
                  std::string(arch) + ".deb\nSize: 1234\nSHA256: " + kSha + "\n\n";
  return s;
}

std::shared_ptr<const std::string> Text(std::string s) {
  return std::make_shared<const std::string>(std::move(s));
}

std::string AddError(PackageIndex& index, std::string text, RepositoryId repo = 0) {
  auto r = index.AddPackagesFile(Text(std::move(text)), repo);
  EXPECT_FALSE(r);
  if (r) return "";
  EXPECT_THAT(r, FailsWith(ErrorCode::kSpec));
  return r.error().message;
}

TEST(PackageIndexTest, KeepsEveryFieldAsAView) {
  PackageIndex index;
  std::string text =
      "Package: libfoo1\n"
      "Source: foo (1.2-1)\n"
      "Version: 1.2-1+b1\n"
      "Installed-Size: 100\n"
      "Maintainer: Foo Team <foo@example.org>\n"
      "Architecture: amd64\n"
      "Multi-Arch: same\n"
      "Provides: libfoo (= 1.2), foo-abi-1\n"
      "Pre-Depends: dpkg (>= 1.15)\n"
      "Depends: libc6 (>= 2.36),\n libbar | libbaz\n"
      "Conflicts: libfoo0\n"
      "Breaks: oldfoo (<< 1)\n"
      "Recommends: foo-data\n"
      "Description: foo library\n more text\n"
      "Priority: optional\n"
      "Section: libs\n"
      "Filename: pool/main/f/foo/libfoo1_1.2-1+b1_amd64.deb\n"
      "Size: 5678\n"
      "SHA256: " +
      std::string(kSha) + "\n";
  ASSERT_TRUE(index.AddPackagesFile(Text(text), 7));
  ASSERT_EQ(index.size(), 1u);
  const PackageRecord* r = index.Candidate("libfoo1", "amd64");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->name, "libfoo1");
  EXPECT_EQ(r->version, "1.2-1+b1");
  EXPECT_EQ(r->architecture, "amd64");
  EXPECT_EQ(r->source, "foo");
  EXPECT_EQ(r->source_version, "1.2-1");
  EXPECT_EQ(r->maintainer, "Foo Team <foo@example.org>");
  EXPECT_EQ(r->multi_arch, MultiArch::kSame);
  EXPECT_EQ(r->pre_depends, "dpkg (>= 1.15)");
  EXPECT_EQ(r->depends, "libc6 (>= 2.36),\n libbar | libbaz");
  EXPECT_EQ(r->conflicts, "libfoo0");
  EXPECT_EQ(r->breaks, "oldfoo (<< 1)");
  EXPECT_EQ(r->recommends, "foo-data");
  EXPECT_EQ(r->priority, "optional");
  EXPECT_EQ(r->filename, "pool/main/f/foo/libfoo1_1.2-1+b1_amd64.deb");
  EXPECT_EQ(r->size, 5678u);
  EXPECT_EQ(r->sha256, kSha);
  EXPECT_FALSE(r->essential);
  EXPECT_FALSE(r->important);
  EXPECT_EQ(r->repository, 7u);
  EXPECT_EQ(r->line, 1u);

  auto providers = index.Providers("libfoo");
  ASSERT_EQ(providers.size(), 1u);
  EXPECT_EQ(providers[0].package, r);
  EXPECT_EQ(providers[0].version, "1.2");
  ASSERT_EQ(index.Providers("foo-abi-1").size(), 1u);
  EXPECT_EQ(index.Providers("foo-abi-1")[0].version, "");
  EXPECT_TRUE(index.Contains("libfoo"));
  EXPECT_FALSE(index.Contains("libbar"));
}

// The Essential set is judged on each name's candidate for the arch: another arch's Essential
// package, or an older Essential version, does not count.
TEST(PackageIndexTest, ListsTheEssentialCandidates) {
  PackageIndex index;
  ASSERT_TRUE(index.AddPackagesFile(
      Text(Stanza("sed", "4.9-1", "amd64", "Essential: yes\n") +
           Stanza("base-files", "12.4", "all", "Essential: yes\n") +
           Stanza("dash", "0.5.12-2", "arm64", "Essential: yes\n") +
           Stanza("grep", "3.8-5", "amd64", "Essential: no\n") + Stanza("hello", "2.10-3")),
      0));
  EXPECT_THAT(index.EssentialPackages("amd64"), ::testing::ElementsAre("base-files", "sed"));
  EXPECT_THAT(index.EssentialPackages("arm64"), ::testing::ElementsAre("base-files", "dash"));
}

TEST(PackageIndexTest, KeepsTheTextAlive) {
  PackageIndex index;
  auto text = Text(Stanza("hello", "2.10-3"));
  const char* data = text->data();
  ASSERT_TRUE(index.AddPackagesFile(std::move(text), 0));
  const PackageRecord* r = index.Candidate("hello", "amd64");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->name.data(), data + 9);  // a view, not a copy
  EXPECT_EQ(r->version, "2.10-3");
}

TEST(PackageIndexTest, SourceDefaultsToTheBinary) {
  PackageIndex index;
  ASSERT_TRUE(index.AddPackagesFile(
      Text(Stanza("a1", "1.0") + Stanza("b1", "2.0", "amd64", "Source: bsrc\n")), 0));
  EXPECT_EQ(index.Candidate("a1", "amd64")->source, "a1");
  EXPECT_EQ(index.Candidate("a1", "amd64")->source_version, "1.0");
  EXPECT_EQ(index.Candidate("b1", "amd64")->source, "bsrc");
  EXPECT_EQ(index.Candidate("b1", "amd64")->source_version, "2.0");
}

TEST(PackageIndexTest, VersionsAcrossRepositoriesHighestFirst) {
  PackageIndex index;
  index.SetRepositoryLabel(0, "bookworm");
  index.SetRepositoryLabel(1, "bookworm-security");
  ASSERT_TRUE(index.AddPackagesFile(
      Text(Stanza("libssl3", "3.0.15-1~deb12u1") + Stanza("tzdata", "2024a-0+deb12u1", "all")), 0));
  ASSERT_TRUE(index.AddPackagesFile(
      Text(Stanza("libssl3", "3.0.16-1~deb12u1") + Stanza("libssl3", "3.0.9-1") +
           Stanza("libssl3", "3.0.15-1~deb12u1")),
      1));
  auto v = index.Versions("libssl3");
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(v[0]->version, "3.0.16-1~deb12u1");
  EXPECT_EQ(v[1]->version, "3.0.15-1~deb12u1");
  EXPECT_EQ(v[1]->repository, 0u);  // equal versions: the first added first
  EXPECT_EQ(v[2]->version, "3.0.15-1~deb12u1");
  EXPECT_EQ(v[2]->repository, 1u);
  EXPECT_EQ(v[3]->version, "3.0.9-1");
  EXPECT_EQ(index.Candidate("libssl3", "amd64")->repository, 1u);
  EXPECT_EQ(index.RepositoryLabel(1), "bookworm-security");
  EXPECT_EQ(index.RepositoryLabel(5), "repository 5");
  EXPECT_TRUE(index.Versions("nothing").empty());
}

TEST(PackageIndexTest, CandidateIsForTheArchitectureOrAll) {
  PackageIndex index;
  ASSERT_TRUE(index.AddPackagesFile(Text(Stanza("tool", "3.0", "arm64") + Stanza("tool", "2.0") +
                                         Stanza("data", "1.0", "all") + Stanza("data", "0.9")),
                                    0));
  EXPECT_EQ(index.Candidate("tool", "amd64")->version, "2.0");
  EXPECT_EQ(index.Candidate("tool", "arm64")->version, "3.0");
  EXPECT_EQ(index.Candidate("tool", "riscv64"), nullptr);
  EXPECT_EQ(index.Candidate("data", "amd64")->version, "1.0");
  EXPECT_EQ(index.Candidate("data", "riscv64")->version, "1.0");
  EXPECT_EQ(index.Candidate("missing", "amd64"), nullptr);
}

TEST(PackageIndexTest, FlagsAndMultiArch) {
  PackageIndex index;
  ASSERT_TRUE(index.AddPackagesFile(
      Text(Stanza("base-files", "12.4", "amd64", "Essential: yes\nPriority: required\n") +
           Stanza("init", "1.65", "amd64", "Protected: yes\n") +
           Stanza("python3", "3.11.2-1", "amd64", "Multi-Arch: allowed\n") +
           Stanza("perl-base", "5.36.0", "amd64", "Multi-Arch: foreign\nEssential: no\n")),
      0));
  EXPECT_TRUE(index.Candidate("base-files", "amd64")->essential);
  EXPECT_EQ(index.Candidate("base-files", "amd64")->priority, "required");
  EXPECT_TRUE(index.Candidate("init", "amd64")->important);
  EXPECT_EQ(index.Candidate("python3", "amd64")->multi_arch, MultiArch::kAllowed);
  EXPECT_EQ(index.Candidate("perl-base", "amd64")->multi_arch, MultiArch::kForeign);
  EXPECT_FALSE(index.Candidate("perl-base", "amd64")->essential);
}

TEST(PackageIndexTest, MalformedStanzasNameRepositoryAndLine) {
  PackageIndex index;
  index.SetRepositoryLabel(3, "bookworm-updates");
  std::string good = Stanza("good", "1.0");  // 7 lines including the blank one
  EXPECT_EQ(AddError(index, good + "Version: 1.0\nArchitecture: amd64\n", 3),
            "Packages of bookworm-updates: line 8: missing Package field");
  EXPECT_EQ(AddError(index, good + "Package: x1\nArchitecture: amd64\n", 3),
            "Packages of bookworm-updates: line 8: package 'x1': missing Version field");
  EXPECT_EQ(AddError(index, "Package: x1\nVersion: a1\n", 3),
            "Packages of bookworm-updates: line 1: package 'x1': invalid version 'a1': upstream "
            "version does not start with a digit");
  EXPECT_EQ(AddError(index, "Package: x1\nVersion: 1\nFilename: a\n", 3),
            "Packages of bookworm-updates: line 1: package 'x1': missing Architecture field");
  EXPECT_EQ(AddError(index, "Package: x1\nVersion: 1\nArchitecture: amd64\n"),
            "Packages of repository 0: line 1: package 'x1': missing Filename field");
  std::string base = "Package: x1\nVersion: 1\nArchitecture: amd64\n";
  EXPECT_EQ(AddError(index, base + "Filename: ../etc/passwd\nSize: 1\nSHA256: " + kSha + "\n"),
            "Packages of repository 0: line 1: package 'x1': Filename '../etc/passwd' is not a "
            "relative path inside the repository");
  EXPECT_EQ(AddError(index, base + "Filename: /x.deb\nSize: 1\nSHA256: " + kSha + "\n"),
            "Packages of repository 0: line 1: package 'x1': Filename '/x.deb' is not a relative "
            "path inside the repository");
  base += "Filename: pool/x1.deb\n";
  EXPECT_EQ(AddError(index, base + "SHA256: " + kSha + "\n"),
            "Packages of repository 0: line 1: package 'x1': missing Size field");
  EXPECT_EQ(AddError(index, base + "Size: 12k\nSHA256: " + kSha + "\n"),
            "Packages of repository 0: line 1: package 'x1': invalid Size '12k'");
  EXPECT_EQ(AddError(index, base + "Size: 12\n"),
            "Packages of repository 0: line 1: package 'x1': missing SHA256 field");
  EXPECT_EQ(AddError(index, base + "Size: 12\nSHA256: abc\n"),
            "Packages of repository 0: line 1: package 'x1': SHA256 is not 64 hex digits");
  EXPECT_EQ(AddError(index, base + "Size: 12\nSHA256: " + std::string(63, 'a') + "g\n"),
            "Packages of repository 0: line 1: package 'x1': SHA256 is not 64 hex digits");
  base += "Size: 12\nSHA256: " + std::string(kSha) + "\n";
  EXPECT_EQ(AddError(index, base + "Depends: libc6 (>= 2.36\n"),
            "Packages of repository 0: line 1: package 'x1': Depends: position 15: expected ')'");
  EXPECT_EQ(AddError(index, base + "Provides: foo (>= 1)\n"),
            "Packages of repository 0: line 1: package 'x1': Provides: position 6: only '=' is "
            "allowed in Provides");
  EXPECT_EQ(AddError(index, base + "Breaks: a | b\n"),
            "Packages of repository 0: line 1: package 'x1': Breaks: position 3: alternatives "
            "('|') are not allowed here");
  EXPECT_EQ(AddError(index, base + "Multi-Arch: sometimes\n"),
            "Packages of repository 0: line 1: package 'x1': invalid Multi-Arch 'sometimes'");
  EXPECT_EQ(AddError(index, base + "Source: foo (1.0\n"),
            "Packages of repository 0: line 1: package 'x1': invalid Source 'foo (1.0'");
  EXPECT_EQ(AddError(index, "Package: x1\n continuation\n bad\nnot a field\n"),
            "Packages of repository 0: line 4: expected 'Field: value'");
  // Nothing of a failed file is indexed.
  EXPECT_EQ(index.size(), 0u);
  EXPECT_FALSE(index.Contains("good"));
}

TEST(PackageIndexTest, SimilarNamesForTypos) {
  PackageIndex index;
  ASSERT_TRUE(index.AddPackagesFile(
      Text(Stanza("openjdk-17-jre", "17") + Stanza("openjdk-17-jre-headless", "17") +
           Stanza("openjdk-17-jdk", "17") + Stanza("curl", "7.88") + Stanza("libcurl4", "7.88")),
      0));
  EXPECT_EQ(index.SimilarNames("opnjdk-17-jre"),
            (std::vector<std::string>{"openjdk-17-jre", "openjdk-17-jdk"}));
  EXPECT_EQ(index.SimilarNames("crul"), (std::vector<std::string>{"curl"}));
  EXPECT_TRUE(index.SimilarNames("python3").empty());
}

TEST(PackageIndexTest, FirstMentionOrderFollowsAptsParse) {
  PackageIndex index;
  ASSERT_TRUE(index.AddPackagesFile(
      Text(Stanza("alpha", "1", "amd64",
                  "Depends: zeta, python3:any\nRecommends: eta\nProvides: theta\n") +
           Stanza("beta", "1", "amd64", "Pre-Depends: iota\nDepends: zeta\n")),
      0));
  ASSERT_TRUE(index.AddPackagesFile(Text(Stanza("kappa", "1") + Stanza("zeta", "1")), 1));
  auto order = [&](std::string_view n) { return index.FirstMentionOrder(n); };
  EXPECT_LT(order("alpha"), order("zeta"));
  EXPECT_LT(order("zeta"), order("eta"));
  EXPECT_LT(order("eta"), order("theta"));
  EXPECT_LT(order("theta"), order("beta"));
  EXPECT_LT(order("beta"), order("iota"));
  EXPECT_LT(order("iota"), order("kappa"));
  EXPECT_EQ(order("python3"), UINT32_MAX);  // only "python3:any" was mentioned
  EXPECT_EQ(order("nothing"), UINT32_MAX);
}

}  // namespace
}  // namespace hardbase::deb
