#include "image/sysusers.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "base/fs.h"
#include "base/strings.h"
#include "image/setup.h"
#include "image/setup_test_lines.h"
#include "support/process.h"

namespace hardbase::image {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(SysusersTest, PackagesFiles) {
  // tomcat10 10.1.34-0+deb12u1's /usr/lib/sysusers.d/tomcat10.conf.
  ParsedSetup tomcat = ParseSysusers(R"sh(#
# sysusers.d snippet for creating the tomcat user automatically
# at install time. See sysusers.d(5) for details.
#

#Type Name     ID             GECOS                 Home directory   Shell
u     tomcat   -              "Apache Tomcat"       /var/lib/tomcat  /usr/sbin/nologin
)sh",
                                     "tomcat10: /usr/lib/sysusers.d/tomcat10.conf");
  EXPECT_THAT(
      Actions(tomcat),
      ElementsAre("7 group tomcat (system)",
                  "7 user tomcat (system, group tomcat, home /var/lib/tomcat, gecos 'Apache "
                  "Tomcat')"));
  EXPECT_EQ(tomcat.actions[1].origin, "tomcat10: /usr/lib/sysusers.d/tomcat10.conf:7");
  EXPECT_THAT(tomcat.not_applied, IsEmpty());
  // systemd 252's basic.conf and other forms of sysusers.d(5).
  ParsedSetup p = ParseSysusers(R"sh(u root 0:0 "Super User" /root /bin/sh
g input - -
g kvm - -
u systemd-network 192 "systemd Network Management"
u svc 300:301 - /srv/svc
u web -:www-data "Web" - -
m svc input
r - 500-900
u! locked - "Locked"
u fromfile /usr/bin/passwd "From a file"
g %H -
u badshell - - / relative/shell
x what ever
u toomany - - - - extra
u quoted "unterminated
)sh",
                                "pkg: f.conf");
  EXPECT_THAT(Actions(p),
              ElementsAre("2 group input (system)", "3 group kvm (system)",
                          "4 group systemd-network (system, gid 192)", "7 group input (system)",
                          "7 group svc (system)", "9 group locked (system)",
                          "1 user root (system, group 0, uid 0, home /root, shell /bin/sh, gecos "
                          "'Super User')",
                          "4 user systemd-network (system, group systemd-network, uid 192, home /, "
                          "gecos 'systemd Network Management')",
                          "5 user svc (system, group 301, uid 300, home /srv/svc)",
                          "6 user web (system, group www-data, home /, gecos 'Web')",
                          "7 user svc (system, group svc, home /)",
                          "9 user locked (system, group locked, home /, gecos 'Locked')",
                          "7 member svc of group input"));
  std::vector<std::string> listed;
  for (const NotApplied& n : p.not_applied) listed.push_back(n.origin + " " + n.text);
  EXPECT_THAT(listed,
              ElementsAre("pkg: f.conf:10 u fromfile /usr/bin/passwd \"From a file\"",
                          "pkg: f.conf:11 g %H -", "pkg: f.conf:12 u badshell - - / relative/shell",
                          "pkg: f.conf:13 x what ever", "pkg: f.conf:14 u toomany - - - - extra",
                          "pkg: f.conf:15 u quoted \"unterminated"));
}

// Oracle: systemd-sysusers itself, on a root holding the same accounts. Its ids count down from
// 999 where ApplySetup's count up from 100 (as adduser's do), so ids are compared only where the
// file fixes them; names, groups, members, homes, shells and gecos must agree.
TEST(SysusersTest, AgreesWithSystemdSysusers) {
  if (!std::filesystem::exists("/usr/bin/systemd-sysusers")) {
    GTEST_SKIP() << "no systemd-sysusers here";
  }
  constexpr std::string_view kPasswd =
      "root:x:0:0:root:/root:/bin/bash\n"
      "www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n";
  constexpr std::string_view kGroup = "root:x:0:\nadm:x:4:\nwww-data:x:33:\n";
  constexpr std::string_view kConf =
      R"sh(u tomcat - "Apache Tomcat" /var/lib/tomcat /usr/sbin/nologin
u svc 300 "Service" /srv/svc
u pair 310:311 - -
u pair2 312:adm - -
g pairgroup 311
u web -:www-data "Web" -
g input - -
g fixed 320
m tomcat adm
m implied input
m www-data fixed
u www-data - "ignored, exists" /ignored
)sh";
  auto dir = TempDir::Create("sysusers-");
  ASSERT_TRUE(dir) << dir.error().message;
  std::filesystem::create_directories(dir->path() + "/etc");
  std::ofstream(dir->path() + "/etc/passwd") << kPasswd;
  std::ofstream(dir->path() + "/etc/group") << kGroup;
  std::ofstream(dir->path() + "/etc/shadow") << "root:*:1::::::\nwww-data:*:1::::::\n";
  std::ofstream(dir->path() + "/etc/gshadow") << "root:*::\nadm:*::\nwww-data:*::\n";
  std::ofstream(dir->path() + "/test.conf") << kConf;
  auto run = hardbase::testing::RunProcess(
      {"systemd-sysusers", "--root=" + dir->path(), dir->path() + "/test.conf"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto theirs_passwd = ReadFile(dir->path() + "/etc/passwd");
  auto theirs_group = ReadFile(dir->path() + "/etc/group");
  ASSERT_TRUE(theirs_passwd && theirs_group);

  auto db = SystemAccounts(kPasswd, kGroup);
  ASSERT_TRUE(db);
  ParsedSetup parsed = ParseSysusers(kConf, "test.conf");
  ASSERT_THAT(parsed.not_applied, IsEmpty());
  auto applied = ApplySetup(parsed.actions, {}, *db, ImageView(), 0);
  ASSERT_TRUE(applied);
  EXPECT_THAT(applied->warnings, IsEmpty());
  auto ours_passwd = PasswdText(*db);
  auto ours_group = GroupText(*db);
  ASSERT_TRUE(ours_passwd && ours_group);

  // name -> "group-name:gecos:home:shell" (ids only where fixed), and groups' members.
  auto records = [](const std::string& text) {
    std::vector<std::vector<std::string>> out;
    for (const Line& record : Lines(text)) {
      std::string_view line = record.text;
      std::vector<std::string> fields;
      for (size_t i = 0; i <= line.size();) {
        size_t end = std::min(line.find(':', i), line.size());
        fields.emplace_back(line.substr(i, end - i));
        i = end + 1;
      }
      out.push_back(fields);
    }
    return out;
  };
  auto summary = [&](const std::string& passwd, const std::string& group) {
    std::map<std::string, std::string> group_of;
    std::map<std::string, std::string> out;
    for (const auto& g : records(group)) {
      group_of[g[2]] = g[0];
      std::set<std::string> members;
      for (size_t i = 0; i <= g[3].size() && !g[3].empty();) {
        size_t end = std::min(g[3].find(',', i), g[3].size());
        members.insert(g[3].substr(i, end - i));
        i = end + 1;
      }
      std::string joined;
      for (const std::string& m : members) joined += m + " ";
      bool fixed_gid =
          g[0] == "fixed" || g[0] == "pairgroup" || g[0] == "svc" || std::stoul(g[2]) < 100;
      out["group " + g[0]] = (fixed_gid ? g[2] : "") + " members " + joined;
    }
    for (const auto& u : records(passwd)) {
      bool fixed_uid = u[0] == "svc" || u[0] == "pair" || u[0] == "pair2" || std::stoul(u[2]) < 100;
      out["user " + u[0]] =
          fmt::format("{} {} {} {} {}", fixed_uid ? u[2] : "", group_of[u[3]], u[4], u[5], u[6]);
    }
    return out;
  };
  EXPECT_EQ(summary(*ours_passwd, *ours_group), summary(*theirs_passwd, *theirs_group));
}

}  // namespace
}  // namespace hardbase::image
