#include "image/accounts.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "base/fs.h"
#include "support/process.h"
#include "support/result_matchers.h"

// Oracles: base-passwd's master files installed on this machine, and shadow-utils' pwck and grpck
// (read-only mode) validating the files we write.

namespace hardbase::image {
namespace {

using ::hardbase::testing::FailsWith;

using hardbase::testing::RunProcess;
using ::testing::HasSubstr;

constexpr char kPasswdMaster[] = "/usr/share/base-passwd/passwd.master";
constexpr char kGroupMaster[] = "/usr/share/base-passwd/group.master";

std::string Read(const std::string& path) {
  auto text = ReadFile(path);
  EXPECT_TRUE(text) << text.error().message;
  return text ? *text : "";
}

// The master file as base-passwd's postinst and `shadowconfig on` leave it in /etc: the password
// field of each line is "x".
std::string WithShadowPasswords(const std::string& master) {
  std::istringstream in(master);
  std::string out;
  for (std::string line; std::getline(in, line);) {
    size_t first = line.find(':'), second = line.find(':', first + 1);
    out += line.substr(0, first) + ":x" + line.substr(second) + "\n";
  }
  return out;
}

spec::Accounts DefaultSpecAccounts() {
  return {{spec::Group{"nonroot", spec::kNonrootId}},
          {spec::User{"nonroot", spec::kNonrootId, spec::kNonrootId, "/home/nonroot",
                      "/usr/sbin/nologin"}},
          "nonroot"};
}

class AccountsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("accounts-test-");
    ASSERT_TRUE(dir) << dir.error().message;
    dir_.emplace(std::move(*dir));
    auto db = SystemAccounts(Read(kPasswdMaster), Read(kGroupMaster));
    ASSERT_TRUE(db) << db.error().message;
    base_ = *db;
    ASSERT_GT(base_.users.size(), 10u) << "package base-passwd is not installed";
  }

  // pwck and grpck in read-only mode on the written files; they exit 0 only when every line is
  // well formed and no name repeats.
  void ExpectValid(const AccountDatabase& db) {
    std::string passwd = dir_->path() + "/passwd", group = dir_->path() + "/group";
    ASSERT_TRUE(WriteFileAtomic(passwd, PasswdText(db).value()));
    ASSERT_TRUE(WriteFileAtomic(group, GroupText(db).value()));
    auto pw = RunProcess({"pwck", "-r", "-q", passwd});
    EXPECT_EQ(pw.exit_code, 0) << pw.out << pw.err;
    auto gr = RunProcess({"grpck", "-r", group});
    EXPECT_EQ(gr.exit_code, 0) << gr.out << gr.err;
  }

  std::optional<TempDir> dir_;
  AccountDatabase base_;
};

TEST_F(AccountsTest, BasePasswdMasterFilesRoundTrip) {
  EXPECT_EQ(PasswdText(base_).value(), WithShadowPasswords(Read(kPasswdMaster)));
  EXPECT_EQ(GroupText(base_).value(), WithShadowPasswords(Read(kGroupMaster)));
  auto root = base_.FindUser("root");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->uid, 0u);
  EXPECT_EQ(root->home, "/root");
  auto apt = base_.FindUser("_apt");
  ASSERT_TRUE(apt);
  EXPECT_EQ(apt->gid, 65534u);
  EXPECT_EQ(apt->gecos, "");
  ASSERT_TRUE(base_.FindGroup("nogroup"));
  EXPECT_EQ(base_.FindGroup("nogroup")->gid, 65534u);
  EXPECT_FALSE(base_.FindUser("nonroot"));
  ExpectValid(base_);
}

TEST_F(AccountsTest, ValidatorRejectsRepeatedNames) {
  // The oracle can fail: a database with a name twice is refused by both tools.
  AccountDatabase twice = base_;
  twice.users.push_back(twice.users.front());
  twice.groups.push_back(twice.groups.front());
  std::string passwd = dir_->path() + "/passwd", group = dir_->path() + "/group";
  ASSERT_TRUE(WriteFileAtomic(passwd, PasswdText(twice).value()));
  ASSERT_TRUE(WriteFileAtomic(group, GroupText(twice).value()));
  EXPECT_NE(RunProcess({"pwck", "-r", "-q", passwd}).exit_code, 0);
  EXPECT_NE(RunProcess({"grpck", "-r", group}).exit_code, 0);
}

TEST_F(AccountsTest, MinimalSetWithoutBasePasswd) {
  auto db = SystemAccounts("", "");
  ASSERT_TRUE(db) << db.error().message;
  EXPECT_EQ(PasswdText(*db).value(),
            "root:x:0:0:root:/root:/usr/sbin/nologin\n"
            "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
  EXPECT_EQ(GroupText(*db).value(), "root:x:0:\ntty:x:5:\nstaff:x:50:\nnogroup:x:65534:\n");
  ASSERT_TRUE(AddSpecAccounts(*db, DefaultSpecAccounts()));
  ExpectValid(*db);
}

TEST_F(AccountsTest, SpecAccountsAreAppended) {
  AccountDatabase db = base_;
  spec::Accounts accounts = DefaultSpecAccounts();
  accounts.groups.push_back({"app", 1000});
  accounts.users.push_back({"app", 1000, 1000, "/srv/app", "/bin/false"});
  accounts.users.push_back({"worker", 1001, 100, "/home/worker", "/usr/sbin/nologin"});
  accounts.users.push_back({"orphan", 1002, 4242, "/home/orphan", "/usr/sbin/nologin"});
  ASSERT_TRUE(AddSpecAccounts(db, accounts));
  EXPECT_EQ(PasswdText(db).value(),
            PasswdText(base_).value() +
                "nonroot:x:65532:65532:nonroot:/home/nonroot:/usr/sbin/nologin\n"
                "app:x:1000:1000:app:/srv/app:/bin/false\n"
                "worker:x:1001:100:worker:/home/worker:/usr/sbin/nologin\n"
                "orphan:x:1002:4242:orphan:/home/orphan:/usr/sbin/nologin\n");
  EXPECT_EQ(GroupText(db).value(), GroupText(base_).value() + "nonroot:x:65532:\napp:x:1000:\n");
  ExpectValid(db);

  EXPECT_EQ(RunAsUser(db, "nonroot").value_or("?"), "65532:65532");
  EXPECT_EQ(RunAsUser(db, "worker").value_or("?"), "1001:100");
  EXPECT_EQ(RunAsUser(db, "root").value_or("?"), "0:0");
  EXPECT_EQ(RunAsUser(db, "5").value_or("?"), "5:60");  // games, group games
  EXPECT_EQ(RunAsUser(db, "4242").value_or("?"), "4242:4242");
  auto unknown = RunAsUser(db, "ghost");
  ASSERT_THAT(unknown, FailsWith(ErrorCode::kSpec));
  EXPECT_THAT(unknown.error().message, HasSubstr("unknown user 'ghost': the image's users (from "
                                                 "base-passwd, accounts.users and the packages' "
                                                 "setup) are root, daemon, "));
  EXPECT_THAT(unknown.error().message, HasSubstr(", nonroot, app, worker, orphan"));
}

TEST_F(AccountsTest, CollisionsNameTheSystemAccount) {
  auto error_of = [&](const spec::Accounts& accounts) {
    AccountDatabase db = base_;
    auto r = AddSpecAccounts(db, accounts);
    EXPECT_FALSE(r);
    if (r) return std::string();
    EXPECT_THAT(r, FailsWith(ErrorCode::kSpec));
    return r.error().message;
  };
  spec::Accounts accounts;
  accounts.users = {{"daemon", 4000, 4000, "/home/daemon", "/usr/sbin/nologin"}};
  EXPECT_EQ(error_of(accounts), "user 'daemon' collides with the system user daemon (uid 1)");
  accounts.users = {{"app", 33, 33, "/home/app", "/usr/sbin/nologin"}};
  EXPECT_EQ(error_of(accounts),
            "user 'app' (uid 33) collides with the system user www-data (uid 33)");
  accounts.users = {{"app", 1000, 1000, "/a", "/b"}, {"app2", 1000, 1000, "/a", "/b"}};
  EXPECT_EQ(error_of(accounts), "user 'app2' (uid 1000) collides with the user app (uid 1000)");
  accounts.users.clear();
  accounts.groups = {{"staff", 5000}};
  EXPECT_EQ(error_of(accounts), "group 'staff' collides with the system group staff (gid 50)");
  accounts.groups = {{"app", 100}};
  EXPECT_EQ(error_of(accounts),
            "group 'app' (gid 100) collides with the system group users (gid 100)");
}

TEST_F(AccountsTest, ResolvesOwners) {
  EXPECT_EQ(ResolveUid(base_, "www-data").value_or(1), 33u);
  EXPECT_EQ(ResolveUid(base_, "1234").value_or(1), 1234u);
  EXPECT_EQ(ResolveUid(base_, "0").value_or(1), 0u);
  EXPECT_EQ(ResolveGid(base_, "staff").value_or(1), 50u);
  EXPECT_EQ(ResolveGid(base_, "4294967294").value_or(1), 4294967294u);
  for (std::string_view bad : {"ghost", "", "4294967295", "-1", "12a"}) {
    auto uid = ResolveUid(base_, bad);
    ASSERT_THAT(uid, FailsWith(ErrorCode::kSpec)) << bad;
    EXPECT_THAT(uid.error().message, HasSubstr("unknown user '" + std::string(bad) + "'"));
    EXPECT_FALSE(ResolveGid(base_, bad)) << bad;
  }
  EXPECT_FALSE(ResolveGid(base_, "daemonx"));
}

TEST(SystemAccountsTest, MalformedMasterLineIsNamed) {
  auto r = SystemAccounts("root:*:0:0:root:/root:/bin/sh\n\n# comment\nbad:*:1:1\n", "root:*:0:\n");
  ASSERT_THAT(r, FailsWith(ErrorCode::kSpec));
  EXPECT_EQ(r.error().message, "passwd.master line 4: expected 7 ':'-separated fields, found 4");
  r = SystemAccounts("root:*:0:0:root:/root:/bin/sh\n", "root:*:0:\nx:*:zero:\n");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "group.master line 2: invalid gid 'zero'");
  r = SystemAccounts("root:*:0:0:root:/root:/bin/sh\n", "root:*:0:\n:*:1:\n");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "group.master line 2: empty name");
}

TEST(SystemAccountsTest, GroupMembersAreKept) {
  auto db = SystemAccounts("root:*:0:0:root:/root:/bin/sh\n", "root:*:0:\nadm:*:4:syslog,ann\n");
  ASSERT_TRUE(db) << db.error().message;
  ASSERT_TRUE(db->FindGroup("adm"));
  EXPECT_EQ(db->FindGroup("adm")->members, (std::vector<std::string>{"syslog", "ann"}));
  EXPECT_EQ(GroupText(*db).value(), "root:x:0:\nadm:x:4:syslog,ann\n");
}

// Whatever put them into the database (a hand-made value here; a hostile master file or spec in
// a build), fields that would end their line early or add a line never reach the files.
TEST(AccountTextTest, RefusesFieldsThatWouldBreakOrAddALine) {
  const PasswdEntry good{"app", 1000, 1000, "app", "/home/app", "/usr/sbin/nologin"};
  struct Case {
    PasswdEntry user;
    std::string message;
  };
  std::vector<Case> cases = {
      {{"app", 1000, 1000, "app", "/home/app\nevil::0:0::/:/bin/sh", "/usr/sbin/nologin"},
       "/etc/passwd: user 'app': home '/home/app\\nevil::0:0::/:/bin/sh' contains a control "
       "character"},
      {{"app", 1000, 1000, "x:0:0", "/home/app", "/usr/sbin/nologin"},
       "/etc/passwd: user 'app': gecos 'x:0:0' contains ':', the field separator"},
      {{"", 1000, 1000, "app", "/home/app", "/usr/sbin/nologin"},
       "/etc/passwd: user '': name '' is empty"},
      {{"app", 1000, 1000, "app", "/home/app", "/bin/sh\r"},
       "/etc/passwd: user 'app': shell '/bin/sh\\x0d' contains a control character"},
  };
  for (const Case& c : cases) {
    AccountDatabase db;
    db.users = {good, c.user};
    auto text = PasswdText(db);
    ASSERT_FALSE(text.has_value()) << c.message;
    EXPECT_THAT(text, FailsWith(ErrorCode::kSpec));
    EXPECT_EQ(text.error().message, c.message);
  }
  AccountDatabase groups;
  groups.groups = {{"app", 1000, {"ann", "bob,root"}}};
  auto text = GroupText(groups);
  ASSERT_FALSE(text.has_value());
  EXPECT_EQ(text.error().message,
            "/etc/group: group 'app': member 'bob,root' contains ',', the member separator");
  groups.groups = {{"app\nroot", 1000, {}}};
  text = GroupText(groups);
  ASSERT_FALSE(text.has_value());
  EXPECT_EQ(text.error().message,
            "/etc/group: group 'app\\nroot': name 'app\\nroot' contains a control character");
}

TEST(NsswitchConfTest, FilesForEveryDatabaseAndDnsForHosts) {
  std::map<std::string, std::string> sources;
  std::istringstream in(NsswitchConf());
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    size_t colon = line.find(':');
    ASSERT_NE(colon, std::string::npos) << line;
    size_t start = line.find_first_not_of(' ', colon + 1);
    sources[line.substr(0, colon)] = line.substr(start);
  }
  EXPECT_EQ(sources, (std::map<std::string, std::string>{{"passwd", "files"},
                                                         {"group", "files"},
                                                         {"shadow", "files"},
                                                         {"gshadow", "files"},
                                                         {"hosts", "files dns"},
                                                         {"networks", "files"},
                                                         {"protocols", "files"},
                                                         {"services", "files"},
                                                         {"ethers", "files"},
                                                         {"rpc", "files"},
                                                         {"netgroup", "files"}}));
}

}  // namespace
}  // namespace hardbase::image
