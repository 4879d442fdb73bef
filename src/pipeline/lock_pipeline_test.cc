#include "pipeline/lock_pipeline.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/fs.h"

namespace hardbase::pipeline {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

spec::Lock SmallLock() {
  spec::Lock lock;
  lock.spec_digest = "sha256:" + std::string(64, 'b');
  lock.keyring_fingerprints = {std::string(40, 'A')};
  lock.releases = {{"Debian", "bookworm", "bookworm", "2025-01-11T10:38:49Z", {std::string(40, 'A')}}};
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
       [](spec::Lock& l) { l.archs[0].excluded.push_back({"foo", {}}); },
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
    EXPECT_EQ(written.error().code, ErrorCode::kInternal);
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

}  // namespace
}  // namespace hardbase::pipeline
