#include "vuln/severity.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>

#include "base/strings.h"

namespace hardbase::vuln {
namespace {

constexpr std::array<std::string_view, 6> kSeverityNames = {"unknown", "negligible", "low",
                                                            "medium",  "high",       "critical"};

// One metric of a CVSS v3 vector: its key and the letters it may take. The eight base metrics come
// first, in the specification's order; the temporal and environmental ones are only validated.
struct Metric {
  std::string_view key;
  std::string_view values;
};
constexpr std::array<Metric, 22> kMetrics = {{
    {"AV", "NALP"}, {"AC", "LH"},    {"PR", "NLH"},  {"UI", "NR"},   {"S", "UC"},
    {"C", "HLN"},   {"I", "HLN"},    {"A", "HLN"},   {"E", "XUPFH"}, {"RL", "XOTWU"},
    {"RC", "XURC"}, {"CR", "XLMH"},  {"IR", "XLMH"}, {"AR", "XLMH"}, {"MAV", "XNALP"},
    {"MAC", "XLH"}, {"MPR", "XNLH"}, {"MUI", "XNR"}, {"MS", "XUC"},  {"MC", "XNLH"},
    {"MI", "XNLH"}, {"MA", "XNLH"},
}};
constexpr size_t kBaseMetrics = 8;

// CVSS v3.1 Appendix A: round up to one decimal on integers, so that 4.000000000000001 (a floating
// point artefact of an exact 4.0) is not rounded to 4.1. CVSS v3.0 section 7.4 defined Round up
// as plain ceil(x * 10) / 10 in doubles; over all 2,592 base metric combinations both give the
// same score (checked when this was written), so 3.0 vectors use this one too.
double Roundup(double value) {
  int64_t scaled = std::llround(value * 100000);
  if (scaled % 10000 == 0) return static_cast<double>(scaled) / 100000.0;
  return static_cast<double>(scaled / 10000 + 1) / 10.0;
}

}  // namespace

std::span<const std::string_view> SeverityNames() { return kSeverityNames; }

std::string_view SeverityName(Severity severity) {
  return kSeverityNames[static_cast<size_t>(severity)];
}

Result<Severity> ParseSeverity(std::string_view name) {
  for (size_t i = 0; i < kSeverityNames.size(); ++i) {
    if (EqualsIgnoreCase(name, kSeverityNames[i])) return static_cast<Severity>(i);
  }
  return Fail(ErrorCode::kUsage,
              "unknown severity '" + std::string(name) +
                  "' (expected unknown, negligible, low, medium, high or critical)");
}

std::optional<Severity> SeverityFromUrgency(std::string_view urgency) {
  while (!urgency.empty() && urgency.back() == '*') urgency.remove_suffix(1);
  if (urgency == "unimportant") return Severity::kNegligible;
  if (urgency == "low") return Severity::kLow;
  if (urgency == "medium") return Severity::kMedium;
  if (urgency == "high") return Severity::kHigh;
  return std::nullopt;
}

Result<double> CvssV3BaseScore(std::string_view vector) {
  auto invalid = [&](std::string_view why) {
    return Fail(ErrorCode::kSpec, "CVSS vector '" + std::string(vector) + "': " + std::string(why));
  };
  if (!vector.starts_with("CVSS:3.0/") && !vector.starts_with("CVSS:3.1/"))
    return invalid("not a CVSS:3.0/ or CVSS:3.1/ vector");

  std::array<char, kMetrics.size()> value{};  // 0 = not given
  std::string_view rest = vector.substr(9);
  while (true) {
    size_t slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    size_t colon = part.find(':');
    if (colon == std::string_view::npos || colon + 2 != part.size()) {
      return invalid("malformed metric '" + std::string(part) + "'");
    }
    std::string_view key = part.substr(0, colon);
    char letter = part[colon + 1];
    auto metric = std::find_if(kMetrics.begin(), kMetrics.end(),
                               [&](const Metric& m) { return m.key == key; });
    if (metric == kMetrics.end()) return invalid("unknown metric '" + std::string(key) + "'");
    size_t index = static_cast<size_t>(metric - kMetrics.begin());
    if (value[index] != 0) return invalid("metric " + std::string(key) + " given twice");
    if (metric->values.find(letter) == std::string_view::npos) {
      return invalid("bad value '" + std::string(part) + "'");
    }
    value[index] = letter;
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  for (size_t i = 0; i < kBaseMetrics; ++i) {
    if (value[i] == 0) return invalid("base metric " + std::string(kMetrics[i].key) + " missing");
  }

  // Section 7.4 weights.
  auto cia = [](char v) { return v == 'H' ? 0.56 : v == 'L' ? 0.22 : 0.0; };
  bool changed = value[4] == 'C';
  double av = value[0] == 'N' ? 0.85 : value[0] == 'A' ? 0.62 : value[0] == 'L' ? 0.55 : 0.2;
  double ac = value[1] == 'L' ? 0.77 : 0.44;
  double pr = value[2] == 'N'   ? 0.85
              : value[2] == 'L' ? (changed ? 0.68 : 0.62)
                                : (changed ? 0.5 : 0.27);
  double ui = value[3] == 'N' ? 0.85 : 0.62;

  // Section 7.1 base equations.
  double iss = 1 - (1 - cia(value[5])) * (1 - cia(value[6])) * (1 - cia(value[7]));
  double impact = changed ? 7.52 * (iss - 0.029) - 3.25 * std::pow(iss - 0.02, 15) : 6.42 * iss;
  double exploitability = 8.22 * av * ac * pr * ui;
  if (impact <= 0) return 0.0;
  double raw = std::min((changed ? 1.08 : 1.0) * (impact + exploitability), 10.0);
  return Roundup(raw);
}

Severity SeverityFromScore(double score) {
  if (score < 0.1) return Severity::kNegligible;
  if (score < 4.0) return Severity::kLow;
  if (score < 7.0) return Severity::kMedium;
  if (score < 9.0) return Severity::kHigh;
  return Severity::kCritical;
}

}  // namespace hardbase::vuln
