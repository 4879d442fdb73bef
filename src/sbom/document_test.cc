#include "sbom/document.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace hardbase::sbom {
namespace {

using Json = nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

Package Pkg(std::string name, std::string version, std::string arch) {
  Package p;
  p.name = std::move(name);
  p.version = std::move(version);
  p.architecture = std::move(arch);
  return p;
}

Package Libc6() {
  Package p = Pkg("libc6", "2.36-9+deb12u4", "amd64");
  p.source = "glibc";
  p.maintainer = "GNU Libc Maintainers <debian-glibc@lists.debian.org>";
  p.sha256 = std::string(64, 'c');
  p.license = "LGPL-2.1-or-later AND LicenseRef-glibc";
  return p;
}

const deb::Distro kBookworm{"debian", "12", "bookworm"};

TEST(PackageUrlTest, EncodesPerThePurlSpec) {
  EXPECT_EQ(PackageUrl(Libc6(), kBookworm),
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12&upstream=glibc");
  // ':' of an epoch and '~' stay; '+' in a name is encoded too.
  Package p = Pkg("libstdc++6", "1:2.3~rc1-1", "all");
  EXPECT_EQ(PackageUrl(p, kBookworm),
            "pkg:deb/debian/libstdc%2B%2B6@1:2.3~rc1-1?arch=all&distro=debian-12");
  // A binNMU: same source name, other version.
  p = Pkg("bash", "5.2.15-2+b2", "amd64");
  p.source_version = "5.2.15-2";
  EXPECT_EQ(
      PackageUrl(p, deb::Distro{"debian", "13", "trixie"}),
      "pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-13&upstream=bash%405.2.15-2");
  // Source equal to the binary's name and version: no upstream.
  p = Pkg("zlib1g", "1:1.2.13", "amd64");
  p.source = "zlib1g";
  p.source_version = "1:1.2.13";
  EXPECT_EQ(PackageUrl(p, kBookworm), "pkg:deb/debian/zlib1g@1:1.2.13?arch=amd64&distro=debian-12");
}

// The image's own purl: the oci type's name lower-cased, the architecture as OCI names it.
TEST(ImagePurlTest, NamesTheImageByDigest) {
  std::string hex(64, 'e');
  EXPECT_EQ(ImagePurl("Java17", "sha256:" + hex, "armhf"),
            "pkg:oci/java17@sha256:" + hex + "?arch=arm");
  EXPECT_EQ(ImagePurl("cc", "sha256:" + hex, "amd64"), "pkg:oci/cc@sha256:" + hex + "?arch=amd64");
}

// An image without os-release: Debian's namespace, no distro qualifier (nothing is guessed).
TEST(PackageUrlTest, AnUnknownDistroIsLeftOut) {
  EXPECT_EQ(PackageUrl(Libc6(), deb::Distro{}),
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&upstream=glibc");
}

TEST(Cpe23Test, QuotesSpecialCharacters) {
  EXPECT_EQ(Cpe23(Libc6()), "cpe:2.3:a:glibc:glibc:2.36-9\\+deb12u4:*:*:*:*:*:*:*");
  Package p = Pkg("libstdc++6", "1:2.3~rc1-1", "amd64");
  EXPECT_EQ(Cpe23(p), "cpe:2.3:a:libstdc\\+\\+6:libstdc\\+\\+6:1\\:2.3\\~rc1-1:*:*:*:*:*:*:*");
}

Document SmallDocument() {
  Document doc;
  doc.name = "demo";
  doc.image_digest = "sha256:";
  doc.architecture = "arm64";
  doc.created = "2024-01-02T03:04:05Z";
  doc.tool_version = "0.1.0";
  doc.distro = kBookworm;
  for (int i = 0; i < 32; ++i) doc.image_digest += "ab";
  Package tzdata = Pkg("tzdata", "2024a-0+deb12u1", "all");
  tzdata.license = "LicenseRef-public-domain";
  Package base = Pkg("base-files", "12.4+deb12u5", "arm64");
  base.maintainer = "Santiago Vila <sanvila@debian.org>";
  base.sha256 = std::string(64, 'd');
  base.homepage = "https://example.org/base";
  base.depends = {"libc6", "absent", "base-files"};
  doc.packages = {tzdata, Libc6(), base};
  doc.packages[1].architecture = "arm64";
  doc.packages[1].depends = {"tzdata"};
  doc.license_texts["LicenseRef-glibc"] = "glibc terms";
  return doc;
}

TEST(SpdxJsonTest, DescribesTheImageAndItsPackages) {
  Document doc = SmallDocument();
  std::string text = SpdxJson(doc);
  Json j = Json::parse(text);
  EXPECT_EQ(j["documentNamespace"],
            "https://spdx.org/spdxdocs/demo-93d895a3-0983-55c3-90ba-edec50eb88bf");  // Python uuid5
  EXPECT_EQ(j["creationInfo"]["created"], "2024-01-02T03:04:05Z");
  EXPECT_THAT(j["creationInfo"]["creators"], ElementsAre("Tool: hardbase-0.1.0"));
  ASSERT_EQ(j["packages"].size(), 4u);
  const Json& image = j["packages"][0];
  EXPECT_EQ(image["primaryPackagePurpose"], "CONTAINER");
  EXPECT_EQ(image["checksums"][0]["checksumValue"], doc.image_digest.substr(7));
  EXPECT_EQ(image["externalRefs"][0]["referenceLocator"],
            "pkg:oci/demo@sha256:" + doc.image_digest.substr(7) + "?arch=arm64");
  // Sorted by name; suppliers from the Maintainer field, Debian when there is none.
  EXPECT_EQ(j["packages"][1]["name"], "base-files");
  EXPECT_EQ(j["packages"][1]["supplier"], "Person: Santiago Vila (sanvila@debian.org)");
  EXPECT_EQ(j["packages"][1]["homepage"], "https://example.org/base");
  EXPECT_EQ(j["packages"][1]["checksums"][0]["checksumValue"], std::string(64, 'd'));
  EXPECT_EQ(j["packages"][2]["supplier"],
            "Organization: GNU Libc Maintainers (debian-glibc@lists.debian.org)");
  EXPECT_EQ(j["packages"][2]["sourceInfo"], "built package from: glibc 2.36-9+deb12u4");
  EXPECT_EQ(j["packages"][3]["supplier"], "Organization: Debian");
  EXPECT_FALSE(j["packages"][3].contains("checksums"));
  EXPECT_EQ(j["packages"][3]["licenseDeclared"], "LicenseRef-public-domain");
  EXPECT_EQ(j["packages"][2]["externalRefs"][1]["referenceType"], "cpe23Type");

  // Every LicenseRef declared: recorded text, or a placeholder.
  ASSERT_EQ(j["hasExtractedLicensingInfos"].size(), 2u);
  EXPECT_EQ(j["hasExtractedLicensingInfos"][0]["licenseId"], "LicenseRef-glibc");
  EXPECT_EQ(j["hasExtractedLicensingInfos"][0]["extractedText"], "glibc terms");
  EXPECT_EQ(j["hasExtractedLicensingInfos"][1]["licenseId"], "LicenseRef-public-domain");
  EXPECT_THAT(j["hasExtractedLicensingInfos"][1]["extractedText"].get<std::string>(),
              HasSubstr("not recorded"));

  std::vector<std::string> rels;
  for (const Json& r : j["relationships"]) {
    rels.push_back(r["spdxElementId"].get<std::string>() + " " +
                   r["relationshipType"].get<std::string>() + " " +
                   r["relatedSpdxElement"].get<std::string>());
  }
  std::string base = j["packages"][1]["SPDXID"], libc = j["packages"][2]["SPDXID"],
              tz = j["packages"][3]["SPDXID"];
  EXPECT_THAT(base, StartsWith("SPDXRef-Package-deb-base-files-"));
  // base-files depends on libc6 only: "absent" is not in the image, and itself is dropped.
  EXPECT_THAT(rels, ElementsAre("SPDXRef-DOCUMENT DESCRIBES SPDXRef-Image",
                                "SPDXRef-Image CONTAINS " + base, "SPDXRef-Image CONTAINS " + libc,
                                "SPDXRef-Image CONTAINS " + tz, base + " DEPENDS_ON " + libc,
                                libc + " DEPENDS_ON " + tz));
}

TEST(CycloneDxJsonTest, ComponentsAndDependencies) {
  Document doc = SmallDocument();
  Json j = Json::parse(CycloneDxJson(doc));
  EXPECT_EQ(j["serialNumber"], "urn:uuid:14c968d8-1704-5054-adf2-30416f8b4e98");  // Python uuid5
  EXPECT_EQ(j["metadata"]["timestamp"], "2024-01-02T03:04:05Z");
  EXPECT_EQ(j["metadata"]["component"]["type"], "container");
  std::string root = j["metadata"]["component"]["bom-ref"];
  ASSERT_EQ(j["components"].size(), 3u);
  const Json& libc = j["components"][1];
  EXPECT_EQ(libc["bom-ref"], PackageUrl(doc.packages[1], kBookworm));
  EXPECT_EQ(libc["supplier"]["name"], "GNU Libc Maintainers");
  EXPECT_EQ(libc["supplier"]["contact"][0]["email"], "debian-glibc@lists.debian.org");
  EXPECT_EQ(libc["licenses"][0]["expression"], "LGPL-2.1-or-later AND LicenseRef-glibc");
  EXPECT_EQ(libc["hashes"][0]["alg"], "SHA-256");
  EXPECT_EQ(j["components"][2]["supplier"], Json({{"name", "Debian"}}));
  ASSERT_EQ(j["dependencies"].size(), 4u);
  EXPECT_EQ(j["dependencies"][0]["ref"], root);
  EXPECT_EQ(j["dependencies"][0]["dependsOn"].size(), 3u);
  EXPECT_THAT(j["dependencies"][1]["dependsOn"], ElementsAre(libc["bom-ref"]));
  EXPECT_THAT(j["dependencies"][3]["dependsOn"], ElementsAre());
}

TEST(DeterminismTest, SameDocumentSameBytesWhateverThePackageOrder) {
  Document a = SmallDocument();
  Document b = a;
  std::swap(b.packages[0], b.packages[2]);
  EXPECT_EQ(SpdxJson(a), SpdxJson(b));
  EXPECT_EQ(CycloneDxJson(a), CycloneDxJson(b));
  // The identifiers follow the digest, and the content (an SBOM without the .deb hashes is
  // another document about the same image).
  b.image_digest = "sha256:" + std::string(64, 'e');
  EXPECT_THAT(SpdxJson(b), Not(HasSubstr("93d895a3")));
  EXPECT_THAT(CycloneDxJson(b), Not(HasSubstr("14c968d8")));
  Document c = a;
  c.packages[1].sha256.clear();
  EXPECT_THAT(SpdxJson(c), Not(HasSubstr("93d895a3")));
  EXPECT_THAT(CycloneDxJson(c), Not(HasSubstr("14c968d8")));
}

TEST(DeterminismTest, InvalidUtf8DoesNotThrow) {
  Document doc = SmallDocument();
  doc.packages[0].maintainer = "J\xe9r\xf4me <j@example.org>";  // Latin-1
  EXPECT_THAT(SpdxJson(doc), HasSubstr("J\xef\xbf\xbdr"));      // U+FFFD
  EXPECT_NO_THROW(CycloneDxJson(doc));
}

}  // namespace
}  // namespace hardbase::sbom

namespace hardbase::sbom {
namespace {

TEST(HomepageTest, OnlyWebUrlsAreWritten) {
  Document doc = SmallDocument();
  doc.packages[0].homepage = "see the README";
  doc.packages[1].homepage = "https://www.gnu.org/software/libc/";
  std::string spdx = SpdxJson(doc);
  std::string cdx = CycloneDxJson(doc);
  EXPECT_EQ(spdx.find("see the README"), std::string::npos);
  EXPECT_EQ(cdx.find("see the README"), std::string::npos);
  EXPECT_NE(spdx.find("https://www.gnu.org/software/libc/"), std::string::npos);
  EXPECT_NE(cdx.find("https://www.gnu.org/software/libc/"), std::string::npos);
}

}  // namespace
}  // namespace hardbase::sbom
