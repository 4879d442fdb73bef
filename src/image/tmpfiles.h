// systemd-tmpfiles configuration (tmpfiles.d(5)), as packages ship it in /usr/lib/tmpfiles.d/:
// the runtime, state and log directories (and links) a package's services need, read into
// SetupActions (image/setup_actions.h) because no systemd-tmpfiles runs when an image is built.
// Pure: text in, values out.
#pragma once

#include <string_view>

#include "image/setup_actions.h"

namespace hardbase::image {

// What a tmpfiles.d file sets up; `origin_prefix` is "<package>: <path of the file>", each origin
// adds ":<line>". Lines are `Type Path Mode User Group Age Argument`, `-` for a default.
//  - d, D, v, q, Q: a directory (mode 0755 and root unless given); an existing one gets the
//    mode and owner given;
//  - f without an argument: an empty file (0644 and root unless given), the mode and owner given
//    if it exists;
//  - e, z: the mode and owner given, if the path exists; Z: likewise, recursively;
//  - L (L+): a symbolic link to Argument (default /usr/share/factory/<path>);
//  - C (C+): a recursive copy of Argument (default /usr/share/factory/<path>) when the path does
//    not exist;
//  - x, X, r, R (what to clean or remove): nothing to do in a new image;
//  - anything else (written files f with an argument, F, w, fifos and devices p/c/b, attributes and
//  ACLs t/T/h/H/a/A), a
//    specifier ("%..."), a base64 or credential argument (`~`, `^`), a mode relative to the
//    existing one (`~0755`), a relative or ".." path: not applied, listed.
// The `!` (boot only), `-` (ignore errors) and `=` modifiers, and the age, do not change what is
// set up.
ParsedSetup ParseTmpfiles(std::string_view text, std::string_view origin_prefix);

}  // namespace hardbase::image
