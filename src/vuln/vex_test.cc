#include "vuln/vex.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/result_matchers.h"

namespace hardbase::vuln {
namespace {

using ::hardbase::testing::FailsWith;

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const deb::Distro kBookworm{"debian", "12", "bookworm"};

const std::string kVexDigest =
    "sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270";

// A v0.2.0 document as vexctl writes it: the image as a product with a package subcomponent.
const char kDocument[] = R"({
  "@context": "https://openvex.dev/ns/v0.2.0",
  "@id": "https://example.test/vex/glibc-2024-001",
  "author": "Platform Security <security@example.test>",
  "timestamp": "2024-05-01T10:00:00Z",
  "version": 1,
  "statements": [
    {
      "vulnerability": {"@id": "https://nvd.nist.gov/vuln/detail/CVE-2024-2961",
                        "name": "CVE-2024-2961", "aliases": ["GHSA-xxxx-yyyy-zzzz"]},
      "products": [
        {"@id": "pkg:oci/java17@sha256%3A5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270?arch=amd64",
         "subcomponents": [{"@id": "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64"},
                           {"identifiers": {"purl": "pkg:deb/debian/libc-bin"}}]}
      ],
      "status": "not_affected",
      "justification": "vulnerable_code_not_in_execute_path",
      "impact_statement": "iconv with ISO-2022-CN-EXT is never called"
    },
    {
      "vulnerability": {"name": "CVE-2023-4911"},
      "products": ["sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270"],
      "status": "affected",
      "action_statement": "upgrade glibc",
      "timestamp": "2024-05-02T00:00:00+02:00"
    }
  ]
})";

Finding MakeFinding(std::string id, std::string package, std::string version) {
  Finding f;
  f.id = std::move(id);
  f.package = std::move(package);
  f.version = std::move(version);
  f.source = f.package;
  f.source_version = f.version;
  return f;
}

VexDocument Doc(std::string id, std::vector<VexStatement> statements) {
  return VexDocument{std::move(id), std::move(statements)};
}

VexStatement Statement(std::string vulnerability, std::string status, std::string timestamp = "") {
  VexStatement s;
  s.vulnerability = std::move(vulnerability);
  s.status = std::move(status);
  if (s.status == "not_affected") s.justification = "vulnerable_code_not_present";
  s.timestamp = std::move(timestamp);
  return s;
}

TEST(ParseOpenVexTest, ReadsV020Document) {
  auto doc = ParseOpenVex(kDocument, "glibc.openvex.json");
  ASSERT_TRUE(doc.has_value()) << doc.error().message;
  EXPECT_EQ(doc->id, "https://example.test/vex/glibc-2024-001");
  ASSERT_EQ(doc->statements.size(), 2u);
  const VexStatement& s = doc->statements[0];
  EXPECT_EQ(s.vulnerability, "CVE-2024-2961");
  EXPECT_THAT(s.aliases,
              ElementsAre("https://nvd.nist.gov/vuln/detail/CVE-2024-2961", "GHSA-xxxx-yyyy-zzzz"));
  EXPECT_THAT(s.products,
              ElementsAre("pkg:oci/java17@sha256%3A5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f"
                          "0ad69efa1f392e94a4333501270?arch=amd64"));
  EXPECT_THAT(s.subcomponents, ElementsAre("pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64",
                                           "pkg:deb/debian/libc-bin"));
  EXPECT_EQ(s.status, "not_affected");
  EXPECT_EQ(s.justification, "vulnerable_code_not_in_execute_path");
  EXPECT_EQ(s.impact_statement, "iconv with ISO-2022-CN-EXT is never called");
  EXPECT_EQ(s.timestamp, "2024-05-01T10:00:00Z");  // the document's
  EXPECT_EQ(doc->statements[1].timestamp, "2024-05-02T00:00:00+02:00");
  EXPECT_THAT(doc->statements[1].products, ElementsAre(kVexDigest));
}

TEST(ParseOpenVexTest, ReadsV00xStringForms) {
  auto doc = ParseOpenVex(
      R"({"@context": "https://openvex.dev/ns", "timestamp": "2023-01-09T21:23:03.579712389-06:00",
    "statements": [{"vulnerability": "CVE-2023-1234", "products": ["pkg:oci/app@sha256:abc"],
                    "subcomponents": ["pkg:deb/debian/zlib1g"], "status": "fixed"}]})",
      "old.json");
  ASSERT_TRUE(doc.has_value()) << doc.error().message;
  EXPECT_EQ(doc->id, "old.json");  // no @id: the name it was read from
  ASSERT_EQ(doc->statements.size(), 1u);
  EXPECT_EQ(doc->statements[0].vulnerability, "CVE-2023-1234");
  EXPECT_THAT(doc->statements[0].products, ElementsAre("pkg:oci/app@sha256:abc"));
  EXPECT_THAT(doc->statements[0].subcomponents, ElementsAre("pkg:deb/debian/zlib1g"));
  EXPECT_EQ(doc->statements[0].status, "fixed");
}

TEST(ParseOpenVexTest, RejectsWhatIsNotOpenVex) {
  auto rejects = [](const std::string& json, const std::string& message) {
    auto doc = ParseOpenVex(json, "x.json");
    ASSERT_FALSE(doc.has_value()) << json;
    EXPECT_THAT(doc, FailsWith(ErrorCode::kSpec));
    EXPECT_THAT(doc.error().message, HasSubstr("x.json"));
    EXPECT_THAT(doc.error().message, HasSubstr(message)) << json;
  };
  const std::string ctx = R"("@context": "https://openvex.dev/ns/v0.2.0", )";
  rejects("{", "not JSON");
  rejects("[]", "not a JSON object");
  rejects(R"({"@context": "https://cyclonedx.org", "statements": []})", "@context");
  rejects("{" + ctx + R"("statements": {}})", "no statements");
  rejects("{" + ctx +
              R"("statements": [{"vulnerability": {"name": "CVE-1"}, "status": "not_affected"}]})",
          "statement 0: not_affected needs a justification or an impact_statement");
  rejects("{" + ctx + R"("statements": [{"vulnerability": {"name": "CVE-1"}, "status": "maybe"}]})",
          "status 'maybe'");
  rejects("{" + ctx + R"("statements": [{"status": "affected"}]})", "no vulnerability");
  rejects(
      "{" + ctx +
          R"("statements": [{"vulnerability": "CVE-1", "status": "not_affected", "justification": "trust_me"}]})",
      "unknown justification 'trust_me'");
  rejects(
      "{" + ctx +
          R"("statements": [{"vulnerability": "CVE-1", "status": "fixed", "timestamp": "yesterday"}]})",
      "not RFC 3339");
  rejects("{" + ctx +
              R"("statements": [{"vulnerability": "CVE-1", "status": "fixed", "products": [{}]}]})",
          "products[0]: neither @id nor identifiers.purl");
  rejects("{" + ctx + R"("statements": [{"vulnerability": "CVE-1", "status": 3}]})",
          "status is not a string");

  // An impact statement alone is enough for not_affected.
  EXPECT_TRUE(ParseOpenVex(
      "{" + ctx +
          R"("statements": [{"vulnerability": "CVE-1", "status": "not_affected", "impact_statement": "not used"}]})",
      "x.json"));
}

TEST(ApplyVexTest, ParsedDocumentSuppressesOnlyWhatItNames) {
  auto doc = ParseOpenVex(kDocument, "glibc.openvex.json");
  ASSERT_TRUE(doc.has_value()) << doc.error().message;
  std::vector<Finding> findings = {
      MakeFinding("CVE-2024-2961", "libc6", "2.36-9+deb12u4"),
      MakeFinding("CVE-2024-2961", "libc-bin", "2.36-9+deb12u4"),
      MakeFinding("CVE-2024-2961", "libc-dev-bin", "2.36-9+deb12u4"),  // not a subcomponent
      MakeFinding("CVE-2023-4911", "libc6", "2.36-9+deb12u4"),
  };
  ApplyVex({*doc}, {"registry.test/java17:1", kVexDigest}, kBookworm, findings);
  EXPECT_TRUE(findings[0].suppressed);
  EXPECT_EQ(findings[0].vex_status, "not_affected");
  EXPECT_EQ(findings[0].vex_justification, "vulnerable_code_not_in_execute_path");
  EXPECT_EQ(findings[0].vex_document, "https://example.test/vex/glibc-2024-001");
  EXPECT_TRUE(findings[1].suppressed);
  EXPECT_FALSE(findings[2].suppressed);
  EXPECT_EQ(findings[2].vex_status, "");
  EXPECT_FALSE(findings[3].suppressed);  // affected: recorded, not suppressed
  EXPECT_EQ(findings[3].vex_status, "affected");

  // Another image: nothing applies.
  std::vector<Finding> other = {MakeFinding("CVE-2024-2961", "libc6", "2.36-9+deb12u4")};
  ApplyVex({*doc}, {"sha256:" + std::string(64, 'e')}, kBookworm, other);
  EXPECT_FALSE(other[0].suppressed);
  EXPECT_EQ(other[0].vex_status, "");
}

TEST(ApplyVexTest, ProductsMatchByIdPurlOrDigest) {
  const std::string hex(64, 'a');
  const std::vector<std::string> image = {"registry.test/app:1", "sha256:" + hex,
                                          "pkg:oci/app@sha256%3A" + hex + "?arch=amd64&tag=1"};
  auto covered = [&](const std::string& product) {
    VexStatement s = Statement("CVE-1", "fixed");
    s.products = {product};
    std::vector<Finding> findings = {MakeFinding("CVE-1", "zlib1g", "1:1.2.13.dfsg-1")};
    ApplyVex({Doc("d", {s})}, image, kBookworm, findings);
    return findings[0].suppressed;
  };
  EXPECT_TRUE(covered("registry.test/app:1"));
  EXPECT_TRUE(covered("sha256:" + hex));
  EXPECT_TRUE(covered("pkg:oci/app@sha256:" + hex));
  EXPECT_TRUE(covered("pkg:oci/other-name@sha256%3A" + hex + "?repository_url=registry.test/app"));
  EXPECT_TRUE(covered("pkg:oci/app@sha256%3A" + hex + "?tag=1&arch=amd64"));  // qualifier order
  EXPECT_FALSE(covered("registry.test/app:2"));
  EXPECT_FALSE(covered("sha256:" + std::string(64, 'b')));
  EXPECT_FALSE(covered("pkg:oci/app@sha256%3A" + std::string(64, 'b')));
  // A Debian package as the product: the statement is about that package wherever it is.
  EXPECT_TRUE(covered("pkg:deb/debian/zlib1g"));
  EXPECT_FALSE(covered("pkg:deb/debian/zlib1g@1.2.13.dfsg-1"));  // another version
  EXPECT_FALSE(covered("pkg:deb/debian/libssl3"));
}

TEST(ApplyVexTest, SubcomponentsMatchPackageAndVersion) {
  auto covered = [](const std::string& subcomponent) {
    VexStatement s = Statement("CVE-1", "not_affected");
    s.subcomponents = {subcomponent};
    Finding f = MakeFinding("CVE-1", "libcrypt1", "1:4.4.33-2");
    f.source = "libxcrypt";
    f.source_version = "1:4.4.33-1";
    std::vector<Finding> findings = {f};
    ApplyVex({Doc("d", {s})}, {}, kBookworm, findings);
    return findings[0].suppressed;
  };
  EXPECT_TRUE(covered("pkg:deb/debian/libcrypt1"));
  EXPECT_TRUE(covered("pkg:deb/debian/libcrypt1@1%3A4.4.33-2?arch=amd64&distro=debian-12"));
  EXPECT_TRUE(covered("pkg:deb/debian/libcrypt1@1:4.4.33-2"));
  EXPECT_TRUE(covered("pkg:deb/debian/libxcrypt@1%3A4.4.33-1?arch=source"));
  EXPECT_FALSE(covered("pkg:deb/debian/libcrypt1@4.4.33-2"));  // no epoch: another version
  EXPECT_FALSE(covered("pkg:deb/debian/libcrypt1@1%3A4.4.33-1"));
  EXPECT_FALSE(covered("pkg:deb/debian/libxcrypt"));  // the source, without arch=source
  EXPECT_FALSE(covered("pkg:deb/ubuntu/libcrypt1"));
  EXPECT_FALSE(covered("pkg:rpm/debian/libcrypt1"));
  EXPECT_FALSE(covered("libcrypt1"));
  EXPECT_FALSE(covered("pkg:deb/debian/libcrypt1@1%zz"));  // not a purl
  // The purl a scan or an SBOM writes for the package, and other spellings of it.
  EXPECT_TRUE(
      covered("pkg:deb/debian/libcrypt1@1:4.4.33-2?arch=amd64&distro=debian-12&"
              "upstream=libxcrypt%401:4.4.33-1"));
  EXPECT_TRUE(covered("PKG:DEB/Debian/libcrypt1@1:4.4.33-2"));
}

// The packages of another distribution's image are named with its ID as the namespace.
TEST(ApplyVexTest, TheImagesDistroNamesItsPackages) {
  VexStatement s = Statement("CVE-1", "not_affected");
  s.products = {"pkg:deb/ubuntu/libssl3@3.0.13-0ubuntu3"};
  auto suppressed = [&](const deb::Distro& distro) {
    std::vector<Finding> findings = {MakeFinding("CVE-1", "libssl3", "3.0.13-0ubuntu3")};
    ApplyVex({Doc("d", {s})}, {}, distro, findings);
    return findings[0].suppressed;
  };
  EXPECT_TRUE(suppressed(deb::Distro{"ubuntu", "24.04", "noble"}));
  EXPECT_FALSE(suppressed(kBookworm));
  EXPECT_FALSE(suppressed(deb::Distro{}));
}

TEST(ApplyVexTest, LaterStatementWins) {
  std::vector<Finding> findings = {MakeFinding("CVE-1", "zlib1g", "1:1.2.13.dfsg-1")};
  // The newer statement comes first in the documents; offsets and fractions are compared as
  // instants (10:30+02:00 is 08:30Z, before 09:00:00.5Z).
  VexDocument newer = Doc("newer", {Statement("CVE-1", "affected", "2024-03-01T09:00:00.5Z")});
  VexDocument older =
      Doc("older", {Statement("CVE-1", "not_affected", "2024-03-01T10:30:00+02:00")});
  ApplyVex({newer, older}, {}, kBookworm, findings);
  EXPECT_FALSE(findings[0].suppressed);
  EXPECT_EQ(findings[0].vex_status, "affected");
  EXPECT_EQ(findings[0].vex_document, "newer");

  // Equal times: the one written last wins.
  VexDocument same =
      Doc("same", {Statement("CVE-1", "under_investigation", "2024-03-01T09:00:00.5Z"),
                   Statement("CVE-1", "fixed", "2024-03-01T09:00:00.500Z")});
  findings = {MakeFinding("CVE-1", "zlib1g", "1:1.2.13.dfsg-1")};
  ApplyVex({same}, {}, kBookworm, findings);
  EXPECT_TRUE(findings[0].suppressed);
  EXPECT_EQ(findings[0].vex_status, "fixed");
}

TEST(ApplyVexTest, MatchesAliasesAndAdvisories) {
  Finding f = MakeFinding("CVE-2024-2961", "libc6", "2.36-9+deb12u4");
  f.advisories = {"DLA-3807-1", "DSA-5671-1"};
  auto status = [&](VexStatement s) {
    std::vector<Finding> findings = {f};
    ApplyVex({Doc("d", {std::move(s)})}, {}, kBookworm, findings);
    return findings[0].vex_status;
  };
  EXPECT_EQ(status(Statement("DSA-5671-1", "fixed")), "fixed");
  EXPECT_EQ(status(Statement("cve-2024-2961", "fixed")), "fixed");
  VexStatement aliased = Statement("GHSA-1234", "under_investigation");
  aliased.aliases = {"CVE-2024-2961"};
  EXPECT_EQ(status(aliased), "under_investigation");
  EXPECT_EQ(status(Statement("CVE-2024-2962", "fixed")), "");
  EXPECT_EQ(status(Statement("DSA-5671", "fixed")), "");
}

}  // namespace
}  // namespace hardbase::vuln
