#include "base/fs_safe.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <optional>
#include <string>

#include "base/fs.h"
#include "support/result_matchers.h"

namespace hardbase {
namespace {

using ::hardbase::testing::FailsWith;

using ::testing::HasSubstr;

class FsSafeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("hardbase-fs-safe-");
    ASSERT_TRUE(dir.has_value());
    dir_.emplace(std::move(*dir));
  }
  std::string Path(const std::string& name) const { return dir_->path() + "/" + name; }

  // A pid that no process has: a child that has exited and been reaped.
  static pid_t DeadPid() {
    pid_t pid = ::fork();
    if (pid == 0) ::_exit(0);
    ::waitpid(pid, nullptr, 0);
    return pid;
  }

  std::optional<TempDir> dir_;
};

TEST_F(FsSafeTest, ReadsARegularFileWithinItsBound) {
  ASSERT_TRUE(WriteFileAtomic(Path("f"), "12345").has_value());
  EXPECT_EQ(ReadRegularFile(Path("f"), 5).value_or("?"), "12345");
  auto big = ReadRegularFile(Path("f"), 4);
  ASSERT_FALSE(big.has_value());
  EXPECT_THAT(big, FailsWith(ErrorCode::kSpec));
  EXPECT_EQ(big.error().message, Path("f") + ": more than 4 bytes");
}

TEST_F(FsSafeTest, RefusesFifosAndDevicesWithoutBlocking) {
  ASSERT_EQ(::mkfifo(Path("fifo").c_str(), 0644), 0);
  ASSERT_EQ(::symlink("/dev/zero", Path("zero").c_str()), 0);
  auto fifo = ReadFile(Path("fifo"));  // no writer: a blocking open would never return
  ASSERT_FALSE(fifo.has_value());
  EXPECT_THAT(fifo, FailsWith(ErrorCode::kIo));
  EXPECT_EQ(fifo.error().message, "open " + Path("fifo") + ": not a regular file (a FIFO)");
  auto zero = OpenRegularFile(Path("zero"));
  ASSERT_FALSE(zero.has_value());
  EXPECT_THAT(zero.error().message, HasSubstr("not a regular file (a character device)"));
  auto dir = ReadFile(dir_->path());
  ASSERT_FALSE(dir.has_value());
  EXPECT_THAT(dir.error().message, HasSubstr("not a regular file (a directory)"));
}

TEST_F(FsSafeTest, RemovesOnlyTheTemporariesOfDeadProcesses) {
  std::string dead = std::to_string(DeadPid());
  std::string alive = std::to_string(::getpid() == 1 ? 2 : 1);  // init: always running
  ASSERT_TRUE(WriteFileAtomic(Path(".out.tmp-" + dead + "-abcdef"), "x").has_value());
  ASSERT_TRUE(MakeDirs(Path(".out.tmp-" + dead + "-ghijkl/sub")).has_value());
  ASSERT_TRUE(WriteFileAtomic(Path(".out.tmp-" + alive + "-abcdef"), "x").has_value());
  ASSERT_TRUE(WriteFileAtomic(Path(".out.tmp-" + dead + "-short"), "x").has_value());
  ASSERT_TRUE(WriteFileAtomic(Path(".other.tmp-" + dead + "-abcdef"), "x").has_value());
  // A dead pid whose file is still locked (by a process it handed the descriptor to) is kept.
  ASSERT_TRUE(WriteFileAtomic(Path(".out.tmp-" + dead + "-locked"), "x").has_value());
  int held = ::open(Path(".out.tmp-" + dead + "-locked").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(held, 0);
  ASSERT_EQ(::flock(held, LOCK_EX), 0);

  RemoveStaleTemps(dir_->path(), ".out.tmp-");
  EXPECT_FALSE(PathExists(Path(".out.tmp-" + dead + "-abcdef")));
  EXPECT_FALSE(PathExists(Path(".out.tmp-" + dead + "-ghijkl")));
  EXPECT_TRUE(PathExists(Path(".out.tmp-" + alive + "-abcdef")));
  EXPECT_TRUE(PathExists(Path(".out.tmp-" + dead + "-short")));
  EXPECT_TRUE(PathExists(Path(".other.tmp-" + dead + "-abcdef")));
  EXPECT_TRUE(PathExists(Path(".out.tmp-" + dead + "-locked")));
  ::close(held);
}

TEST_F(FsSafeTest, TempFilesAndDirsCarryThePidAndALock) {
  auto temp = CreateTempFileBeside(Path("out.tar"));
  ASSERT_TRUE(temp.has_value()) << temp.error().message;
  EXPECT_THAT(temp->path, HasSubstr("/.out.tar.tmp-" + std::to_string(::getpid()) + "-"));
  int other = ::open(temp->path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(other, 0);
  EXPECT_NE(::flock(other, LOCK_EX | LOCK_NB), 0) << "the temp file is not locked";
  ::close(other);

  auto dir = TempDir::Create("hb-", dir_->path());
  ASSERT_TRUE(dir.has_value());
  EXPECT_THAT(dir->path(), HasSubstr("/hb-" + std::to_string(::getpid()) + "-"));
  int fd = ::open(dir->path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_NE(::flock(fd, LOCK_EX | LOCK_NB), 0) << "the temp dir is not locked";
  ::close(fd);
}

}  // namespace
}  // namespace hardbase
