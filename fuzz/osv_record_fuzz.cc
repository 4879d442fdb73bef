// Fuzzes the OSV record parser and what the importer does with a record: every entry it yields
// has a release, a source and versions that parse, and the database built from it survives a
// Serialize/Parse round trip unchanged.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "deb/version.h"
#include "vuln/database.h"
#include "vuln/osv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto record = hardbase::vuln::ParseOsvRecord(text, "fuzz.json");
  if (!record) return 0;
  if (record->vulnerability.id.empty() || record->vulnerability.summary.size() > 200) {
    __builtin_trap();
  }
  for (const auto& entry : record->entries) {
    if (entry.release.empty() || entry.source.empty()) __builtin_trap();
    if (entry.introduced != "0" && !hardbase::deb::ParseVersion(entry.introduced)) __builtin_trap();
    if (!entry.fixed.empty() && !hardbase::deb::ParseVersion(entry.fixed)) __builtin_trap();
  }
  std::vector<hardbase::vuln::OsvRecord> records;
  records.push_back(std::move(*record));
  auto db = hardbase::vuln::BuildFromOsv(std::move(records), {});
  std::string bytes = db.Serialize();
  auto again = hardbase::vuln::Database::Parse(bytes, "fuzz.db");
  if (!again || again->Serialize() != bytes) __builtin_trap();
  return 0;
}
