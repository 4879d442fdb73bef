// libFuzzer target for the image spec parser (YAML via yaml-cpp, then validation).
//
// Beyond "no crash, no exception, no leak", it checks what callers rely on: an error is one kSpec
// line naming the file, with at most 21 detail lines (20 mistakes, each naming the file, and
// "... and M more errors"); an accepted spec has its defaults filled and only valid names, and its
// resolution digest is well-formed and deterministic. Every path it holds is within Linux's
// limits, and its accounts always make well-formed /etc/passwd and /etc/group files: one line per
// entry, seven and four ':'-separated fields.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/sha256.h"
#include "image/accounts.h"
#include "spec/image_spec.h"
#include "spec/names.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

// `text` is `lines` lines of `fields` ':'-separated fields each.
void CheckLines(const std::string& text, size_t lines, size_t fields) {
  size_t seen = 0;
  for (size_t start = 0; start < text.size(); ++seen) {
    size_t end = text.find('\n', start);
    Check(end != std::string::npos);
    std::string_view line(text.data() + start, end - start);
    Check(static_cast<size_t>(std::count(line.begin(), line.end(), ':')) + 1 == fields);
    start = end + 1;
  }
  Check(seen == lines);
}

// Linux's limits, checked here independently of spec::CheckPathLimits: at most 4096 bytes, every
// '/'-separated component at most 255.
bool WithinPathLimits(std::string_view path) {
  if (path.size() > 4096) return false;
  for (size_t start = 0; start <= path.size();) {
    size_t end = std::min(path.find('/', start), path.size());
    if (end - start > 255) return false;
    start = end + 1;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace spec = hardbase::spec;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  constexpr std::string_view kFile = "fuzz/image.yaml";
  auto parsed = spec::ParseImageSpec(text, kFile);
  if (!parsed) {
    const hardbase::Error& e = parsed.error();
    Check(e.code == hardbase::ErrorCode::kSpec);
    Check(e.message.starts_with(kFile));
    Check(e.message.find('\n') == std::string::npos);
    // Several mistakes: "file: N errors", then at most 20 of them, each a line naming the file,
    // and last, when some are left out, one "... and M more errors".
    Check(e.details.size() <= 21);
    Check(e.details.empty() || e.message.ends_with(" errors"));
    for (size_t i = 0; i < e.details.size(); ++i) {
      const std::string& d = e.details[i];
      Check(d.find('\n') == std::string::npos);
      bool summary = d.starts_with("... and ");
      Check(summary ? i + 1 == e.details.size() : d.starts_with(kFile));
    }
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
    Check(WithinPathLimits(f.src) && WithinPathLimits(f.dest));
  }
  Check(WithinPathLimits(s.workdir));
  for (const auto* globs : {&s.paths.include, &s.paths.exclude}) {
    for (const auto& g : *globs) Check(WithinPathLimits(g));
  }
  auto db = hardbase::image::SystemAccounts("", "");
  Check(db.has_value());
  const size_t system_users = db->users.size(), system_groups = db->groups.size();
  if (hardbase::image::AddSpecAccounts(*db, s.accounts)) {
    auto passwd = hardbase::image::PasswdText(*db);
    auto group = hardbase::image::GroupText(*db);
    Check(passwd.has_value() && group.has_value());
    CheckLines(*passwd, system_users + s.accounts.users.size(), 7);
    CheckLines(*group, system_groups + s.accounts.groups.size(), 4);
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
