// Which distribution and release an image is of, as its os-release file (os-release(5):
// /etc/os-release, /usr/lib/os-release) says: the one home of "debian", "12" and "bookworm", and
// of the table that turns a Debian codename into its release number. Pure.
//
// Two things are made of it: the purl `distro` qualifier of the image's packages ("debian-12",
// see deb/purl.h), and the release the vulnerability data is matched for ("12").
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"

namespace hardbase::deb {

struct Distro {
  std::string id;          // ID: "debian", "ubuntu" (lower case); "" when unknown
  std::string version_id;  // VERSION_ID: "12"; "" when none (testing and unstable have none)
  std::string codename;    // VERSION_CODENAME: "bookworm"; may be ""

  bool empty() const { return id.empty() && version_id.empty() && codename.empty(); }

  // The purl `distro` qualifier: "ID-VERSION_ID" ("debian-12"), "ID-CODENAME" ("debian-trixie")
  // when there is no VERSION_ID, "ID" when there is neither, "" when the ID is unknown.
  std::string PurlQualifier() const;

  // The Debian release number the vulnerability data is keyed by: VERSION_ID up to its first '.'
  // ("12"), else the release of the codename (ReleaseForCodename). kSpec when the ID is not
  // "debian" ("the image is ubuntu, not Debian: ...") or neither names a release (the message
  // points at --release).
  Result<std::string> DebianRelease() const;

  bool operator==(const Distro&) const = default;
};

// The KEY=value assignments of an os-release text as os-release(5) writes them: values unquoted
// ("..." or '...') and unescaped (\" \\ \$ \`); comments, blank lines and lines that are not
// assignments skipped. A later assignment of a key wins.
std::map<std::string, std::string> ParseOsReleaseFields(std::string_view text);

// The distribution an os-release text names (ID lower-cased); empty for an empty text.
Distro ParseOsRelease(std::string_view text);

// The release number of a Debian codename ("bookworm" -> "12", "buster" -> "10", "trixie" ->
// "13", "woody" -> "3.0"); nullopt for unknown names, "sid" and "experimental". Exact: no case
// folding.
std::optional<std::string> ReleaseForCodename(std::string_view codename);

// The Debian distribution a repository's Codename names: that of "bookworm", and of its
// companion suites' "bookworm-security", "bookworm-updates", "bookworm-backports" ->
// {debian, 12, bookworm}; nullopt when the codename is not one of ReleaseForCodename's.
std::optional<Distro> DebianDistroOfCodename(std::string_view codename);

}  // namespace hardbase::deb
