// libFuzzer target for the Dockerfile parser and printer (dockerfile/dockerfile.h).
//
// Beyond "no crash, no exception, no leak, no hang", it checks what callers rely on: an error is
// one kSpec line "line N: ..."; an accepted Dockerfile has a FROM, stages that cover its
// instructions from the first FROM on, and line numbers in order; and Print is Parse's inverse:
// the canonical text parses back to the same tree and prints the same again, within Parse's
// limits.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "dockerfile/dockerfile.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace df = hardbase::dockerfile;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = df::Parse(text);
  if (!parsed) {
    const hardbase::Error& e = parsed.error();
    Check(e.code == hardbase::ErrorCode::kSpec);
    Check(e.message.starts_with("line ") && e.message.find(": ") != std::string::npos);
    Check(e.message.find('\n') == std::string::npos);
    return 0;
  }
  const df::Dockerfile& d = *parsed;
  Check(d.escape == '\\' || d.escape == '`');
  int previous_end = 0;
  for (const auto& inst : d.instructions) {
    Check(inst.line > previous_end && inst.end_line >= inst.line);
    previous_end = inst.end_line;
    std::string line = df::PrintInstruction(inst, d.escape);
    Check(line.find('\n') == std::string::npos && line.size() <= df::kMaxLineBytes);
    Check(inst.exec_form || inst.exec_args.empty());
    (void)inst.Words(d.escape);
    (void)inst.KeyValues(d.escape);
  }
  auto stages = d.Stages();
  Check(!stages.empty());
  for (size_t i = 0; i < stages.size(); ++i) {
    Check(d.instructions[stages[i].from].keyword == "FROM");
    Check(stages[i].end == (i + 1 < stages.size() ? stages[i + 1].from : d.instructions.size()));
  }
  for (size_t i = 0; i < stages.front().from; ++i) Check(d.instructions[i].keyword == "ARG");

  std::string printed = df::Print(d);
  Check(printed.size() <= df::kMaxDockerfileBytes);
  auto again = df::Parse(printed);
  Check(again.has_value());
  Check(*again == d);
  Check(df::Print(*again) == printed);
  return 0;
}
