// What a package's postinst would have set up, read from the script's text: no maintainer script
// runs when an image is built, so the literal setup commands in it are understood and turned into
// SetupActions (image/setup_actions.h), and every other command that may change the system is
// listed as not applied.
//
// The script is read as POSIX sh (with the bash-isms maintainer scripts use: `function`, `[[`,
// `local`), the way dpkg runs it on a fresh install (`postinst configure`: $1 is "configure" and
// there is no $2). It is parsed (quotes, escapes, here-documents, comments, compound commands),
// then walked:
//  - variables assigned one literal value in the whole script (`USER="redis"`, `GROUP="$USER"`)
//    are expanded where used after their assignment, and so are `$(dirname P)`, `$(basename P)`
//    and `$(echo ...)` of known words; others (assigned different values, read, from the
//    environment, other command substitutions) make a word unknown;
//  - shell functions defined in the script are followed where they are called, with their
//    arguments as positional parameters; `for` loops over known words are unrolled; `while read`
//    loops over a literal here-document run once per line; `case` on a known word takes the
//    matching branch; `sh -c` / `su -c` scripts with a literal text are read too;
//  - tests on known strings (`[ "$1" = configure ]`, `[ -z "$2" ]`, a function that returns
//    their result) decide their branch; tests of the image (`[ -e P ]`, `[ -d P ]`, `getent group
//    G`, a `for` over a pattern) become conditions of what they guard (SetupCondition): checked
//    when it is applied, against the image as the script found it; other conditions are not
//    evaluated: both branches are read;
//  - debhelper's dh_usrlocal section is read from its data (the /usr/local directories).
// `update-alternatives --install` calls whose first arguments are known go to
// ParsedSetup::alternatives (image/alternatives.h makes them).
// Commands understood, when every argument is known: adduser/addgroup (--system, membership),
// useradd, groupadd, usermod -a -G, gpasswd -a, mkdir, install -d, install SRC DEST, cp, ucf
// SRC DEST, touch, chown, chgrp, chmod (octal and symbolic), ln -s, dpkg-statoverride --add.
// Neither applied nor listed: shell control and builtins, queries (getent, id, grep, find without
// actions, dpkg --compare-versions, ...), and what packages' setup does for a running system,
// which an image does not need or gets elsewhere (debconf db_*, deb-systemd-*, invoke-rc.d,
// update-rc.d, systemctl, dpkg-maintscript-helper, dpkg-trigger, ldconfig, systemd-sysusers and
// systemd-tmpfiles (the package's sysusers.d and tmpfiles.d files are read instead), py3compile,
// rm, rmdir and find -delete (nothing to remove in a freshly assembled image), changes to temporary
// files (from mktemp), ...). Any other command, an understood one with unknown or unsupported
// arguments, and an output redirection to a file are listed as not applied (with the conditions
// around them).
//
// Pure: text in, values out. Hostile scripts cost bounded time and memory.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "image/setup_actions.h"

namespace hardbase::image {

// The setup a maintainer script does (see above); `origin_prefix` is "<package>: postinst", each
// origin adds ":<line>". `arguments` are the script's $1, $2...: dpkg runs `postinst configure`
// and `preinst install` on a fresh install (some packages make their users in the preinst). A
// script that cannot be parsed gives no actions and one NotApplied naming the line where reading
// stopped. Consecutive commands writing one file are listed once; at most 100 entries are listed,
// the last saying how many more were left out.
ParsedSetup ParseMaintainerScript(std::string_view script, std::string_view origin_prefix,
                                  const std::vector<std::string>& arguments = {"configure"});

}  // namespace hardbase::image
