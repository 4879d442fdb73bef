#include "pipeline/build_pipeline.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "base/fs.h"
#include "oci/image_ref.h"
#include "oci/image_source.h"
#include "pipeline/fake_repository_test_support.h"
#include "pipeline/lock_pipeline.h"
#include "support/result_matchers.h"

namespace hardbase::pipeline {
namespace {

using ::hardbase::testing::FailsWith;
using ::testing::AllOf;
using ::testing::HasSubstr;

// BuildImage from a spec and its lock over the fake repository (two tiny packages made by
// dpkg-deb) into a layout in a temp directory: the .debs come through FakeHttp, so a test can
// serve them altered.
class BuildImageTest : public FakeRepositoryTest {
 protected:
  void SetUp() override {
    FakeRepositoryTest::SetUp();
    if (HasFatalFailure()) return;
    AddFooAndBar();
    Publish("stable");
    spec_path_ = WriteSpec("packages: [libfoo1]\n");
    spec::Lock lock = LockOrFail(ParseSpec("packages: [libfoo1]\n"));
    ASSERT_FALSE(HasFailure());
    ASSERT_TRUE(WriteLock(lock, LockPath()).has_value());
  }

  std::string LockPath() const { return Work() + "/image.lock.json"; }
  BuildOptions Options(const std::string& output) const {
    BuildOptions options;
    options.spec_path = spec_path_;
    options.lock_path = LockPath();
    options.locked = true;  // the lock written above, never re-resolved
    options.output = output;
    options.tag = "test";
    return options;
  }
  Result<BuildResult> Build(const std::string& output) {
    return BuildImage(Options(output), http_, *store_);
  }

  // The regular files of the layout's image, by path.
  static std::map<std::string, std::string> ImageFiles(const std::string& layout) {
    auto ref = oci::ParseImageRef("oci:" + layout + ":test");
    EXPECT_TRUE(ref.has_value());
    if (!ref) return {};
    auto source = oci::OpenImage(*ref);
    EXPECT_TRUE(source.has_value()) << source.error().message;
    if (!source) return {};
    auto root = (*source)->Root();
    EXPECT_TRUE(root.has_value()) << root.error().message;
    if (!root) return {};
    auto image = oci::SelectPlatform(**source, *root, "amd64");
    EXPECT_TRUE(image.has_value()) << image.error().message;
    if (!image) return {};
    auto files =
        oci::ReadImageFiles(**source, image->manifest, [](std::string_view) { return true; });
    EXPECT_TRUE(files.has_value()) << files.error().message;
    return files.value_or(std::map<std::string, std::string>{});
  }

  std::string spec_path_;
};

TEST_F(BuildImageTest, TheImageHoldsTheLockedPackages) {
  std::string out = Work() + "/image";
  auto built = Build(out);
  ASSERT_TRUE(built.has_value()) << built.error().message;
  ASSERT_EQ(built->archs.size(), 1u);
  EXPECT_EQ(built->archs[0].arch, "amd64");
  EXPECT_EQ(built->archs[0].packages, 2u);
  EXPECT_EQ(built->digest, built->archs[0].manifest_digest);
  EXPECT_EQ(built->layers_built, 2u);
  EXPECT_EQ(Requests(".deb"), 2);

  auto files = ImageFiles(out);
  EXPECT_EQ(files["usr/lib/libfoo.so.1"], "foo\n");
  EXPECT_EQ(files["usr/lib/libbar.so.1"], "bar\n");
  // The package database a scanner reads, one stanza per package.
  EXPECT_THAT(files["var/lib/dpkg/status.d/libfoo1"],
              AllOf(HasSubstr("Package: libfoo1\n"), HasSubstr("Version: 1.0-1\n")));
  EXPECT_THAT(files["var/lib/dpkg/status.d/libbar1"], HasSubstr("Package: libbar1\n"));
}

// The same spec and lock give the same digest: again with the package layers cached, and again
// from an empty cache (every .deb fetched and every layer made anew).
TEST_F(BuildImageTest, BuildingTwiceGivesTheSameDigest) {
  auto first = Build(Work() + "/one");
  ASSERT_TRUE(first.has_value()) << first.error().message;
  auto second = Build(Work() + "/two");
  ASSERT_TRUE(second.has_value()) << second.error().message;
  EXPECT_EQ(second->digest, first->digest);
  EXPECT_EQ(second->layers_cached, 2u);
  EXPECT_EQ(second->layers_built, 0u);
  EXPECT_EQ(Requests(".deb"), 2) << "the second build fetched nothing";

  auto fresh = cache::BlobStore::Open(Work() + "/other-cache");
  ASSERT_TRUE(fresh.has_value()) << fresh.error().message;
  auto third = BuildImage(Options(Work() + "/three"), http_, *fresh);
  ASSERT_TRUE(third.has_value()) << third.error().message;
  EXPECT_EQ(third->digest, first->digest);
  EXPECT_EQ(third->layers_built, 2u);
  EXPECT_EQ(*ReadFile(Work() + "/three/index.json"), *ReadFile(Work() + "/one/index.json"));
}

// A .deb that is not what the lock pins -- one byte changed (the size still matches), or another
// package's file served in its place -- is refused: nothing of it is cached, no image is written.
TEST_F(BuildImageTest, ADebThatDoesNotMatchTheLockIsRefused) {
  std::string altered = RepoFile(foo_.filename);
  ASSERT_FALSE(altered.empty());
  altered[altered.size() / 2] ^= 0x01;
  struct Case {
    const char* what;
    std::string bytes;
    const char* expect;
  };
  const Case cases[] = {{"one byte changed", altered, "sha256 mismatch"},
                        {"another package's .deb", RepoFile(bar_.filename), "size mismatch"}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    http_.Route("GET", Url(foo_.filename), net::FakeResponse::Ok(c.bytes));
    std::string out = Work() + "/image-" + std::to_string(&c - cases);
    EXPECT_THAT(Build(out), FailsWith(ErrorCode::kIntegrity,
                                      AllOf(HasSubstr("libfoo1 1.0-1 (" + foo_.filename + ")"),
                                            HasSubstr(c.expect))));
    EXPECT_FALSE(PathExists(out));
    auto cached = store_->Find(foo_.sha256);
    ASSERT_TRUE(cached.has_value()) << cached.error().message;
    EXPECT_FALSE(cached->has_value());
  }
  // Served as the lock pins it, the same build succeeds.
  http_.ClearRoutes();
  ServeRepository();
  auto built = Build(Work() + "/image");
  EXPECT_TRUE(built.has_value()) << built.error().message;
}

}  // namespace
}  // namespace hardbase::pipeline
