#include "image/alternatives.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "base/fs.h"
#include "image/maintainer_script.h"
#include "support/process.h"
#include "support/result_matchers.h"

namespace hardbase::image {
namespace {

using ::hardbase::testing::FailsWith;

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// The update-alternatives calls of a postinst, as the build reads them.
std::vector<Alternative> Installs(std::string_view script) {
  return ParseMaintainerScript(script, "pkg: postinst").alternatives;
}

// The format of openjdk-17-jre-headless's /usr/lib/jvm/.java-1.17.0-openjdk-amd64.jinfo.
constexpr std::string_view kJinfo =
    "name=java-17-openjdk-amd64\n"
    "alias=java-1.17.0-openjdk-amd64\n"
    "priority=1711\n"
    "section=main\n"
    "\n"
    "hl java /usr/lib/jvm/java-17-openjdk-amd64/bin/java\n"
    "hl jexec /usr/lib/jvm/java-17-openjdk-amd64/lib/jexec\n"
    "jre policytool /usr/lib/jvm/java-17-openjdk-amd64/bin/policytool\n"
    "jdkhl javac /usr/lib/jvm/java-17-openjdk-amd64/bin/javac\n"
    "jdk jconsole /usr/lib/jvm/java-17-openjdk-amd64/bin/jconsole\n"
    "plugin libjavaplugin.so /usr/lib/jvm/java-17-openjdk-amd64/lib/IcedTeaPlugin.so\n";

TEST(JinfoTest, ParsesEveryToolLine) {
  auto alts = ParseJinfo(kJinfo);
  ASSERT_TRUE(alts.has_value()) << alts.error().message;
  const std::string jvm = "/usr/lib/jvm/java-17-openjdk-amd64";
  EXPECT_THAT(
      *alts,
      ElementsAre(Alternative{"/usr/bin/java", "java", jvm + "/bin/java", 1711},
                  Alternative{"/usr/bin/jexec", "jexec", jvm + "/lib/jexec", 1711},
                  Alternative{"/usr/bin/policytool", "policytool", jvm + "/bin/policytool", 1711},
                  Alternative{"/usr/bin/javac", "javac", jvm + "/bin/javac", 1711},
                  Alternative{"/usr/bin/jconsole", "jconsole", jvm + "/bin/jconsole", 1711}));
}

TEST(JinfoTest, PriorityMayFollowTheToolsAndCrLfIsTolerated) {
  auto alts = ParseJinfo("hl java /j/bin/java\r\npriority=-5\r\n");
  ASSERT_TRUE(alts.has_value()) << alts.error().message;
  EXPECT_THAT(*alts, ElementsAre(Alternative{"/usr/bin/java", "java", "/j/bin/java", -5}));
  auto none = ParseJinfo("name=x\n");
  ASSERT_TRUE(none.has_value());
  EXPECT_THAT(*none, IsEmpty());
}

TEST(JinfoTest, Errors) {
  const std::pair<const char*, const char*> bad[] = {
      {"priority=high\nhl java /j/java\n", "line 1"},
      {"priority=1 2\n", "line 1"},
      {"priority=\n", "line 1"},
      {"priority=1\nhl java\n", "line 2"},
      {"priority=1\n\nhl java /j/java extra\n", "line 3"},
      {"priority=1\nhl java j/java\n", "line 2"},
      {"priority=1\nhl a/b /j/java\n", "line 2"},
      {"priority=1\ngarbage\n", "line 2"},
      {"hl java /j/java\n", "priority"},
  };
  for (const auto& [text, where] : bad) {
    auto alts = ParseJinfo(text);
    ASSERT_FALSE(alts.has_value()) << text;
    EXPECT_THAT(alts, FailsWith(ErrorCode::kSpec));
    EXPECT_NE(alts.error().message.find(where), std::string::npos) << alts.error().message;
  }
}

// What the real update-alternatives registered on this machine for a name.
struct Registered {
  std::string link;
  std::string best;
  std::map<std::string, int64_t> choices;  // target -> priority
};

std::optional<Registered> Query(const std::string& name) {
  auto r = testing::RunProcess({"update-alternatives", "--query", name});
  if (r.exit_code != 0) return std::nullopt;
  Registered reg;
  std::istringstream lines(r.out);
  std::string target;
  for (std::string line; std::getline(lines, line);) {
    auto value = [&](std::string_view key) { return line.substr(key.size()); };
    if (line.starts_with("Link: ")) reg.link = value("Link: ");
    if (line.starts_with("Best: ")) reg.best = value("Best: ");
    if (line.starts_with("Alternative: ")) target = value("Alternative: ");
    if (line.starts_with("Priority: ")) reg.choices[target] = std::stoll(value("Priority: "));
  }
  return reg;
}

// Each alternative found must be what dpkg's update-alternatives registered when the package's
// script ran: same link, the target among the choices with the same priority.
void ExpectRegistered(const Alternative& a, const std::string& source) {
  auto reg = Query(a.name);
  ASSERT_TRUE(reg.has_value()) << source << ": " << a.name << " is not registered";
  EXPECT_EQ(reg->link, a.link) << source << ": " << a.name;
  ASSERT_TRUE(reg->choices.contains(a.target)) << source << ": " << a.name << " " << a.target;
  EXPECT_EQ(reg->choices[a.target], a.priority) << source << ": " << a.name;
}

TEST(JinfoTest, RealJinfoMatchesTheRegisteredAlternatives) {
  const std::string path = "/usr/lib/jvm/.java-1.17.0-openjdk-amd64.jinfo";
  auto text = ReadFile(path);
  if (!text) GTEST_SKIP() << path << " is absent (openjdk-17-jre-headless not installed)";
  auto alts = ParseJinfo(*text);
  ASSERT_TRUE(alts.has_value()) << alts.error().message;
  int checked = 0;
  for (const Alternative& a : *alts) {
    if (!std::filesystem::exists(a.target)) continue;  // its package is not installed here
    ExpectRegistered(a, path);
    ++checked;
  }
  EXPECT_GT(checked, 3);  // java, keytool, rmiregistry, jexec, ... from jre-headless at least
}

TEST(PostinstTest, CraftedScripts) {
  constexpr std::string_view kScript = R"(#!/bin/sh
set -e
# update-alternatives --install /usr/bin/commented c /c 1
if [ "$1" = configure ]; then
	update-alternatives --install /usr/bin/awk awk /usr/bin/mawk 5 \
		--slave /usr/share/man/man1/awk.1.gz awk.1.gz /usr/share/man/man1/mawk.1.gz
fi
update-alternatives --install \
    /usr/share/man/man7/builtins.7.gz \
    builtins.7.gz \
    '/usr/share/man/man7/bash builtins.7.gz' \
    10
update-alternatives --install /usr/bin/f95 f95 /usr/bin/gfortran 20 \
  #--slave /usr/share/man/man1/f95.1.gz f95.1.gz /usr/share/man/man1/gfortran.1.gz
update-alternatives --install /usr/bin/lzma lzma /usr/bin/xz 20 $(
	slave /usr/bin unlzma unxz
)
update-alternatives --install "$BINPATH/$BINNAME" "$BINNAME" /usr/bin/x.procps 50
update-alternatives --install /usr/bin/w w "/usr/bin/w.$SUFFIX" 50
update-alternatives --install /usr/bin/pager pager "/bin/more" 50
update-alternatives --quiet --install /usr/bin/ed"itor" editor /usr/bin/vim.basic -30
[ -x /usr/bin/x ] && /usr/bin/update-alternatives --install /usr/bin/a a /a 1 || true
update-alternatives --install /usr/bin/b b /b 1; update-alternatives --install /usr/bin/c c /c 1
update-alternatives --install /usr/bin/short short /short
update-alternatives --install /usr/bin/p p /p high
update-alternatives --install relative r /r 1
update-alternatives --remove awk /usr/bin/mawk
update-alternatives --altdir /x --install /usr/bin/d d /d 1
echo update-alternatives --install /usr/bin/e e /e 1
echo "update-alternatives --install /usr/bin/f f /f 1"
update-alternatives --install /usr/bin/g g '/g)' 2
basedir=/usr/share/maven
update-alternatives --install /usr/bin/mvn mvn $basedir/bin/mvn 300 \
    --slave /usr/bin/mvnDebug mvnDebug $basedir/bin/mvnDebug
for binary in php phar; do
    update-alternatives --install /usr/bin/${binary} ${binary} /usr/bin/${binary}8.2 82 \
        --slave /usr/share/man/man1/${binary}.1.gz ${binary}.1.gz /usr/share/man/man1/$binary.1.gz
done
)";
  EXPECT_THAT(
      Installs(kScript),
      ElementsAre(Alternative{"/usr/bin/awk", "awk", "/usr/bin/mawk", 5},
                  Alternative{"/usr/share/man/man7/builtins.7.gz", "builtins.7.gz",
                              "/usr/share/man/man7/bash builtins.7.gz", 10},
                  Alternative{"/usr/bin/f95", "f95", "/usr/bin/gfortran", 20},
                  Alternative{"/usr/bin/lzma", "lzma", "/usr/bin/xz", 20},
                  Alternative{"/usr/bin/pager", "pager", "/bin/more", 50},
                  Alternative{"/usr/bin/editor", "editor", "/usr/bin/vim.basic", -30},
                  Alternative{"/usr/bin/a", "a", "/a", 1}, Alternative{"/usr/bin/b", "b", "/b", 1},
                  Alternative{"/usr/bin/c", "c", "/c", 1}, Alternative{"/usr/bin/g", "g", "/g)", 2},
                  Alternative{"/usr/bin/mvn", "mvn", "/usr/share/maven/bin/mvn", 300},
                  Alternative{"/usr/bin/php", "php", "/usr/bin/php8.2", 82},
                  Alternative{"/usr/bin/phar", "phar", "/usr/bin/phar8.2", 82}));
  EXPECT_THAT(Installs(""), IsEmpty());
  EXPECT_THAT(Installs("update-alternatives --install /a a '/unterminated 1"), IsEmpty());
}

// Every maintainer script of this machine: each call found whose target is here (the build drops
// the others too; scripts test for it) is one that dpkg registered, and where the found
// candidates are all a name has, ChooseAlternatives picks dpkg's best.
TEST(PostinstTest, RealPostinstsMatchTheRegisteredAlternatives) {
  std::vector<Alternative> all;
  std::map<std::string, std::set<std::string>> scripts_of;  // alternative name -> scripts
  std::map<std::string, std::string> script_of;             // target -> script
  int scripts = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/var/lib/dpkg/info", ec)) {
    std::string path = entry.path().string();
    if (!path.ends_with(".postinst")) continue;
    auto text = ReadFile(path);
    ASSERT_TRUE(text.has_value()) << text.error().message;
    if (text->find("update-alternatives") == std::string::npos) continue;
    ++scripts;
    for (const Alternative& a : Installs(*text)) {
      if (!std::filesystem::exists(a.target)) continue;
      scripts_of[a.name].insert(path);
      script_of[a.target] = path;
      all.push_back(a);
    }
  }
  // A name that the scripts of several packages install is registered as their calls ran, under
  // conditions of their own (mysql-common and mariadb-common each install my.cnf only when the
  // other has not): only the choice among them is compared, below.
  for (const Alternative& a : all) {
    if (scripts_of[a.name].size() == 1) ExpectRegistered(a, script_of[a.target]);
  }
  if (scripts == 0) GTEST_SKIP() << "no maintainer script calls update-alternatives here";
  EXPECT_FALSE(all.empty());
  int compared = 0;
  for (const Alternative& winner : ChooseAlternatives(all)) {
    auto reg = Query(winner.name);
    ASSERT_TRUE(reg.has_value());
    std::map<std::string, int64_t> found;
    for (const Alternative& a : all) {
      if (a.name == winner.name) found[a.target] = a.priority;
    }
    int top = 0;
    for (const auto& [target, priority] : found) top += priority == winner.priority;
    if (found != reg->choices || top > 1) continue;  // dpkg breaks ties by history
    EXPECT_EQ(winner.target, reg->best) << winner.name;
    ++compared;
  }
  EXPECT_GT(compared, 0);
}

TEST(ChooseTest, HighestPriorityThenGreatestTargetSortedByName) {
  std::vector<Alternative> in = {
      {"/usr/bin/vi", "vi", "/usr/bin/nvi", 20},
      {"/usr/bin/awk", "awk", "/usr/bin/mawk", 5},
      {"/usr/bin/vi", "vi", "/usr/bin/vim.basic", 30},
      {"/usr/bin/awk", "awk", "/usr/bin/gawk", 10},
      {"/usr/bin/pager", "pager", "/bin/less", 77},
      {"/usr/bin/pager", "pager", "/bin/more", 77},
      {"/usr/bin/pager", "pager", "/bin/busybox", 77},
      {"/usr/bin/vi", "vi", "/usr/bin/vim.tiny", 15},
  };
  EXPECT_THAT(ChooseAlternatives(in),
              ElementsAre(Alternative{"/usr/bin/awk", "awk", "/usr/bin/gawk", 10},
                          Alternative{"/usr/bin/pager", "pager", "/bin/more", 77},
                          Alternative{"/usr/bin/vi", "vi", "/usr/bin/vim.basic", 30}));
  EXPECT_THAT(ChooseAlternatives({}), IsEmpty());
}

}  // namespace
}  // namespace hardbase::image
