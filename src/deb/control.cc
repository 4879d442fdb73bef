#include "deb/control.h"

#include <fmt/core.h>

#include "base/strings.h"

namespace hardbase::deb {

std::string_view Stanza::Get(std::string_view name) const {
  for (const Field& f : fields_) {
    if (EqualsIgnoreCase(f.name, name)) return f.value;
  }
  return {};
}

bool Stanza::Has(std::string_view name) const {
  for (const Field& f : fields_) {
    if (EqualsIgnoreCase(f.name, name)) return true;
  }
  return false;
}

Result<void> ForEachStanza(std::string_view text,
                           const std::function<Result<void>(const Stanza&)>& visit,
                           ControlOptions options) {
  Stanza stanza;
  // End of the current field's value in `text`, extended by continuation lines.
  const char* value_end = nullptr;

  auto flush_value = [&]() {
    if (value_end && !stanza.mutable_fields().empty()) {
      Field& f = stanza.mutable_fields().back();
      if (value_end > f.value.data() + f.value.size()) {
        f.value =
            Trim(std::string_view(f.value.data(), static_cast<size_t>(value_end - f.value.data())));
      }
    }
    value_end = nullptr;
  };
  auto emit = [&]() -> Result<void> {
    flush_value();
    if (stanza.fields().empty()) return {};
    auto r = visit(stanza);
    stanza.mutable_fields().clear();
    return r;
  };

  // Values lose the blanks around them (base Trim: space, tab, CR, LF). deb822 names only space
  // and tab, but dpkg and apt trim with isspace, CR included, so CRLF text parses as LF text.
  for (auto [line, line_no] : Lines(text)) {
    if (Trim(line).empty()) {
      HB_TRY_VOID(emit());
      continue;
    }
    if (line.front() == '#' && options.allow_comments) continue;
    if (line.front() == ' ' || line.front() == '\t') {
      if (stanza.fields().empty()) {
        return Fail(ErrorCode::kSpec,
                    fmt::format("line {}: continuation line outside a field", line_no));
      }
      value_end = line.data() + line.size();
      continue;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return Fail(ErrorCode::kSpec, fmt::format("line {}: expected 'Field: value'", line_no));
    }
    std::string_view name = line.substr(0, colon);
    for (char c : name) {
      if (c <= ' ' || c == 127) {
        return Fail(ErrorCode::kSpec, fmt::format("line {}: invalid field name", line_no));
      }
    }
    flush_value();
    if (stanza.fields().empty()) stanza.set_line(line_no);
    std::string_view value = Trim(line.substr(colon + 1));
    // An empty first line ("Description:\n more") starts the value on the next line.
    if (value.empty()) value = std::string_view(line.data() + line.size(), 0);
    stanza.mutable_fields().push_back(Field{name, value});
    value_end = nullptr;
  }
  return emit();
}

Result<std::vector<Stanza>> ParseControl(std::string_view text, ControlOptions options) {
  std::vector<Stanza> out;
  HB_TRY_VOID(ForEachStanza(
      text,
      [&](const Stanza& s) -> Result<void> {
        out.push_back(s);
        return {};
      },
      options));
  return out;
}

}  // namespace hardbase::deb
