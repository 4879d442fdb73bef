// What a package's maintainer scripts would have set up, as plain values: the one vocabulary that
// sysusers.d and tmpfiles.d files (image/sysusers.h, image/tmpfiles.h), postinst scripts
// (image/maintainer_script.h) and the spec's `dirs:` are all read into, and that
// image::ApplySetup (image/setup.h) applies to the image's accounts and top layer.
//
// Pure value types, no IO.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "image/alternatives.h"

namespace hardbase::image {

// A test of the image around a command of a script (`if [ -d P ]`, `[ ! -e P ] || ...`,
// `if getent group G`), or of an action's own path (dpkg-statoverride --update and tmpfiles'
// z/e change only what exists): the action is applied, and a NotApplied listed, only when every
// condition of its `when` holds.
//
// When is it checked? A script tests before the commands it guards run, and those may change
// what it tested (`[ ! -e F ] && { touch F; chmod 640 F; }`), while a later test sees what earlier
// commands made (`ucf NEW F; [ -f F ] && chown ...`). So the conditions of one test (the same
// `test` number, from the same script) are checked once, when the first action under that test
// is applied, and that answer holds for every other action and NotApplied under it. `test` 0 is
// an action's own condition, checked when it is applied.
struct SetupCondition {
  enum class Kind { kPath, kUser, kGroup };
  Kind kind = Kind::kPath;
  // kPath: an absolute path (symbolic links followed), or a glob pattern that some path of the
  // image must match (`for f in /etc/x/*.conf`); kUser, kGroup: an account name.
  std::string name;
  bool exists = true;  // false: holds when it does not exist
  uint32_t test = 0;   // which test of its script it comes from (see above), 0 for none

  bool operator==(const SetupCondition&) const = default;
};

// One thing to set up. `origin` says where it came from, for messages:
// "memcached: /usr/lib/sysusers.d/memcached.conf:3", "nginx-common: postinst:42",
// "image.yaml:12:5".
//
// The kinds, and the fields each uses:
//  - kGroup: a group `name` (fixed `id` when the source gives one; `system` picks the id range).
//    A group that already exists is kept as it is.
//  - kUser: a user `name` with primary group `group` (an existing group's name or gid; "" =
//    nogroup, as `adduser --system` does without --group/--ingroup; a source that makes a group
//    of the user's own name emits that kGroup first and names it here), `id`, `home`, `shell`,
//    `gecos`, `system`; `create_home`: the source creates the home directory (owned by the user,
//    0755) when it makes the user and the directory does not exist yet. An existing user is kept
//    as it is, as adduser does.
//  - kMember: user `name` joins group `group` (a supplementary group); both must exist.
//  - kDir: a directory `path` (like `mkdir -p`): when missing it is made with `mode` (default
//    0755) and owner `user`/`owner_group` ("" = root), missing parents 0755 root; an existing
//    directory is left as it is. To also set the owner or mode of an existing directory, a
//    kChown/kChmod follows (as `install -d -o -m` and tmpfiles' `d` do).
//  - kChown: `path` gets owner `user` and/or group `owner_group` ("" = unchanged), `recursive`
//    for everything below too.
//  - kChmod: `path` gets `mode`, or when `mode` is not set, the chmod(1) symbolic change
//    `symbolic_mode` ("o-rwx,g-w", "u+s") applied to its current mode; `recursive` likewise.
//  - kSymlink: a link at `path` to `target` (as written, absolute or relative).
//  - kCopy: `path` becomes a copy of the image file `target` (a directory tree with `recursive`),
//    with `mode` (default: the source's) and owner `user`/`owner_group` ("" = root), as `cp`,
//    `install SRC DEST` and `ucf` (which installs the package's version of a configuration file
//    on a fresh install) do. An existing `path` is left as it is.
//  - kFile: a regular file at `path` holding `content` unless something is there (`touch`,
//    `cat > F << EOF`, tmpfiles' `f`), with `mode` (default 0644) and owner `user`/`owner_group`
//    ("" = root).
// kChown and kChmod follow symbolic links at `path`; a missing path is a warning, unless `when`
// asks for it to exist (then it is silently nothing to do).
struct SetupAction {
  enum class Kind { kGroup, kUser, kMember, kDir, kChown, kChmod, kSymlink, kCopy, kFile };
  Kind kind = Kind::kDir;
  std::string name;                         // kGroup, kUser, kMember: the account name
  std::string group;                        // kUser: primary group; kMember: the group joined
  std::optional<uint32_t> id;               // kGroup, kUser: a fixed gid/uid
  bool system = true;                       // kGroup, kUser: an id in 100..999 (else 1000..59999)
  std::string home = "/nonexistent";        // kUser
  std::string shell = "/usr/sbin/nologin";  // kUser
  std::string gecos;                        // kUser
  bool create_home = false;                 // kUser
  std::string path;                         // all but the accounts': absolute, normalised
  std::string target;                       // kSymlink: the link's target; kCopy: the source path
  std::string content;                      // kFile: what it holds
  std::optional<uint32_t> mode;      // kDir, kChmod, kCopy, kFile: permission bits (<= 07777)
  std::string symbolic_mode;         // kChmod without `mode`
  std::string user, owner_group;     // kDir, kChown, kCopy, kFile: names or decimal ids
  bool recursive = false;            // kChown, kChmod, kCopy
  std::vector<SetupCondition> when;  // all must hold
  std::string origin;

  bool operator==(const SetupAction&) const = default;
};

// A line of a maintainer script (or of a sysusers.d/tmpfiles.d file) that may change the system
// and was not understood, so was not applied: the build lists them in one warning per package.
struct NotApplied {
  std::string origin;  // as SetupAction::origin
  std::string text;    // the command or line, whitespace runs collapsed, at most 240 bytes
  std::vector<SetupCondition> when = {};  // it matters only when all hold (see SetupCondition)

  bool operator==(const NotApplied&) const = default;
};

// What one of the parsers read from one file or script.
struct ParsedSetup {
  std::vector<SetupAction> actions;
  std::vector<NotApplied> not_applied;
  std::vector<Alternative> alternatives;  // a maintainer script's `update-alternatives --install`
};

}  // namespace hardbase::image
