#include "deb/release.h"

#include <fmt/core.h>

#include <array>
#include <charconv>

#include "base/sha256.h"
#include "base/strings.h"
#include "deb/control.h"

namespace hardbase::deb {
namespace {

constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<std::string_view, 7> kWeekdays = {"Thu", "Fri", "Sat", "Sun",
                                                       "Mon", "Tue", "Wed"};  // 1970-01-01 first

// Parses an unsigned decimal number made of exactly the digits of `s` (no sign, no space).
template <class T>
bool ParseUnsigned(std::string_view s, T& out) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct Civil {
  int64_t year;
  unsigned month, day;
};

Civil CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return Civil{y + (m <= 2), m, d};
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

unsigned DaysInMonth(int64_t year, unsigned month) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// Numeric zone offset "+hhmm"/"-hhmm" in seconds east of UTC.
bool ParseZone(std::string_view zone, int64_t& offset) {
  if (EqualsIgnoreCase(zone, "UTC") || EqualsIgnoreCase(zone, "GMT") ||
      EqualsIgnoreCase(zone, "UT") || zone == "Z") {
    offset = 0;
    return true;
  }
  if (zone.size() != 5 || (zone[0] != '+' && zone[0] != '-')) return false;
  unsigned hh = 0, mm = 0;
  if (!ParseUnsigned(zone.substr(1, 2), hh) || !ParseUnsigned(zone.substr(3, 2), mm)) return false;
  if (hh > 23 || mm > 59) return false;
  offset = (zone[0] == '-' ? -1 : 1) * static_cast<int64_t>(hh * 3600 + mm * 60);
  return true;
}

}  // namespace

Result<int64_t> ParseRfc2822Date(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Fail(ErrorCode::kSpec, fmt::format("malformed date '{}': {}", text, why));
  };
  std::string_view rest = Trim(text);
  std::string_view weekday;
  if (size_t comma = rest.find(','); comma != std::string_view::npos) {
    weekday = Trim(rest.substr(0, comma));
    rest = rest.substr(comma + 1);
  }
  std::vector<std::string_view> parts = Words(rest);
  if (parts.size() != 5) return bad("expected 'Day, DD Mon YYYY HH:MM:SS zone'");

  unsigned day = 0;
  if (parts[0].size() > 2 || !ParseUnsigned(parts[0], day)) return bad("bad day of month");
  unsigned month = 0;
  for (size_t i = 0; i < kMonths.size(); ++i) {
    if (EqualsIgnoreCase(parts[1], kMonths[i])) month = static_cast<unsigned>(i + 1);
  }
  if (month == 0) return bad("bad month name");
  int64_t year = 0;
  if (parts[2].size() != 4 || !ParseUnsigned(parts[2], year) || year < 1970) {
    return bad("bad year");
  }
  if (day < 1 || day > DaysInMonth(year, month)) return bad("bad day of month");

  std::string_view time = parts[3];
  unsigned hh = 0, mm = 0, ss = 0;
  if (time.size() != 5 && time.size() != 8) return bad("bad time of day");
  if (time[2] != ':' || !ParseUnsigned(time.substr(0, 2), hh) ||
      !ParseUnsigned(time.substr(3, 2), mm)) {
    return bad("bad time of day");
  }
  if (time.size() == 8 && (time[5] != ':' || !ParseUnsigned(time.substr(6, 2), ss))) {
    return bad("bad time of day");
  }
  if (hh > 23 || mm > 59 || ss > 60) return bad("bad time of day");

  int64_t offset = 0;
  if (!ParseZone(parts[4], offset)) return bad("bad time zone");

  int64_t days = DaysFromCivil(year, month, day);
  if (!weekday.empty()) {
    std::string_view expected = kWeekdays[static_cast<size_t>(((days % 7) + 7) % 7)];
    if (!EqualsIgnoreCase(weekday, expected)) {
      return bad(fmt::format("weekday does not match the date (expected {})", expected));
    }
  }
  return days * 86400 + hh * 3600 + mm * 60 + ss - offset;
}

std::string FormatRfc2822Date(int64_t unix_seconds) {
  int64_t days = FloorDiv(unix_seconds, 86400);
  int64_t secs = unix_seconds - days * 86400;
  Civil c = CivilFromDays(days);
  return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} UTC",
                     kWeekdays[static_cast<size_t>(((days % 7) + 7) % 7)], c.day,
                     kMonths[c.month - 1], c.year, secs / 3600, (secs / 60) % 60, secs % 60);
}

Result<ReleaseEntry> ReleaseFile::Lookup(std::string_view path) const {
  auto it = sha256.find(path);
  if (it == sha256.end()) {
    return Fail(ErrorCode::kNotFound, fmt::format("the Release file lists no SHA256 for {}", path));
  }
  return it->second;
}

Result<ReleaseFile> ParseRelease(std::string_view text) {
  HB_TRY(std::vector<Stanza> stanzas, WithContext(ParseControl(text), "Release"));
  if (stanzas.empty()) return Fail(ErrorCode::kSpec, "Release: empty document");
  if (stanzas.size() > 1) {
    return Fail(ErrorCode::kSpec,
                fmt::format("Release line {}: unexpected second paragraph", stanzas[1].line()));
  }
  const Stanza& s = stanzas.front();
  auto line_of = [&](std::string_view name) {
    for (const Field& f : s.fields()) {
      if (EqualsIgnoreCase(f.name, name)) return LineNumberOf(text, f.name);
    }
    return s.line();
  };

  ReleaseFile r;
  r.origin = std::string(s.Get("Origin"));
  r.label = std::string(s.Get("Label"));
  r.suite = std::string(s.Get("Suite"));
  r.codename = std::string(s.Get("Codename"));
  r.version = std::string(s.Get("Version"));
  for (std::string_view a : Words(s.Get("Architectures"))) r.architectures.emplace_back(a);
  for (std::string_view c : Words(s.Get("Components"))) r.components.emplace_back(c);
  r.acquire_by_hash = EqualsIgnoreCase(s.Get("Acquire-By-Hash"), "yes");

  if (!s.Has("Date")) return Fail(ErrorCode::kSpec, "Release: no Date field");
  auto date = ParseRfc2822Date(s.Get("Date"));
  if (!date) return Fail(date.error().Wrap(fmt::format("Release line {}", line_of("Date"))));
  r.date = *date;
  if (s.Has("Valid-Until")) {
    auto until = ParseRfc2822Date(s.Get("Valid-Until"));
    if (!until) {
      return Fail(until.error().Wrap(fmt::format("Release line {}", line_of("Valid-Until"))));
    }
    r.valid_until = *until;
  }

  if (!s.Has("SHA256")) return Fail(ErrorCode::kSpec, "Release: no SHA256 section");
  std::string_view table = s.Get("SHA256");
  for (const Line& line : Lines(table)) {
    std::string_view raw = line.text;
    std::vector<std::string_view> cols = Words(raw);
    if (cols.empty()) continue;
    auto bad = [&](std::string_view why) {
      return Fail(ErrorCode::kSpec, fmt::format("Release line {}: malformed SHA256 entry '{}': {}",
                                                LineNumberOf(text, raw), Trim(raw), why));
    };
    if (cols.size() != 3) return bad("expected '<sha256> <size> <path>'");
    std::string hash = AsciiLower(cols[0]);  // other letters than A-F fail the check below
    if (!IsSha256Hex(hash)) return bad("not a SHA256 digest");
    ReleaseEntry entry{std::move(hash), 0};
    if (!ParseUnsigned(cols[1], entry.size)) return bad("bad size");
    auto [it, inserted] = r.sha256.emplace(std::string(cols[2]), std::move(entry));
    if (!inserted) return bad("path listed twice");
  }
  if (r.sha256.empty()) return Fail(ErrorCode::kSpec, "Release: empty SHA256 section");
  return r;
}

Result<void> CheckFreshness(const ReleaseFile& release, int64_t now) {
  if (release.valid_until && *release.valid_until <= now) {
    return Fail(ErrorCode::kIntegrity,
                fmt::format("expired: Valid-Until {} has passed (now {})",
                            FormatRfc2822Date(*release.valid_until), FormatRfc2822Date(now)));
  }
  return {};
}

}  // namespace hardbase::deb
