// The local vulnerability database: what is known to affect which Debian source package in which
// release, imported from osv.dev's Debian export or Debian's security-tracker JSON, and stored in
// one compact, versioned text file that is replaced atomically.
//
// Model: one Entry per (release, source package, vulnerability id). DSA/DLA/DTSA advisories are
// folded into the CVEs they fix (their ids listed in the CVE entry's advisories); an advisory
// that names no CVE known for that package stays an entry of its own. Each vulnerability id has
// one Vulnerability (summary, CVSS). Entries whose versions do not parse as Debian versions are
// skipped and counted (never dropped silently): Metadata::skipped and skipped_examples.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace hardbase::vuln {

struct Entry {
  std::string release;     // Debian major version: "12" (OSV "Debian:12"; the tracker's
                           // "bookworm" through deb::ReleaseForCodename)
  std::string source;      // source package name
  std::string id;          // "CVE-2024-2961", or an advisory id that names no CVE
  std::string introduced;  // first affected version; "0" = every version
  std::string fixed;       // first fixed version; "" = no fix yet
  std::string urgency;     // Debian urgency as given ("low", "unimportant", "end-of-life"); ""
                           // when none was assigned (the data's "not yet assigned", most entries)
  std::vector<std::string> advisories;  // DSA/DLA/DTSA ids folded into this entry, sorted
};

struct Vulnerability {
  std::string id;
  std::string summary;      // one line, at most 200 characters (the record's summary, else the
                            // first sentence of its details)
  std::string cvss_vector;  // "CVSS:3.1/..." when the record has one, else ""
  double cvss_score = -1;   // its base score; -1 when none or invalid
  std::string published;    // RFC 3339 as in the record, may be ""
  std::string modified;
};

struct Metadata {
  int format_version = 0;
  std::string source;       // what was imported: "osv:<path or URL>", "debian-tracker:<...>"
  std::string data_date;    // RFC 3339 UTC: the newest `modified` among the records (OSV), or the
                            // date the tracker file was written (its mtime / Last-Modified)
  std::string imported_at;  // RFC 3339 UTC, when the import ran
  int64_t records = 0;      // input records read (OSV files; tracker (source, CVE) pairs)
  int64_t skipped = 0;      // affected entries skipped for an unparseable version
  std::vector<std::string>
      skipped_examples;  // up to kMaxSkippedExamples "ID source: bad version 'x'"
};
inline constexpr size_t kMaxSkippedExamples = 10;

inline constexpr int kDatabaseFormatVersion = 1;
// What the data says for an urgency not yet assigned; stored as "".
inline constexpr std::string_view kUnassigned = "not yet assigned";

// The database, immutable once made. Lookups are by (release, source) and by id.
class Database {
 public:
  Database();
  ~Database();
  Database(Database&&) noexcept;
  Database& operator=(Database&&) noexcept;

  // From entries and vulnerabilities in any order: sorts and indexes them, and merges duplicates.
  // Entries are duplicates when they share (release, source, id, introduced) -- other introduced
  // versions are other ranges --: an open one wins over a fixed one, else the higher fixed
  // version, and all their advisories are kept. Of duplicate vulnerabilities the newest
  // `modified` wins.
  static Database Make(Metadata metadata, std::vector<Entry> entries,
                       std::vector<Vulnerability> vulnerabilities);

  // The file format (text, see database.cc): a header line "hardbase-vulndb <version>", metadata,
  // then one line per vulnerability and per entry. Deterministic for the same content.
  std::string Serialize() const;
  // kSpec naming `name` for a file that is not this format, is truncated or is of another
  // format version ("... was written by another hardbase version; run `hardbase vuln update`").
  //
  // With `only`, just what a scan needs: the entries of one release and of the given source
  // packages (all of the release when `sources` is empty), and the vulnerabilities they name. The
  // rest is counted (so truncation is still detected) but neither parsed nor checked, which keeps
  // a scan's load in milliseconds. Releases() still lists every release in the file.
  struct Selection {
    std::string release;
    std::set<std::string, std::less<>> sources;
  };
  static Result<Database> Parse(std::string_view bytes, std::string_view name,
                                const Selection* only = nullptr);
  // Parse of the file at `path`; kNotFound when it is missing, with a hint to run
  // `hardbase vuln update`.
  static Result<Database> Load(const std::string& path, const Selection* only = nullptr);
  // Serialize, written atomically (temp file + rename), so readers never see half a database.
  Result<void> Save(const std::string& path) const;

  const Metadata& metadata() const;
  // Entries for one source package in one release, sorted by id.
  std::vector<const Entry*> Find(std::string_view release, std::string_view source) const;
  const Vulnerability* FindVulnerability(std::string_view id) const;
  // Every entry, sorted by (release, source, id).
  const std::vector<Entry>& entries() const;
  size_t vulnerability_count() const;
  // Distinct source packages and ids with entries in `release` ("" = all releases).
  size_t SourceCount(std::string_view release) const;
  size_t IdCount(std::string_view release) const;
  // Releases present, ascending numerically ("11", "12", "13").
  std::vector<std::string> Releases() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hardbase::vuln
