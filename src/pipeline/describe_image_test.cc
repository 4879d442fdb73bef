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

// What the predicate says is what ParseSlsaProvenance reads back: `reproduce` rebuilds from it.
TEST(SlsaProvenanceTest, ReadsBackWhatItWrote) {
  spec::ArchLock lock;
  lock.packages.push_back({"tzdata",
                           "2025a-0+deb12u1",
                           "all",
                           "tzdata",
                           "2025a-0+deb12u1",
                           {},
                           "pool/main/t/tzdata/tzdata_2025a-0+deb12u1_all.deb",
                           1,
                           std::string(64, 'c'),
                           {}});
  lock.packages.push_back({"libfoo",
                           "1:2.0-1",
                           "amd64",
                           "foo",
                           "1:2.0-1",
                           {},
                           "pool/main/f/foo/libfoo_2.0-1_amd64.deb",
                           1,
                           std::string(64, 'd'),
                           {}});
  BuildInputs in{"dir/image.yaml",
                 std::string(64, '1'),
                 "dir/image.lock.json",
                 std::string(64, '2'),
                 "amd64",
                 deb::Distro{"debian", "12", "bookworm"},
                 "zstd",
                 1700000000,
                 &lock};
  auto p = ParseSlsaProvenance(SlsaProvenancePredicate(in));
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->spec_path, "dir/image.yaml");
  EXPECT_EQ(p->spec_sha256, std::string(64, '1'));
  EXPECT_EQ(p->lock_path, "dir/image.lock.json");
  EXPECT_EQ(p->lock_sha256, std::string(64, '2'));
  EXPECT_EQ(p->arch, "amd64");
  EXPECT_EQ(p->compression, "zstd");
  EXPECT_EQ(p->source_date_epoch, 1700000000);
  EXPECT_EQ(p->hardbase_version, HardbaseVersion());
  ASSERT_EQ(p->debs.size(), 2u);
  EXPECT_EQ(p->debs[0].name, "tzdata");
  EXPECT_EQ(p->debs[0].version, "2025a-0+deb12u1");
  EXPECT_EQ(p->debs[0].architecture, "all");
  EXPECT_EQ(p->debs[0].filename, "pool/main/t/tzdata/tzdata_2025a-0+deb12u1_all.deb");
  EXPECT_EQ(p->debs[0].sha256, std::string(64, 'c'));
  EXPECT_EQ(p->debs[1].version, "1:2.0-1");  // the epoch survives the purl
}

TEST(SlsaProvenanceTest, RefusesWhatHardbaseCannotRebuildFrom) {
  spec::ArchLock lock;
  BuildInputs in{"image.yaml",
                 std::string(64, '1'),
                 "image.lock.json",
                 std::string(64, '2'),
                 "amd64",
                 deb::Distro{},
                 "gzip",
                 1,
                 &lock};
  auto j = nlohmann::json::parse(SlsaProvenancePredicate(in));
  auto with = [&](const std::string& pointer, nlohmann::json value) {
    auto copy = j;
    if (value.is_null()) {
      copy.at(nlohmann::json::json_pointer(pointer).parent_pointer())
          .erase(nlohmann::json::json_pointer(pointer).back());
    } else {
      copy[nlohmann::json::json_pointer(pointer)] = std::move(value);
    }
    return ParseSlsaProvenance(copy.dump());
  };
  EXPECT_THAT(with("/buildDefinition/buildType", "https://example.org/other"),
              FailsWith(ErrorCode::kSpec, HasSubstr("is not hardbase's")));
  EXPECT_THAT(
      with("/buildDefinition/externalParameters/lock", nullptr),
      FailsWith(ErrorCode::kSpec, HasSubstr("no /buildDefinition/externalParameters/lock/path")));
  EXPECT_THAT(with("/buildDefinition/externalParameters/spec/digest/sha256", "abc"),
              FailsWith(ErrorCode::kSpec, HasSubstr("is not a SHA-256 digest")));
  EXPECT_THAT(with("/buildDefinition/externalParameters/sourceDateEpoch", "1"),
              FailsWith(ErrorCode::kSpec, HasSubstr("sourceDateEpoch has the wrong type")));
  EXPECT_THAT(with("/buildDefinition/resolvedDependencies",
                   nlohmann::json::array({{{"uri", "pkg:npm/left-pad@1.0.0"},
                                           {"name", "x"},
                                           {"digest", {{"sha256", std::string(64, 'a')}}}}})),
              FailsWith(ErrorCode::kSpec, HasSubstr("is not a Debian package's purl")));
  EXPECT_THAT(ParseSlsaProvenance("[]"), FailsWith(ErrorCode::kSpec));
  EXPECT_TRUE(ParseSlsaProvenance(j.dump()).has_value());
}

}  // namespace
}  // namespace hardbase::pipeline
