// Licences declared by a Debian machine-readable (DEP-5) copyright file, as SPDX.
//
// /usr/share/doc/<pkg>/copyright is the only licence information a Debian package ships. When it
// follows DEP-5 ("Format: .../copyright-format/1.0/"), every `Files` stanza names its licence
// with Debian short names ("GPL-2+", "BSD-3-clause", "Expat", "GPL-2+ with OpenSSL exception",
// "Artistic or GPL-1+"); these map to SPDX ids (GPL-2.0-or-later, BSD-3-Clause, MIT, ...).
// Names without an SPDX id become LicenseRef-<name>, which an SPDX document must declare with
// their text: LicenseRefTexts gives the text the file carries for them.
//
// The input is untrusted (it comes from a .deb); the parser is tolerant (a malformed line is
// skipped, not fatal) because many real files bend the format slightly.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>

namespace hardbase::sbom {

// One SPDX expression for the whole file: the License of the header stanza and of every Files
// stanza, "and"/"or"/"," and "with X exception" translated, the conjuncts deduplicated and joined
// with AND (simple ids first, then parenthesised choices, each group sorted). Empty for a file
// that is not DEP-5 (many are free text) or names no licence.
std::string LicenseExpression(std::string_view copyright_text);

// LicenseRef-* id -> licence text, for the LicenseRefs LicenseExpression returns whose text the
// file contains (a stanza "License: <name>" with the text on its continuation lines).
std::map<std::string, std::string> LicenseRefTexts(std::string_view copyright_text);

// The SPDX form of one Debian licence short name ("GPL-2+" -> "GPL-2.0-or-later", "Expat" ->
// "MIT", "GPL-2 with Classpath exception" -> "GPL-2.0-only WITH Classpath-exception-2.0",
// "public-domain" -> "LicenseRef-public-domain"). Empty when `name` has no usable character.
std::string SpdxLicenseId(std::string_view name);

// The LicenseRef-* ids an SPDX expression uses, which an SPDX document must declare.
std::set<std::string> LicenseRefsIn(std::string_view expression);

}  // namespace hardbase::sbom
