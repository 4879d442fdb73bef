// JSON documents that are signed, or that carry a signature, as other sigstore tools read them.
//
// Go's encoding/json (cosign, sigstore-go, in-toto-golang) matches member names to struct fields
// case-insensitively and keeps the last of duplicate members; nlohmann-json keeps one duplicate
// silently and matches names exactly. A document with `"docker-manifest-digest": A` and
// `"Docker-Manifest-Digest": B` would then name A to hardbase and B to cosign. Such documents are
// refused before any member is read, so that every reader sees the same claims.
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"

namespace hardbase::sign {

// A member name as Go's encoding/json compares it (its foldName): ASCII letters upper-cased, and
// the non-ASCII letters that fold onto ASCII ones (U+017F long s, U+0130/U+0131 dotted and
// dotless i, U+212A Kelvin sign) mapped to them. Other non-ASCII text is kept as it is.
std::string FoldJsonName(std::string_view name);

// `code` "WHAT: ..." when `text` exceeds base/json_limits.h's bounds, or when an object in it has
// two members whose names fold to the same name ("WHAT: duplicate member
// \"Docker-Manifest-Digest\" in critical.image (Go reads member names case-insensitively and
// takes the last)"). Text that is not valid JSON passes: the caller's parser says why.
// Under the member at path `free_form` ("predicate"), which Go reads into a map rather than a
// struct, names differing only in case are distinct and only exact duplicates are refused.
Result<void> CheckSignedJson(std::string_view text, ErrorCode code, std::string_view what,
                             std::string_view free_form = "");

// `text` (a name or value read from a document) as a JSON string: quoted, with quotes, backslashes
// and control characters escaped, so that it stays on its error message's one line.
std::string JsonQuoted(std::string_view text);

}  // namespace hardbase::sign
