// The image's account database: /etc/passwd, /etc/group and /etc/nsswitch.conf, as base-passwd's
// postinst (which copies its master files) and adduser would have made them, plus the spec's own
// users and groups. Pure: texts in, texts out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "spec/image_spec.h"

namespace hardbase::image {

struct PasswdEntry {
  std::string name;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string gecos;
  std::string home;
  std::string shell;
};

struct GroupEntry {
  std::string name;
  uint32_t gid = 0;
  std::vector<std::string> members;
};

struct AccountDatabase {
  std::vector<PasswdEntry> users;
  std::vector<GroupEntry> groups;

  std::optional<PasswdEntry> FindUser(std::string_view name) const;
  std::optional<GroupEntry> FindGroup(std::string_view name) const;
};

// The system accounts: parsed from base-passwd's /usr/share/base-passwd/passwd.master and
// group.master when the image has that package, or (`passwd_master` and `group_master` empty) the
// minimal set a distroless image has: root (0), nobody (65534) and groups root (0), tty (5),
// staff (50), nogroup (65534). kSpec error naming the line for a malformed master file.
Result<AccountDatabase> SystemAccounts(std::string_view passwd_master,
                                       std::string_view group_master);

// Adds the spec's accounts (already defaulted by ParseImageSpec) to `db`: groups first, then users
// (gecos = name, password "x"). A name or id that collides with an account already in `db` is a
// kSpec error naming it: "user 'daemon' collides with the system user daemon (uid 1)". A user
// whose gid names no group gets none (the number is kept).
Result<void> AddSpecAccounts(AccountDatabase& db, const spec::Accounts& accounts);

// The user the image runs as, as the config's "uid:gid": `run_as` is a user name from `db` (the
// spec's, base-passwd's or a package's service user), "root", or a decimal uid (its gid from `db`
// when the uid has an entry, else the same number). kSpec error listing the users of `db` for
// another name.
Result<std::string> RunAsUser(const AccountDatabase& db, std::string_view run_as);

// Looks up an owner for `files:` entries: a name from `db` or a decimal id.
Result<uint32_t> ResolveUid(const AccountDatabase& db, std::string_view user);
Result<uint32_t> ResolveGid(const AccountDatabase& db, std::string_view group);

// The files' texts: "name:x:uid:gid:gecos:home:shell\n" and "name:x:gid:member,member\n" per
// entry. Whatever built `db`, a field that would break its line or add another (a ':', ',' in a
// name, or a control character such as a newline) is a kSpec error naming the entry, never output.
Result<std::string> PasswdText(const AccountDatabase& db);
Result<std::string> GroupText(const AccountDatabase& db);

// nsswitch.conf laid out as Debian's libc-bin installs it, but with only `files` for every database
// (no systemd, db or nis modules exist in the image) and `files dns` for hosts.
std::string NsswitchConf();

}  // namespace hardbase::image
