// libFuzzer target for `hardbase report`'s readers and renderer (report/documents.h,
// report/report.h): the bytes are taken as each of its three documents in turn. Whatever they
// hold, reading fails with one kSpec line or the page renders; nothing throws or crashes, and an
// accepted document renders the same bytes twice.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "report/report.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace r = hardbase::report;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto doc = r::ParseDocument(text, "fuzz.json");
  if (!doc) {
    if (doc.error().code != hardbase::ErrorCode::kSpec) std::abort();
    return 0;
  }
  (void)r::ReadAuditDocument(*doc);
  (void)r::ReadDiffDocument(*doc);
  (void)r::ReadMigrationDocument(*doc);
  r::ReportInputs inputs{*doc, *doc, *doc};
  auto page = r::RenderHtml(inputs);
  if (page && *page != r::RenderHtml(inputs).value_or("")) std::abort();
  if (!page && page.error().code != hardbase::ErrorCode::kSpec) std::abort();
  return 0;
}
