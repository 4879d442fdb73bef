#include "image/maintainer_script.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "image/setup.h"
#include "image/setup_test_lines.h"

// The scripts below are excerpts of bookworm packages' maintainer scripts (named in each test),
// shortened where marked; the expectations are what dpkg running them on a fresh install does.

namespace hardbase::image {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// "LINE text [condition]..." per NotApplied.
std::vector<std::string> Listed(const ParsedSetup& p) {
  std::vector<std::string> out;
  for (const NotApplied& n : p.not_applied) {
    std::string line = n.origin.substr(n.origin.rfind(':') + 1) + " " + n.text;
    for (const SetupCondition& c : n.when) line += " [" + DescribeSetupCondition(c) + "]";
    out.push_back(line);
  }
  return out;
}

ParsedSetup Parse(std::string_view script) {
  return ParseMaintainerScript(script, "pkg: postinst");
}

TEST(MaintainerScriptTest, RedisToolsUserAndDirectoriesThroughAFunction) {
  // redis-tools 5:7.0.15-1~deb12u1 postinst.
  constexpr std::string_view kScript = R"sh(#!/bin/sh

set -eu

USER="redis"

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
	adduser \
		--system \
		--home /var/lib/redis \
		--quiet \
		--group \
		${USER} || true

	Setup_dir /var/log/redis 2750 adm
	Setup_dir /var/lib/redis 750 ${USER}
	Setup_dir /etc/redis 2770 ${USER}
fi

#DEBHELPER#

exit 0
)sh";
  ParsedSetup p = Parse(kScript);
  EXPECT_THAT(Actions(p),
              ElementsAre("23 group redis (system)",
                          "23 user redis (system, group redis, home /var/lib/redis (made))",
                          "12 dir /var/log/redis", "16 chown redis:adm /var/log/redis",
                          "17 chmod 2750 /var/log/redis", "12 dir /var/lib/redis",
                          "16 chown redis:redis /var/lib/redis", "17 chmod 0750 /var/lib/redis",
                          "12 dir /etc/redis", "16 chown redis:redis /etc/redis",
                          "17 chmod 2770 /etc/redis"));
  EXPECT_THAT(p.not_applied, IsEmpty());
  EXPECT_EQ(p.actions[0].origin, "pkg: postinst:23");
}

TEST(MaintainerScriptTest, RedisServerStatOverrideAndDebhelperBoilerplate) {
  // redis-server 5:7.0.15-1~deb12u1 postinst: variables, dpkg-statoverride, and the sections
  // debhelper adds (none of which an image needs, none listed).
  constexpr std::string_view kScript = R"sh(#!/bin/sh
set -eu
USER="redis"
GROUP="$USER"
CONFFILE="/etc/redis/redis.conf"
if [ "$1" = "configure" ]
then
	if ! dpkg-statoverride --list ${CONFFILE} >/dev/null 2>&1
	then
		dpkg-statoverride --update --add ${USER} ${GROUP} 640 ${CONFFILE}
	fi
fi
# Automatically added by dh_installdeb/13.11.4
dpkg-maintscript-helper rm_conffile /etc/redis/redis-server.post-down.d/00_example 4:4.0.2-3\~ -- "$@"
# End automatically added section
# Automatically added by dh_installinit/13.11.4
if [ "$1" = "configure" ] || [ "$1" = "abort-upgrade" ] || [ "$1" = "abort-deconfigure" ] || [ "$1" = "abort-remove" ] ; then
	if [ -z "${DPKG_ROOT:-}" ] && [ -x "/etc/init.d/redis-server" ]; then
		update-rc.d redis-server defaults >/dev/null
		if [ -n "$2" ]; then
			_dh_action=restart
		else
			_dh_action=start
		fi
		invoke-rc.d --skip-systemd-native redis-server $_dh_action || exit 1
	fi
fi
# End automatically added section
# Automatically added by dh_installsystemd/13.11.4
if [ "$1" = "configure" ] || [ "$1" = "abort-upgrade" ] || [ "$1" = "abort-deconfigure" ] || [ "$1" = "abort-remove" ] ; then
	# The following line should be removed in trixie or trixie+1
	deb-systemd-helper unmask 'redis-server.service' >/dev/null || true
	if deb-systemd-helper --quiet was-enabled 'redis-server.service'; then
		deb-systemd-helper enable 'redis-server.service' >/dev/null || true
	else
		deb-systemd-helper update-state 'redis-server.service' >/dev/null || true
	fi
fi
# End automatically added section
# Automatically added by dh_installsystemd/13.11.4
if [ "$1" = "configure" ] || [ "$1" = "abort-upgrade" ] || [ "$1" = "abort-deconfigure" ] || [ "$1" = "abort-remove" ] ; then
	if [ -d /run/systemd/system ]; then
		systemctl --system daemon-reload >/dev/null || true
		deb-systemd-invoke $_dh_action 'redis-server.service' >/dev/null || true
	fi
fi
# End automatically added section
# Automatically added by dh_installtmpfiles/13.11.4
if [ "$1" = "configure" ] || [ "$1" = "abort-upgrade" ] || [ "$1" = "abort-deconfigure" ] || [ "$1" = "abort-remove" ] ; then
	if [ -x "$(command -v systemd-tmpfiles)" ]; then
		systemd-tmpfiles ${DPKG_ROOT:+--root="$DPKG_ROOT"} --create redis.conf >/dev/null || true
	fi
fi
# End automatically added section
if [ "$1" = "configure" ]
then
	find /etc/redis -maxdepth 1 -type d -name 'redis-server.*.d' -empty -delete
fi
exit 0
)sh";
  ParsedSetup p = Parse(kScript);
  EXPECT_THAT(Actions(p),
              ElementsAre("10 chown redis:redis /etc/redis/redis.conf (if /etc/redis/redis.conf "
                          "exists)",
                          "10 chmod 0640 /etc/redis/redis.conf (if /etc/redis/redis.conf "
                          "exists)"));
  EXPECT_THAT(Listed(p), IsEmpty());
}

TEST(MaintainerScriptTest, PostgresqlCommonUserAndDirectories) {
  // postgresql-common 248+deb12u2 postinst (shortened).
  constexpr std::string_view kScript = R"sh(#!/bin/sh
set -e
[ "$DPKG_MAINTSCRIPT_PACKAGE" ] && . /usr/share/debconf/confmodule
if [ "$1" = configure ]; then
    [ "$DPKG_MAINTSCRIPT_PACKAGE" ] && quiet="--quiet" # RedHat doesn't have this
    # Make sure the administrative user exists
    if ! getent passwd postgres > /dev/null; then
        adduser --system $quiet --home /var/lib/postgresql --no-create-home \
            --shell /bin/bash --group --gecos "PostgreSQL administrator" postgres
    fi
    # if the user was created manually, make sure the group is there as well
    if ! getent group postgres > /dev/null; then
        addgroup --system $quiet postgres
    fi
    # make sure postgres is in the postgres group
    if ! id -Gn postgres | grep -qw postgres; then
        adduser $quiet postgres postgres
    fi
    # ensure home directory ownership
    mkdir -p /var/lib/postgresql
    su -s /bin/sh postgres -c "test -O /var/lib/postgresql &&
            test -G /var/lib/postgresql" || \
        chown postgres:postgres /var/lib/postgresql
    # config directory permissions
    chown postgres:postgres /etc/postgresql
    # nicer log directory permissions
    mkdir -p /var/log/postgresql
    chmod 1775 /var/log/postgresql
    chown root:postgres /var/log/postgresql
    # create socket directory
    [ -d /var/run/postgresql ] || \
       install -d -m 2775 -o postgres -g postgres /var/run/postgresql
    if [ -z "$2" ]; then
        if getent group ssl-cert >/dev/null; then
            if ! id -Gn postgres 2> /dev/null | grep -qw ssl-cert; then
                adduser $quiet postgres ssl-cert
            fi
        fi
    fi
    if [ "$2" ]; then
        /usr/share/postgresql-common/run-upgrade-scripts "$2" || true
    fi
    /usr/share/postgresql-common/pg_checksystem || true
    # Drop auto-generated conffile dropped in 215/229 + backups
    rm -f /etc/apt/apt.conf.d/01autoremove-postgresql*
fi
if [ "$1" = triggered ]; then
    pg_updatedicts || true
    db_stop
    exit 0  # skip daemon restart below
fi
)sh";
  ParsedSetup p = Parse(kScript);
  EXPECT_THAT(
      Actions(p),
      ElementsAre(
          "8 group postgres (system) (if user postgres does not exist)",
          "8 user postgres (system, group postgres, home /var/lib/postgresql, shell /bin/bash, "
          "gecos 'PostgreSQL administrator') (if user postgres does not exist)",
          "13 group postgres (system) (if group postgres does not exist)",
          "17 member postgres of group postgres", "20 dir /var/lib/postgresql",
          "23 chown postgres:postgres /var/lib/postgresql",
          "25 chown postgres:postgres /etc/postgresql", "27 dir /var/log/postgresql",
          "28 chmod 1775 /var/log/postgresql", "29 chown root:postgres /var/log/postgresql",
          "32 dir /var/run/postgresql 2775 postgres:postgres (if /var/run/postgresql does not "
          "exist)",
          "32 chown postgres:postgres /var/run/postgresql (if /var/run/postgresql does not exist)",
          "32 chmod 2775 /var/run/postgresql (if /var/run/postgresql does not exist)",
          "36 member postgres of group ssl-cert (if group ssl-cert exists)"));
  // The upgrade scripts need a previous version ($2): not on a fresh install.
  EXPECT_THAT(Listed(p), ElementsAre("43 /usr/share/postgresql-common/pg_checksystem"));
}

TEST(MaintainerScriptTest, NginxCommonLogsLinkAndIndexPage) {
  // nginx-common 1.22.1-9+deb12u1 postinst (shortened).
  constexpr std::string_view kScript = R"sh(#!/bin/sh
set -e
. /usr/share/debconf/confmodule
case "$1" in
  configure)
    logdir="/var/log/nginx"
    # Allow local admin to override
    if ! dpkg-statoverride --list "$logdir" >/dev/null; then
      chown root:adm $logdir
      chmod 0755 $logdir
    fi
    # Secure default logfiles on fresh installations
    if [ -z "$2" ]; then
      access_log="$logdir/access.log"
      if [ ! -e "$access_log" ]; then
        touch "$access_log"
        chmod 640 "$access_log"
        chown www-data:adm "$access_log"
      fi
    fi
    # If a symlink doesn't exist and can be created, then create it.
    if [ -z $2 ] && [ ! -e /etc/nginx/sites-enabled/default ] &&
       [ -d /etc/nginx/sites-enabled ] && [ -d /etc/nginx/sites-available ]; then
      ln -s /etc/nginx/sites-available/default /etc/nginx/sites-enabled/default
    fi
    # Create a default index page when not already present.
    if [ ! -e /var/www/html/index.nginx-debian.html ]; then
      mkdir -p /var/www/html
      cp /usr/share/nginx/html/index.html /var/www/html/index.nginx-debian.html
    fi
    ;;
  abort-upgrade|abort-remove|abort-deconfigure)
    ;;
  *)
    echo "postinst called with unknown argument \`$1'" >&2
    exit 1
    ;;
esac
exit 0
)sh";
  ParsedSetup p = Parse(kScript);
  EXPECT_THAT(
      Actions(p),
      ElementsAre(
          "9 chown root:adm /var/log/nginx", "10 chmod 0755 /var/log/nginx",
          "16 file /var/log/nginx/access.log (if /var/log/nginx/access.log does not exist)",
          "17 chmod 0640 /var/log/nginx/access.log (if /var/log/nginx/access.log does not exist)",
          "18 chown www-data:adm /var/log/nginx/access.log (if /var/log/nginx/access.log does not "
          "exist)",
          "24 symlink /etc/nginx/sites-enabled/default -> /etc/nginx/sites-available/default (if "
          "/etc/nginx/sites-enabled/default does not exist and /etc/nginx/sites-enabled exists "
          "and /etc/nginx/sites-available exists)",
          "28 dir /var/www/html (if /var/www/html/index.nginx-debian.html does not exist)",
          "29 copy /usr/share/nginx/html/index.html to /var/www/html/index.nginx-debian.html (if "
          "/var/www/html/index.nginx-debian.html does not exist)"));
  EXPECT_THAT(p.not_applied, IsEmpty());
}

TEST(MaintainerScriptTest, ServiceUsersOfOtherPackages) {
  // haproxy 2.6.12-1+deb12u1, memcached 1.6.18-1, prometheus 2.42.0+ds-5, useradd/groupadd/usermod.
  ParsedSetup haproxy = Parse(
      "adduser --system --disabled-password --disabled-login --home /var/lib/haproxy \\\n"
      "        --no-create-home --quiet --force-badname --group haproxy\n");
  EXPECT_THAT(Actions(haproxy),
              ElementsAre("1 group haproxy (system)",
                          "1 user haproxy (system, group haproxy, home /var/lib/haproxy)"));
  ParsedSetup memcached = Parse(R"sh(GROUP="memcache"
USER="memcache"
DATADIR="/nonexistent"
case "$1" in
configure)
    if ! getent group $GROUP >/dev/null ; then
            addgroup --system $GROUP >/dev/null
    fi
    if ! getent passwd $USER >/dev/null ; then
            adduser \
              --system \
              --disabled-login \
              --ingroup $GROUP \
              --home $DATADIR \
              --no-create-home \
              --gecos "Memcached" \
              --shell /bin/false \
              $USER  >/dev/null
    fi
    ;;
esac
)sh");
  EXPECT_THAT(Actions(memcached),
              ElementsAre("7 group memcache (system) (if group memcache does not exist)",
                          "10 user memcache (system, group memcache, home /nonexistent, shell "
                          "/bin/false, gecos 'Memcached') (if user memcache does not exist)"));
  ParsedSetup shadow = Parse(
      "groupadd -r -g 120 svc\n"
      "useradd -r -M -d /var/lib/svc -s /usr/sbin/nologin -G adm,svc -c 'A service' svc\n"
      "useradd --system --gid svc --create-home --home-dir /srv/other other\n"
      "usermod -aG www-data svc\n"
      "gpasswd -a other adm\n"
      "usermod -d /x svc\n");
  EXPECT_THAT(Actions(shadow),
              ElementsAre("1 group svc (system, gid 120)", "2 group svc (system)",
                          "2 user svc (system, group svc, home /var/lib/svc, gecos 'A service')",
                          "2 member svc of group adm", "2 member svc of group svc",
                          "3 user other (system, group svc, home /srv/other (made))",
                          "4 member svc of group www-data", "5 member other of group adm"));
  EXPECT_THAT(Listed(shadow), ElementsAre("6 usermod -d /x svc"));
}

TEST(MaintainerScriptTest, FilesDirectoriesAndLinks) {
  ParsedSetup p = Parse(R"sh(mkdir -m 0700 -p /var/lib/a /var/lib/b
mkdir --mode=u=rwx,go= /var/lib/c
install -d -o svc /var/cache/svc
install -m 0640 -o root -g svc /usr/share/svc/svc.conf /etc/svc/
cp -a /usr/share/svc/skel /var/lib/svc/skel
cp /dev/null /etc/svc/empty
ucf --three-way /usr/share/svc/defaults /etc/default/svc
ucf --purge /etc/default/old
ln -sf ../sites-available/default /etc/svc/sites-enabled/
ln -s -r /usr/share/svc/web /var/www/svc
chmod -R o-rwx,g-w /var/lib/svc
chmod 04755 /usr/lib/svc/helper
chgrp -R svc /var/log/svc/
chown -h svc.svc /run//svc/./sock
touch /var/log/svc.log
cat > /etc/svc/motd <<'EOF'
Hello $USER
EOF
echo 'x = 1' > /etc/svc/x.conf
: > /etc/svc/empty2
)sh");
  EXPECT_THAT(
      Actions(p),
      ElementsAre("1 dir /var/lib/a 0700", "1 dir /var/lib/b 0700", "2 dir /var/lib/c 0700",
                  "3 dir /var/cache/svc svc", "3 chown svc /var/cache/svc",
                  "4 copy /usr/share/svc/svc.conf to /etc/svc/svc.conf 0640 root:svc",
                  "5 copy -R /usr/share/svc/skel to /var/lib/svc/skel", "6 file /etc/svc/empty",
                  "7 copy /usr/share/svc/defaults to /etc/default/svc",
                  "9 symlink /etc/svc/sites-enabled/default -> ../sites-available/default",
                  "10 symlink /var/www/svc -> ../../usr/share/svc/web",
                  "11 chmod -R o-rwx,g-w /var/lib/svc", "12 chmod 4755 /usr/lib/svc/helper",
                  "13 chown -R :svc /var/log/svc", "14 chown svc:svc /run/svc/sock",
                  "15 file /var/log/svc.log", "16 file /etc/svc/motd (12 bytes)",
                  "19 file /etc/svc/x.conf (6 bytes)", "20 file /etc/svc/empty2"));
  EXPECT_EQ(p.actions[16].content, "Hello $USER\n");
  EXPECT_THAT(p.not_applied, IsEmpty());
}

TEST(MaintainerScriptTest, ListsWhatItDoesNotUnderstandOnce) {
  ParsedSetup p = Parse(R"sh(#!/bin/sh
set -e
DIR=$(some-tool --print-dir)
mkdir -p "$DIR"
mkdir relative/dir
/usr/lib/pkg/setup-database --init
openssl req -new -x509 -nodes -out /etc/pkg/cert.pem
echo "[client]" > /etc/pkg/client.cnf
echo "user = root" >> /etc/pkg/client.cnf
echo "host = localhost" >> /etc/pkg/client.cnf
a2enmod -q rewrite
TMP=$(mktemp)
sed -e 's/x/y/' /usr/share/pkg/template > "$TMP"
chmod 644 "$TMP"
ucf "$TMP" /etc/pkg/generated.conf
rm -f /etc/pkg/old.conf
rm -rf /var/cache/pkg/*
sed -i 's/a/b/' /etc/pkg/pkg.conf
find /var/lib/pkg -name '*.old' -exec rm {} +
chown pkg:pkg /var/lib/pkg/*.db
)sh");
  EXPECT_THAT(Actions(p), ElementsAre("8 file /etc/pkg/client.cnf (9 bytes)"));
  EXPECT_THAT(Listed(p),
              ElementsAre("4 mkdir -p \"$DIR\"", "5 mkdir relative/dir",
                          "6 /usr/lib/pkg/setup-database --init",
                          "7 openssl req -new -x509 -nodes -out /etc/pkg/cert.pem",
                          "9 echo \"user = root\" >> /etc/pkg/client.cnf (and 1 more "
                          "command writing /etc/pkg/client.cnf)",
                          "11 a2enmod -q rewrite", "15 ucf \"$TMP\" /etc/pkg/generated.conf",
                          "18 sed -i 's/a/b/' /etc/pkg/pkg.conf",
                          "19 find /var/lib/pkg -name '*.old' -exec rm {} +",
                          "20 chown pkg:pkg /var/lib/pkg/*.db"));
}

TEST(MaintainerScriptTest, DecidesWhatAFreshInstallRuns) {
  // apache2 2.4.62-1~deb12u1 postinst (shortened): a function tells a fresh install, a case on
  // $1, upgrade-only code, an early return.
  constexpr std::string_view kScript = R"sh(#!/bin/sh
set -e
is_fresh_install()
{
	if [ -z "$2" ] ; then
		return 0
	fi
	return 1
}
install_default_files()
{
	if is_fresh_install $@ ; then
		local do_copy=true
		if $do_copy ; then
			cp /usr/share/apache2/default-site/index.html /var/www/html/index.html
		fi
	else
		for dir in /var/www /var/www/html ; do
			local file=$dir/index.html
			cp /usr/share/apache2/default-site/index.html $file
		done
	fi
}
execute_deferred_actions ()
{
	if [ ! -e /var/lib/apache2/deferred_actions ]; then
		return 0
	fi
	local error=false
	a2enmod -m -q deferred
	if $error ; then
		echo "failed"
	fi
	rm /var/lib/apache2/deferred_actions
}
case "$1" in
	configure)
		install_default_files $@
		execute_deferred_actions
	;;
	abort-upgrade)
		mkdir /never
	;;
	*)
		echo "postinst called with unknown argument \`$1'" >&2
		exit 1
	;;
esac
mkdir /after
)sh";
  ParsedSetup p = Parse(kScript);
  EXPECT_THAT(Actions(p), ElementsAre("15 copy /usr/share/apache2/default-site/index.html to "
                                      "/var/www/html/index.html",
                                      "49 dir /after"));
  EXPECT_THAT(Listed(p), ElementsAre("30 a2enmod -m -q deferred "
                                     "[/var/lib/apache2/deferred_actions exists]"));
  // Upgrading (postinst configure OLD-VERSION) takes the other branch.
  ParsedSetup upgrade = ParseMaintainerScript(kScript, "pkg: postinst", {"configure", "1.0"});
  EXPECT_THAT(Actions(upgrade), ElementsAre("20 copy /usr/share/apache2/default-site/index.html "
                                            "to /var/www/index.html",
                                            "20 copy /usr/share/apache2/default-site/index.html "
                                            "to /var/www/html/index.html",
                                            "49 dir /after"));
  // dpkg --compare-versions on the version being upgraded from: none on a fresh install.
  EXPECT_THAT(Actions(Parse("if dpkg --compare-versions \"$2\" lt 2.0-1; then mkdir /lt; fi\n"
                            "if dpkg --compare-versions \"$2\" lt-nl 2.0-1; then mkdir /nl; fi\n"
                            "dpkg --compare-versions 1.10 gt 1.9 && mkdir /gt\n"
                            "dpkg --compare-versions 1:0 '<<' 2 || mkdir /epoch\n")),
              ElementsAre("1 dir /lt", "3 dir /gt", "4 dir /epoch"));
  // An unconditional exit ends the script.
  EXPECT_THAT(Actions(Parse("mkdir /a\nexit 0\nmkdir /b\n")), ElementsAre("1 dir /a"));
  EXPECT_THAT(Actions(Parse("[ -x /x ] || exit 0\nmkdir /b\n")),
              ElementsAre("2 dir /b (if /x exists)"));
}

TEST(MaintainerScriptTest, LoopsAndChoices) {
  // tomcat10 10.1.34-0+deb12u1 postinst (shortened): loops over literal words.
  ParsedSetup tomcat = Parse(R"sh(TOMCAT_GROUP="tomcat"
CONFFILES="web.xml server.xml"
for conffile in $CONFFILES;
do
	ucf --debconf-ok --three-way /usr/share/tomcat10/etc/$conffile /etc/tomcat10/$conffile
	if [ -f "/etc/tomcat10/$conffile" ]; then
		chown root:$TOMCAT_GROUP /etc/tomcat10/$conffile
	fi
done
)sh");
  EXPECT_THAT(Actions(tomcat),
              ElementsAre("5 copy /usr/share/tomcat10/etc/web.xml to /etc/tomcat10/web.xml",
                          "7 chown root:tomcat /etc/tomcat10/web.xml (if /etc/tomcat10/web.xml "
                          "exists)",
                          "5 copy /usr/share/tomcat10/etc/server.xml to /etc/tomcat10/server.xml",
                          "7 chown root:tomcat /etc/tomcat10/server.xml (if "
                          "/etc/tomcat10/server.xml exists)"));
  // mariadb-server 1:10.11.6-0+deb12u1 postinst: a loop over a pattern only matters when it
  // matches something.
  ParsedSetup mariadb =
      Parse(R"sh(for old_postrm_file in /var/lib/dpkg/info/mariadb-server-10.?.postrm
do
  if [ "$old_postrm_file" != "/var/lib/dpkg/info/mariadb-server-10.?.postrm" ]
  then
    sed '/Automatically added by dh_installinit/,/End automatically added section/d' \
      -i "$old_postrm_file" || true
  fi
done
)sh");
  EXPECT_THAT(Listed(mariadb),
              ElementsAre("5 sed '/Automatically added by dh_installinit/,/End automatically "
                          "added section/d' -i \"$old_postrm_file\" "
                          "[/var/lib/dpkg/info/mariadb-server-10.?.postrm exists]"));
  // python3.11-minimal 3.11.2-6+deb12u5 postinst: values chosen by a test of the image.
  ParsedSetup python = Parse(R"sh(if [ -e /etc/staff-group-for-usr-local ]; then
    perm=2755; group=staff
else
    perm=755; group=root
fi
if [ ! -e /usr/local/lib/python3.11 ]; then
    mkdir -p /usr/local/lib/python3.11 2> /dev/null || true
    chmod $perm /usr/local/lib/python3.11 2> /dev/null || true
fi
)sh");
  EXPECT_THAT(Actions(python),
              ElementsAre("7 dir /usr/local/lib/python3.11 (if /usr/local/lib/python3.11 does not "
                          "exist)",
                          "8 chmod 0755 /usr/local/lib/python3.11 (if /usr/local/lib/python3.11 "
                          "does not exist and /etc/staff-group-for-usr-local does not exist)",
                          "8 chmod 2755 /usr/local/lib/python3.11 (if /usr/local/lib/python3.11 "
                          "does not exist and /etc/staff-group-for-usr-local exists)"));
  EXPECT_THAT(python.not_applied, IsEmpty());
  // A loop reading a literal here-document.
  ParsedSetup read = Parse(R"sh((
	while read dir mode; do
		mkdir -m "$mode" "$dir"
	done
) << DATA
/srv/a 0700
/srv/b 0750
DATA
)sh");
  EXPECT_THAT(Actions(read), ElementsAre("3 dir /srv/a 0700", "3 dir /srv/b 0750"));
}

TEST(MaintainerScriptTest, DebhelperUsrLocalSection) {
  // What dh_usrlocal adds (debhelper 13.11.4's postinst-usrlocal, with its data filled in).
  ParsedSetup p = Parse(R"sh(#!/bin/sh
set -e
# Automatically added by dh_usrlocal/13.11.4
if [ "$1" = "configure" ] || [ "$1" = "abort-upgrade" ] || [ "$1" = "abort-deconfigure" ] || [ "$1" = "abort-remove" ]; then
(
	default_mode=0755
	default_user=root
	default_group=root
	if [ -e /etc/staff-group-for-usr-local ]; then
		default_mode=02775
		default_group=staff
	fi
	while read line; do
		set -- $line
		dir="$1"; mode="$2"; user="$3"; group="$4"
		if [ "$mode" = "default" ]; then
			mode="$default_mode"
			user="$default_user"
			group="$default_group"
		fi
		if [ ! -e "$dir" ]; then
			if mkdir "$dir" 2>/dev/null; then
				if chown "$user":"$group" "$dir" ; then
					chmod "$mode" "$dir" || true
				fi
			fi
		fi
	done
) << DATA
/usr/local/share/fonts default
/usr/local/lib/site 2775 root staff
DATA
fi
# End automatically added section
mkdir /after
)sh");
  EXPECT_THAT(Actions(p),
              ElementsAre("30 dir /usr/local/share/fonts 0755",
                          "31 dir /usr/local/lib/site 2775 root:staff", "35 dir /after"));
  EXPECT_THAT(p.not_applied, IsEmpty());
}

TEST(MaintainerScriptTest, PreinstOfMariadbMakesTheUser) {
  // mariadb-server 1:10.11.6-0+deb12u1 preinst (shortened), run as `preinst install`.
  constexpr std::string_view kScript = R"sh(#!/bin/bash
set -e
mysql_datadir=/var/lib/mysql
if [ "$1" = upgrade ]; then
  mkdir /only-on-upgrade
fi
if ! getent group mysql >/dev/null; then
	addgroup --system mysql >/dev/null
fi
if ! getent passwd mysql >/dev/null; then
	adduser \
	  --system \
          --disabled-login \
	  --ingroup mysql \
	  --no-create-home \
	  --home /nonexistent \
	  --gecos "MySQL Server" \
	  --shell /bin/false \
	  mysql  >/dev/null 2>&1
fi
if [ ! -d $mysql_datadir ] && [ ! -L $mysql_datadir ]; then
  mkdir -Z $mysql_datadir
fi
)sh";
  ParsedSetup p = ParseMaintainerScript(kScript, "mariadb-server: preinst", {"install"});
  EXPECT_THAT(
      Actions(p),
      ElementsAre("8 group mysql (system) (if group mysql does not exist)",
                  "11 user mysql (system, group mysql, home /nonexistent, shell /bin/false, "
                  "gecos 'MySQL Server') (if user mysql does not exist)",
                  "22 dir /var/lib/mysql (if /var/lib/mysql does not exist)"));
  EXPECT_EQ(p.actions[0].origin, "mariadb-server: preinst:8");
}

TEST(MaintainerScriptTest, ScriptsItCannotReadApplyNothing) {
  ParsedSetup p = Parse("adduser --system a\nif true; then\n  mkdir /x\n");
  EXPECT_THAT(p.actions, IsEmpty());
  ASSERT_EQ(p.not_applied.size(), 1u);
  EXPECT_THAT(p.not_applied[0].text, ::testing::HasSubstr("could not be read"));
  EXPECT_EQ(Parse("echo 'unterminated\nmkdir /x\n").not_applied.size(), 1u);
  EXPECT_THAT(Parse("case x in\n y) ;;\n").not_applied, ::testing::SizeIs(1));
  // Built by the test: nesting beyond any real script, a function calling itself, a loop
  // unrolled too often, and a list of commands too long to list.
  std::string deep;
  for (int i = 0; i < 500; ++i) deep += "if true; then ";
  deep += "mkdir /deep; ";
  for (int i = 0; i < 500; ++i) deep += "fi; ";
  EXPECT_THAT(Parse(deep).actions, IsEmpty());
  EXPECT_THAT(Actions(Parse("f() { mkdir /f; f; }\nf\n")),
              ::testing::Each(::testing::StartsWith("1 dir /f")));
  std::string words;
  for (int i = 0; i < 300; ++i) words += " w" + std::to_string(i);
  ParsedSetup loops =
      Parse("for a in" + words + "; do for b in" + words + "; do mkdir /d/$a/$b; done; done\n");
  EXPECT_LE(loops.actions.size(), 5000u);
  EXPECT_THAT(Listed(loops).back(), ::testing::HasSubstr("too many commands"));
  std::string many;
  for (int i = 0; i < 150; ++i) many += "unknown-tool " + std::to_string(i) + "\n";
  ParsedSetup listed = Parse(many);
  ASSERT_EQ(listed.not_applied.size(), 101u);
  EXPECT_EQ(listed.not_applied.back().text, "... and 50 more commands");
}

TEST(MaintainerScriptTest, NestedScriptsAndPrefixes) {
  ParsedSetup p =
      Parse(R"sh(su -s /bin/sh pkg -c 'mkdir -p /var/lib/pkg/data && chmod 700 /var/lib/pkg/data'
sh -c "ln -s /etc/pkg/a /etc/pkg/b"
runuser -u pkg -- touch /var/lib/pkg/ready
env LC_ALL=C mkdir /var/lib/pkg/env
command mkdir /var/lib/pkg/command
bash /usr/lib/pkg/init.sh
)sh");
  EXPECT_THAT(Actions(p),
              ElementsAre("1 dir /var/lib/pkg/data", "1 chmod 0700 /var/lib/pkg/data",
                          "2 symlink /etc/pkg/b -> /etc/pkg/a", "3 file /var/lib/pkg/ready",
                          "4 dir /var/lib/pkg/env", "5 dir /var/lib/pkg/command"));
  EXPECT_THAT(Listed(p), ElementsAre("6 bash /usr/lib/pkg/init.sh"));
}

}  // namespace
}  // namespace hardbase::image
