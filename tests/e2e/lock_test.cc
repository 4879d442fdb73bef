// End-to-end tests of `hardbase lock`, `fetch` and `cache prune`: the real binary against signed
// repositories built with gpg and dpkg-deb (tests/support/repo_fixture.h) and served over HTTP on
// 127.0.0.1, including every bad input the trust chain must refuse; and one lock against the
// host's apt sources, for what the hardening leave-outs take out of a real closure.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "base/fs.h"
#include "base/sha256.h"
#include "support/examples.h"
#include "support/exit_codes.h"
#include "support/http_server.h"
#include "support/process.h"
#include "support/repo_fixture.h"

namespace hardbase::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class LockE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("hardbase-e2e-");
    ASSERT_TRUE(dir.has_value());
    work_.emplace(std::move(*dir));
    repo_.emplace(work_->path() + "/repo");
    server_.emplace(work_->path() + "/repo");
    ASSERT_TRUE(server_->Start().has_value());

    Add("stable", {"app",
                   "1.0",
                   "amd64",
                   {{"Depends", "libfoo (>= 1.0), libbar | libbaz"}},
                   {{"usr/bin/app", "app\n"}}});
    Add("stable", {"libfoo",
                   "1.0",
                   "amd64",
                   {{"Source", "foo (1.0-src)"}},
                   {{"usr/lib/libfoo.so.1", "foo 1.0\n"}}});
    Add("stable", {"libbar", "2.0", "all", {}, {{"usr/share/bar", "bar\n"}}});
    Add("stable", {"libbaz", "1.0", "amd64", {}, {{"usr/lib/libbaz", "baz\n"}}});
    Add("stable-security", {"libfoo",
                            "1.1",
                            "amd64",
                            {{"Source", "foo (1.1-src)"}},
                            {{"usr/lib/libfoo.so.1", "foo 1.1\n"}}});
    Publish("stable");
    Publish("stable-security");
    WriteSpec("packages: [app]\n");
  }

  void Add(const std::string& suite, PackageSpec spec) {
    auto p = repo_->AddPackage(suite, "amd64", spec);
    ASSERT_TRUE(p.has_value()) << p.error().message;
    published_[p->name + " " + p->version] = *p;
  }
  void Publish(const std::string& suite, PublishOptions options = {}) {
    auto r = repo_->Publish(suite, options);
    ASSERT_TRUE(r.has_value()) << r.error().message;
  }
  std::string SpecPath() const { return work_->path() + "/image.yaml"; }
  std::string LockPath() const { return work_->path() + "/image.lock.json"; }
  std::string CacheDir() const { return work_->path() + "/cache"; }

  void WriteSpec(const std::string& body, const std::string& url = "") {
    std::string spec =
        "name: test\nrepositories:\n  - url: " + (url.empty() ? server_->base_url() : url) +
        "\n    suites: [stable, stable-security]\n    keyring: " + RepoFixture::KeyringPath() +
        "\narchs: [amd64]\n" + body;
    ASSERT_TRUE(WriteFileAtomic(SpecPath(), spec).has_value());
  }

  ProcessResult Hardbase(std::vector<std::string> args, const std::string& cache = "") {
    std::vector<std::string> argv = {HardbaseBinary(), "--cache-dir",
                                     cache.empty() ? CacheDir() : cache};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv);
  }
  ProcessResult Lock(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"lock", SpecPath()};
    args.insert(args.end(), extra.begin(), extra.end());
    return Hardbase(args);
  }
  nlohmann::json LockJson() {
    auto text = ReadFile(LockPath());
    EXPECT_TRUE(text.has_value());
    return nlohmann::json::parse(text.value_or("{}"));
  }
  // Every cached blob's bytes hash to its name, and no download is left half-done.
  void ExpectCacheIntact() {
    namespace fs = std::filesystem;
    if (!fs::exists(CacheDir() + "/blobs/sha256")) return;
    for (const auto& e : fs::directory_iterator(CacheDir() + "/blobs/sha256")) {
      auto hex = Sha256File(e.path());
      ASSERT_TRUE(hex.has_value());
      EXPECT_EQ(*hex, e.path().filename().string()) << "corrupt cache blob";
    }
  }

  std::optional<TempDir> work_;
  std::optional<RepoFixture> repo_;
  std::optional<HttpServer> server_;
  std::map<std::string, PublishedPackage> published_;
};

TEST_F(LockE2ETest, LocksTheClosureWithTheNewestVersionAcrossSuites) {
  auto r = Lock();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lock = LockJson();
  std::string text = *ReadFile(LockPath());
  EXPECT_THAT(text, Not(HasSubstr("127.0.0.1"))) << "a lock must name no mirror";

  ASSERT_EQ(lock["archs"].size(), 1u);
  const auto& pkgs = lock["archs"][0]["packages"];
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& p : pkgs) by_name[p["name"]] = p;
  ASSERT_EQ(by_name.size(), 3u) << text;  // app, libfoo, libbar (first alternative)
  EXPECT_TRUE(by_name.count("libbar"));
  EXPECT_FALSE(by_name.count("libbaz"));

  const auto& foo = by_name["libfoo"];
  EXPECT_EQ(foo["version"], "1.1");
  EXPECT_EQ(foo["source"], "foo");
  EXPECT_EQ(foo["source_version"], "1.1-src");
  EXPECT_EQ(foo["repository"]["suite"], "stable-security");
  const PublishedPackage& pub = published_["libfoo 1.1"];
  EXPECT_EQ(foo["sha256"], pub.sha256);
  EXPECT_EQ(foo["size"], pub.size);
  EXPECT_EQ(foo["filename"], pub.filename);
  EXPECT_THAT(foo["required_by"].dump(), HasSubstr("app"));
  EXPECT_EQ(by_name["libbar"]["architecture"], "all");

  auto keys = RepoFixture::Keys();
  ASSERT_TRUE(keys.has_value());
  EXPECT_THAT(lock["keyring_fingerprints"].dump(), HasSubstr((*keys)->fingerprint));
  EXPECT_THAT(lock["releases"].dump(), HasSubstr((*keys)->fingerprint));
  ExpectCacheIntact();
}

TEST_F(LockE2ETest, SameInputsGiveTheSameBytesAndCheckPasses) {
  ASSERT_EQ(Lock().exit_code, 0);
  std::string first = *ReadFile(LockPath());
  auto other_cache = Hardbase({"lock", SpecPath(), "-o", work_->path() + "/again.json"},
                              work_->path() + "/other-cache");
  ASSERT_EQ(other_cache.exit_code, 0) << other_cache.err;
  EXPECT_EQ(*ReadFile(work_->path() + "/again.json"), first);
  auto check = Lock({"--check"});
  EXPECT_EQ(check.exit_code, 0) << check.err;
  EXPECT_EQ(*ReadFile(LockPath()), first);
}

TEST_F(LockE2ETest, CheckReportsANewerPackageAndLeavesTheLockAlone) {
  ASSERT_EQ(Lock().exit_code, 0);
  std::string before = *ReadFile(LockPath());
  Add("stable-security", {"libfoo", "1.2", "amd64", {}, {{"usr/lib/libfoo.so.1", "1.2\n"}}});
  Publish("stable-security");
  auto check = Lock({"--check", "--json"});
  EXPECT_EQ(check.exit_code, kExitStale) << check.err;
  EXPECT_THAT(check.err, HasSubstr("libfoo 1.1 -> 1.2"));
  auto j = nlohmann::json::parse(check.out);
  EXPECT_EQ(j["upToDate"], false);
  EXPECT_EQ(*ReadFile(LockPath()), before);
}

TEST_F(LockE2ETest, AReleaseResignedWithTheSamePackagesChangesNothing) {
  ASSERT_EQ(Lock().exit_code, 0);
  std::string before = *ReadFile(LockPath());
  PublishOptions later;
  later.date = static_cast<int64_t>(std::time(nullptr)) + 3600;
  Publish("stable-security", later);
  auto check = Lock({"--check"});
  EXPECT_EQ(check.exit_code, 0) << check.err;
  auto relock = Lock();
  EXPECT_EQ(relock.exit_code, 0) << relock.err;
  EXPECT_THAT(relock.err, HasSubstr("up to date"));
  EXPECT_EQ(*ReadFile(LockPath()), before) << "the timestamps of an unchanged lock must stay";
  // A fresh lock elsewhere does take the new release date.
  ASSERT_EQ(Lock({"-o", work_->path() + "/fresh.json"}).exit_code, 0);
  EXPECT_NE(*ReadFile(work_->path() + "/fresh.json"), before);
}

TEST_F(LockE2ETest, CheckReportsAChangedSpec) {
  ASSERT_EQ(Lock().exit_code, 0);
  WriteSpec("packages: [app, libbaz]\n");
  auto check = Lock({"--check"});
  EXPECT_EQ(check.exit_code, kExitStale);
  EXPECT_THAT(check.err, HasSubstr("spec"));
  // Later commands refuse the stale lock.
  auto fetch = Hardbase({"fetch", SpecPath()});
  EXPECT_EQ(fetch.exit_code, kExitStale);
  EXPECT_THAT(fetch.err, HasSubstr("run hardbase lock"));
}

TEST_F(LockE2ETest, RefusesBadSignaturesAndKeepsTheEarlierLock) {
  ASSERT_EQ(Lock().exit_code, 0);
  std::string before = *ReadFile(LockPath());
  struct Case {
    PublishOptions::Signature signature;
    const char* expect;
  };
  for (Case c : {Case{PublishOptions::Signature::kTampered, "InRelease of stable-security"},
                 Case{PublishOptions::Signature::kUnknownKey, "unknown key"},
                 Case{PublishOptions::Signature::kUnsigned, "not an OpenPGP clear-signed"}}) {
    PublishOptions o;
    o.signature = c.signature;
    Add("stable-security", {"libfoo", "1.3", "amd64", {}, {}});
    Publish("stable-security", o);
    auto r = Lock();
    EXPECT_EQ(r.exit_code, kExitIntegrity) << r.err;
    EXPECT_THAT(r.err, HasSubstr(c.expect));
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
    EXPECT_EQ(*ReadFile(LockPath()), before);
  }
  ExpectCacheIntact();
}

TEST_F(LockE2ETest, RefusesAnotherSuitesReleaseAndAReplayedOlderOne) {
  ASSERT_EQ(Lock().exit_code, 0);
  std::string dists = repo_->root() + "/dists/";
  std::string security = *ReadFile(dists + "stable-security/InRelease");
  ASSERT_TRUE(
      WriteFileAtomic(dists + "stable-security/InRelease", *ReadFile(dists + "stable/InRelease"))
          .has_value());
  auto swapped = Lock();
  EXPECT_EQ(swapped.exit_code, kExitIntegrity) << swapped.err;
  EXPECT_THAT(swapped.err, HasSubstr("is for suite stable"));

  ASSERT_TRUE(WriteFileAtomic(dists + "stable-security/InRelease", security).has_value());
  PublishOptions older;
  older.date = static_cast<int64_t>(std::time(nullptr)) - 86400;
  Publish("stable", older);
  auto replayed = Lock();
  EXPECT_EQ(replayed.exit_code, kExitIntegrity) << replayed.err;
  EXPECT_THAT(replayed.err, HasSubstr("older than"));
}

TEST_F(LockE2ETest, RefusesAnExpiredRelease) {
  PublishOptions o;
  o.expired = true;
  Publish("stable", o);
  auto r = Lock();
  EXPECT_EQ(r.exit_code, kExitIntegrity);
  EXPECT_THAT(r.err, HasSubstr("Valid-Until"));
}

TEST_F(LockE2ETest, RefusesAnIndexWhoseHashDoesNotMatch) {
  PublishOptions o;
  o.packages_xz_hash_mismatch = true;
  Publish("stable", o);
  auto r = Lock();
  EXPECT_EQ(r.exit_code, kExitIntegrity) << r.err;
  EXPECT_THAT(r.err, HasSubstr("main/binary-amd64/Packages.xz"));
  EXPECT_THAT(r.err, HasSubstr("mismatch"));  // the size, or if equal the sha256
  EXPECT_FALSE(PathExists(LockPath()));
  ExpectCacheIntact();
}

TEST_F(LockE2ETest, RefusesATruncatedIndex) {
  PublishOptions o;
  o.packages_xz_truncated = true;
  Publish("stable", o);
  auto r = Lock();
  EXPECT_EQ(r.exit_code, kExitIntegrity) << r.err;
  EXPECT_THAT(r.err, HasSubstr("Packages.xz"));
  ExpectCacheIntact();
}

TEST_F(LockE2ETest, RefusesAMalformedStanza) {
  PublishOptions o;
  o.extra_packages_text = "Package: broken\nVersion 1.0\n";
  Publish("stable", o);
  auto r = Lock();
  EXPECT_EQ(r.exit_code, kExitSpec) << r.err;
  EXPECT_THAT(r.err, HasSubstr("stable"));
  EXPECT_THAT(r.err, HasSubstr("main/binary-amd64/Packages"));
  EXPECT_THAT(r.err, HasSubstr("line"));
}

TEST_F(LockE2ETest, ResumesADroppedDownloadAndRetriesAServerError) {
  server_->InjectStatus("/dists/stable/InRelease", 500, 1);
  server_->InjectTruncation("/dists/stable/main/binary-amd64/Packages.xz", 40, 1);
  auto r = Lock();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(server_->RequestCount("/dists/stable/InRelease"), 2);
  auto last = server_->LastRequest("/dists/stable/main/binary-amd64/Packages.xz");
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->Header("Range").value_or(""), "bytes=40-");
  ExpectCacheIntact();
}

TEST_F(LockE2ETest, UnreachableMirror) {
  uint16_t port = server_->port();
  server_->Stop();
  WriteSpec("packages: [app]\n", "http://127.0.0.1:" + std::to_string(port));
  auto r = Lock();
  EXPECT_EQ(r.exit_code, kExitNetwork) << r.err;
  EXPECT_THAT(r.err, HasSubstr("InRelease"));
}

TEST_F(LockE2ETest, OfflineUsesTheVerifiedCache) {
  ASSERT_EQ(Lock().exit_code, 0);
  std::string online = *ReadFile(LockPath());
  server_->Stop();
  auto r = Lock({"--offline", "-o", work_->path() + "/offline.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(*ReadFile(work_->path() + "/offline.json"), online);
  auto fresh = Hardbase({"lock", SpecPath(), "--offline"}, work_->path() + "/empty-cache");
  EXPECT_NE(fresh.exit_code, 0);
  EXPECT_THAT(fresh.err, HasSubstr("--offline"));
}

TEST_F(LockE2ETest, UnknownPackageSuggestsNames) {
  WriteSpec("packages: [libfo]\n");
  auto r = Lock();
  EXPECT_EQ(r.exit_code, kExitResolve) << r.err;
  EXPECT_THAT(r.err, HasSubstr("libfo"));
  EXPECT_THAT(r.err, HasSubstr("libfoo"));
}

TEST_F(LockE2ETest, UnsatisfiableDependencyShowsTheChain) {
  Add("stable", {"tool", "1.0", "amd64", {{"Depends", "app, libbaz (>= 9)"}}, {}});
  Publish("stable");
  WriteSpec("packages: [tool]\n");
  auto r = Lock();
  EXPECT_EQ(r.exit_code, kExitResolve) << r.err;
  EXPECT_THAT(r.err, HasSubstr("tool"));
  EXPECT_THAT(r.err, HasSubstr("libbaz"));
  EXPECT_THAT(r.err, HasSubstr("1.0"));
}

TEST_F(LockE2ETest, SpecErrorsNameLineAndColumn) {
  ASSERT_TRUE(WriteFileAtomic(SpecPath(), "name: x\npakages: [app]\n").has_value());
  auto r = Lock();
  EXPECT_EQ(r.exit_code, kExitSpec);
  EXPECT_THAT(r.err, HasSubstr("image.yaml:2:1"));
  EXPECT_THAT(r.err, HasSubstr("packages"));
}

TEST_F(LockE2ETest, ExcludeRecordsWhoWantedThePackage) {
  WriteSpec("packages: [app]\nexclude: [libbar]\n");
  auto r = Lock();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lock = LockJson();
  EXPECT_THAT(lock["archs"][0]["packages"].dump(), Not(HasSubstr("libbar")));
  EXPECT_EQ(lock["archs"][0]["excluded"][0]["name"], "libbar");
  EXPECT_THAT(lock["archs"][0]["excluded"][0]["wanted_by"].dump(), HasSubstr("app"));
}

// An exclusion nothing needs is a warning naming where the spec writes it, and is not recorded
// (it used to be written as "wanted_by": [], which fetch and build then refused).
TEST_F(LockE2ETest, AnExclusionNothingNeedsIsAWarningAndTheLockStaysReadable) {
  Add("stable", {"unused", "1.0", "amd64", {}, {}});
  Publish("stable");
  WriteSpec("packages: [app]\nexclude:\n  - libbar\n  - unused\n");
  auto r = Lock();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("warning: " + SpecPath() +
                               ":10:5: exclude: 'unused' is not needed by any package of amd64"));
  EXPECT_THAT(r.err, Not(HasSubstr("'libbar' is not needed")));
  auto lock = LockJson();
  ASSERT_EQ(lock["archs"][0]["excluded"].size(), 1u) << lock.dump();
  EXPECT_EQ(lock["archs"][0]["excluded"][0]["name"], "libbar");
  auto fetch = Hardbase({"fetch", SpecPath()});
  EXPECT_EQ(fetch.exit_code, 0) << fetch.err;
  auto check = Lock({"--check"});
  EXPECT_EQ(check.exit_code, 0) << check.err;
}

// What the standard image leaves out for hardening is left out of the closure with what only it
// needs: a package the spec asks for is left out too, with a warning, and a spec of nothing else
// is refused rather than written as a lock that no later command reads.
TEST_F(LockE2ETest, HardeningLeaveOutsAndTheirOwnDependenciesStayOut) {
  Add("stable", {"dpkg", "1.21", "amd64", {{"Depends", "tar"}}, {}});
  Add("stable", {"tar", "1.34", "amd64", {}, {}});
  Add("stable", {"tool", "1.0", "amd64", {{"Depends", "dpkg, libbaz"}}, {}});
  Publish("stable");
  WriteSpec("packages:\n  - tool\n  - dpkg\n");
  auto r = Lock();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("warning: " + SpecPath() +
                               ":9:5: packages: 'dpkg' is left out of every standard image "
                               "(package manager); the dev variant keeps it"));
  auto lock = LockJson();
  std::set<std::string> names;
  for (const auto& p : lock["archs"][0]["packages"]) names.insert(p["name"]);
  EXPECT_EQ(names, (std::set<std::string>{"libbaz", "tool"}));
  ASSERT_EQ(lock["archs"][0]["left_out"].size(), 1u);
  EXPECT_EQ(lock["archs"][0]["left_out"][0]["name"], "dpkg");
  EXPECT_EQ(lock["archs"][0]["left_out"][0]["wanted_by"],
            nlohmann::json::parse(R"x(["(spec)", "tool"])x"));
  EXPECT_EQ(Hardbase({"fetch", SpecPath()}).exit_code, 0);

  // The dev variant leaves out nothing.
  WriteSpec("packages: [tool]\nvariant: dev\n");
  ASSERT_EQ(Lock().exit_code, 0);
  lock = LockJson();
  names.clear();
  for (const auto& p : lock["archs"][0]["packages"]) names.insert(p["name"]);
  EXPECT_EQ(names, (std::set<std::string>{"dpkg", "libbaz", "tar", "tool"}));
  EXPECT_TRUE(lock["archs"][0]["left_out"].empty());

  std::string before = *ReadFile(LockPath());
  WriteSpec("packages: [dpkg]\n");
  auto empty = Lock();
  EXPECT_EQ(empty.exit_code, kExitResolve) << empty.err;
  EXPECT_THAT(empty.err, HasSubstr("nothing to install"));
  EXPECT_EQ(*ReadFile(LockPath()), before);
}

// With the host's apt sources (Debian's own mirror), as a user locks: redis-server's closure
// loses what only adduser (passwd, PAM), dpkg (tar) and usrmerge (perl) needed, libc-bin comes
// for the C.UTF-8 locale, and the dev variant keeps all of it.
TEST(LockRealMirrorTest, RedisServerWithoutWhatOnlyTheLeftOutPackagesNeed) {
  auto dir = TempDir::Create("hardbase-e2e-redis-");
  ASSERT_TRUE(dir.has_value());
  auto lock = [&](const std::string& variant) {
    std::string spec = dir->path() + "/" + variant + ".yaml";
    std::string text = "name: redis\npackages: [redis-server]\n";
    if (variant != "standard") text += "variant: " + variant + "\n";
    EXPECT_TRUE(WriteFileAtomic(spec, text).has_value());
    auto r = HardbaseWithCache({"lock", spec});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    // The lock reads back: --check parses it and finds it up to date.
    auto check = HardbaseWithCache({"lock", spec, "--check", "--offline"});
    EXPECT_EQ(check.exit_code, 0) << check.err;
    auto json = nlohmann::json::parse(
        ReadFile(dir->path() + "/" + variant + ".lock.json").value_or("{\"archs\": [{}]}"));
    return json["archs"][0];
  };
  auto names = [](const nlohmann::json& arch) {
    std::map<std::string, nlohmann::json> out;
    for (const auto& p : arch["packages"]) out[p["name"]] = p["required_by"];
    return out;
  };
  nlohmann::json standard = lock("standard");
  nlohmann::json dev = lock("dev");
  auto kept = names(standard);
  auto all = names(dev);
  std::cout << "redis-server closure: " << kept.size() << " packages (standard), " << all.size()
            << " (dev, nothing left out)\n";
  ASSERT_TRUE(kept.count("redis-server"));
  for (const char* gone : {"adduser", "dpkg", "passwd", "perl", "perl-base", "tar", "libpam0g",
                           "usrmerge", "debconf"}) {
    EXPECT_FALSE(kept.count(gone)) << gone;
    EXPECT_TRUE(all.count(gone)) << gone;
  }
  // The dev closure holds the standard one, but for a dependency the Essential set satisfies
  // through another package's Provides (lsb-base by sysvinit-utils).
  std::vector<std::string> only_standard;
  for (const auto& [name, by] : kept) {
    if (!all.count(name)) only_standard.push_back(name);
  }
  EXPECT_LE(only_standard.size(), 2u) << ::testing::PrintToString(only_standard);
  ASSERT_TRUE(kept.count("libc-bin"));
  EXPECT_EQ(kept["libc-bin"], nlohmann::json::parse(R"x(["(hardbase: C.UTF-8 locale)"])x"));
  std::map<std::string, nlohmann::json> left_out;
  for (const auto& e : standard["left_out"]) left_out[e["name"]] = e["wanted_by"];
  EXPECT_EQ(left_out["adduser"], nlohmann::json::parse(R"(["redis-tools"])"));
  EXPECT_EQ(left_out["usrmerge"], nlohmann::json::parse(R"(["init-system-helpers"])"));
  EXPECT_TRUE(dev["left_out"].empty());
  EXPECT_EQ(all["bash"], nlohmann::json::parse(R"x(["(hardbase: Essential)"])x"))
      << "the dev variant adds the Essential set";
  // At the time of writing 21 against 53.
  EXPECT_LE(kept.size() * 2, all.size());
}

TEST_F(LockE2ETest, ConcurrentProcessesShareOneCache) {
  std::vector<std::future<ProcessResult>> runs;
  for (int i = 0; i < 3; ++i) {
    runs.push_back(std::async(std::launch::async, [this, i] {
      return Hardbase({"--quiet", "lock", SpecPath(), "-o",
                       work_->path() + "/c" + std::to_string(i) + ".json"});
    }));
  }
  for (auto& f : runs) {
    auto r = f.get();
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
  EXPECT_EQ(*ReadFile(work_->path() + "/c0.json"), *ReadFile(work_->path() + "/c1.json"));
  EXPECT_EQ(*ReadFile(work_->path() + "/c0.json"), *ReadFile(work_->path() + "/c2.json"));
  ExpectCacheIntact();
}

TEST_F(LockE2ETest, RepositoriesFromTheHostsAptSources) {
  std::string root = work_->path() + "/apt-root";
  ASSERT_TRUE(MakeDirs(root + "/etc/apt/sources.list.d").has_value());
  ASSERT_TRUE(repo_
                  ->WriteDeb822Sources(root + "/etc/apt/sources.list.d/test.sources",
                                       server_->base_url(), {"stable", "stable-security"},
                                       /*inline_key=*/true)
                  .has_value());
  ASSERT_TRUE(
      WriteFileAtomic(SpecPath(), "name: t\narchs: [amd64]\npackages: [app]\n").has_value());
  auto r = Lock({"--apt-root", root});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(LockJson()["archs"][0]["packages"].size(), 3u);
}

TEST_F(LockE2ETest, FetchVerifiesEveryDebAndPruneEmptiesTheCache) {
  ASSERT_EQ(Lock().exit_code, 0);
  auto fetch = Hardbase({"fetch", SpecPath(), "--json"});
  ASSERT_EQ(fetch.exit_code, 0) << fetch.err;
  auto j = nlohmann::json::parse(fetch.out);
  EXPECT_EQ(j["downloaded"], 3);
  EXPECT_TRUE(PathExists(CacheDir() + "/blobs/sha256/" + published_["libfoo 1.1"].sha256));
  auto again = Hardbase({"fetch", SpecPath(), "--json"});
  EXPECT_EQ(nlohmann::json::parse(again.out)["downloaded"], 0);

  auto prune = Hardbase({"cache", "prune", "--all", "--json"});
  ASSERT_EQ(prune.exit_code, 0) << prune.err;
  EXPECT_GE(nlohmann::json::parse(prune.out)["removed"]["files"].get<int>(), 3);
  EXPECT_FALSE(PathExists(CacheDir() + "/blobs/sha256/" + published_["libfoo 1.1"].sha256));
}

TEST_F(LockE2ETest, FetchRefusesADebWhoseHashDoesNotMatch) {
  PackageSpec bad{"libbaz", "1.5", "amd64", {}, {{"usr/lib/libbaz", "evil\n"}}};
  bad.corrupt_deb = true;
  Add("stable", bad);
  Publish("stable");
  WriteSpec("packages: [libbaz]\n");
  ASSERT_EQ(Lock().exit_code, 0);
  auto fetch = Hardbase({"fetch", SpecPath()});
  EXPECT_EQ(fetch.exit_code, kExitIntegrity) << fetch.err;
  EXPECT_THAT(fetch.err, HasSubstr("libbaz 1.5"));
  EXPECT_THAT(fetch.err, HasSubstr("sha256 mismatch"));
  ExpectCacheIntact();
}

TEST_F(LockE2ETest, HelpDocumentsExitCodesAndVersionPrints) {
  auto help = RunProcess({HardbaseBinary(), "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("7  integrity"));
  for (const char* cmd : {"lock", "fetch", "cache"}) {
    auto r = RunProcess({HardbaseBinary(), cmd, "--help"});
    EXPECT_EQ(r.exit_code, 0) << cmd;
  }
  auto version = RunProcess({HardbaseBinary(), "--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_THAT(version.out, HasSubstr("hardbase "));
  EXPECT_EQ(RunProcess({HardbaseBinary(), "lock"}).exit_code, 2);
}

}  // namespace
}  // namespace hardbase::testing
