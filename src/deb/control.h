// Debian control data (deb822): Packages indexes, Release files, status files, .sources files.
//
// Parsing is zero-copy: a Stanza's field names and values are views into the text passed in, which
// must outlive them. A multi-line value keeps its continuation lines, newline and leading space
// included; RelationsField-style consumers treat them as white space.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace hardbase::deb {

struct Field {
  std::string_view name;
  std::string_view value;  // without the leading and trailing white space of the first line
};

class Stanza {
 public:
  // The value of a field (names compare ignoring ASCII case: EqualsIgnoreCase), or "" when
  // absent.
  std::string_view Get(std::string_view name) const;
  bool Has(std::string_view name) const;
  const std::vector<Field>& fields() const { return fields_; }
  // Line number (1-based) of the stanza's first field in the parsed text.
  size_t line() const { return line_; }

  std::vector<Field>& mutable_fields() { return fields_; }
  void set_line(size_t line) { line_ = line; }

 private:
  std::vector<Field> fields_;
  size_t line_ = 0;
};

struct ControlOptions {
  // deb822 sources files and debian/control allow '#' comment lines; Packages files do not.
  bool allow_comments = false;
};

// Calls `visit` for every stanza in order. Stops at the first error (a malformed line, or what
// `visit` returns), naming the line: "line 12: expected 'Field: value'".
Result<void> ForEachStanza(std::string_view text,
                           const std::function<Result<void>(const Stanza&)>& visit,
                           ControlOptions options = {});

// All stanzas of a document.
Result<std::vector<Stanza>> ParseControl(std::string_view text, ControlOptions options = {});

}  // namespace hardbase::deb
