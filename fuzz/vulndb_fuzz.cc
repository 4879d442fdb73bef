// Fuzzes the vulnerability database file parser. Whatever Parse accepts must serialize to a file
// that parses again and serializes to the same bytes (the format round-trips), and its lookups
// must agree with its entries.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "vuln/database.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using hardbase::vuln::Database;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto db = Database::Parse(bytes, "fuzz");
  if (!db) {
    if (db.error().message.empty()) __builtin_trap();
    return 0;
  }
  std::string first = db->Serialize();
  auto again = Database::Parse(first, "fuzz");
  if (!again || again->Serialize() != first) __builtin_trap();

  for (const auto& entry : db->entries()) {
    bool found = false;
    for (const auto* e : db->Find(entry.release, entry.source)) found |= e == &entry;
    if (!found) __builtin_trap();
  }
  if (db->IdCount("") > db->entries().size() || db->SourceCount("") > db->entries().size()) {
    __builtin_trap();
  }
  return 0;
}
