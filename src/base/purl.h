// Package URLs (purl): the one way hardbase names a package across documents, so an SBOM, a scan
// report and a VEX statement about the same package say the same string and a tool can join them.
//
// The rules are those of the purl specification (https://github.com/package-url/purl-spec,
// PURL-SPECIFICATION.rst; ECMA-427): the grammar, the percent-encoding and the canonical form.
// Canonical form, as ToString writes it: scheme "pkg:", the lower-case type, each namespace
// segment, the name and the version percent-encoded, qualifiers sorted by their lower-case key
// with empty values left out and each value percent-encoded, subpath segments without empty, "."
// and ".." ones. Percent-encoding keeps A-Z a-z 0-9 . - _ ~ and the colon ':', which the
// specification says is never encoded (so an epoch stays "1:1.2.13", a digest "sha256:..."), and
// writes every other byte as %XX (upper-case hex; '+' is %2B, '/' in a value %2F).
//
// Of the type-specific rules only case folding is applied (and pypi's '_' -> '-'): the namespace
// and the name of the types whose definitions say they are case-insensitive (deb, oci, github,
// ...; purl-spec types/*-definition.json) are lower-cased. Required or prohibited namespaces and
// the other per-type checks are not made. Pure.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "base/error.h"

namespace hardbase {

struct Purl {
  std::string type;        // "deb", "oci"; lower case
  std::string namespace_;  // decoded segments joined by '/' ("debian", "github.com/gorilla"); may
                           // be empty
  std::string name;        // decoded; not empty in a parsed purl
  std::string version;     // decoded; empty when the purl names none
  // Lower-case key -> decoded value; a parsed purl has no empty value (the form drops them).
  std::map<std::string, std::string> qualifiers;
  std::string subpath;  // decoded segments joined by '/'; may be empty

  // Any purl the specification's grammar accepts, taken apart and decoded: "pkg:" (any case, any
  // number of slashes after it), then type, namespace, name, version, qualifiers and subpath, as
  // the specification's "how to parse" says. kSpec naming the input when it is not one: no "pkg:"
  // scheme, a bad type, no name, a bad or repeated qualifier key, a qualifier without '=', a
  // '%' not followed by two hex digits, a decoded part that is not UTF-8, a namespace or subpath
  // segment that decodes to one holding '/'.
  static Result<Purl> Parse(std::string_view text);

  // The canonical string (see above). A value Parse returned gives a string that parses back to
  // the same value.
  std::string ToString() const;

  bool operator==(const Purl&) const = default;
};

// `s` percent-encoded as the purl specification encodes a component: every byte but A-Z a-z 0-9
// . - _ ~ and ':' as %XX.
std::string PurlEncode(std::string_view s);

}  // namespace hardbase
