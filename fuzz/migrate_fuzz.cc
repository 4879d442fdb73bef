// libFuzzer target for `hardbase migrate`'s rewrite (dockerfile/migrate.h) on any Dockerfile the
// parser accepts: a migration either refuses with lines (and writes nothing), or writes a
// Dockerfile that parses, whose final stage is on a pinned image and names a non-root USER.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "dockerfile/migrate.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace df = hardbase::dockerfile;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string digest = "@sha256:" + std::string(64, '0');
  auto resolve = [&](const df::ImageRequest& r) -> hardbase::Result<df::ResolvedImage> {
    return df::ResolvedImage{"reg.test/" + r.catalog + digest, "65532", {"/usr/bin/x"}};
  };
  auto m = df::Migrate(text, {}, resolve);
  if (!m) {
    Check(m.error().code == hardbase::ErrorCode::kSpec);
    return 0;
  }
  if (!m->refused.empty()) {
    Check(m->after.empty());
    for (const auto& r : m->refused) Check(r.line > 0 && !r.message.empty());
    return 0;
  }
  auto out = df::Parse(m->after);
  Check(out.has_value());
  auto stages = out->Stages();
  Check(!stages.empty());
  if (m->runtime.empty()) return 0;  // FROM scratch
  const df::Stage& last = stages.back();
  Check(last.base.find(digest) != std::string::npos);
  bool user = false;
  for (size_t i = last.from; i < last.end; ++i) {
    const df::Instruction& in = out->instructions[i];
    Check(in.keyword != "RUN");
    if (in.keyword == "USER") user = in.text != "root" && in.text != "0";
  }
  Check(user);
  return 0;
}
