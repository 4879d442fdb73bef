// End-to-end test of the purl as the key that joins what hardbase says about an image: a real
// image of real bookworm packages, two of them with an epoch (zlib1g 1:1.2.13..., libcrypt1
// 1:4.4.33...), its SBOMs (SPDX and CycloneDX; stored at build time from the lock, and made again
// from the image's files) and its scan with the real OSV snapshot (JSON and CycloneDX). Each
// package has one purl, byte for byte the same in every document, in the purl specification's
// canonical form (base/purl.h parses it back to the same string).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>

#include "base/fs.h"
#include "base/purl.h"
#include "support/examples.h"
#include "support/process.h"

namespace hardbase::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;

// base-files for os-release; zlib1g and libcrypt1 have epochs, their sources other names
// (zlib, libxcrypt), and libc6 comes along with a source of another name (glibc).
constexpr std::string_view kSpec =
    "name: purl-join\n"
    "packages:\n"
    "  - base-files\n"
    "  - zlib1g\n"
    "  - libcrypt1\n";

// Package name -> purl.
using Purls = std::map<std::string, std::string>;

class PurlJoinE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("hardbase-purl-join-");
    ASSERT_TRUE(dir.has_value());
    work_.emplace(std::move(*dir));
    ASSERT_TRUE(MakeDirs(ExamplesSuiteDir()).has_value());
  }

  std::string Work() const { return work_->path(); }

  // The spec in the work dir, locked against the host's Debian mirror into the suite dir (shared
  // by the tests of one run; resolved again when older than an hour or made for another text).
  std::pair<std::string, std::string> SpecAndLock() {
    std::string spec = Work() + "/purl-join.yaml";
    EXPECT_TRUE(WriteFileAtomic(spec, std::string(kSpec)).has_value());
    std::string lock = ExamplesSuiteDir() + "/purl-join.lock.json";
    std::string stamp = lock + ".spec";
    auto age = fs::exists(lock) ? fs::file_time_type::clock::now() - fs::last_write_time(lock)
                                : std::chrono::hours(24);
    if (age > std::chrono::hours(1) || ReadFile(stamp).value_or("") != kSpec) {
      auto r = HardbaseWithCache({"lock", spec, "-o", lock});
      EXPECT_EQ(r.exit_code, 0) << r.err;
      EXPECT_TRUE(WriteFileAtomic(stamp, std::string(kSpec)).has_value());
    }
    return {spec, lock};
  }

  // Runs hardbase and parses what it prints.
  static json Run(std::vector<std::string> args) {
    auto r = HardbaseWithCache(args);
    EXPECT_EQ(r.exit_code, 0) << args[0] << ": " << r.err;
    return json::parse(r.exit_code == 0 ? r.out : "{}");
  }

  std::optional<TempDir> work_;
};

// The packages of an SPDX document: each one's purl external reference (the image apart).
Purls SpdxPurls(const json& doc, std::string* image_purl) {
  Purls out;
  for (const auto& p : doc["packages"]) {
    std::string purl;
    for (const auto& ref : p["externalRefs"]) {
      if (ref["referenceType"] == "purl") purl = ref["referenceLocator"];
    }
    EXPECT_FALSE(purl.empty()) << p.dump();
    if (p.value("primaryPackagePurpose", "") == "CONTAINER") {
      *image_purl = purl;
    } else {
      EXPECT_TRUE(out.emplace(p["name"].get<std::string>(), purl).second) << p["name"];
    }
  }
  return out;
}

// The components of a CycloneDX document (SBOM or scan): each one's purl, which is its bom-ref.
Purls CycloneDxPurls(const json& doc) {
  Purls out;
  for (const auto& c : doc["components"]) {
    EXPECT_EQ(c["bom-ref"], c["purl"]);
    EXPECT_TRUE(out.emplace(c["name"].get<std::string>(), c["purl"].get<std::string>()).second)
        << c["name"];
  }
  return out;
}

TEST_F(PurlJoinE2ETest, SbomAndScanNameEveryPackageWithTheSamePurl) {
  auto [spec, lock] = SpecAndLock();
  std::string layout = Work() + "/image";
  auto built = HardbaseWithCache({"build", spec, "--lock", lock, "-o", layout, "--tag", "test"});
  ASSERT_EQ(built.exit_code, 0) << built.err;
  std::string image = "oci:" + layout + ":test";

  // The SBOMs stored with the image at build time, and made again from its files.
  std::string image_purl;
  Purls sbom = SpdxPurls(Run({"sbom", image, "--format", "spdx-json"}), &image_purl);
  std::string regenerated_image_purl;
  EXPECT_EQ(SpdxPurls(Run({"sbom", image, "--format", "spdx-json", "--regenerate"}),
                      &regenerated_image_purl),
            sbom);
  EXPECT_EQ(regenerated_image_purl, image_purl);
  EXPECT_EQ(CycloneDxPurls(Run({"sbom", image, "--format", "cyclonedx-json"})), sbom);
  EXPECT_EQ(CycloneDxPurls(Run({"sbom", image, "--format", "cyclonedx-json", "--regenerate"})),
            sbom);

  // The scan: every package among the CycloneDX components, every finding's package by purl.
  std::string db = SharedVulnDb();
  json scan_cdx = Run({"scan", image, "--db", db, "--format", "cyclonedx"});
  EXPECT_EQ(CycloneDxPurls(scan_cdx), sbom);
  json scan = Run({"scan", image, "--db", db, "--format", "json"});
  ASSERT_FALSE(scan["findings"].empty()) << scan.dump().substr(0, 2000);
  std::set<std::string> with_findings;
  for (const auto& f : scan["findings"]) {
    std::string package = f["package"];
    ASSERT_TRUE(sbom.count(package)) << package;
    EXPECT_EQ(f["purl"], sbom[package]) << package;
    with_findings.insert(package);
  }
  for (const auto& v : scan_cdx["vulnerabilities"]) {
    for (const auto& a : v["affects"]) {
      std::string ref = a["ref"];
      EXPECT_TRUE(std::any_of(sbom.begin(), sbom.end(), [&](const auto& entry) {
        return entry.second == ref;
      })) << ref;
    }
  }

  // The epoch packages are there with their colon as it is, and one of them has findings (zlib's
  // unfixed CVEs), so the JSON join covers an epoch too.
  ASSERT_TRUE(sbom.count("zlib1g") && sbom.count("libcrypt1"));
  EXPECT_THAT(sbom["zlib1g"], HasSubstr("/zlib1g@1:1.2.13"));
  EXPECT_THAT(sbom["libcrypt1"], HasSubstr("/libcrypt1@1:4.4.33"));
  EXPECT_THAT(sbom["zlib1g"], HasSubstr("upstream=zlib"));
  EXPECT_TRUE(with_findings.count("zlib1g"));
  EXPECT_GE(sbom.size(), 6u);

  // Every purl is canonical: it parses, and prints back byte for byte, naming the package of
  // the image's distribution.
  for (const auto& [name, purl] : sbom) {
    auto parsed = Purl::Parse(purl);
    ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
    EXPECT_EQ(parsed->ToString(), purl);
    EXPECT_EQ(parsed->type, "deb");
    EXPECT_EQ(parsed->namespace_, "debian");
    EXPECT_EQ(parsed->name, name);
    EXPECT_EQ(parsed->qualifiers["distro"], "debian-12") << purl;
    EXPECT_FALSE(parsed->qualifiers["arch"].empty()) << purl;
  }
  auto parsed_image = Purl::Parse(image_purl);
  ASSERT_TRUE(parsed_image.has_value()) << parsed_image.error().message;
  EXPECT_EQ(parsed_image->ToString(), image_purl);
  EXPECT_EQ(parsed_image->type, "oci");
  EXPECT_EQ(parsed_image->version, scan["image"]["digest"]);
  EXPECT_EQ(scan["image"]["distro"], "debian-12");
}

}  // namespace
}  // namespace hardbase::testing
