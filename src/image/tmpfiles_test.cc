#include "image/tmpfiles.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "image/setup.h"
#include "image/setup_test_lines.h"

namespace hardbase::image {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(TmpfilesTest, PackagesFiles) {
  // bookworm's haproxy, mariadb-server, memcached, php8.2-fpm, postgresql-common and tomcat10
  // tmpfiles.d files (comments shortened).
  EXPECT_THAT(Actions(ParseTmpfiles("d /run/haproxy 2775 haproxy haproxy -\n", "haproxy: h.conf")),
              ElementsAre("1 dir /run/haproxy 2775 haproxy:haproxy",
                          "1 chown haproxy:haproxy /run/haproxy", "1 chmod 2775 /run/haproxy"));
  EXPECT_THAT(Actions(ParseTmpfiles("# This is the directory where the unix socket\n"
                                    "# of MariaDB may be created.\n"
                                    "d /run/mysqld 0755 mysql root -\n",
                                    "mariadb-server: m.conf")),
              ElementsAre("3 dir /run/mysqld 0755 mysql:root", "3 chown mysql:root /run/mysqld",
                          "3 chmod 0755 /run/mysqld"));
  EXPECT_THAT(
      Actions(ParseTmpfiles("d /run/memcached 0755 memcache memcache -\n", "m")),
      ElementsAre("1 dir /run/memcached 0755 memcache:memcache",
                  "1 chown memcache:memcache /run/memcached", "1 chmod 0755 /run/memcached"));
  EXPECT_THAT(
      Actions(ParseTmpfiles("#Type Path                  Mode UID      GID      Age Argument\n"
                            "    d /run/php              0755 www-data www-data -   -\n",
                            "php")),
      ElementsAre("2 dir /run/php 0755 www-data:www-data", "2 chown www-data:www-data /run/php",
                  "2 chmod 0755 /run/php"));
  ParsedSetup pg = ParseTmpfiles(
      "# Directory for PostgreSQL sockets, lockfiles and stats tempfiles\n"
      "d /run/postgresql 2775 postgres postgres - -\n"
      "# Log directory\n"
      "d /var/log/postgresql 1775 root postgres - -\n",
      "postgresql-common: /usr/lib/tmpfiles.d/postgresql-common.conf");
  EXPECT_THAT(
      Actions(pg),
      ElementsAre("2 dir /run/postgresql 2775 postgres:postgres",
                  "2 chown postgres:postgres /run/postgresql", "2 chmod 2775 /run/postgresql",
                  "4 dir /var/log/postgresql 1775 root:postgres",
                  "4 chown root:postgres /var/log/postgresql", "4 chmod 1775 /var/log/postgresql"));
  EXPECT_EQ(pg.actions[0].origin,
            "postgresql-common: /usr/lib/tmpfiles.d/postgresql-common.conf:2");
  EXPECT_THAT(pg.not_applied, IsEmpty());
  EXPECT_THAT(
      Actions(ParseTmpfiles("# Type Path        Mode UID    GID  Age Argument\n"
                            "d /var/log/tomcat10 2770 tomcat adm  -\n",
                            "tomcat10")),
      ElementsAre("2 dir /var/log/tomcat10 2770 tomcat:adm", "2 chown tomcat:adm /var/log/tomcat10",
                  "2 chmod 2770 /var/log/tomcat10"));
}

TEST(TmpfilesTest, TypesAndWhatIsNotApplied) {
  ParsedSetup p = ParseTmpfiles(R"sh(d /var/lib/a - - - -
D! /run/b 0700 - -
e /var/cache/c 0750 root adm 10d
z /var/log/d.log 0640 - adm
Z /srv/e - svc svc
L /etc/f - - - - ../usr/share/f
L+ /etc/g
C /etc/h - - - - /usr/share/defaults/h
f /var/log/i.log 0640 svc adm
x /tmp/j
R /var/tmp/k
q /var/lib/machines 0700
v- /var/lib/v 0700 - -
d= "/var/lib/quoted dir" :0755 :svc -
f /etc/written - - - - content
F /etc/truncated
w /proc/sys/kernel/x - - - - 1
p /run/fifo
c /dev/null2 - - - - 1:3
a+ /var/log/acl - - - - group:adm:r-x
d /run/user/%U 0700
d relative/path
d /var/../etc
t /var/lib/x - - - - security.x=1
d~ /run/b64
d /run/m ~0755
)sh",
                                "pkg: t.conf");
  EXPECT_THAT(Actions(p),
              ElementsAre("1 dir /var/lib/a", "2 dir /run/b 0700", "2 chmod 0700 /run/b",
                          "3 chown root:adm /var/cache/c (if /var/cache/c exists)",
                          "3 chmod 0750 /var/cache/c (if /var/cache/c exists)",
                          "4 chown :adm /var/log/d.log (if /var/log/d.log exists)",
                          "4 chmod 0640 /var/log/d.log (if /var/log/d.log exists)",
                          "5 chown -R svc:svc /srv/e (if /srv/e exists)",
                          "6 symlink /etc/f -> ../usr/share/f",
                          "7 symlink /etc/g -> /usr/share/factory/etc/g",
                          "8 copy -R /usr/share/defaults/h to /etc/h",
                          "9 file /var/log/i.log 0640 svc:adm", "9 chown svc:adm /var/log/i.log",
                          "9 chmod 0640 /var/log/i.log", "12 dir /var/lib/machines 0700",
                          "12 chmod 0700 /var/lib/machines", "13 dir /var/lib/v 0700",
                          "13 chmod 0700 /var/lib/v", "14 dir /var/lib/quoted dir 0755 svc",
                          "14 chown svc /var/lib/quoted dir", "14 chmod 0755 /var/lib/quoted dir"));
  std::vector<std::string> listed;
  for (const NotApplied& n : p.not_applied) listed.push_back(n.origin + " " + n.text);
  EXPECT_THAT(listed,
              ElementsAre("pkg: t.conf:15 f /etc/written - - - - content",
                          "pkg: t.conf:16 F /etc/truncated",
                          "pkg: t.conf:17 w /proc/sys/kernel/x - - - - 1",
                          "pkg: t.conf:18 p /run/fifo", "pkg: t.conf:19 c /dev/null2 - - - - 1:3",
                          "pkg: t.conf:20 a+ /var/log/acl - - - - group:adm:r-x",
                          "pkg: t.conf:21 d /run/user/%U 0700", "pkg: t.conf:22 d relative/path",
                          "pkg: t.conf:23 d /var/../etc",
                          "pkg: t.conf:24 t /var/lib/x - - - - security.x=1",
                          "pkg: t.conf:25 d~ /run/b64", "pkg: t.conf:26 d /run/m ~0755"));
}

}  // namespace
}  // namespace hardbase::image
