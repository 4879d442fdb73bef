// Fuzzes the Debian security tracker JSON parser: every entry it yields has a known release and
// versions that parse, and the database made of them survives a Serialize/Parse round trip.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "deb/version.h"
#include "vuln/database.h"
#include "vuln/tracker.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto tracker = hardbase::vuln::ParseTrackerJson(text, "fuzz.json");
  if (!tracker) return 0;
  for (const auto& entry : tracker->entries) {
    if (entry.release.empty() || entry.introduced != "0") __builtin_trap();
    if (!entry.fixed.empty() && !hardbase::deb::ParseVersion(entry.fixed)) __builtin_trap();
  }
  if (tracker->skipped < static_cast<int64_t>(tracker->skipped_examples.size())) __builtin_trap();
  auto db = hardbase::vuln::Database::Make({}, std::move(tracker->entries),
                                           std::move(tracker->vulnerabilities));
  std::string bytes = db.Serialize();
  auto again = hardbase::vuln::Database::Parse(bytes, "fuzz.db");
  if (!again || again->Serialize() != bytes) __builtin_trap();
  return 0;
}
