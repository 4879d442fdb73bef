// Tests of the image runners in tests/support/oci_runtime.h, without hardbase: umoci makes an
// image holding one statically linked probe program, and the runners must unpack it and run it
// with crun and bubblewrap as the image's user, with the arguments and environment asked for.
#include "support/oci_runtime.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <optional>

#include "base/fs.h"

namespace hardbase::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Reports who and where it runs; `probe exit N` exits with N.
constexpr char kProbeSource[] = R"c(
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
int main(int argc, char** argv) {
  struct rlimit nofile;
  getrlimit(RLIMIT_NOFILE, &nofile);
  printf("uid=%d gid=%d nofile=%llu\n", (int)getuid(), (int)getgid(),
         (unsigned long long)nofile.rlim_max);
  for (int i = 0; i < argc; ++i) printf("arg=%s\n", argv[i]);
  printf("PATH=%s\n", getenv("PATH") ? getenv("PATH") : "(unset)");
  printf("PROBE_VAR=%s\n", getenv("PROBE_VAR") ? getenv("PROBE_VAR") : "(unset)");
  return argc == 3 && strcmp(argv[1], "exit") == 0 ? atoi(argv[2]) : 0;
}
)c";

constexpr int kNonRoot = 65532;

// Runs a setup command that must succeed.
void MustRun(const std::vector<std::string>& argv) {
  ProcessResult r = RunProcess(argv);
  ASSERT_EQ(r.exit_code, 0) << argv[0] << " " << argv[1] << ": " << r.err;
}

class OciRuntimeTest : public ::testing::Test {
 protected:
  // One image for the whole suite, tagged "t": /bin/probe, user 65532:65532, entrypoint
  // /bin/probe, cmd "hello", PATH=/bin.
  static void SetUpTestSuite() {
    auto dir = TempDir::Create("hardbase-oci-runtime-");
    ASSERT_TRUE(dir.has_value()) << dir.error().message;
    const std::string w = dir->path(), image = w + "/layout:t";
    ASSERT_TRUE(WriteFileAtomic(w + "/probe.c", kProbeSource).has_value());
    ASSERT_TRUE(MakeDirs(w + "/root/bin").has_value());
    const std::vector<std::vector<std::string>> steps = {
        {"cc", "-static", "-O2", "-o", w + "/root/bin/probe", w + "/probe.c"},
        {"tar", "-C", w + "/root", "--numeric-owner", "--owner=0", "--group=0", "-cf",
         w + "/layer.tar", "."},
        {"umoci", "init", "--layout", w + "/layout"},
        {"umoci", "new", "--image", image},
        {"umoci", "raw", "add-layer", "--image", image, w + "/layer.tar"},
        {"umoci", "config", "--image", image, "--config.user", "65532:65532", "--config.entrypoint",
         "/bin/probe", "--config.cmd", "hello", "--config.env", "PATH=/bin"},
    };
    for (const auto& argv : steps) ASSERT_NO_FATAL_FAILURE(MustRun(argv));
    work_ = new TempDir(std::move(*dir));
  }
  static void TearDownTestSuite() {
    delete work_;
    work_ = nullptr;
  }

  static std::string Layout() { return work_->path() + "/layout"; }

  void SetUp() override {
    ASSERT_NE(work_, nullptr) << "making the test image failed";
    auto dir = TempDir::Create("hardbase-oci-bundle-");
    ASSERT_TRUE(dir.has_value()) << dir.error().message;
    bundle_dir_.emplace(std::move(*dir));
  }
  // Where this test unpacks to: a path that does not exist yet, as umoci wants.
  std::string Bundle() const { return bundle_dir_->path() + "/bundle"; }

  UnpackedImage Unpack() {
    auto image = UnpackWithUmoci(Layout(), "t", Bundle());
    EXPECT_TRUE(image.has_value()) << image.error().message;
    return image.value_or(UnpackedImage{});
  }

  static TempDir* work_;
  std::optional<TempDir> bundle_dir_;
};

TempDir* OciRuntimeTest::work_ = nullptr;

TEST_F(OciRuntimeTest, UnpackGivesRootfsAndRuntimeConfig) {
  UnpackedImage image = Unpack();
  EXPECT_EQ(image.bundle, Bundle());
  EXPECT_EQ(image.rootfs, Bundle() + "/rootfs");
  EXPECT_TRUE(PathExists(image.rootfs + "/bin/probe"));
  EXPECT_EQ(image.config["process"]["user"]["uid"], kNonRoot);
  EXPECT_EQ(image.config["process"]["user"]["gid"], kNonRoot);
  EXPECT_EQ(image.config["process"]["args"], nlohmann::json({"/bin/probe", "hello"}));
}

TEST_F(OciRuntimeTest, CrunRunsTheImageCommandAsTheImageUser) {
  UnpackedImage image = Unpack();
  ProcessResult r = RunWithCrun(image.bundle);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("uid=65532 gid=65532 "));
  EXPECT_THAT(r.out, HasSubstr("arg=/bin/probe\narg=hello\n"));
  EXPECT_THAT(r.out, HasSubstr("PATH=/bin\n"));
  EXPECT_THAT(r.out, HasSubstr("PROBE_VAR=(unset)\n"));
}

TEST_F(OciRuntimeTest, CrunReplacesArgsAndEnvAndReturnsTheExitCode) {
  UnpackedImage image = Unpack();
  ProcessResult r = RunWithCrun(image.bundle, {"/bin/probe", "exit", "3"},
                                {{"PATH", "/usr/bin"}, {"PROBE_VAR", "a b"}});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_THAT(r.out, HasSubstr("uid=65532 gid=65532 "));
  EXPECT_THAT(r.out, Not(HasSubstr("hello")));
  EXPECT_THAT(r.out, HasSubstr("PATH=/usr/bin\nPROBE_VAR=a b\n"));
  // The bundle itself is unchanged: the next run gets the image's command again.
  auto config = ReadFile(image.bundle + "/config.json");
  ASSERT_TRUE(config.has_value());
  EXPECT_EQ(nlohmann::json::parse(*config), image.config);
  EXPECT_THAT(RunWithCrun(image.bundle).out, HasSubstr("arg=hello\n"));
}

TEST_F(OciRuntimeTest, CrunLowersRlimitsAboveTheHostHardLimit) {
  rlimit host{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &host), 0);
  if (host.rlim_max == RLIM_INFINITY) GTEST_SKIP() << "no hard RLIMIT_NOFILE on this host";
  UnpackedImage image = Unpack();
  image.config["process"]["rlimits"] = nlohmann::json::array(
      {{{"type", "RLIMIT_NOFILE"}, {"hard", host.rlim_max + 1}, {"soft", host.rlim_max + 1}}});
  ASSERT_TRUE(WriteFileAtomic(image.bundle + "/config.json", image.config.dump()).has_value());
  ProcessResult r = RunWithCrun(image.bundle);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("nofile=" + std::to_string(host.rlim_max) + "\n"));
}

TEST_F(OciRuntimeTest, BwrapRunsTheRootfsAsTheGivenUserWithOnlyTheGivenEnv) {
  UnpackedImage image = Unpack();
  ProcessResult r = RunWithBwrap(image.rootfs, {"/bin/probe", "exit", "4"}, kNonRoot, kNonRoot,
                                 {{"PROBE_VAR", "from-bwrap"}});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_THAT(r.out, HasSubstr("uid=65532 gid=65532 "));
  EXPECT_THAT(r.out, HasSubstr("PATH=(unset)\nPROBE_VAR=from-bwrap\n"));
}

TEST_F(OciRuntimeTest, UnpacksZstdLayersThatUmociCannotRead) {
  // A new layout: skopeo would reuse the gzip blob already in the old one.
  const std::string zstd_ref = "oci:" + bundle_dir_->path() + "/zstd-layout:z";
  MustRun({"skopeo", "copy", "--quiet", "--dest-compress-format", "zstd", "oci:" + Layout() + ":t",
           zstd_ref});
  ASSERT_THAT(RunProcess({"skopeo", "inspect", "--raw", zstd_ref}).out, HasSubstr("tar+zstd"));
  auto image = UnpackWithUmoci(bundle_dir_->path() + "/zstd-layout", "z", Bundle());
  ASSERT_TRUE(image.has_value()) << image.error().message;
  ProcessResult r = RunWithCrun(image->bundle);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("arg=hello\n"));
}

TEST_F(OciRuntimeTest, UnpackReportsAMissingTag) {
  auto image = UnpackWithUmoci(Layout(), "absent", Bundle());
  ASSERT_FALSE(image.has_value());
  EXPECT_THAT(image.error().message, HasSubstr("unpack " + Layout() + ":absent: skopeo inspect"));
  EXPECT_THAT(image.error().message, Not(HasSubstr("\n")));
}

TEST_F(OciRuntimeTest, CrunReportsAMissingBundle) {
  ProcessResult r = RunWithCrun(Bundle());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr(Bundle() + "/config.json"));
}

}  // namespace
}  // namespace hardbase::testing
