// Fuzzes the OpenVEX reader: any bytes either fail with kSpec or give a document whose statements
// have a known status (and a justification or impact statement when not_affected); applying it
// to a few findings never crashes, and only not_affected and fixed suppress.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vuln/vex.h"

namespace {

using hardbase::vuln::Finding;

Finding MakeFinding(std::string id, std::string package, std::string version) {
  Finding f;
  f.id = std::move(id);
  f.advisories = {"DSA-5671-1"};
  f.package = std::move(package);
  f.version = std::move(version);
  f.source = "glibc";
  f.source_version = f.version;
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto doc = hardbase::vuln::ParseOpenVex(text, "fuzz.json");
  if (!doc) {
    if (doc.error().code != hardbase::ErrorCode::kSpec) __builtin_trap();
    return 0;
  }
  for (const auto& s : doc->statements) {
    if (s.vulnerability.empty()) __builtin_trap();
    if (s.status != "not_affected" && s.status != "affected" && s.status != "fixed" &&
        s.status != "under_investigation") {
      __builtin_trap();
    }
    if (s.status == "not_affected" && s.justification.empty() && s.impact_statement.empty()) {
      __builtin_trap();
    }
  }
  std::vector<Finding> findings = {MakeFinding("CVE-2024-2961", "libc6", "2.36-9+deb12u4"),
                                   MakeFinding("CVE-2023-4911", "libc-bin", "1:2.36-9")};
  const std::vector<std::string> image = {
      "registry.test/app:1",
      "sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270",
      "pkg:oci/app@sha256%3A5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270"};
  hardbase::vuln::ApplyVex({*doc}, image, {"debian", "12", "bookworm"}, findings);
  for (const Finding& f : findings) {
    bool suppressing = f.vex_status == "not_affected" || f.vex_status == "fixed";
    if (f.suppressed != suppressing) __builtin_trap();
    if (!f.vex_status.empty() && f.vex_document.empty()) __builtin_trap();
  }
  return 0;
}
