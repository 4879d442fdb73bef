#include "sbom/document.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "base/purl.h"
#include "base/sha256.h"
#include "base/strings.h"
#include "deb/purl.h"
#include "sbom/copyright.h"

namespace hardbase::sbom {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kNoAssertion = "NOASSERTION";
// Supplier of a package whose Maintainer is unknown: the distribution it came from.
constexpr std::string_view kDefaultSupplier = "Debian";

// A Homepage field both formats can carry: an http(s) URL without spaces or control characters
// (the field is free text in a package's control file; anything else would fail validation).
bool IsWebUrl(std::string_view s) {
  if (!s.starts_with("https://") && !s.starts_with("http://")) return false;
  return std::none_of(s.begin(), s.end(), [](char c) {
    return static_cast<unsigned char>(c) <= ' ' || c == '"' || c == '<' || c == '>' || c == '\\';
  });
}

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// The hex of "sha256:<hex>" (the whole string when it has no algorithm prefix).
std::string_view DigestHex(std::string_view digest) {
  size_t colon = digest.find(':');
  return colon == std::string_view::npos ? digest : digest.substr(colon + 1);
}

// What makes one document differ from another about the same image (an SBOM made from the
// image's files lacks the .deb hashes of the one stored at build time): the identifier input.
std::string ContentKey(const Document& doc) {
  std::vector<std::string> lines;
  for (const auto& p : doc.packages) {
    lines.push_back(p.name + " " + p.version + " " + p.architecture + " " + p.sha256 + " " +
                    p.license);
  }
  std::sort(lines.begin(), lines.end());
  std::string key = doc.image_digest;
  for (const auto& line : lines) key += "\n" + line;
  return key;
}

// Name-based UUID (RFC 4122 version 5, SHA-1) in the URL namespace: a serial number or document
// namespace that is unique per document yet the same on every rebuild.
std::string Uuid5(std::string_view name) {
  static constexpr std::array<unsigned char, 16> kUrlNamespace = {
      0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1,
      0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int md_len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha1(), nullptr) &&
            EVP_DigestUpdate(ctx, kUrlNamespace.data(), kUrlNamespace.size()) &&
            EVP_DigestUpdate(ctx, name.data(), name.size()) &&
            EVP_DigestFinal_ex(ctx, md.data(), &md_len);
  EVP_MD_CTX_free(ctx);
  if (!ok) std::abort();  // only on allocation failure: OpenSSL always has SHA-1
  md[6] = static_cast<unsigned char>((md[6] & 0x0f) | 0x50);
  md[8] = static_cast<unsigned char>((md[8] & 0x3f) | 0x80);
  std::string hex = ToHex(std::string_view(reinterpret_cast<const char*>(md.data()), 16));
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

// Debian architecture -> the OCI (Go) name used by the image's purl.
std::string OciArch(std::string_view debian) {
  static const std::map<std::string_view, std::string_view> kArchs = {
      {"armel", "arm"},       {"armhf", "arm"},         {"i386", "386"},
      {"ppc64el", "ppc64le"}, {"mips64el", "mips64le"}, {"mipsel", "mipsle"}};
  auto it = kArchs.find(debian);
  return std::string(it == kArchs.end() ? debian : it->second);
}

std::string ImagePurlOf(const Document& doc) {
  return ImagePurl(doc.name, doc.image_digest, doc.architecture);
}

// "Name <email>" split; an email is kept only when it looks like one (CycloneDX validates it).
struct Contact {
  std::string name, email;
};

Contact ParseMaintainer(std::string_view field) {
  auto trim = [](std::string_view s) { return std::string(Trim(s)); };
  Contact c;
  size_t lt = field.find('<');
  size_t gt = field.find('>', lt == std::string_view::npos ? 0 : lt);
  if (lt == std::string_view::npos || gt == std::string_view::npos) {
    c.name = trim(field);
  } else {
    c.name = trim(field.substr(0, lt));
    std::string email = trim(field.substr(lt + 1, gt - lt - 1));
    size_t at = email.find('@');
    if (at != std::string::npos && at > 0 && at + 1 < email.size() &&
        email.find_first_of(" \t<>()", 0) == std::string::npos) {
      c.email = email;
    }
  }
  if (c.name.empty()) c.name = c.email.empty() ? std::string(kDefaultSupplier) : c.email;
  return c;
}

// SPDX "Organization: Name (email)" for teams and lists, "Person: Name (email)" otherwise.
std::string SpdxSupplier(const Package& pkg) {
  if (pkg.maintainer.empty()) return "Organization: " + std::string(kDefaultSupplier);
  Contact c = ParseMaintainer(pkg.maintainer);
  std::string lower = AsciiLower(c.name);
  bool organization = c.name == kDefaultSupplier;
  for (std::string_view word :
       {"team", "maintainers", "group", "project", "developers", "packagers", "debian"}) {
    organization = organization || lower.find(word) != std::string::npos;
  }
  std::string out = (organization ? "Organization: " : "Person: ") + c.name;
  if (!c.email.empty()) out += " (" + c.email + ")";
  return out;
}

std::vector<const Package*> Sorted(const Document& doc) {
  std::vector<const Package*> sorted;
  for (const Package& p : doc.packages) sorted.push_back(&p);
  std::stable_sort(sorted.begin(), sorted.end(), [](const Package* a, const Package* b) {
    return std::tie(a->name, a->architecture, a->version) <
           std::tie(b->name, b->architecture, b->version);
  });
  return sorted;
}

// For each package (in `sorted` order) the sorted, distinct indexes of the packages it depends on.
std::vector<std::vector<size_t>> DependencyIndexes(const std::vector<const Package*>& sorted) {
  std::multimap<std::string_view, size_t> by_name;
  for (size_t i = 0; i < sorted.size(); ++i) by_name.emplace(sorted[i]->name, i);
  std::vector<std::vector<size_t>> deps(sorted.size());
  for (size_t i = 0; i < sorted.size(); ++i) {
    std::set<size_t> targets;
    for (const std::string& name : sorted[i]->depends) {
      auto [first, last] = by_name.equal_range(name);
      for (auto it = first; it != last; ++it) {
        if (it->second != i) targets.insert(it->second);
      }
    }
    deps[i].assign(targets.begin(), targets.end());
  }
  return deps;
}

// A unique SPDXID: the name reduced to SPDX's idstring characters plus a hash of the purl.
std::string SpdxPackageId(const Package& pkg, const deb::Distro& distro) {
  std::string id = "SPDXRef-Package-deb-";
  for (char c : pkg.name) id += IsAlnum(c) || c == '.' || c == '-' ? c : '-';
  return id + "-" + Sha256Hex(PackageUrl(pkg, distro)).substr(0, 16);
}

std::string Dump(const Json& json) {
  return json.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

Json SpdxRelationship(const std::string& from, std::string_view type, const std::string& to) {
  return Json{{"spdxElementId", from}, {"relationshipType", type}, {"relatedSpdxElement", to}};
}

Json SpdxPurlRef(const std::string& purl) {
  return Json{{"referenceCategory", "PACKAGE-MANAGER"},
              {"referenceType", "purl"},
              {"referenceLocator", purl}};
}

}  // namespace

std::string PackageUrl(const Package& pkg, const deb::Distro& distro) {
  return deb::PackagePurl(distro, pkg.name, pkg.version, pkg.architecture, pkg.source,
                          pkg.source_version)
      .ToString();
}

std::string ImagePurl(std::string_view name, std::string_view digest,
                      std::string_view debian_architecture) {
  Purl purl;
  purl.type = "oci";
  purl.name = name;
  purl.version = digest;
  purl.qualifiers["arch"] = OciArch(debian_architecture);
  return purl.ToString();
}

std::string Cpe23(const Package& pkg) {
  // CPE 2.3 formatted-string binding: letters, digits and '_' as they are, any other printable
  // character backslash-quoted except '-' and '.' inside a value.
  auto quote = [](std::string_view value) {
    if (value.empty()) return std::string("*");
    std::string out;
    for (char c : AsciiLower(value)) {
      if (!IsAlnum(c) && c != '_' && c != '-' && c != '.') out += '\\';
      out += c;
    }
    return out;
  };
  std::string product = quote(pkg.source.empty() ? pkg.name : pkg.source);
  return "cpe:2.3:a:" + product + ":" + product + ":" + quote(pkg.version) + ":*:*:*:*:*:*:*";
}

std::string SpdxJson(const Document& doc) {
  std::vector<const Package*> sorted = Sorted(doc);
  std::vector<std::string> ids;
  for (const Package* p : sorted) ids.push_back(SpdxPackageId(*p, doc.distro));
  const std::string image_id = "SPDXRef-Image";
  std::string hex(DigestHex(doc.image_digest));

  Json packages = Json::array();
  packages.push_back(Json{
      {"name", doc.name},
      {"SPDXID", image_id},
      {"versionInfo", doc.image_digest},
      {"supplier", kNoAssertion},
      {"downloadLocation", kNoAssertion},
      {"filesAnalyzed", false},
      {"checksums", Json::array({Json{{"algorithm", "SHA256"}, {"checksumValue", hex}}})},
      {"licenseConcluded", kNoAssertion},
      {"licenseDeclared", kNoAssertion},
      {"copyrightText", kNoAssertion},
      {"externalRefs", Json::array({SpdxPurlRef(ImagePurlOf(doc))})},
      {"primaryPackagePurpose", "CONTAINER"},
  });
  std::set<std::string> license_refs;
  for (size_t i = 0; i < sorted.size(); ++i) {
    const Package& p = *sorted[i];
    Json j{{"name", p.name},
           {"SPDXID", ids[i]},
           {"versionInfo", p.version},
           {"supplier", SpdxSupplier(p)},
           {"downloadLocation", kNoAssertion},
           {"filesAnalyzed", false}};
    if (!p.sha256.empty()) {
      j["checksums"] = Json::array({Json{{"algorithm", "SHA256"}, {"checksumValue", p.sha256}}});
    }
    if (IsWebUrl(p.homepage)) j["homepage"] = p.homepage;
    if (!p.source.empty() || !p.source_version.empty()) {
      j["sourceInfo"] = "built package from: " + (p.source.empty() ? p.name : p.source) + " " +
                        (p.source_version.empty() ? p.version : p.source_version);
    }
    j["licenseConcluded"] = kNoAssertion;
    j["licenseDeclared"] = p.license.empty() ? std::string(kNoAssertion) : p.license;
    j["copyrightText"] = kNoAssertion;
    j["externalRefs"] =
        Json::array({SpdxPurlRef(PackageUrl(p, doc.distro)), Json{{"referenceCategory", "SECURITY"},
                                                                  {"referenceType", "cpe23Type"},
                                                                  {"referenceLocator", Cpe23(p)}}});
    packages.push_back(std::move(j));
    license_refs.merge(LicenseRefsIn(p.license));
  }

  Json relationships = Json::array();
  relationships.push_back(SpdxRelationship("SPDXRef-DOCUMENT", "DESCRIBES", image_id));
  for (const std::string& id : ids)
    relationships.push_back(SpdxRelationship(image_id, "CONTAINS", id));
  std::vector<std::vector<size_t>> deps = DependencyIndexes(sorted);
  for (size_t i = 0; i < sorted.size(); ++i) {
    for (size_t d : deps[i])
      relationships.push_back(SpdxRelationship(ids[i], "DEPENDS_ON", ids[d]));
  }

  Json out{
      {"spdxVersion", "SPDX-2.3"},
      {"dataLicense", "CC0-1.0"},
      {"SPDXID", "SPDXRef-DOCUMENT"},
      {"name", doc.name + "@" + doc.image_digest},
      {"documentNamespace", "https://spdx.org/spdxdocs/" + PurlEncode(doc.name) + "-" +
                                Uuid5("hardbase:spdx:" + ContentKey(doc))},
      {"creationInfo", Json{{"created", doc.created},
                            {"creators", Json::array({"Tool: hardbase-" + doc.tool_version})}}},
      {"packages", std::move(packages)},
  };
  if (!license_refs.empty()) {
    Json infos = Json::array();
    for (const std::string& ref : license_refs) {
      auto text = doc.license_texts.find(ref);
      infos.push_back(Json{
          {"licenseId", ref},
          {"extractedText", text != doc.license_texts.end()
                                ? text->second
                                : "The text of this licence was not recorded; see the Debian "
                                  "copyright file of the packages that declare it."},
          {"name", ref.substr(11)},
      });
    }
    out["hasExtractedLicensingInfos"] = std::move(infos);
  }
  out["relationships"] = std::move(relationships);
  return Dump(out);
}

std::string CycloneDxJson(const Document& doc) {
  std::vector<const Package*> sorted = Sorted(doc);
  std::vector<std::string> refs;
  for (const Package* p : sorted) refs.push_back(PackageUrl(*p, doc.distro));
  const std::string image_ref = ImagePurlOf(doc);

  Json components = Json::array();
  for (size_t i = 0; i < sorted.size(); ++i) {
    const Package& p = *sorted[i];
    Contact supplier = ParseMaintainer(p.maintainer);
    Json supplier_json{{"name", supplier.name}};
    if (!supplier.email.empty()) {
      supplier_json["contact"] =
          Json::array({Json{{"name", supplier.name}, {"email", supplier.email}}});
    }
    Json c{{"type", "library"},
           {"bom-ref", refs[i]},
           {"supplier", std::move(supplier_json)},
           {"name", p.name},
           {"version", p.version}};
    if (!p.sha256.empty()) {
      c["hashes"] = Json::array({Json{{"alg", "SHA-256"}, {"content", p.sha256}}});
    }
    if (!p.license.empty()) c["licenses"] = Json::array({Json{{"expression", p.license}}});
    c["cpe"] = Cpe23(p);
    c["purl"] = refs[i];
    if (IsWebUrl(p.homepage)) {
      c["externalReferences"] = Json::array({Json{{"type", "website"}, {"url", p.homepage}}});
    }
    components.push_back(std::move(c));
  }

  Json dependencies = Json::array();
  dependencies.push_back(Json{{"ref", image_ref}, {"dependsOn", refs}});
  std::vector<std::vector<size_t>> deps = DependencyIndexes(sorted);
  for (size_t i = 0; i < sorted.size(); ++i) {
    Json on = Json::array();
    for (size_t d : deps[i]) on.push_back(refs[d]);
    dependencies.push_back(Json{{"ref", refs[i]}, {"dependsOn", std::move(on)}});
  }

  Json tool{{"type", "application"}, {"name", "hardbase"}, {"version", doc.tool_version}};
  Json root{{"type", "container"},
            {"bom-ref", image_ref},
            {"name", doc.name},
            {"version", doc.image_digest},
            {"hashes", Json::array({Json{{"alg", "SHA-256"},
                                         {"content", std::string(DigestHex(doc.image_digest))}}})},
            {"purl", image_ref}};
  Json out{
      {"bomFormat", "CycloneDX"},
      {"specVersion", "1.5"},
      {"serialNumber", "urn:uuid:" + Uuid5("hardbase:cyclonedx:" + ContentKey(doc))},
      {"version", 1},
      {"metadata", Json{{"timestamp", doc.created},
                        {"tools", Json{{"components", Json::array({std::move(tool)})}}},
                        {"component", std::move(root)}}},
      {"components", std::move(components)},
      {"dependencies", std::move(dependencies)},
  };
  return Dump(out);
}

}  // namespace hardbase::sbom
