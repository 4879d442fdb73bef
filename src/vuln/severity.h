// How bad a vulnerability is: Debian's urgency when the security team set one, else the CVSS 3.x
// base score computed from the record's vector, else unknown.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/error.h"

namespace hardbase::vuln {

// Ordered: a --fail-on threshold is "this or worse". kNegligible is Debian's "unimportant".
enum class Severity { kUnknown, kNegligible, kLow, kMedium, kHigh, kCritical };

// The severities' names, in the order above: "unknown", "negligible", "low", "medium", "high",
// "critical".
std::span<const std::string_view> SeverityNames();
std::string_view SeverityName(Severity severity);
// The names above, case-insensitively; kUsage listing them otherwise.
Result<Severity> ParseSeverity(std::string_view name);

// Debian urgency ("unimportant", "low", "medium", "high", also "low**" and "medium*" as the tracker
// writes uncertain ones) -> severity; nullopt for "not yet assigned", "end-of-life", "" and others.
std::optional<Severity> SeverityFromUrgency(std::string_view urgency);

// The CVSS v3.0/v3.1 base score (0.0-10.0, rounded up to one decimal as the 3.1 specification's
// Roundup) of a vector "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H". kSpec naming the vector
// when it is not a complete, valid 3.x base vector (temporal/environmental metrics are allowed and
// ignored).
Result<double> CvssV3BaseScore(std::string_view vector);
// The qualitative rating of a score: 0 none (kNegligible), 0.1-3.9 low, 4.0-6.9 medium,
// 7.0-8.9 high, 9.0-10.0 critical.
Severity SeverityFromScore(double score);

}  // namespace hardbase::vuln
