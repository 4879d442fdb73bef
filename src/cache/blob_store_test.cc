#include "cache/blob_store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <future>

#include "base/sha256.h"
#include "support/result_matchers.h"

namespace hardbase::cache {
namespace {

using ::hardbase::testing::FailsWith;

class BlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("blobstore-test-");
    ASSERT_TRUE(dir.has_value());
    dir_.emplace(std::move(*dir));
    root_ = dir_->path() + "/cache";
  }
  std::optional<TempDir> dir_;
  std::string root_;
};

TEST_F(BlobStoreTest, PutFindRead) {
  auto store = BlobStore::Open(root_);
  ASSERT_TRUE(store.has_value()) << store.error().message;
  auto hex = store->Put("hello");
  ASSERT_TRUE(hex.has_value());
  EXPECT_EQ(*hex, Sha256Hex("hello"));
  auto found = store->Find(*hex);
  ASSERT_TRUE(found.has_value() && found->has_value());
  EXPECT_EQ(**found, root_ + "/blobs/sha256/" + *hex);
  EXPECT_EQ(**store->Read(*hex), "hello");
  auto missing = store->Read(Sha256Hex("other"));
  ASSERT_TRUE(missing.has_value());
  EXPECT_FALSE(missing->has_value());
}

TEST_F(BlobStoreTest, CorruptBlobIsRemovedAndReportedMissing) {
  auto store = BlobStore::Open(root_);
  ASSERT_TRUE(store.has_value());
  std::string hex = *store->Put("original");
  ASSERT_TRUE(WriteFileAtomic(root_ + "/blobs/sha256/" + hex, "bit rot").has_value());
  auto found = store->Find(hex);
  ASSERT_TRUE(found.has_value());
  EXPECT_FALSE(found->has_value());
  EXPECT_FALSE(PathExists(root_ + "/blobs/sha256/" + hex));
  hex = *store->Put("again");
  ASSERT_TRUE(WriteFileAtomic(root_ + "/blobs/sha256/" + hex, "bit rot").has_value());
  EXPECT_FALSE(store->Read(hex)->has_value());
  EXPECT_FALSE(PathExists(root_ + "/blobs/sha256/" + hex));
}

TEST_F(BlobStoreTest, AdoptChecksTheHash) {
  auto store = BlobStore::Open(root_);
  ASSERT_TRUE(store.has_value());
  std::string good = store->StagingPath(Sha256Hex("payload"));
  ASSERT_TRUE(WriteFileAtomic(good, "payload").has_value());
  auto adopted = store->Adopt(good, Sha256Hex("payload"), "pool/x.deb");
  ASSERT_TRUE(adopted.has_value()) << adopted.error().message;
  EXPECT_FALSE(PathExists(good));

  std::string bad = store->StagingPath(Sha256Hex("expected"));
  ASSERT_TRUE(WriteFileAtomic(bad, "tampered").has_value());
  auto rejected = store->Adopt(bad, Sha256Hex("expected"), "pool/y.deb");
  ASSERT_FALSE(rejected.has_value());
  EXPECT_THAT(rejected, FailsWith(ErrorCode::kIntegrity));
  EXPECT_NE(rejected.error().message.find("pool/y.deb: sha256 mismatch"), std::string::npos);
  EXPECT_FALSE(PathExists(bad));
  EXPECT_FALSE(store->Find(Sha256Hex("expected"))->has_value());
}

TEST_F(BlobStoreTest, MetaRecords) {
  auto store = BlobStore::Open(root_);
  ASSERT_TRUE(store.has_value());
  std::string key = MetaKey("inrelease", "http://127.0.0.1:8080/debian bookworm");
  EXPECT_EQ(key.find('/'), std::string::npos);
  EXPECT_FALSE(store->ReadMeta(key)->has_value());
  ASSERT_TRUE(store->WriteMeta(key, "text").has_value());
  EXPECT_EQ(**store->ReadMeta(key), "text");
}

TEST_F(BlobStoreTest, BlobLockExcludesOtherProcesses) {
  auto store = BlobStore::Open(root_);
  ASSERT_TRUE(store.has_value());
  std::string hex = Sha256Hex("x");
  auto lock = store->LockBlob(hex);
  ASSERT_TRUE(lock.has_value());
  pid_t pid = fork();
  if (pid == 0) {
    auto other = FileLock::TryAcquire(root_ + "/locks/" + hex, FileLock::Mode::kExclusive);
    _exit(other.has_value() && !other->has_value() ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST_F(BlobStoreTest, PruneRemovesOldBlobsAndWaitsForUsers) {
  {
    auto store = BlobStore::Open(root_);
    ASSERT_TRUE(store.has_value());
    std::string old_hex = *store->Put("old");
    std::string new_hex = *store->Put("new");
    struct timespec times[2] = {{1000, 0}, {1000, 0}};
    ASSERT_EQ(utimensat(AT_FDCWD, (root_ + "/blobs/sha256/" + old_hex).c_str(), times, 0), 0);
    ASSERT_TRUE(WriteFileAtomic(root_ + "/tmp/leftover.part", "x").has_value());

    // While this store is open, prune must wait. (A thread, not a forked child: a child would
    // inherit this store's lock and wait for itself. flock conflicts between open files, so a
    // thread of the same process waits just as another process would.)
    auto prune = std::async(std::launch::async, [this] { return BlobStore::Prune(root_, 86400); });
    EXPECT_EQ(prune.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout)
        << "prune did not wait for the open store";
    store = Fail(ErrorCode::kInternal, "closed");  // releases the shared lock
    auto stats = prune.get();
    ASSERT_TRUE(stats.has_value()) << stats.error().message;
    EXPECT_EQ(stats->blobs_removed, 1u);
    EXPECT_EQ(stats->blobs_kept, 1u);
    EXPECT_FALSE(PathExists(root_ + "/blobs/sha256/" + old_hex));
    EXPECT_TRUE(PathExists(root_ + "/blobs/sha256/" + new_hex));
    EXPECT_FALSE(PathExists(root_ + "/tmp/leftover.part"));
  }
  auto all = BlobStore::Prune(root_, 0);
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->blobs_removed, 1u);
}

}  // namespace
}  // namespace hardbase::cache
