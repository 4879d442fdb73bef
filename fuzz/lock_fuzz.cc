// libFuzzer target for the lockfile reader (JSON via nlohmann-json, then validation).
//
// Besides "no crash, no exception, no leak": an error is one kSpec line naming the file, and an
// accepted lock survives a write/read round trip unchanged (modulo canonical order), with the
// written bytes stable. Every accepted filename stays inside its repository, whatever a server
// would decode from it: no '%', no '..' component, not absolute.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "spec/lock.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace spec = hardbase::spec;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto lock = spec::ParseLock(text, "fuzz.lock.json");
  if (!lock) {
    const hardbase::Error& e = lock.error();
    Check(e.code == hardbase::ErrorCode::kSpec);
    Check(e.message.starts_with("fuzz.lock.json"));
    Check(e.message.find('\n') == std::string::npos);
    return 0;
  }
  for (const auto& arch : lock->archs) {
    for (const auto& p : arch.packages) {
      Check(p.filename.find('%') == std::string::npos && p.filename.front() != '/' &&
            p.filename.find('\\') == std::string::npos);
      Check(p.filename != ".." && !p.filename.starts_with("../") &&
            p.filename.find("/../") == std::string::npos && !p.filename.ends_with("/.."));
    }
  }
  std::string json = spec::LockToJson(*lock);
  Check(!json.empty() && json.back() == '\n');
  auto again = spec::ParseLock(json, "fuzz.lock.json");
  Check(again.has_value());
  Check(*again == spec::CanonicalLock(*lock));
  Check(spec::LockToJson(*again) == json);
  return 0;
}
