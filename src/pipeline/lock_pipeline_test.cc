#include "pipeline/lock_pipeline.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/fs.h"
#include "pipeline/fake_repository_test_support.h"
#include "support/result_matchers.h"

namespace hardbase::pipeline {
namespace {

using ::hardbase::testing::FailsWith;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

spec::Lock SmallLock() {
  spec::Lock lock;
  lock.spec_digest = "sha256:" + std::string(64, 'b');
  lock.keyring_fingerprints = {std::string(40, 'A')};
  lock.releases = {
      {"Debian", "bookworm", "bookworm", "2025-01-11T10:38:49Z", {std::string(40, 'A')}}};
  lock.source_date_epoch = 1736591929;
  spec::ArchLock arch;
  arch.arch = "amd64";
  spec::LockedPackage p;
  p.name = "redis-server";
  p.version = "5:7.0.15-1~deb12u3";
  p.architecture = "amd64";
  p.source = "redis";
  p.source_version = p.version;
  p.repository = {"Debian", "bookworm", "main"};
  p.filename = "pool/main/r/redis/redis-server_7.0.15-1~deb12u3_amd64.deb";
  p.size = 100;
  p.sha256 = std::string(64, 'c');
  p.required_by = {"(spec)"};
  arch.packages.push_back(p);
  arch.left_out = {{"adduser", {"redis-server"}}};
  lock.archs.push_back(arch);
  return lock;
}

class WriteLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("hardbase-write-lock-");
    ASSERT_TRUE(dir.has_value());
    dir_.emplace(std::move(*dir));
  }
  std::string Path() const { return dir_->path() + "/image.lock.json"; }
  std::optional<TempDir> dir_;
};

TEST_F(WriteLockTest, WritesWhatTheReaderReadsBack) {
  ASSERT_TRUE(WriteLock(SmallLock(), Path()).has_value());
  auto read = spec::LoadLock(Path());
  ASSERT_TRUE(read.has_value()) << read.error().message;
  EXPECT_EQ(*read, spec::CanonicalLock(SmallLock()));
}

// A lock the reader would refuse is not written, and the lock already there stays: `lock` used
// to write an unneeded exclusion as "wanted_by": [], which every later command refused.
TEST_F(WriteLockTest, RefusesALockTheReaderWouldRefuse) {
  ASSERT_TRUE(WriteLock(SmallLock(), Path()).has_value());
  const std::string before = *ReadFile(Path());
  struct Case {
    const char* what;
    void (*edit)(spec::Lock&);
    const char* expect;
  };
  const Case cases[] = {
      {"an exclusion no one wanted",
       [](spec::Lock& l) {
         l.archs[0].excluded.push_back({"foo", {}});
       },
       "/archs/0/excluded/0/wanted_by: must not be empty"},
      {"a left-out package no one wanted",
       [](spec::Lock& l) { l.archs[0].left_out[0].wanted_by.clear(); },
       "/archs/0/left_out/0/wanted_by: must not be empty"},
      {"no packages", [](spec::Lock& l) { l.archs[0].packages.clear(); },
       "/archs/0/packages: must not be empty"},
      {"a package both locked and left out",
       [](spec::Lock& l) { l.archs[0].left_out[0].name = "redis-server"; },
       "'redis-server' is both left out and locked"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    spec::Lock lock = SmallLock();
    c.edit(lock);
    auto written = WriteLock(lock, Path());
    ASSERT_FALSE(written.has_value());
    EXPECT_THAT(written, FailsWith(ErrorCode::kInternal));
    EXPECT_THAT(written.error().message, HasSubstr("the lock would not be readable"));
    EXPECT_THAT(written.error().message, HasSubstr(c.expect));
    EXPECT_EQ(*ReadFile(Path()), before);
  }
  // Nothing is written where no lock was either.
  spec::Lock bad = SmallLock();
  bad.archs[0].excluded.push_back({"foo", {}});
  std::string fresh = dir_->path() + "/fresh.lock.json";
  EXPECT_FALSE(WriteLock(bad, fresh).has_value());
  EXPECT_FALSE(PathExists(fresh));
}

TEST(DiffLocksTest, NamesAChangeOfWhatHardeningLeftOut) {
  spec::Lock before = SmallLock();
  spec::Lock after = before;
  EXPECT_TRUE(DiffLocks(before, after).empty());
  after.archs[0].left_out[0].wanted_by.push_back("redis-tools");
  EXPECT_THAT(DiffLocks(before, after),
              ElementsAre("amd64: what hardening leaves out or who wanted it changed"));
}

// LockSpec over a repository built by Debian's tools, served by FakeHttp: the whole path from a
// spec to a lock (InRelease verified, Packages.xz checked, closure resolved) with no network.
class LockSpecTest : public FakeRepositoryTest {
 protected:
  // libfoo1 needs libbar1; other is there and needed by nothing.
  void AddSmallRepository() {
    AddFooAndBar();
    Add("stable", {.name = "other", .version = "1.0", .files = {{"usr/share/other", "1\n"}}});
  }
  Result<spec::Lock> Lock(const spec::ImageSpec& image_spec) {
    return LockSpec(image_spec, http_, *store_, LockingOptions());
  }
};

TEST_F(LockSpecTest, ASmallClosureResolvesWithTheIndexsHashes) {
  AddSmallRepository();
  Publish("stable");
  spec::ImageSpec image_spec = ParseSpec("packages: [libfoo1]\n");
  auto lock = Lock(image_spec);
  ASSERT_TRUE(lock.has_value()) << lock.error().message;

  auto keys = testing::RepoFixture::Keys();
  ASSERT_TRUE(keys.has_value()) << keys.error().message;
  EXPECT_EQ(lock->spec_digest, spec::ResolutionDigest(image_spec));
  EXPECT_EQ(lock->source_date_epoch, kReleaseDate);
  EXPECT_THAT(lock->keyring_fingerprints, Contains((*keys)->fingerprint));
  ASSERT_EQ(lock->releases.size(), 1u);
  EXPECT_EQ(lock->releases[0].origin, "hardbase-test");
  EXPECT_EQ(lock->releases[0].suite, "stable");
  EXPECT_EQ(lock->releases[0].date, "2023-11-14T22:13:20Z");
  EXPECT_THAT(lock->releases[0].signed_by, ElementsAre((*keys)->fingerprint));

  ASSERT_EQ(lock->archs.size(), 1u);
  const spec::ArchLock& amd64 = lock->archs[0];
  EXPECT_EQ(amd64.arch, "amd64");
  ASSERT_EQ(amd64.packages.size(), 2u) << "other is needed by nothing";
  for (const testing::PublishedPackage* published : {&bar_, &foo_}) {
    SCOPED_TRACE(published->name);
    auto it = std::find_if(amd64.packages.begin(), amd64.packages.end(),
                           [&](const spec::LockedPackage& p) { return p.name == published->name; });
    ASSERT_NE(it, amd64.packages.end());
    EXPECT_EQ(it->version, published->version);
    EXPECT_EQ(it->architecture, "amd64");
    EXPECT_EQ(it->filename, published->filename);
    EXPECT_EQ(it->size, published->size);
    EXPECT_EQ(it->sha256, published->sha256);
    EXPECT_EQ(it->repository, (spec::LockedRepository{"hardbase-test", "stable", "main"}));
  }
  auto libfoo = std::find_if(amd64.packages.begin(), amd64.packages.end(),
                             [](const spec::LockedPackage& p) { return p.name == "libfoo1"; });
  auto libbar = std::find_if(amd64.packages.begin(), amd64.packages.end(),
                             [](const spec::LockedPackage& p) { return p.name == "libbar1"; });
  EXPECT_EQ(libfoo->source, "foo");
  EXPECT_EQ(libbar->source, "bar");
  EXPECT_THAT(libfoo->required_by, ElementsAre(std::string(spec::kRequiredBySpec)));
  EXPECT_THAT(libbar->required_by, ElementsAre("libfoo1"));

  // One InRelease and one index asked for; no .deb (locking never fetches packages).
  EXPECT_EQ(http_.Count("GET", Url("dists/stable/InRelease")), 1);
  EXPECT_EQ(http_.Count("GET", Url("dists/stable/main/binary-amd64/Packages.xz")), 1);
  EXPECT_EQ(Requests(".deb"), 0);
  // The lock is what the reader reads back.
  ASSERT_TRUE(WriteLock(*lock, Work() + "/image.lock.json").has_value());
}

// A byte of the signed text changed after signing: refused before anything it vouches for is
// fetched, and nothing of it enters the cache (a later --offline run must not trust it).
TEST_F(LockSpecTest, ATamperedInReleaseIsRefusedAndNothingIsCached) {
  AddSmallRepository();
  testing::PublishOptions tampered;
  tampered.signature = testing::PublishOptions::Signature::kTampered;
  Publish("stable", tampered);
  EXPECT_THAT(Lock(ParseSpec("packages: [libfoo1]\n")),
              FailsWith(ErrorCode::kIntegrity,
                        AllOf(HasSubstr("InRelease of stable (" + std::string(kRepoUrl) + ")"),
                              HasSubstr("no good signature"))));
  EXPECT_EQ(http_.Count("GET", Url("dists/stable/InRelease")), 1);
  EXPECT_EQ(Requests("Packages.xz"), 0);
  EXPECT_THAT(CachedFiles(), IsEmpty());
}

// Transient failures are tried again: a 503 for the InRelease (fetched with Get) and a dropped
// connection for the index (fetched with Download), each answered on the second try.
TEST_F(LockSpecTest, TransientFailuresAreRetried) {
  AddSmallRepository();
  Publish("stable");
  const std::string inrelease = "dists/stable/InRelease";
  const std::string index = "dists/stable/main/binary-amd64/Packages.xz";
  http_.RouteSequence("GET", Url(inrelease), {net::FakeResponse::Status(503), Serve(inrelease)});
  http_.RouteSequence("GET", Url(index), {net::FakeResponse::Dropped(), Serve(index)});
  auto lock = Lock(ParseSpec("packages: [libfoo1]\n"));
  ASSERT_TRUE(lock.has_value()) << lock.error().message;
  EXPECT_EQ(http_.Count("GET", Url(inrelease)), 2);
  EXPECT_EQ(http_.Count("GET", Url(index)), 2);
  EXPECT_EQ(http_.waits().size(), 2u) << "one backoff before each second try";
  ASSERT_EQ(lock->archs.size(), 1u);
  EXPECT_EQ(lock->archs[0].packages.size(), 2u);
}

// A server that keeps failing is given up on, as a network error naming the file.
TEST_F(LockSpecTest, AServerThatKeepsFailingIsANetworkError) {
  AddSmallRepository();
  Publish("stable");
  http_.Route("GET", Url("dists/stable/InRelease"), net::FakeResponse::Status(503));
  EXPECT_THAT(Lock(ParseSpec("packages: [libfoo1]\n")),
              FailsWith(ErrorCode::kNetwork,
                        HasSubstr("stable (" + std::string(kRepoUrl) + "): InRelease")));
  EXPECT_GT(http_.Count("GET", Url("dists/stable/InRelease")), 1);
  EXPECT_THAT(CachedFiles(), IsEmpty());
}

// What the repository lacks is named: a requested package, and a dependency of one.
TEST_F(LockSpecTest, AMissingPackageIsAResolveErrorNamingIt) {
  AddSmallRepository();
  Add("stable", {.name = "needs-missing",
                 .version = "1.0",
                 .fields = {{"Depends", "libmissing0"}},
                 .files = {{"usr/share/needs-missing", "1\n"}}});
  Publish("stable");
  EXPECT_THAT(Lock(ParseSpec("packages: [libfoo1, nosuchpackage]\n")),
              FailsWith(ErrorCode::kResolve, HasSubstr("'nosuchpackage'")));
  EXPECT_THAT(Lock(ParseSpec("packages: [needs-missing]\n")),
              FailsWith(ErrorCode::kResolve, HasSubstr("needs-missing -> libmissing0")));
}

}  // namespace
}  // namespace hardbase::pipeline
