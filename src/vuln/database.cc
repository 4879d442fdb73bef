// The file format, version 1: UTF-8 text, one record per line, fields separated by TAB; in every
// field TAB, newline and backslash are written \t, \n and \\.
//
//   hardbase-vulndb 1
//   source<TAB>osv:/path/all.zip            metadata, one key per line (skipped-example repeats)
//   data-date<TAB>...  imported-at<TAB>...  records<TAB>N  skipped<TAB>N  skipped-example<TAB>...
//                                           a blank line ends the metadata
//   V<TAB>id<TAB>cvss_score<TAB>cvss_vector<TAB>published<TAB>modified<TAB>summary
//                                           strictly ascending by id; score "" when none
//   E<TAB>release<TAB>source<TAB>id<TAB>introduced<TAB>fixed<TAB>urgency<TAB>advisory,advisory
//                                           strictly ascending by (release, source, id,
//                                           introduced)
//   end<TAB><number of V and E lines>       so that a truncated file is detected
//
// Parse checks the order instead of sorting, so loading the whole Debian data (~110k entries) is
// a single pass, and whatever it accepts serializes back byte for byte.
#include "vuln/database.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <tuple>
#include <utility>

#include "base/fs.h"
#include "deb/version.h"

namespace hardbase::vuln {
namespace {

constexpr std::string_view kMagic = "hardbase-vulndb";

// Entries of one id for one package with different first affected versions are separate ranges.
auto EntryKey(const Entry& e) { return std::tie(e.release, e.source, e.id, e.introduced); }

void AppendEscaped(std::string& out, std::string_view field) {
  size_t start = 0;
  for (size_t i = 0; i < field.size(); ++i) {
    char c = field[i];
    if (c != '\t' && c != '\n' && c != '\\') continue;
    out.append(field, start, i - start);
    out += '\\';
    out += c == '\t' ? 't' : c == '\n' ? 'n' : '\\';
    start = i + 1;
  }
  out.append(field, start);
}

// The inverse of AppendEscaped; false for a backslash not followed by t, n or a backslash.
bool Unescape(std::string_view field, std::string& out) {
  size_t backslash = field.find('\\');
  if (backslash == std::string_view::npos) {
    out.assign(field);
    return true;
  }
  out.assign(field.substr(0, backslash));
  for (size_t i = backslash; i < field.size(); ++i) {
    if (field[i] != '\\') {
      out += field[i];
      continue;
    }
    if (++i == field.size()) return false;
    char c = field[i];
    if (c != 't' && c != 'n' && c != '\\') return false;
    out += c == 't' ? '\t' : c == 'n' ? '\n' : '\\';
  }
  return true;
}

void AppendScore(std::string& out, double score) {
  if (score < 0) return;
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, score, std::chars_format::fixed, 1);
  if (ec == std::errc()) out.append(buf, end);
}

template <class Int>
bool ParseInt(std::string_view text, Int& value) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

// A score as Serialize writes it: "" (none) or one decimal in [0, 10], so it reads back exactly.
bool ParseScore(std::string_view text, double& score) {
  if (text.empty()) {
    score = -1;
    return true;
  }
  bool shape = (text.size() == 3 || (text.size() == 4 && text[0] != '0')) &&
               text[text.size() - 2] == '.' && std::all_of(text.begin(), text.end(), [](char c) {
                 return c == '.' || (c >= '0' && c <= '9');
               });
  if (!shape) return false;
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), score, std::chars_format::fixed);
  return ec == std::errc() && end == text.data() + text.size() && score <= 10;
}

// Which of two entries for the same (release, source, id, introduced) survives a merge: an open
// one (no fix) over a fixed one, else the higher fixed version -- the conservative choice, since
// a package is then reported until every source of the data agrees it is fixed. Ties fall to the
// text so that the result does not depend on the input order.
bool Outranks(const Entry& a, const Entry& b) {
  if (a.fixed.empty() != b.fixed.empty()) return a.fixed.empty();
  if (int c = deb::CompareVersions(a.fixed, b.fixed); c != 0) return c > 0;
  return std::tie(a.fixed, a.urgency, a.introduced) > std::tie(b.fixed, b.urgency, b.introduced);
}

// Merges `other` (same key) into `kept`: the outranking entry's fixed version and urgency, and
// both advisory lists.
void MergeEntry(Entry& kept, Entry&& other) {
  std::vector<std::string> advisories = std::move(kept.advisories);
  advisories.insert(advisories.end(), std::make_move_iterator(other.advisories.begin()),
                    std::make_move_iterator(other.advisories.end()));
  if (Outranks(other, kept)) kept = std::move(other);
  kept.advisories = std::move(advisories);
}

// Of two records for one vulnerability id, the newest (by `modified`), ties broken by content.
bool NewerRecord(const Vulnerability& a, const Vulnerability& b) {
  return std::tie(a.modified, a.cvss_score, a.cvss_vector, a.summary, a.published) >
         std::tie(b.modified, b.cvss_score, b.cvss_vector, b.summary, b.published);
}

// Advisory ids sorted and unique, as the file lists them comma-separated: an empty id is dropped
// and one with commas split, so that whatever Make is given can be written and read back.
void NormalizeAdvisories(std::vector<std::string>& advisories) {
  std::vector<std::string> ids;
  for (const std::string& advisory : advisories) {
    for (size_t start = 0; start <= advisory.size();) {
      size_t comma = std::min(advisory.find(',', start), advisory.size());
      if (comma > start) ids.push_back(advisory.substr(start, comma - start));
      start = comma + 1;
    }
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  advisories = std::move(ids);
}

// The score as the file keeps it: one decimal in [0, 10], else -1 (none).
double NormalizeScore(double score) {
  return score >= 0 && score <= 10 ? std::round(score * 10) / 10 : -1;
}

// Asks for transparent huge pages on the whole 2 MiB pages inside a fresh array: the full database
// is tens of MiB, and faulting it in 4 KiB at a time costs more than parsing it.
void AdviseHugePages(const void* data, size_t size) {
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  uintptr_t begin = (reinterpret_cast<uintptr_t>(data) + kHuge - 1) & ~(kHuge - 1);
  uintptr_t end = (reinterpret_cast<uintptr_t>(data) + size) & ~(kHuge - 1);
  if (begin < end) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

}  // namespace

struct Database::Impl {
  Metadata metadata;
  std::vector<Entry> entries;                  // by (release, source, id), unique
  std::vector<Vulnerability> vulnerabilities;  // by id, unique
  std::vector<std::string> releases;           // of every entry, even those not selected
};

Database::Database() : impl_(std::make_unique<Impl>()) {}
Database::~Database() = default;
Database::Database(Database&&) noexcept = default;
Database& Database::operator=(Database&&) noexcept = default;

Database Database::Make(Metadata metadata, std::vector<Entry> entries,
                        std::vector<Vulnerability> vulnerabilities) {
  Database db;
  Impl& impl = *db.impl_;
  impl.metadata = std::move(metadata);
  impl.metadata.format_version = kDatabaseFormatVersion;

  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return EntryKey(a) < EntryKey(b); });
  for (Entry& entry : entries) {
    if (!impl.entries.empty() && EntryKey(impl.entries.back()) == EntryKey(entry)) {
      MergeEntry(impl.entries.back(), std::move(entry));
    } else {
      impl.entries.push_back(std::move(entry));
    }
  }
  for (Entry& entry : impl.entries) {
    NormalizeAdvisories(entry.advisories);
    if (impl.releases.empty() || impl.releases.back() != entry.release) {
      impl.releases.push_back(entry.release);
    }
  }

  std::sort(vulnerabilities.begin(), vulnerabilities.end(),
            [](const Vulnerability& a, const Vulnerability& b) { return a.id < b.id; });
  for (Vulnerability& vulnerability : vulnerabilities) {
    vulnerability.cvss_score = NormalizeScore(vulnerability.cvss_score);
    if (!impl.vulnerabilities.empty() && impl.vulnerabilities.back().id == vulnerability.id) {
      if (NewerRecord(vulnerability, impl.vulnerabilities.back())) {
        impl.vulnerabilities.back() = std::move(vulnerability);
      }
    } else {
      impl.vulnerabilities.push_back(std::move(vulnerability));
    }
  }
  return db;
}

std::string Database::Serialize() const {
  const Impl& impl = *impl_;
  std::string out;
  out.reserve(64 * impl.entries.size() + 160 * impl.vulnerabilities.size() + 1024);
  auto field = [&out](std::string_view value) {
    out += '\t';
    AppendEscaped(out, value);
  };
  auto meta = [&](std::string_view key, std::string_view value) {
    out += key;
    field(value);
    out += '\n';
  };

  out += std::string(kMagic) + " " + std::to_string(kDatabaseFormatVersion) + "\n";
  const Metadata& m = impl.metadata;
  meta("source", m.source);
  meta("data-date", m.data_date);
  meta("imported-at", m.imported_at);
  meta("records", std::to_string(m.records));
  meta("skipped", std::to_string(m.skipped));
  for (const std::string& example : m.skipped_examples) meta("skipped-example", example);
  out += '\n';

  for (const Vulnerability& v : impl.vulnerabilities) {
    out += 'V';
    field(v.id);
    out += '\t';
    AppendScore(out, v.cvss_score);
    field(v.cvss_vector);
    field(v.published);
    field(v.modified);
    field(v.summary);
    out += '\n';
  }
  for (const Entry& e : impl.entries) {
    out += 'E';
    for (const std::string* value :
         {&e.release, &e.source, &e.id, &e.introduced, &e.fixed, &e.urgency}) {
      field(*value);
    }
    out += '\t';
    for (size_t i = 0; i < e.advisories.size(); ++i) {
      if (i > 0) out += ',';
      AppendEscaped(out, e.advisories[i]);
    }
    out += '\n';
  }
  out += "end\t" + std::to_string(impl.vulnerabilities.size() + impl.entries.size()) + "\n";
  return out;
}

Result<Database> Database::Parse(std::string_view bytes, std::string_view name,
                                 const Selection* only) {
  size_t line_number = 0;
  auto fail = [&](std::string_view why) {
    return Fail(ErrorCode::kSpec,
                std::string(name) + ":" + std::to_string(line_number) + ": " + std::string(why));
  };
  // Each line without its newline; nullopt at the end of the bytes or of an unterminated line.
  size_t pos = 0;
  auto next_line = [&]() -> std::optional<std::string_view> {
    const void* newline = std::memchr(bytes.data() + pos, '\n', bytes.size() - pos);
    if (newline == nullptr) return std::nullopt;
    size_t end = static_cast<size_t>(static_cast<const char*>(newline) - bytes.data());
    std::string_view line = bytes.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    return line;
  };
  // Splits a line into exactly `want` TAB-separated fields.
  std::string_view fields[8];
  auto split = [&](std::string_view line, size_t want) {
    size_t count = 0;
    while (count < want) {
      size_t tab = line.find('\t');
      fields[count++] = line.substr(0, tab);
      if (tab == std::string_view::npos) break;
      line.remove_prefix(tab + 1);
    }
    return count == want && fields[want - 1].data() + fields[want - 1].size() == line.end();
  };

  std::optional<std::string_view> line = next_line();
  std::string expected = std::string(kMagic) + " " + std::to_string(kDatabaseFormatVersion);
  if (!line || *line != expected) {
    line_number = 1;
    if (line && line->starts_with(std::string(kMagic) + " ")) {
      return fail("vulnerability database format '" + std::string(*line) +
                  "' was written by another hardbase version (this one reads '" + expected +
                  "'); run `hardbase vuln update`");
    }
    return fail("not a hardbase vulnerability database (no '" + expected + "' header)");
  }

  Database db;
  Impl& impl = *db.impl_;
  Metadata& m = impl.metadata;
  m.format_version = kDatabaseFormatVersion;
  std::string value;
  while (true) {
    line = next_line();
    if (!line) return fail("truncated file (metadata not ended)");
    if (line->empty()) break;
    if (!split(*line, 2) || !Unescape(fields[1], value)) return fail("malformed metadata line");
    std::string_view key = fields[0];
    // Other keys are from a newer writer of the same format version: ignored.
    if (key == "source") m.source = value;
    if (key == "data-date") m.data_date = value;
    if (key == "imported-at") m.imported_at = value;
    if (key == "skipped-example") m.skipped_examples.push_back(value);
    if (key == "records" && !ParseInt(value, m.records)) return fail("bad records count");
    if (key == "skipped" && !ParseInt(value, m.skipped)) return fail("bad skipped count");
  }

  // Where each V and E line starts, checked against the end line's count; and the releases.
  std::vector<size_t> v_at, e_at;
  const size_t first_record_line = line_number + 1;
  while (true) {
    size_t at = pos;
    line = next_line();
    if (!line) return fail("truncated file (no end line)");
    if (line->starts_with("V\t") && e_at.empty()) {
      v_at.push_back(at);
    } else if (line->starts_with("E\t")) {
      e_at.push_back(at);
      std::string_view release = line->substr(2, line->find('\t', 2) - 2);
      if (impl.releases.empty() || impl.releases.back() != release) {
        impl.releases.emplace_back(release);
      }
    } else if (line->starts_with("end\t")) {
      uint64_t count = 0;
      if (!ParseInt(line->substr(4), count)) return fail("malformed end line");
      if (count != v_at.size() + e_at.size()) {
        return fail("truncated file (end line counts a different number of records)");
      }
      if (pos != bytes.size()) return fail("data after the end line");
      break;
    } else {
      return fail("malformed line (expected V, E or end)");
    }
  }
  auto line_at = [&](size_t at, size_t number) {
    line_number = number;
    return bytes.substr(at, bytes.find('\n', at) - at);
  };

  // Exact sizes spare regrowing (and faulting in again) arrays of tens of MiB.
  if (!only) {
    impl.entries.reserve(e_at.size());
    AdviseHugePages(impl.entries.data(), e_at.size() * sizeof(Entry));
  }
  const std::string release_prefix = only ? "E\t" + only->release + "\t" : "";
  for (size_t j = 0; j < e_at.size(); ++j) {
    std::string_view l = line_at(e_at[j], first_record_line + v_at.size() + j);
    if (only && !l.starts_with(release_prefix)) continue;
    if (!split(l, 8) || fields[0].size() != 1) return fail("malformed E line");
    if (only && !only->sources.empty() && !only->sources.count(fields[2])) continue;
    Entry& e = impl.entries.emplace_back();
    if (!Unescape(fields[1], e.release) || !Unescape(fields[2], e.source) ||
        !Unescape(fields[3], e.id) || !Unescape(fields[4], e.introduced) ||
        !Unescape(fields[5], e.fixed) || !Unescape(fields[6], e.urgency)) {
      return fail("malformed E line");
    }
    for (std::string_view list = fields[7]; !list.empty();) {
      size_t comma = list.find(',');
      std::string_view advisory = list.substr(0, comma);
      if (advisory.empty() || !Unescape(advisory, e.advisories.emplace_back())) {
        return fail("malformed advisory list");
      }
      if (e.advisories.size() > 1 && !(e.advisories.end()[-2] < e.advisories.back())) {
        return fail("advisories out of order or repeated");
      }
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
      if (list.empty()) return fail("malformed advisory list");
    }
    if (impl.entries.size() > 1 && !(EntryKey(impl.entries.end()[-2]) < EntryKey(e))) {
      return fail("E line out of order or repeated: " + e.release + " " + e.source + " " + e.id);
    }
  }

  // The V lines: all, or those of the ids the selected entries name (found by binary search:
  // the lines are sorted by id).
  std::vector<size_t> v_wanted;
  if (!only) {
    for (size_t i = 0; i < v_at.size(); ++i) v_wanted.push_back(i);
  } else {
    std::vector<std::string_view> ids;
    for (const Entry& e : impl.entries) ids.push_back(e.id);
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    auto raw_id = [&](size_t i) {
      std::string_view l = bytes.substr(v_at[i] + 2);
      return l.substr(0, l.find('\t'));
    };
    for (std::string_view id : ids) {
      size_t lo = 0, hi = v_at.size();
      while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (raw_id(mid) < id)
          lo = mid + 1;
        else
          hi = mid;
      }
      if (lo < v_at.size() && raw_id(lo) == id) v_wanted.push_back(lo);
    }
  }
  impl.vulnerabilities.reserve(v_wanted.size());
  AdviseHugePages(impl.vulnerabilities.data(), v_wanted.size() * sizeof(Vulnerability));
  for (size_t i : v_wanted) {
    std::string_view l = line_at(v_at[i], first_record_line + i);
    if (!split(l, 7) || fields[0].size() != 1) return fail("malformed V line");
    Vulnerability& v = impl.vulnerabilities.emplace_back();
    if (!Unescape(fields[1], v.id) || !ParseScore(fields[2], v.cvss_score) ||
        !Unescape(fields[3], v.cvss_vector) || !Unescape(fields[4], v.published) ||
        !Unescape(fields[5], v.modified) || !Unescape(fields[6], v.summary)) {
      return fail("malformed V line");
    }
    if (impl.vulnerabilities.size() > 1 && !(impl.vulnerabilities.end()[-2].id < v.id)) {
      return fail("V line out of order or repeated: " + v.id);
    }
  }
  return db;
}

Result<Database> Database::Load(const std::string& path, const Selection* only) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      return Fail(ErrorCode::kNotFound,
                  "no vulnerability database at " + path + "; run `hardbase vuln update`");
    }
    return Fail(ErrorCode::kIo, "open " + path + ": " + std::strerror(errno));
  }
  // Mapped and populated in one call rather than read into a copy: a scan loads the whole
  // database, and faulting in its pages one by one costs as much as parsing them.
  struct stat st {};
  void* map = MAP_FAILED;
  if (::fstat(fd, &st) == 0 && st.st_size > 0) {
    map = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE | MAP_POPULATE,
                 fd, 0);
  }
  ::close(fd);
  if (map == MAP_FAILED) {  // empty, or not a regular file
    HB_TRY(std::string bytes, ReadFile(path));
    return Parse(bytes, path, only);
  }
  std::string_view bytes(static_cast<const char*>(map), static_cast<size_t>(st.st_size));
  Result<Database> db = Parse(bytes, path, only);
  ::munmap(map, bytes.size());
  return db;
}

Result<void> Database::Save(const std::string& path) const {
  return WithContext(WriteFileAtomic(path, Serialize()), "save vulnerability database");
}

const Metadata& Database::metadata() const { return impl_->metadata; }

std::vector<const Entry*> Database::Find(std::string_view release, std::string_view source) const {
  const auto& entries = impl_->entries;
  auto key = [](const Entry& e) {
    return std::pair<std::string_view, std::string_view>(e.release, e.source);
  };
  std::pair<std::string_view, std::string_view> wanted(release, source);
  auto first = std::lower_bound(entries.begin(), entries.end(), wanted,
                                [&](const Entry& e, const auto& w) { return key(e) < w; });
  std::vector<const Entry*> found;
  for (auto it = first; it != entries.end() && key(*it) == wanted; ++it) found.push_back(&*it);
  return found;
}

const Vulnerability* Database::FindVulnerability(std::string_view id) const {
  const auto& vulnerabilities = impl_->vulnerabilities;
  auto it = std::lower_bound(vulnerabilities.begin(), vulnerabilities.end(), id,
                             [](const Vulnerability& v, std::string_view i) { return v.id < i; });
  return it != vulnerabilities.end() && it->id == id ? &*it : nullptr;
}

const std::vector<Entry>& Database::entries() const { return impl_->entries; }

size_t Database::vulnerability_count() const { return impl_->vulnerabilities.size(); }

namespace {

// Distinct values of one entry field among the entries of `release` ("" = all).
size_t DistinctCount(const std::vector<Entry>& entries, std::string_view release,
                     std::string Entry::*member) {
  std::vector<std::string_view> values;
  for (const Entry& e : entries) {
    if (release.empty() || e.release == release) values.push_back(e.*member);
  }
  std::sort(values.begin(), values.end());
  return static_cast<size_t>(std::unique(values.begin(), values.end()) - values.begin());
}

}  // namespace

size_t Database::SourceCount(std::string_view release) const {
  return DistinctCount(impl_->entries, release, &Entry::source);
}

size_t Database::IdCount(std::string_view release) const {
  return DistinctCount(impl_->entries, release, &Entry::id);
}

std::vector<std::string> Database::Releases() const {
  std::vector<std::string> releases = impl_->releases;
  // Release numbers ("3.1", "10", "12") order as version numbers do.
  std::sort(releases.begin(), releases.end(), [](const std::string& a, const std::string& b) {
    int c = deb::CompareVersions(a, b);
    return c != 0 ? c < 0 : a < b;
  });
  releases.erase(std::unique(releases.begin(), releases.end()), releases.end());
  return releases;
}

}  // namespace hardbase::vuln
