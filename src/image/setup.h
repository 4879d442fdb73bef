// Applies what packages' maintainer scripts (and the spec's `dirs:`) would have set up, read into
// SetupActions (image/setup_actions.h), to the image's accounts and its own top layer. Pure: values
// in, values out.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "image/accounts.h"
#include "image/image_files.h"
#include "image/setup_actions.h"
#include "oci/layer.h"

namespace hardbase::image {

struct SetupResult {
  // Directories, links and files to add, or to put again with a new owner or mode, sorted by
  // path; every mtime is the `epoch` given.
  std::vector<oci::LayerEntry> entries;
  // One line per action that could not be applied (or only in part), each starting with the
  // action's origin: "redis-tools: postinst:27: chown redis:adm /var/log/redis: unknown group
  // 'adm', root used".
  std::vector<std::string> warnings;
  // The NotApplied given whose conditions hold once everything is applied, in their order: what
  // the build lists as not applied (a command under `if [ -f /etc/old.conf ]`, or in a loop over
  // a pattern that matches nothing, would not have run).
  std::vector<NotApplied> not_applied;
};

// The content of a regular file of the image at `path` (its path in the view), or null when it is
// not known. A regular file of the layers below can only be put again (copied, or with a new owner
// or mode) when its content is known.
using ContentLookup = std::function<std::shared_ptr<const std::string>(std::string_view path)>;

// Applies `actions`: first every account action in order (kGroup, kUser, kMember), so that
// directories may be owned by a user that a later script or file creates, then the file system
// actions in order. An action whose `when` does not hold at that point is skipped silently.
//  - Accounts: an existing name is kept as it is (as adduser does); a new account gets its fixed
//    id when free, otherwise the lowest free one of 100..999 (system) or 1000..59999 (gids and
//    uids counted separately), deterministically. A user whose primary group does not exist is
//    not made (warning), as adduser and systemd-sysusers refuse it. A user's home is made (0755,
//    owned by the user) only when `create_home` says so and the user is new.
//  - Paths are taken where the image has them: /var/run/X is /run/X, /var/lock/X is /run/lock/X,
//    /lib/X is /usr/lib/X (the skeleton's links), and symbolic links of `view` and of the entries
//    made here are followed in parent directories. Nothing is made under /proc, /sys or /dev.
//  - Owners are names of `db` (after the account actions) or decimal ids; an unknown one gives a
//    warning and root.
//  - A directory of `view` whose owner or mode changes is put again, keeping what is not changed
//    (the view does not know owners: root is assumed); a regular file only when `content` knows
//    it, otherwise a warning. Recursive changes walk what the view and this layer hold below the
//    directory, not following links.
//  - A link never replaces anything but a link (warning); at an existing directory it is made
//    inside it, named after the target, as ln(1) does; so is a copy.
// Modes are kept as the sources give them: the image's hardening policy (no setuid/setgid bits,
// nothing world-writable) is the caller's to apply. Errors: only a bug (kInternal); everything a
// package gets wrong is a warning.
Result<SetupResult> ApplySetup(const std::vector<SetupAction>& actions,
                               const std::vector<NotApplied>& not_applied, AccountDatabase& db,
                               const ImageView& view, int64_t epoch,
                               const ContentLookup& content = {});

// One line saying what an action does, for tests and logs: "user redis (system, group redis, home
// /var/lib/redis (made))", "dir /run/haproxy 2775 haproxy:haproxy", "chown -R redis:adm
// /var/log/redis", "chmod 0640 /etc/redis/redis.conf (if /etc/redis/redis.conf exists)",
// "symlink /a -> b", ...
std::string DescribeSetupAction(const SetupAction& action);
// "/etc/x exists", "group ssl-cert does not exist", ...
std::string DescribeSetupCondition(const SetupCondition& condition);

// Helpers shared by the parsers of setup sources.

// `path` as an absolute normalised path ("//a/./b/" -> "/a/b"), or nullopt when it is relative,
// has a ".." component or a NUL or newline, or is longer than 4096 bytes.
std::optional<std::string> NormaliseSetupPath(std::string_view path);

// A name adduser, useradd and systemd-sysusers accept for an account, that is safe in
// /etc/passwd and /etc/group: 1 to 32 characters of [A-Za-z0-9_.-], an optional trailing '$',
// not starting with '-' or '.', not only digits.
bool IsValidAccountName(std::string_view name);

// An octal mode of 1 to 4 digits after leading zeros ("755", "0640", "2775", "04755"), or nullopt.
std::optional<uint32_t> ParseOctalMode(std::string_view text);

// `mode` changed by a chmod(1) symbolic mode ("u+rwx,g-w,o=", "a+X", "+t", "g=u"), or nullopt when
// `change` is not one. `directory` decides what 'X' means. Without who-letters the umask is taken
// as 022, as the scripts run.
std::optional<uint32_t> ApplySymbolicMode(std::string_view change, uint32_t mode, bool directory);

// The fields of a line of a systemd configuration file (sysusers.d(5), tmpfiles.d(5)), split at
// blanks as systemd does: "..." and '...' quote, a backslash takes the next character as it is
// (\n and \t are a newline and a tab). At most `max_fields` fields; the rest of the line after
// them (blanks before it skipped) is `rest`, unsplit. nullopt for an unterminated quote.
struct ConfigLine {
  std::vector<std::string> fields;
  std::string rest;
};
std::optional<ConfigLine> SplitConfigLine(std::string_view line, size_t max_fields);

// A field of such a file with "%%" as "%", or nullopt when it has a specifier ("%u", "%h", ...):
// they depend on the system the file is applied on, and are not expanded.
std::optional<std::string> WithoutSpecifiers(std::string_view field);

// Whether `text` matches the shell pattern `pattern` (*, ?, [...] with ! or ^ and ranges,
// backslash escapes) as `case` and ${NAME#PATTERN} match it: as fnmatch(3) with no flags ('*'
// matches '/' too; for paths, image/path_glob.h). Unlike glibc's fnmatch, the time is at most
// |pattern| x |text| steps, whatever the pattern: scripts are untrusted input.
bool GlobMatch(std::string_view pattern, std::string_view text);

// A line of a setup source as NotApplied shows it: blanks trimmed, at most 240 bytes.
std::string NotAppliedText(std::string_view line);

// Reads a file of one setup line each (sysusers.d, tmpfiles.d): blank and '#' lines are skipped,
// the actions `parse_line` gives a line get the origin "<origin_prefix>:<line number>", and a
// line it gives nullopt for is listed as not applied.
using ConfigLineParser = std::function<std::optional<std::vector<SetupAction>>(std::string_view)>;
ParsedSetup ParseConfigLines(std::string_view text, std::string_view origin_prefix,
                             const ConfigLineParser& parse_line);

}  // namespace hardbase::image
