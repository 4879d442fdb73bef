#include "image/setup.h"

#include <fmt/format.h>
#include <fnmatch.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "base/fs.h"
#include "image/maintainer_script.h"
#include "image/tmpfiles.h"
#include "support/process.h"

namespace hardbase::image {
namespace {

using oci::LayerEntry;
using oci::LayerEntryType;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// base-passwd's master files, shortened.
constexpr std::string_view kPasswd =
    "root:*:0:0:root:/root:/bin/bash\n"
    "daemon:*:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    "www-data:*:33:33:www-data:/var/www:/usr/sbin/nologin\n"
    "nobody:*:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
constexpr std::string_view kGroup =
    "root:*:0:\ndaemon:*:1:\nadm:*:4:\nwww-data:*:33:\nstaff:*:50:\nnogroup:*:65534:\n";

AccountDatabase Db() {
  auto db = SystemAccounts(kPasswd, kGroup);
  EXPECT_TRUE(db.has_value());
  return db ? *db : AccountDatabase{};
}

ViewEntry ViewDir(uint32_t mode = 0755) { return {LayerEntryType::kDirectory, mode, ""}; }
ViewEntry ViewFile(uint32_t mode = 0644) { return {LayerEntryType::kFile, mode, "", "ab12"}; }
ViewEntry ViewLink(std::string target) {
  return {LayerEntryType::kSymlink, 0777, std::move(target)};
}

ImageView View(std::vector<std::pair<std::string, ViewEntry>> entries) {
  ImageView view;
  for (auto& [path, e] : entries) view.Add(path, e);
  return view;
}

// "path dir 0755 0:0", "path file 0640 33:4 'content'", "path -> target".
std::vector<std::string> Describe(const std::vector<LayerEntry>& entries, int64_t epoch = 7) {
  std::vector<std::string> out;
  for (const LayerEntry& e : entries) {
    EXPECT_EQ(e.mtime, epoch) << e.path;
    if (e.type == LayerEntryType::kSymlink) {
      out.push_back(e.path + " -> " + e.link_target);
    } else if (e.type == LayerEntryType::kDirectory) {
      out.push_back(fmt::format("{} dir {:04o} {}:{}", e.path, e.mode, e.uid, e.gid));
    } else {
      out.push_back(fmt::format("{} file {:04o} {}:{} '{}'", e.path, e.mode, e.uid, e.gid,
                                e.content ? *e.content : "(null)"));
    }
  }
  return out;
}

SetupAction Action(SetupAction::Kind kind, std::string path_or_name) {
  SetupAction a;
  a.kind = kind;
  if (kind == SetupAction::Kind::kGroup || kind == SetupAction::Kind::kUser ||
      kind == SetupAction::Kind::kMember) {
    a.name = std::move(path_or_name);
  } else {
    a.path = std::move(path_or_name);
  }
  a.origin = "test:1";
  return a;
}

SetupResult Apply(const std::vector<SetupAction>& actions, AccountDatabase& db,
                  const ImageView& view, const ContentLookup& content = {},
                  const std::vector<NotApplied>& not_applied = {}) {
  auto result = ApplySetup(actions, not_applied, db, view, 7, content);
  EXPECT_TRUE(result.has_value());
  return result ? *result : SetupResult{};
}

TEST(ApplySetupTest, AccountsAsAdduserMakesThem) {
  AccountDatabase db = Db();
  SetupAction redis_group = Action(SetupAction::Kind::kGroup, "redis");
  SetupAction redis = Action(SetupAction::Kind::kUser, "redis");
  redis.group = "redis";
  redis.home = "/var/lib/redis";
  SetupAction memcache = Action(SetupAction::Kind::kUser, "memcache");  // nogroup
  SetupAction web = Action(SetupAction::Kind::kGroup, "web");
  web.id = 33;  // www-data's
  SetupAction fixed = Action(SetupAction::Kind::kUser, "fixed");
  fixed.id = 200;
  fixed.group = "50";
  SetupAction www = Action(SetupAction::Kind::kUser, "www-data");  // base-passwd's: kept
  www.home = "/srv/www";
  SetupAction member = Action(SetupAction::Kind::kMember, "redis");
  member.group = "www-data";
  SetupAction ghost = Action(SetupAction::Kind::kMember, "ghost");
  ghost.group = "adm";
  SetupAction bad = Action(SetupAction::Kind::kUser, "bad:name");
  SetupAction person = Action(SetupAction::Kind::kUser, "person");
  person.system = false;
  SetupAction human = Action(SetupAction::Kind::kUser, "human");
  human.system = false;
  human.group = "missing";
  SetupResult r =
      Apply({redis_group, redis, memcache, web, fixed, www, member, ghost, bad, person, human}, db,
            ImageView());
  EXPECT_THAT(r.entries, IsEmpty());  // no home asked for
  auto user = [&](std::string_view name) {
    auto u = db.FindUser(name);
    EXPECT_TRUE(u.has_value()) << name;
    return u ? fmt::format("{}:{}:{}:{}", u->uid, u->gid, u->home, u->shell) : "";
  };
  EXPECT_EQ(user("redis"), "100:100:/var/lib/redis:/usr/sbin/nologin");
  EXPECT_EQ(user("memcache"), "101:65534:/nonexistent:/usr/sbin/nologin");
  EXPECT_EQ(user("fixed"), "200:50:/nonexistent:/usr/sbin/nologin");
  EXPECT_EQ(user("www-data"), "33:33:/var/www:/usr/sbin/nologin");
  EXPECT_EQ(user("person"), "1000:65534:/nonexistent:/usr/sbin/nologin");
  EXPECT_EQ(db.FindGroup("web")->gid, 101u);
  EXPECT_THAT(db.FindGroup("www-data")->members, ElementsAre("redis"));
  EXPECT_FALSE(db.FindUser("bad:name"));
  EXPECT_FALSE(db.FindUser("human"));
  EXPECT_THAT(r.warnings,
              ElementsAre("test:1: group web (system, gid 33): gid 33 is taken, 101 given instead",
                          "test:1: member ghost of group adm: unknown user 'ghost': not added",
                          "test:1: user bad:name (system, group nogroup, home /nonexistent): not a "
                          "valid user name: not made",
                          "test:1: user human (not system, group missing, home /nonexistent): "
                          "unknown group 'missing': not made"));
  // What was made is what PasswdText accepts.
  EXPECT_TRUE(PasswdText(db).has_value());
  EXPECT_TRUE(GroupText(db).has_value());
}

// redis-tools' and redis-server's postinsts (see maintainer_script_test.cc) on the files their
// packages ship.
TEST(ApplySetupTest, Redis) {
  ParsedSetup tools = ParseMaintainerScript(R"sh(USER="redis"
Setup_dir () {
	DIR="${1}"
	MODE="${2}"
	GROUP="${3}"
	mkdir -p ${DIR}
	if ! dpkg-statoverride --list ${DIR} >/dev/null 2>&1
	then
		chown ${USER}:${GROUP} ${DIR}
		chmod ${MODE} ${DIR}
	fi
}
if [ "$1" = "configure" ]
then
	adduser --system --home /var/lib/redis --quiet --group ${USER} || true
	Setup_dir /var/log/redis 2750 adm
	Setup_dir /var/lib/redis 750 ${USER}
	Setup_dir /etc/redis 2770 ${USER}
fi
)sh",
                                            "redis-tools: postinst");
  ParsedSetup server = ParseMaintainerScript(
      "dpkg-statoverride --update --add redis redis 640 /etc/redis/redis.conf\n",
      "redis-server: postinst");
  std::vector<SetupAction> actions = server.actions;
  actions.insert(actions.begin(), tools.actions.begin(), tools.actions.end());
  ImageView view = View({{"/etc", ViewDir()},
                         {"/etc/redis", ViewDir()},
                         {"/etc/redis/redis.conf", ViewFile(0644)},
                         {"/var", ViewDir()},
                         {"/var/lib", ViewDir()},
                         {"/var/log", ViewDir()}});
  auto content = [](std::string_view path) -> std::shared_ptr<const std::string> {
    if (path != "/etc/redis/redis.conf") return nullptr;
    return std::make_shared<const std::string>("bind 127.0.0.1\n");
  };
  AccountDatabase db = Db();
  SetupResult r = Apply(actions, db, view, content);
  EXPECT_THAT(Describe(r.entries),
              ElementsAre("/etc/redis dir 2770 100:100",
                          "/etc/redis/redis.conf file 0640 100:100 'bind 127.0.0.1\n'",
                          "/var/lib/redis dir 0750 100:100", "/var/log/redis dir 2750 100:4"));
  EXPECT_THAT(r.warnings, IsEmpty());
  // Without the file's content, it stays as the package has it.
  AccountDatabase db2 = Db();
  SetupResult without = Apply(actions, db2, view);
  EXPECT_EQ(without.entries.size(), 3u);
  EXPECT_THAT(
      without.warnings,
      ElementsAre("redis-server: postinst:1: chown redis:redis /etc/redis/redis.conf (if "
                  "/etc/redis/redis.conf exists): 1 regular file of the packages left as it "
                  "is (content not at hand): /etc/redis/redis.conf",
                  "redis-server: postinst:1: chmod 0640 /etc/redis/redis.conf (if "
                  "/etc/redis/redis.conf exists): 1 regular file of the packages left as it "
                  "is (content not at hand): /etc/redis/redis.conf"));
}

// nginx-common's postinst (see maintainer_script_test.cc) on nginx-common's files, with
// base-passwd's www-data.
TEST(ApplySetupTest, Nginx) {
  ParsedSetup p = ParseMaintainerScript(R"sh(logdir="/var/log/nginx"
if ! dpkg-statoverride --list "$logdir" >/dev/null; then
  chown root:adm $logdir
  chmod 0755 $logdir
fi
if [ -z "$2" ]; then
  access_log="$logdir/access.log"
  if [ ! -e "$access_log" ]; then
    touch "$access_log"
    chmod 640 "$access_log"
    chown www-data:adm "$access_log"
  fi
fi
if [ -z $2 ] && [ ! -e /etc/nginx/sites-enabled/default ] &&
   [ -d /etc/nginx/sites-enabled ] && [ -d /etc/nginx/sites-available ]; then
  ln -s /etc/nginx/sites-available/default /etc/nginx/sites-enabled/default
fi
if [ ! -e /var/www/html/index.nginx-debian.html ]; then
  mkdir -p /var/www/html
  cp /usr/share/nginx/html/index.html /var/www/html/index.nginx-debian.html
fi
)sh",
                                        "nginx-common: postinst");
  ImageView view = View({{"/etc/nginx", ViewDir()},
                         {"/etc/nginx/sites-available", ViewDir()},
                         {"/etc/nginx/sites-available/default", ViewFile()},
                         {"/etc/nginx/sites-enabled", ViewDir()},
                         {"/usr/share/nginx/html/index.html", ViewFile()},
                         {"/var", ViewDir()},
                         {"/var/log", ViewDir()},
                         {"/var/log/nginx", ViewDir()}});
  auto content = [](std::string_view path) -> std::shared_ptr<const std::string> {
    if (path != "/usr/share/nginx/html/index.html") return nullptr;
    return std::make_shared<const std::string>("<html>");
  };
  AccountDatabase db = Db();
  SetupResult r = Apply(p.actions, db, view, content);
  EXPECT_THAT(
      Describe(r.entries),
      ElementsAre("/etc/nginx/sites-enabled/default -> /etc/nginx/sites-available/default",
                  "/var/log/nginx dir 0755 0:4", "/var/log/nginx/access.log file 0640 33:4 ''",
                  "/var/www dir 0755 0:0", "/var/www/html dir 0755 0:0",
                  "/var/www/html/index.nginx-debian.html file 0644 0:0 '<html>'"));
  EXPECT_THAT(r.warnings, IsEmpty());
  // Where the package (or another) already has these, nothing is done.
  view.Add("/etc/nginx/sites-enabled/default", ViewFile());
  view.Add("/var/log/nginx/access.log", ViewFile());
  view.Add("/var/www/html/index.nginx-debian.html", ViewFile());
  AccountDatabase db2 = Db();
  EXPECT_THAT(Describe(Apply(p.actions, db2, view, content).entries),
              ElementsAre("/var/log/nginx dir 0755 0:4"));
}

TEST(ApplySetupTest, ServiceDirectoriesFromTmpfiles) {
  // haproxy's and postgresql-common's tmpfiles.d lines and postgresql-common's postinst
  // `install -d` of /var/run/postgresql, after their users exist.
  ParsedSetup haproxy = ParseTmpfiles("d /run/haproxy 2775 haproxy haproxy -\n",
                                      "haproxy: /usr/lib/tmpfiles.d/haproxy.conf");
  ParsedSetup pg = ParseTmpfiles(
      "d /run/postgresql 2775 postgres postgres - -\nd /var/log/postgresql 1775 root postgres - "
      "-\n",
      "postgresql-common: /usr/lib/tmpfiles.d/postgresql-common.conf");
  ParsedSetup pg_postinst = ParseMaintainerScript(
      "[ -d /var/run/postgresql ] || install -d -m 2775 -o postgres -g postgres "
      "/var/run/postgresql\n",
      "postgresql-common: postinst");
  std::vector<SetupAction> actions;
  for (const char* name : {"haproxy", "postgres"}) {
    SetupAction group = Action(SetupAction::Kind::kGroup, name);
    SetupAction user = Action(SetupAction::Kind::kUser, name);
    user.group = name;
    actions.push_back(group);
    actions.push_back(user);
  }
  for (const ParsedSetup* p : {&haproxy, &pg_postinst, &pg}) {
    actions.insert(actions.end(), p->actions.begin(), p->actions.end());
  }
  AccountDatabase db = Db();
  SetupResult r = Apply(actions, db, View({{"/var", ViewDir()}, {"/var/log", ViewDir()}}));
  EXPECT_THAT(Describe(r.entries), ElementsAre("/run dir 0755 0:0", "/run/haproxy dir 2775 100:100",
                                               "/run/postgresql dir 2775 101:101",
                                               "/var/log/postgresql dir 1775 0:101"));
  EXPECT_THAT(r.warnings, IsEmpty());
}

TEST(ApplySetupTest, WherePathsLead) {
  ImageView view = View({{"/usr", ViewDir()},
                         {"/usr/lib", ViewDir()},
                         {"/lib", ViewLink("usr/lib")},
                         {"/srv", ViewDir()},
                         {"/srv/real", ViewDir()},
                         {"/opt", ViewDir()},
                         {"/opt/link", ViewLink("../srv/real")},
                         {"/opt/loop", ViewLink("/opt/loop")},
                         {"/etc", ViewDir()},
                         {"/etc/file", ViewFile()},
                         {"/etc/dir", ViewDir()}});
  auto dir = [](std::string path) { return Action(SetupAction::Kind::kDir, std::move(path)); };
  auto link = [](std::string path, std::string target) {
    SetupAction a = Action(SetupAction::Kind::kSymlink, std::move(path));
    a.target = std::move(target);
    return a;
  };
  SetupAction unknown_owner = dir("/srv/owned");
  unknown_owner.user = "nosuchuser";
  unknown_owner.owner_group = "adm";
  SetupAction chown_missing = Action(SetupAction::Kind::kChown, "/etc/missing");
  chown_missing.user = "root";
  AccountDatabase db = Db();
  SetupResult r =
      Apply({dir("/var/run/app"), dir("/var/lock/app"), dir("/lib/app"), dir("/opt/link/sub"),
             dir("/proc/x"), dir("/dev/shm/x"), dir("/var/lib/dpkg/x"), dir("relative"),
             dir("/etc/.wh.x"), dir("/opt/loop/x"), dir("/etc/file/x"), link("/etc/file", "/x"),
             link("/etc/dir", "/usr/lib/real.conf"), link("/etc/new", "dir"),
             link("/etc/new", "dir2"), unknown_owner, chown_missing},
            db, view);
  EXPECT_THAT(Describe(r.entries),
              ElementsAre("/etc/dir/real.conf -> /usr/lib/real.conf", "/etc/new -> dir2",
                          "/run dir 0755 0:0", "/run/app dir 0755 0:0", "/run/lock dir 0755 0:0",
                          "/run/lock/app dir 0755 0:0", "/srv/owned dir 0755 0:4",
                          "/srv/real/sub dir 0755 0:0", "/usr/lib/app dir 0755 0:0"));
  EXPECT_THAT(
      r.warnings,
      ElementsAre("test:1: dir /proc/x: /proc/x is not a place for it",
                  "test:1: dir /dev/shm/x: /dev/shm/x is not a place for it",
                  "test:1: dir /var/lib/dpkg/x: /var/lib/dpkg/x is not a place for it",
                  "test:1: dir relative: not an absolute normalised path",
                  "test:1: dir /etc/.wh.x: names starting with '.wh.' are OCI whiteouts",
                  "test:1: dir /opt/loop/x: /opt/loop: too many levels of links",
                  "test:1: dir /etc/file/x: /etc/file is not a directory",
                  "test:1: symlink /etc/file -> /x: /etc/file exists and is not a link: not "
                  "replaced",
                  "test:1: dir /srv/owned nosuchuser:adm: unknown user 'nosuchuser', root "
                  "used",
                  "test:1: chown root /etc/missing: /etc/missing does not exist"));
}

TEST(ApplySetupTest, RecursiveChangesAndSymbolicModes) {
  ImageView view = View({{"/srv", ViewDir()},
                         {"/srv/d", ViewDir(0755)},
                         {"/srv/d/sub/proc", ViewDir(0755)},  // only /proc itself is out of bounds
                         {"/var", ViewDir()},
                         {"/var/lib", ViewDir()},
                         {"/var/lib/dpkg", ViewDir()},
                         {"/var/lib/dpkg/status.d", ViewDir()},
                         {"/srv/d/sub", ViewDir(0775)},
                         {"/srv/d/sub/f", ViewFile(0664)},
                         {"/srv/d/l", ViewLink("/etc")},
                         {"/srv/d/x", ViewFile(0755)},
                         {"/srv/other", ViewDir()}});
  auto content = [](std::string_view path) -> std::shared_ptr<const std::string> {
    return path == "/srv/d/sub/f" ? std::make_shared<const std::string>("f") : nullptr;
  };
  SetupAction chown = Action(SetupAction::Kind::kChown, "/srv/d");
  chown.user = "www-data";
  chown.recursive = true;
  SetupAction chmod = Action(SetupAction::Kind::kChmod, "/srv/d");
  chmod.symbolic_mode = "go-w,o-rx";
  chmod.recursive = true;
  AccountDatabase db = Db();
  SetupAction var = Action(SetupAction::Kind::kChmod, "/var/lib");
  var.mode = 0700;
  var.recursive = true;
  SetupResult r = Apply({chown, chmod, var}, db, view, content);
  EXPECT_THAT(Describe(r.entries),
              ElementsAre("/srv/d dir 0750 33:0", "/srv/d/sub dir 0750 33:0",
                          "/srv/d/sub/f file 0640 33:0 'f'", "/srv/d/sub/proc dir 0750 33:0",
                          "/var/lib dir 0700 0:0"));
  EXPECT_THAT(r.warnings,
              ElementsAre("test:1: chown -R www-data /srv/d: 1 regular file of the packages left "
                          "as it is (content not at hand): /srv/d/x",
                          "test:1: chmod -R go-w,o-rx /srv/d: 1 regular file of the packages left "
                          "as it is (content not at hand): /srv/d/x"));
}

TEST(ApplySetupTest, CopiesAndFiles) {
  ImageView view = View({{"/usr/share/t", ViewDir()},
                         {"/usr/share/t/root", ViewDir(0755)},
                         {"/usr/share/t/root/index.html", ViewFile(0644)},
                         {"/usr/share/t/root/META-INF", ViewDir(0700)},
                         {"/usr/share/t/root/META-INF/context.xml", ViewFile(0600)},
                         {"/usr/share/t/root/link", ViewLink("index.html")},
                         {"/usr/share/t/unknown", ViewFile()},
                         {"/var/lib/t/webapps", ViewDir()},
                         {"/etc/t", ViewDir()},
                         {"/etc/t/shipped", ViewFile()}});
  auto content = [](std::string_view path) -> std::shared_ptr<const std::string> {
    if (path == "/usr/share/t/unknown") return nullptr;
    return std::make_shared<const std::string>(std::string(path.substr(path.rfind('/') + 1)));
  };
  auto copy = [](std::string from, std::string to, bool recursive = false) {
    SetupAction a = Action(SetupAction::Kind::kCopy, std::move(to));
    a.target = std::move(from);
    a.recursive = recursive;
    return a;
  };
  auto file = [](std::string path, std::string text) {
    SetupAction a = Action(SetupAction::Kind::kFile, std::move(path));
    a.content = std::move(text);
    return a;
  };
  SetupAction owned = copy("/usr/share/t/root/index.html", "/etc/t/index.html");
  owned.mode = 0640;
  owned.user = "www-data";
  owned.owner_group = "adm";
  AccountDatabase db = Db();
  SetupResult r = Apply({copy("/usr/share/t/root", "/var/lib/t/webapps/ROOT", true), owned,
                         copy("/usr/share/t/root", "/etc/t/notrecursive"),
                         copy("/usr/share/t/unknown", "/etc/t/unknown"),
                         copy("/usr/share/t/missing", "/etc/t/missing"),
                         copy("/usr/share/t/root/index.html", "/etc/t/shipped"),
                         copy("/usr/share/t/root/index.html", "/etc/t"), file("/etc/t/new", "x\n"),
                         file("/etc/t/shipped", ""), file("/etc/t/shipped", "y\n")},
                        db, view, content);
  EXPECT_THAT(Describe(r.entries),
              ElementsAre("/etc/t/index.html file 0640 33:4 'index.html'",
                          "/etc/t/new file 0644 0:0 'x\n'", "/var/lib/t/webapps/ROOT dir 0755 0:0",
                          "/var/lib/t/webapps/ROOT/META-INF dir 0700 0:0",
                          "/var/lib/t/webapps/ROOT/META-INF/context.xml file 0600 0:0 "
                          "'context.xml'",
                          "/var/lib/t/webapps/ROOT/index.html file 0644 0:0 'index.html'",
                          "/var/lib/t/webapps/ROOT/link -> index.html"));
  EXPECT_THAT(
      r.warnings,
      ElementsAre(
          "test:1: copy /usr/share/t/root to /etc/t/notrecursive: /usr/share/t/root is a directory",
          "test:1: copy /usr/share/t/unknown to /etc/t/unknown: the content of "
          "/usr/share/t/unknown is not at hand: not copied",
          "test:1: copy /usr/share/t/missing to /etc/t/missing: /usr/share/t/missing does not "
          "exist",
          "test:1: copy /usr/share/t/root/index.html to /etc/t/shipped: /etc/t/shipped exists: "
          "left as it is",
          "test:1: copy /usr/share/t/root/index.html to /etc/t: /etc/t/index.html exists: left as "
          "it is",
          "test:1: file /etc/t/shipped (2 bytes): /etc/t/shipped exists: left as it is"));
}

TEST(ApplySetupTest, ConditionsAreCheckedWhenTheirTestRuns) {
  ImageView view = View({{"/etc", ViewDir()},
                         {"/etc/present", ViewFile()},
                         {"/usr/lib/x/a.so", ViewFile()},
                         {"/usr/share/t.conf", ViewFile()}});
  auto content = [](std::string_view) { return std::make_shared<const std::string>("t"); };
  using K = SetupCondition::Kind;
  auto at = [](SetupAction a, std::string origin, std::vector<SetupCondition> when) {
    a.origin = std::move(origin);
    a.when = std::move(when);
    return a;
  };
  // nginx-common: `if [ ! -e F ]; then touch F; chmod 640 F; fi` (test 1): answered before the
  // touch, for both.
  SetupAction touch = Action(SetupAction::Kind::kFile, "/etc/made");
  SetupAction chmod = Action(SetupAction::Kind::kChmod, "/etc/made");
  chmod.mode = 0600;
  // tomcat10: `ucf NEW F; if [ -f F ]; then chown root:adm F; fi` (test 2): sees what ucf made.
  SetupAction ucf = Action(SetupAction::Kind::kCopy, "/etc/t.conf");
  ucf.target = "/usr/share/t.conf";
  SetupAction chown = Action(SetupAction::Kind::kChown, "/etc/t.conf");
  chown.owner_group = "adm";
  std::vector<SetupAction> actions = {
      at(touch, "pkg: postinst:2", {{K::kPath, "/etc/made", false, 1}}),
      at(chmod, "pkg: postinst:3", {{K::kPath, "/etc/made", false, 1}}),
      at(ucf, "pkg: postinst:5", {}),
      at(chown, "pkg: postinst:6", {{K::kPath, "/etc/t.conf", true, 2}}),
      // Another script's test 1 is its own, and sees what pkg made.
      at(Action(SetupAction::Kind::kDir, "/etc/later"), "other: postinst:1",
         {{K::kPath, "/etc/made", true, 1}, {K::kPath, "/usr/lib/x/*.so", true, 2}}),
      at(Action(SetupAction::Kind::kDir, "/etc/no1"), "c: 1", {{K::kPath, "/etc/present", false}}),
      at(Action(SetupAction::Kind::kDir, "/etc/no2"), "c: 2",
         {{K::kPath, "/usr/lib/*/b.so", true}}),
      at(Action(SetupAction::Kind::kDir, "/etc/no3"), "c: 3", {{K::kGroup, "ssl-cert", true}}),
      at(Action(SetupAction::Kind::kDir, "/etc/yes"), "c: 4", {{K::kUser, "www-data", true}}),
  };
  std::vector<NotApplied> listed = {
      {"pkg: postinst:9", "upgrade-tool", {{K::kPath, "/old", true, 3}}},
      {"pkg: postinst:4", "init-db", {{K::kPath, "/etc/made", false, 1}}},     // answered by touch
      {"pkg: postinst:10", "late-tool", {{K::kPath, "/etc/made", false, 4}}},  // as pkg found it
      {"pkg: postinst:11", "other-tool"}};
  AccountDatabase db = Db();
  SetupResult r = Apply(actions, db, view, content, listed);
  EXPECT_THAT(Describe(r.entries),
              ElementsAre("/etc/later dir 0755 0:0", "/etc/made file 0600 0:0 ''",
                          "/etc/t.conf file 0644 0:4 't'", "/etc/yes dir 0755 0:0"));
  EXPECT_THAT(r.warnings, IsEmpty());
  std::vector<std::string> texts;
  for (const NotApplied& n : r.not_applied) texts.push_back(n.text);
  EXPECT_THAT(texts, ElementsAre("init-db", "late-tool", "other-tool"));
}

TEST(ApplySetupTest, OutputIsSortedAndTheSameEveryTime) {
  std::vector<SetupAction> actions;
  for (const char* path : {"/z/b", "/a/c", "/m", "/a/b"}) {
    actions.push_back(Action(SetupAction::Kind::kDir, path));
  }
  AccountDatabase db1 = Db(), db2 = Db();
  SetupResult a = Apply(actions, db1, ImageView());
  std::reverse(actions.begin(), actions.end());
  SetupResult b = Apply(actions, db2, ImageView());
  EXPECT_THAT(Describe(a.entries),
              ElementsAre("/a dir 0755 0:0", "/a/b dir 0755 0:0", "/a/c dir 0755 0:0",
                          "/m dir 0755 0:0", "/z dir 0755 0:0", "/z/b dir 0755 0:0"));
  EXPECT_EQ(Describe(a.entries), Describe(b.entries));
}

TEST(SetupHelpersTest, PathsNamesModesAndLines) {
  EXPECT_EQ(NormaliseSetupPath("//a/./b/"), "/a/b");
  EXPECT_EQ(NormaliseSetupPath("/"), "/");
  EXPECT_FALSE(NormaliseSetupPath("a/b"));
  EXPECT_FALSE(NormaliseSetupPath("/a/../b"));
  EXPECT_FALSE(NormaliseSetupPath(std::string("/a\nb")));
  EXPECT_FALSE(NormaliseSetupPath("/" + std::string(256, 'x')));
  EXPECT_TRUE(IsValidAccountName("www-data"));
  EXPECT_TRUE(IsValidAccountName("Debian-exim"));
  EXPECT_TRUE(IsValidAccountName("_apt"));
  EXPECT_TRUE(IsValidAccountName("machine$"));
  for (std::string_view bad : {"", "-x", ".x", "123", "a:b", "a,b", "a b", "a\nb"}) {
    EXPECT_FALSE(IsValidAccountName(bad)) << bad;
  }
  EXPECT_FALSE(IsValidAccountName(std::string(33, 'a')));
  EXPECT_EQ(ParseOctalMode("640"), 0640u);
  EXPECT_EQ(ParseOctalMode("04755"), 04755u);
  EXPECT_EQ(ParseOctalMode("0"), 0u);
  EXPECT_FALSE(ParseOctalMode("8"));
  EXPECT_FALSE(ParseOctalMode("17777"));
  EXPECT_FALSE(ParseOctalMode(""));
  auto line = SplitConfigLine("u  name \"Full Name\" 'a b' \\\"x rest of  it ", 4);
  ASSERT_TRUE(line);
  EXPECT_THAT(line->fields, ElementsAre("u", "name", "Full Name", "a b"));
  EXPECT_EQ(line->rest, "\\\"x rest of  it");
  EXPECT_FALSE(SplitConfigLine("u \"open", 6));
  EXPECT_EQ(WithoutSpecifiers("100%%"), "100%");
  EXPECT_FALSE(WithoutSpecifiers("/home/%u"));
}

// Patterns of `case` and ${NAME#PATTERN}, against glibc's fnmatch (no flags).
TEST(SetupHelpersTest, GlobMatchAgreesWithFnmatch) {
  int compared = 0;
  for (std::string_view pattern :
       {"",          "*",         "?",      "a*",     "*a",         "*a*",  "a?c", "[abc]",
        "[!abc]*",   "[^a-c]",    "[a-c]x", "[]a]",   "[!]a]",      "[a-]", "\\*", "a\\?",
        "*.conf",    "*/*",       "/usr/*", "[",      "[a",         "a[",   "**b", "*a*b*c",
        "configure", "abort-*|x", "*[0-9]", "a*b?c*", "[[:alpha:]]"}) {
    for (std::string_view text :
         {"",       "a",      "b", "abc", "xa", "ax",        "a/b",           "/usr/lib",
          "x.conf", "*",      "?", "]",   "-",  "configure", "abort-upgrade", "a1",
          "aXbYcZ", "aabbcc", "[", "a["}) {
      std::string p(pattern), t(text);
      EXPECT_EQ(GlobMatch(pattern, text), fnmatch(p.c_str(), t.c_str(), 0) == 0)
          << "'" << pattern << "' '" << text << "'";
      ++compared;
    }
  }
  EXPECT_EQ(compared, 29 * 20);
  // A pattern that makes a backtracking matcher take exponential time is quick here.
  std::string hostile, long_text(4000, 'a');
  for (int i = 0; i < 40; ++i) hostile += "*a";
  EXPECT_FALSE(GlobMatch(hostile + "b", long_text));
}

// The symbolic modes chmod(1) takes, against GNU chmod itself (umask 022, as maintainer scripts
// run).
TEST(SetupHelpersTest, SymbolicModesAgreeWithChmodOracle) {
  auto dir = TempDir::Create("setup-chmod-");
  ASSERT_TRUE(dir) << dir.error().message;
  std::string file = dir->path() + "/f", sub = dir->path() + "/d";
  std::ofstream(file).put('x');
  std::filesystem::create_directory(sub);
  int compared = 0;
  for (std::string_view change :
       {"u+s", "g+s", "+t", "o-rwx,g-w", "a=r", "u=rwx,go=", "+x", "a+X", "g=u", "o=g", "u-w+x",
        "=rw", "go+rwx", "-w", "u=,g=,o=", "ug=rw,o-rwx", "+X", "a-s"}) {
    for (uint32_t start : {0644u, 0755u, 0600u, 02750u, 0640u}) {
      for (const std::string& path : {file, sub}) {
        ::chmod(path.c_str(), start);
        auto run = hardbase::testing::RunProcess(
            {"sh", "-c", "umask 022 && chmod -- \"$0\" \"$1\"", std::string(change), path});
        ASSERT_EQ(run.exit_code, 0) << change << ": " << run.err;
        struct stat st {};
        ASSERT_EQ(::stat(path.c_str(), &st), 0);
        std::optional<uint32_t> ours = ApplySymbolicMode(change, start, path == sub);
        ASSERT_TRUE(ours) << change;
        EXPECT_EQ(*ours, st.st_mode & 07777)
            << fmt::format("chmod {} on {} {:04o}", change, path == sub ? "dir" : "file", start);
        ++compared;
      }
    }
  }
  EXPECT_EQ(compared, 180);
  for (std::string_view bad : {"", "u", "u+q", "x+r", "u+r,", ",", "u+rw=x,"}) {
    EXPECT_FALSE(ApplySymbolicMode(bad, 0644, false)) << bad;
  }
}

}  // namespace
}  // namespace hardbase::image
