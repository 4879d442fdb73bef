// `hardbase report`: one self-contained HTML page from the JSON documents of `audit` (one image,
// or two compared), `diff` and `migrate`.
//
// The page loads nothing: no script at all, no font, no image, no style sheet by URL. Its charts
// are inline SVG, its style one inline <style>, and a Content-Security-Policy of default-src
// 'none' makes any load a browser might still find blocked. It reads without JavaScript and
// prints (light colours, no page break inside a table row or chart). Every string of the
// documents (names, paths, evidence, Dockerfile text) is escaped for HTML after Printable has
// escaped its control characters. The same documents give the same bytes.
#pragma once

#include <iterator>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"
#include "report/documents.h"

namespace hardbase::report {

struct ReportInputs {
  Document audit;                     // "hardbase.audit-compare/v1" or "hardbase.audit/v1"
  std::optional<Document> diff;       // `hardbase diff --json`
  std::optional<Document> migration;  // "hardbase.migration/v1"
};

// The page; kSpec naming the file and the field when a document is not what it should be.
Result<std::string> RenderHtml(const ReportInputs& inputs);

// `text` safe as HTML element content and as a quoted attribute value: Printable's escapes for
// control characters, bidi controls and invalid UTF-8, then & < > " ' as character references.
std::string HtmlEscape(std::string_view text);

// The fill colours of the vulnerability chart's bars, by kSeverities, and of the size and package
// charts' "before" and "after" bars. Nothing else on the page is drawn in these colours, so that a
// screenshot's pixels of one of them are that chart's bars and legend.
inline constexpr std::string_view kSeverityColours[] = {"#b91c1c", "#f97316", "#eab308",
                                                        "#3b82f6", "#a78bfa", "#9ca3af"};
static_assert(std::size(kSeverityColours) == std::size(kSeverities));
inline constexpr std::string_view kBeforeColour = "#64748b";
inline constexpr std::string_view kAfterColour = "#14b8a6";

}  // namespace hardbase::report
