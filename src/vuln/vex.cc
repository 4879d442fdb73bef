#include "vuln/vex.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <utility>

#include "base/json_limits.h"
#include "base/purl.h"
#include "base/strings.h"
#include "base/time.h"

namespace hardbase::vuln {
namespace {

using nlohmann::json;

const std::set<std::string, std::less<>> kStatuses = {"not_affected", "affected", "fixed",
                                                      "under_investigation"};
const std::set<std::string, std::less<>> kJustifications = {
    "component_not_present", "vulnerable_code_not_present", "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary", "inline_mitigations_already_exist"};

// A string member of `object`: "" when absent or null, an error when of another type.
Result<std::string> StringField(const json& object, const char* key, std::string_view where) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::string();
  if (!it->is_string())
    return Fail(ErrorCode::kSpec, std::string(where) + ": " + key + " is not a string");
  return it->get<std::string>();
}

// An array member of `object`: empty when absent or null, an error when of another type.
Result<json> ArrayField(const json& object, const char* key, std::string_view where) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return json::array();
  if (!it->is_array())
    return Fail(ErrorCode::kSpec, std::string(where) + ": " + key + " is not an array");
  return *it;
}

// The identifiers of a product or subcomponent: a plain string, or an object's @id and
// identifiers.purl (either may be missing, not both).
Result<std::vector<std::string>> ComponentIds(const json& component, std::string_view where) {
  if (component.is_string()) return std::vector<std::string>{component.get<std::string>()};
  if (!component.is_object())
    return Fail(ErrorCode::kSpec, std::string(where) + " is not an object");
  std::vector<std::string> ids;
  HB_TRY(std::string id, StringField(component, "@id", where));
  if (!id.empty()) ids.push_back(id);
  auto identifiers = component.find("identifiers");
  if (identifiers != component.end() && identifiers->is_object()) {
    HB_TRY(std::string purl, StringField(*identifiers, "purl", where));
    if (!purl.empty() && purl != id) ids.push_back(purl);
  }
  if (ids.empty())
    return Fail(ErrorCode::kSpec, std::string(where) + ": neither @id nor identifiers.purl");
  return ids;
}

Result<void> AddComponents(const json& list, std::string_view where,
                           std::vector<std::string>& out) {
  for (size_t i = 0; i < list.size(); ++i) {
    HB_TRY(std::vector<std::string> ids,
           ComponentIds(list[i], std::string(where) + "[" + std::to_string(i) + "]"));
    out.insert(out.end(), ids.begin(), ids.end());
  }
  return {};
}

Result<VexStatement> ParseStatement(const json& s, const std::string& where,
                                    const std::string& document_timestamp) {
  if (!s.is_object()) return Fail(ErrorCode::kSpec, where + " is not an object");
  VexStatement statement;
  auto vulnerability = s.find("vulnerability");
  if (vulnerability != s.end() && vulnerability->is_string()) {  // OpenVEX v0.0.x
    statement.vulnerability = vulnerability->get<std::string>();
  } else if (vulnerability != s.end() && vulnerability->is_object()) {
    std::string w = where + ": vulnerability";
    HB_TRY(statement.vulnerability, StringField(*vulnerability, "name", w));
    HB_TRY(std::string id, StringField(*vulnerability, "@id", w));
    if (statement.vulnerability.empty()) {
      statement.vulnerability = id;
    } else if (!id.empty()) {
      statement.aliases.push_back(id);
    }
    HB_TRY(json aliases, ArrayField(*vulnerability, "aliases", w));
    for (const json& alias : aliases) {
      if (!alias.is_string()) return Fail(ErrorCode::kSpec, w + ": an alias is not a string");
      statement.aliases.push_back(alias.get<std::string>());
    }
  }
  if (statement.vulnerability.empty()) return Fail(ErrorCode::kSpec, where + ": no vulnerability");

  HB_TRY(json products, ArrayField(s, "products", where));
  for (size_t i = 0; i < products.size(); ++i) {
    std::string w = where + ": products[" + std::to_string(i) + "]";
    HB_TRY(std::vector<std::string> ids, ComponentIds(products[i], w));
    statement.products.insert(statement.products.end(), ids.begin(), ids.end());
    if (products[i].is_object()) {
      HB_TRY(json subcomponents, ArrayField(products[i], "subcomponents", w));
      HB_TRY_VOID(AddComponents(subcomponents, w + ": subcomponents", statement.subcomponents));
    }
  }
  HB_TRY(json subcomponents, ArrayField(s, "subcomponents", where));  // v0.0.x
  HB_TRY_VOID(AddComponents(subcomponents, where + ": subcomponents", statement.subcomponents));

  HB_TRY(statement.status, StringField(s, "status", where));
  if (!kStatuses.count(statement.status)) {
    return Fail(ErrorCode::kSpec,
                where + ": status '" + statement.status +
                    "' is none of not_affected, affected, fixed, under_investigation");
  }
  HB_TRY(statement.justification, StringField(s, "justification", where));
  if (!statement.justification.empty() && !kJustifications.count(statement.justification)) {
    return Fail(ErrorCode::kSpec,
                where + ": unknown justification '" + statement.justification + "'");
  }
  HB_TRY(statement.impact_statement, StringField(s, "impact_statement", where));
  HB_TRY_VOID(StringField(s, "action_statement", where));
  if (statement.status == "not_affected" && statement.justification.empty() &&
      statement.impact_statement.empty()) {
    return Fail(ErrorCode::kSpec,
                where + ": not_affected needs a justification or an impact_statement");
  }
  HB_TRY(statement.timestamp, StringField(s, "timestamp", where));
  if (statement.timestamp.empty()) statement.timestamp = document_timestamp;
  if (!statement.timestamp.empty() && !ParseRfc3339(statement.timestamp)) {
    return Fail(ErrorCode::kSpec,
                where + ": timestamp '" + statement.timestamp + "' is not RFC 3339");
  }
  return statement;
}

Result<VexDocument> ParseDocument(const json& doc, const std::string& name) {
  if (!doc.is_object())
    return Fail(ErrorCode::kSpec, name + ": not an OpenVEX document (not a JSON object)");
  HB_TRY(std::string context, StringField(doc, "@context", name));
  if (context.rfind("https://openvex.dev/ns", 0) != 0) {
    return Fail(ErrorCode::kSpec, name + ": not an OpenVEX document (@context '" + context + "')");
  }
  VexDocument out;
  HB_TRY(out.id, StringField(doc, "@id", name));
  if (out.id.empty()) out.id = name;
  HB_TRY(std::string timestamp, StringField(doc, "timestamp", name));
  if (!timestamp.empty() && !ParseRfc3339(timestamp)) {
    return Fail(ErrorCode::kSpec, name + ": timestamp '" + timestamp + "' is not RFC 3339");
  }
  auto statements = doc.find("statements");
  if (statements == doc.end() || !statements->is_array()) {
    return Fail(ErrorCode::kSpec, name + ": no statements array");
  }
  for (size_t i = 0; i < statements->size(); ++i) {
    HB_TRY(VexStatement statement,
           ParseStatement((*statements)[i], name + ": statement " + std::to_string(i), timestamp));
    out.statements.push_back(std::move(statement));
  }
  return out;
}

// --- matching -------------------------------------------------------------------------------

std::optional<Purl> ParsePurl(std::string_view s) {
  auto purl = Purl::Parse(s);
  if (!purl) return std::nullopt;
  return std::move(*purl);
}

// The image digest a product id names: "sha256:<hex>" itself, or an OCI purl's version.
std::optional<std::string> ImageDigest(std::string_view id) {
  if (id.starts_with("sha256:")) return AsciiLower(id);
  auto purl = ParsePurl(id);
  if (purl && purl->type == "oci" && purl->version.starts_with("sha256:")) {
    return AsciiLower(purl->version);
  }
  return std::nullopt;
}

bool ProductMatches(const std::string& product, const std::vector<std::string>& image_ids) {
  auto product_purl = ParsePurl(product);
  auto product_digest = ImageDigest(product);
  for (const std::string& id : image_ids) {
    if (id.empty()) continue;
    if (id == product) return true;
    if (product_purl && ParsePurl(id) == product_purl) return true;
    if (product_digest && ImageDigest(id) == product_digest) return true;
  }
  return false;
}

// Whether a product or subcomponent id names the finding's Debian package (see ApplyVex).
bool SubcomponentMatches(const std::string& subcomponent, const deb::Distro& distro,
                         const Finding& finding) {
  auto purl = ParsePurl(subcomponent);
  if (!purl || purl->type != "deb") return false;
  if (!EqualsIgnoreCase(purl->namespace_, "debian") &&
      (distro.id.empty() || !EqualsIgnoreCase(purl->namespace_, distro.id))) {
    return false;
  }
  auto arch = purl->qualifiers.find("arch");
  bool source = arch != purl->qualifiers.end() && arch->second == "source";
  const std::string& name = source ? finding.source : finding.package;
  const std::string& version = source ? finding.source_version : finding.version;
  return purl->name == name && (purl->version.empty() || purl->version == version);
}

bool SameId(std::string_view a, std::string_view b) { return !a.empty() && EqualsIgnoreCase(a, b); }

bool VulnerabilityMatches(const VexStatement& statement, const Finding& finding) {
  auto named = [&](std::string_view name) {
    if (SameId(name, finding.id)) return true;
    return std::any_of(finding.advisories.begin(), finding.advisories.end(),
                       [&](const std::string& a) { return SameId(name, a); });
  };
  return named(statement.vulnerability) ||
         std::any_of(statement.aliases.begin(), statement.aliases.end(), named);
}

bool Covers(const VexStatement& statement, const std::vector<std::string>& image_ids,
            const deb::Distro& distro, const Finding& finding) {
  if (!VulnerabilityMatches(statement, finding)) return false;
  // A product is the image, or -- as scanners also accept -- the Debian package itself.
  if (!statement.products.empty() &&
      std::none_of(statement.products.begin(), statement.products.end(), [&](const std::string& p) {
        return ProductMatches(p, image_ids) || SubcomponentMatches(p, distro, finding);
      })) {
    return false;
  }
  return statement.subcomponents.empty() ||
         std::any_of(statement.subcomponents.begin(), statement.subcomponents.end(),
                     [&](const std::string& s) { return SubcomponentMatches(s, distro, finding); });
}

}  // namespace

Result<VexDocument> ParseOpenVex(std::string_view text, std::string_view name) {
  json doc = ParseUntrustedJsonOrDiscarded(text);
  if (doc.is_discarded()) {
    return Fail(ErrorCode::kSpec, std::string(name) + ": not an OpenVEX document (not JSON)");
  }
  try {
    return ParseDocument(doc, std::string(name));
  } catch (const json::exception& e) {  // not expected: every access is type-checked
    return Fail(ErrorCode::kSpec, std::string(name) + ": " + e.what());
  }
}

void ApplyVex(const std::vector<VexDocument>& documents, const std::vector<std::string>& image_ids,
              const deb::Distro& distro, std::vector<Finding>& findings) {
  // Statements in the order they take effect: by timestamp (none = earliest), then as written.
  struct Ordered {
    std::pair<int64_t, int64_t> time;
    size_t order;
    const VexStatement* statement;
    const VexDocument* document;
  };
  std::vector<Ordered> ordered;
  for (const VexDocument& doc : documents) {
    for (const VexStatement& s : doc.statements) {
      auto time = ParseRfc3339(s.timestamp).value_or(std::pair<int64_t, int64_t>{INT64_MIN, 0});
      ordered.push_back({time, ordered.size(), &s, &doc});
    }
  }
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const Ordered& a, const Ordered& b) { return a.time < b.time; });
  for (Finding& finding : findings) {
    for (auto it = ordered.rbegin(); it != ordered.rend(); ++it) {
      const VexStatement& s = *it->statement;
      if (!Covers(s, image_ids, distro, finding)) continue;
      finding.suppressed = s.status == "not_affected" || s.status == "fixed";
      finding.vex_status = s.status;
      finding.vex_justification = s.justification.empty() ? s.impact_statement : s.justification;
      finding.vex_document = it->document->id;
      break;
    }
  }
}

}  // namespace hardbase::vuln
