// systemd-sysusers configuration (sysusers.d(5)), as packages ship it in /usr/lib/sysusers.d/:
// the system users and groups the package needs, read into SetupActions (image/setup_actions.h)
// because no systemd-sysusers runs when an image is built. Pure: text in, values out.
#pragma once

#include <string_view>

#include "image/setup_actions.h"

namespace hardbase::image {

// The accounts a sysusers.d file makes; `origin_prefix` is "<package>: <path of the file>", each
// origin adds ":<line>".
//  - `u NAME ID GECOS HOME SHELL`: a system group NAME (with gid ID when ID is a number) and the
//    user NAME in it; ID "UID:GID" or "UID:GROUP" names an existing group instead (as
//    systemd-sysusers 252 does, which makes no group then).
//    HOME defaults to "/", SHELL to /usr/sbin/nologin; no home directory is made (sysusers makes
//    none). `u!` is read as `u`.
//  - `g NAME ID`: a system group.
//  - `m USER GROUP`: USER joins GROUP; like systemd-sysusers, the user and the group are made
//    when missing.
//  - `r` (id ranges) is nothing to do: ApplySetup uses adduser's range.
// As systemd-sysusers does, the groups come first, then the users, then the memberships, each in
// the order of the file. `-` is an empty field; fields may be quoted. Not applied, and listed: an
// ID taken from a file's owner ("/path"), a specifier ("%..."), an unknown type, a bad name or id,
// an unterminated quote, extra fields.
ParsedSetup ParseSysusers(std::string_view text, std::string_view origin_prefix);

}  // namespace hardbase::image
