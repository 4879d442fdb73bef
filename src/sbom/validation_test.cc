// Validates the SBOMs with independent tools (tests/npm): the SPDX 2.3 JSON schema through ajv,
// @cyclonedx/cyclonedx-library's strict validator, and an NTIA minimum-elements check. A missing
// node or module makes these tests fail, never skip.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "sbom/document.h"
#include "support/process.h"

namespace hardbase::sbom {
namespace {

using Json = nlohmann::json;
using ::testing::HasSubstr;
using testing::ProcessResult;
using testing::RunProcess;

const std::string kNpm = std::string(HARDBASE_SOURCE_DIR) + "/tests/npm/";
const std::string kSpdxSchema =
    std::string(HARDBASE_SOURCE_DIR) + "/../shared/data/spdx-2.3-schema.json";

std::string Hash(char c) { return std::string(64, c); }

// A small but realistic image: a Java runtime's closure, with a binNMU (source version differs),
// an epoch, a package without maintainer, LicenseRefs with and without recorded text.
Document JavaImage() {
  Document doc;
  doc.name = "java17";
  doc.image_digest = "sha256:" + Hash('1');
  doc.architecture = "amd64";
  doc.distro = {"debian", "12", "bookworm"};
  doc.created = "2024-03-01T12:00:00Z";
  doc.tool_version = "0.1.0";
  const std::string glibc = "GNU Libc Maintainers <debian-glibc@lists.debian.org>";
  doc.packages = {
      {"base-files",
       "12.4+deb12u5",
       "amd64",
       "",
       "",
       "Santiago Vila <sanvila@debian.org>",
       Hash('a'),
       "GPL-2.0-or-later",
       "",
       {}},
      {"libc6",
       "2.36-9+deb12u4",
       "amd64",
       "glibc",
       "",
       glibc,
       Hash('b'),
       "LGPL-2.1-or-later AND LicenseRef-glibc-free-text",
       "https://www.gnu.org/software/libc/libc.html",
       {"libgcc-s1"}},
      {"libgcc-s1",
       "12.2.0-14",
       "amd64",
       "gcc-12",
       "",
       "Debian GCC Maintainers <debian-gcc@lists.debian.org>",
       Hash('c'),
       "GPL-3.0-or-later WITH GCC-exception-3.1",
       "",
       {"libc6", "gcc-12-base"}},
      {"gcc-12-base",
       "12.2.0-14",
       "amd64",
       "gcc-12",
       "",
       "Debian GCC Maintainers <debian-gcc@lists.debian.org>",
       Hash('d'),
       "",
       "",
       {}},
      {"zlib1g",
       "1:1.2.13.dfsg-1",
       "amd64",
       "zlib",
       "",
       "Mark Brown <broonie@debian.org>",
       Hash('e'),
       "Zlib",
       "http://zlib.net/",
       {"libc6"}},
      {"libssl3",
       "3.0.11-1~deb12u2",
       "amd64",
       "openssl",
       "",
       "Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>",
       Hash('f'),
       "Apache-2.0 AND (Artistic-1.0-Perl OR GPL-1.0-or-later)",
       "https://www.openssl.org/",
       {"libc6"}},
      {"ca-certificates",
       "20230311",
       "all",
       "",
       "",
       "Julien Cristau <jcristau@debian.org>",
       Hash('0'),
       "GPL-2.0-or-later AND MPL-2.0",
       "",
       {"openssl"}},
      {"tzdata",
       "2024a-0+deb12u1",
       "all",
       "",
       "",
       "",
       Hash('2'),
       "LicenseRef-public-domain",
       "",
       {}},
      {"libzstd1",
       "1.5.4+dfsg2-5",
       "amd64",
       "libzstd",
       "",
       "RPM packaging team <team@rpm.org>",
       Hash('3'),
       "BSD-3-Clause OR GPL-2.0-only",
       "https://github.com/facebook/zstd",
       {"libc6"}},
      {"libcrypt1",
       "1:4.4.33-2",
       "amd64",
       "libxcrypt",
       "1:4.4.33-1",
       "Marco d'Itri <md@linux.it>",
       Hash('4'),
       "LGPL-2.1-or-later",
       "https://github.com/besser82/libxcrypt",
       {"libc6"}},
      {"openjdk-17-jre-headless",
       "17.0.10+7-1~deb12u1",
       "amd64",
       "openjdk-17",
       "",
       "OpenJDK Team <openjdk-17@packages.debian.org>",
       Hash('5'),
       "GPL-2.0-only WITH Classpath-exception-2.0",
       "https://openjdk.java.net/",
       {"ca-certificates", "libc6", "libcrypt1", "zlib1g", "tzdata"}},
  };
  doc.license_texts["LicenseRef-public-domain"] = "Public domain.\n";
  return doc;
}

class ValidationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("sbom-validation-");
    ASSERT_TRUE(dir.has_value()) << dir.error().message;
    dir_.emplace(std::move(*dir));
  }

  std::string Write(const std::string& name, const std::string& content) {
    std::string path = dir_->path() + "/" + name;
    auto written = WriteFileAtomic(path, content);
    EXPECT_TRUE(written.has_value()) << written.error().message;
    return path;
  }

  static ProcessResult Node(const std::string& script, std::vector<std::string> args) {
    args.insert(args.begin(), {"node", kNpm + script});
    return RunProcess(args);
  }

  static ProcessResult ValidateSpdx(const std::string& file) {
    return Node("validate_spdx.mjs", {file, kSpdxSchema});
  }

  std::optional<TempDir> dir_;
};

TEST_F(ValidationTest, SpdxPassesSchemaAndNtia) {
  std::string file = Write("image.spdx.json", SpdxJson(JavaImage()));
  ProcessResult schema = ValidateSpdx(file);
  EXPECT_EQ(schema.exit_code, 0) << schema.out << schema.err;
  ProcessResult ntia = Node("ntia.mjs", {file});
  EXPECT_EQ(ntia.exit_code, 0) << ntia.out << ntia.err;
}

TEST_F(ValidationTest, CycloneDxPassesStrictSchemaAndNtia) {
  std::string file = Write("image.cdx.json", CycloneDxJson(JavaImage()));
  ProcessResult schema = Node("validate_cyclonedx.mjs", {file});
  EXPECT_EQ(schema.exit_code, 0) << schema.out << schema.err;
  ProcessResult ntia = Node("ntia.mjs", {file});
  EXPECT_EQ(ntia.exit_code, 0) << ntia.out << ntia.err;
}

TEST_F(ValidationTest, ImagesWithoutDebHashesNeedTheFlag) {
  Document doc = JavaImage();
  for (Package& p : doc.packages) p.sha256.clear();
  for (const std::string& file :
       {Write("nohash.spdx.json", SpdxJson(doc)), Write("nohash.cdx.json", CycloneDxJson(doc))}) {
    ProcessResult strict = Node("ntia.mjs", {file});
    EXPECT_EQ(strict.exit_code, 1) << file;
    EXPECT_THAT(strict.err, HasSubstr("libc6: SHA-256 hash"));
    ProcessResult allowed = Node("ntia.mjs", {file, "--allow-missing-hash"});
    EXPECT_EQ(allowed.exit_code, 0) << allowed.out << allowed.err;
  }
  ProcessResult schema =
      Node("validate_cyclonedx.mjs", {Write("nohash2.cdx.json", CycloneDxJson(doc))});
  EXPECT_EQ(schema.exit_code, 0) << schema.err;
}

TEST_F(ValidationTest, ValidatorsRejectBrokenDocuments) {
  Json spdx = Json::parse(SpdxJson(JavaImage()));
  Json no_version = spdx;
  no_version.erase("spdxVersion");
  ProcessResult r = ValidateSpdx(Write("a.spdx.json", no_version.dump()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("spdxVersion"));

  Json undeclared = spdx;
  undeclared.erase("hasExtractedLicensingInfos");
  r = ValidateSpdx(Write("b.spdx.json", undeclared.dump()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("undeclared LicenseRef-public-domain"));

  Json no_supplier = spdx;
  no_supplier["packages"][3]["supplier"] = "NOASSERTION";
  no_supplier["relationships"] = Json::array();
  r = Node("ntia.mjs", {Write("c.spdx.json", no_supplier.dump())});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr(": supplier"));
  EXPECT_THAT(r.err, HasSubstr("dependency relationships"));

  Json cdx = Json::parse(CycloneDxJson(JavaImage()));
  Json bad_serial = cdx;
  bad_serial["serialNumber"] = "urn:uuid:not-a-uuid";
  r = Node("validate_cyclonedx.mjs", {Write("d.cdx.json", bad_serial.dump())});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("serialNumber"));

  Json no_timestamp = cdx;
  no_timestamp["metadata"].erase("timestamp");
  no_timestamp["components"][0].erase("supplier");
  r = Node("ntia.mjs", {Write("e.cdx.json", no_timestamp.dump())});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("document: timestamp"));
  EXPECT_THAT(r.err, HasSubstr("supplier"));
}

TEST_F(ValidationTest, MissingModuleFails) {
  // The scripts are run from a copy outside tests/npm, where no module resolves: they must fail.
  std::string copy =
      Write("validate_cyclonedx.mjs", ReadFile(kNpm + "validate_cyclonedx.mjs").value_or(""));
  ProcessResult r = RunProcess({"node", copy, Write("x.cdx.json", CycloneDxJson(JavaImage()))});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("cyclonedx-library"));
}

}  // namespace
}  // namespace hardbase::sbom
