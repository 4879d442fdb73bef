#include "pipeline/describe_image.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/version.h"
#include "support/result_matchers.h"

namespace hardbase::pipeline {
namespace {

using ::hardbase::testing::FailsWith;

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr const char* kDep5 =
    "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
    "\n"
    "Files: *\n"
    "License: Apache-2.0\n";

InstalledPackage Stanza(const std::string& fields, std::optional<std::string> copyright = {}) {
  return {fields, std::move(copyright)};
}

const sbom::Package& Find(const sbom::Document& doc, const std::string& name) {
  for (const auto& p : doc.packages) {
    if (p.name == name) return p;
  }
  ADD_FAILURE() << "no package " << name;
  static sbom::Package none;
  return none;
}

TEST(DescribePackagesTest, DependenciesFollowInstalledAlternativesAndProvides) {
  std::vector<InstalledPackage> installed = {
      Stanza("Package: app\nVersion: 1.0\nArchitecture: amd64\n"
             "Depends: missing | libfoo (>= 1), mail-transport-agent, libc6\n"
             "Pre-Depends: libc6\n"),
      Stanza("Package: libfoo\nVersion: 2.0\nArchitecture: amd64\nDepends: libc6\n"),
      Stanza("Package: exim\nVersion: 4\nArchitecture: amd64\nProvides: mail-transport-agent\n"),
      Stanza("Package: libc6\nVersion: 2.36-9\nArchitecture: amd64\nDepends: libgcc-s1\n"),
  };
  sbom::Document doc;
  ASSERT_TRUE(DescribePackages(installed, nullptr, doc).has_value());
  ASSERT_EQ(doc.packages.size(), 4u);
  EXPECT_EQ(doc.packages[0].name, "app");  // sorted by name
  EXPECT_THAT(Find(doc, "app").depends, ElementsAre("exim", "libc6", "libfoo"));
  EXPECT_THAT(Find(doc, "libfoo").depends, ElementsAre("libc6"));
  EXPECT_THAT(Find(doc, "libc6").depends, IsEmpty());  // libgcc-s1 is not in the image
}

TEST(DescribePackagesTest, SourceMaintainerLicencesAndLockHashes) {
  std::vector<InstalledPackage> installed = {
      Stanza("Package: libssl3\nVersion: 3.0.15-1~deb12u1\nArchitecture: amd64\n"
             "Source: openssl\nMaintainer: Debian OpenSSL Team <pkg-openssl@example.org>\n"
             "Homepage: https://www.openssl.org/\n",
             kDep5),
      // Its doc directory is libssl3's (same source), so it has no copyright file of its own.
      Stanza("Package: openssl\nVersion: 3.0.15-1~deb12u1\nArchitecture: amd64\n"),
      // A binNMU: the source version differs.
      Stanza("Package: bash\nVersion: 5.2.15-2+b2\nArchitecture: amd64\n"
             "Source: bash (5.2.15-2)\n"),
  };
  spec::ArchLock lock;
  lock.arch = "amd64";
  lock.packages.push_back({"libssl3",
                           "3.0.15-1~deb12u1",
                           "amd64",
                           "openssl",
                           "3.0.15-1~deb12u1",
                           {},
                           "pool/x.deb",
                           1,
                           std::string(64, 'a'),
                           {}});
  lock.packages.push_back({"bash",
                           "5.2.15-2+b1",
                           "amd64",
                           "bash",
                           "5.2.15-2",
                           {},
                           "pool/y.deb",
                           1,
                           std::string(64, 'b'),
                           {}});
  sbom::Document doc;
  ASSERT_TRUE(DescribePackages(installed, &lock, doc).has_value());
  const auto& ssl = Find(doc, "libssl3");
  EXPECT_EQ(ssl.source, "openssl");
  EXPECT_EQ(ssl.source_version, "");
  EXPECT_EQ(ssl.maintainer, "Debian OpenSSL Team <pkg-openssl@example.org>");
  EXPECT_EQ(ssl.homepage, "https://www.openssl.org/");
  EXPECT_EQ(ssl.license, "Apache-2.0");
  EXPECT_EQ(ssl.sha256, std::string(64, 'a'));
  EXPECT_EQ(Find(doc, "openssl").license, "Apache-2.0");
  EXPECT_EQ(Find(doc, "openssl").sha256, "");  // not in the lock
  const auto& bash = Find(doc, "bash");
  EXPECT_EQ(bash.source, "");
  EXPECT_EQ(bash.source_version, "5.2.15-2");
  EXPECT_EQ(bash.sha256, "");  // the lock has another build of it
  EXPECT_EQ(bash.license, "");
}

TEST(DescribePackagesTest, BadRecordsAreNamed) {
  sbom::Document doc;
  auto no_version = DescribePackages({Stanza("Package: x\n")}, nullptr, doc);
  ASSERT_FALSE(no_version.has_value());
  EXPECT_THAT(no_version, FailsWith(ErrorCode::kSpec));
  EXPECT_THAT(no_version.error().message, HasSubstr("no Package or Version"));
  auto bad_depends =
      DescribePackages({Stanza("Package: x\nVersion: 1\nDepends: a (>> \n")}, nullptr, doc);
  ASSERT_FALSE(bad_depends.has_value());
  EXPECT_THAT(bad_depends.error().message, HasSubstr("package x: Depends"));
}

TEST(SlsaProvenanceTest, ListsEveryDebAndTheInputs) {
  spec::ArchLock lock;
  lock.packages.push_back({"libc6",
                           "2.36-9",
                           "amd64",
                           "glibc",
                           "2.36-9",
                           {},
                           "pool/main/g/glibc/libc6_2.36-9_amd64.deb",
                           1,
                           std::string(64, 'c'),
                           {}});
  BuildInputs in{"image.yaml",
                 std::string(64, '1'),
                 "image.lock.json",
                 std::string(64, '2'),
                 "amd64",
                 deb::Distro{"debian", "12", "bookworm"},
                 "gzip",
                 1700000000,
                 &lock};
  auto j = nlohmann::json::parse(SlsaProvenancePredicate(in));
  const auto& def = j["buildDefinition"];
  EXPECT_EQ(def["externalParameters"]["spec"]["digest"]["sha256"], std::string(64, '1'));
  EXPECT_EQ(def["externalParameters"]["lock"]["digest"]["sha256"], std::string(64, '2'));
  ASSERT_EQ(def["resolvedDependencies"].size(), 1u);
  EXPECT_EQ(def["resolvedDependencies"][0]["digest"]["sha256"], std::string(64, 'c'));
  EXPECT_EQ(def["resolvedDependencies"][0]["uri"].get<std::string>(),
            "pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12&upstream=glibc");
  EXPECT_EQ(j["runDetails"]["builder"]["version"]["hardbase"], std::string(HardbaseVersion()));
  EXPECT_EQ(SlsaProvenancePredicate(in), SlsaProvenancePredicate(in));
}

}  // namespace
}  // namespace hardbase::pipeline
