// libFuzzer target for the image spec parser (YAML via yaml-cpp, then validation).
//
// Beyond "no crash, no exception, no leak", it checks what callers rely on: an error is one kSpec
// line naming the file; an accepted spec has its defaults filled and only valid names, and its
// resolution digest is well-formed and deterministic.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/sha256.h"
#include "spec/image_spec.h"
#include "spec/names.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace spec = hardbase::spec;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = spec::ParseImageSpec(text, "fuzz/image.yaml");
  if (!parsed) {
    const hardbase::Error& e = parsed.error();
    Check(e.code == hardbase::ErrorCode::kSpec);
    Check(e.message.starts_with("fuzz/image.yaml"));
    Check(e.message.find('\n') == std::string::npos);
    return 0;
  }
  const spec::ImageSpec& s = *parsed;
  Check(!s.name.empty());
  Check(!s.packages.empty());
  for (const auto& p : s.packages) {
    Check(spec::IsValidPackageName(p.name));
    Check(p.version.empty() || spec::IsValidVersion(p.version));
    Check(p.where.line > 0);
  }
  for (const auto& x : s.exclude) Check(spec::IsValidPackageName(x));
  Check(!s.archs.empty());
  for (const auto& a : s.archs) Check(spec::IsKnownArchitecture(a));
  for (const auto& r : s.repositories) {
    Check(!r.url.empty() && !r.suites.empty() && !r.components.empty() && !r.keyring.empty());
  }
  for (const auto& f : s.files) {
    Check(!f.src.empty() && !f.dest.empty() && f.dest[0] == '/');
    Check(!f.mode || *f.mode <= 07777);
  }
  Check(!s.accounts.run_as.empty());
  Check(s.env.count("PATH") == 1);
  Check(!s.workdir.empty() && s.workdir[0] == '/');
  std::string digest = spec::ResolutionDigest(s);
  Check(digest.size() == 71 && digest.starts_with("sha256:"));
  Check(hardbase::IsSha256Hex(std::string_view(digest).substr(7)));
  Check(digest == spec::ResolutionDigest(s));
  return 0;
}
