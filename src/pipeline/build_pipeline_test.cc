#include "pipeline/build_pipeline.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "base/fs.h"
#include "image/elf_machine.h"
#include "oci/image_ref.h"
#include "oci/image_source.h"
#include "pipeline/catalog.h"
#include "pipeline/fake_repository_test_support.h"
#include "pipeline/lock_pipeline.h"
#include "support/elf_header.h"
#include "support/result_matchers.h"

namespace hardbase::pipeline {
namespace {

using ::hardbase::testing::FailsWith;
using ::testing::AllOf;
using ::testing::ElementsAre;
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

// Images of two architectures over the fake repository: the host's (whose real binaries, such as
// coreutils' /usr/bin/true, are code for its machine) and another, whose code the test makes as an
// ELF header for that machine. Every ELF file of each architecture's image is checked against it.
class ElfMachineBuildTest : public FakeRepositoryTest {
 protected:
  void SetUp() override {
    FakeRepositoryTest::SetUp();
    if (HasFatalFailure()) return;
    auto bytes = ReadFile("/usr/bin/true");
    ASSERT_TRUE(bytes.has_value()) << bytes.error().message;
    host_code_ = *bytes;
    auto id = image::ReadElfIdentity(host_code_);
    ASSERT_TRUE(id.has_value() && id->has_value());
    for (std::string_view arch : {"amd64", "arm64"}) {
      if (image::ArchElfIdentity(arch) == **id) host_ = arch;
    }
    if (host_.empty()) GTEST_SKIP() << "the host is neither amd64 nor arm64";
    other_ = host_ == "amd64" ? "arm64" : "amd64";
    host_triplet_ = host_ == "amd64" ? "x86_64-linux-gnu" : "aarch64-linux-gnu";
    auto other_id = image::ArchElfIdentity(other_);
    ASSERT_TRUE(other_id.has_value());
    other_code_ = testing::ElfHeader({.elf_class = other_id->elf_class,
                                      .data = other_id->data,
                                      .machine = other_id->machine}) +
                  "code";
  }

  // Publishes package `name` for `arch` with these files.
  void AddFor(const std::string& arch, const std::string& name,
              std::map<std::string, std::string> files) {
    auto added = repo_->AddPackage(
        "stable", arch,
        {.name = name, .version = "1.0-1", .architecture = arch, .files = std::move(files)});
    ASSERT_TRUE(added.has_value()) << added.error().message;
  }

  // Writes the spec for `archs` ("amd64, arm64") with `body` at `path` and its lock beside it.
  void WriteLocked(const std::string& archs, const std::string& body, const std::string& path) {
    std::string text = SpecText(body);
    const std::string amd64_only = "archs: [amd64]";
    text.replace(text.find(amd64_only), amd64_only.size(), "archs: [" + archs + "]");
    ASSERT_TRUE(MakeDirs(DirName(path)).has_value());
    ASSERT_TRUE(WriteFileAtomic(path, text).has_value());
    auto parsed = spec::ParseImageSpec(text, path);
    ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
    spec::Lock lock = LockOrFail(*parsed);
    ASSERT_FALSE(HasFailure());
    ASSERT_TRUE(WriteLock(lock, spec::DefaultLockPath(path)).has_value());
  }

  Result<BuildResult> Build(const std::string& archs, const std::string& body,
                            bool strict = false) {
    std::string path = Work() + "/image.yaml";
    WriteLocked(archs, body, path);
    if (HasFailure()) return Fail(ErrorCode::kInternal, "the spec was not locked");
    BuildOptions options;
    options.spec_path = path;
    options.locked = true;
    options.output = Work() + "/image";
    options.tag = "test";
    options.strict = strict;
    return BuildImage(options, http_, *store_);
  }

  std::string ArchsBoth() const { return host_ + ", " + other_; }
  static std::string Describe(std::string_view arch) {
    return image::DescribeElfIdentity(*image::ArchElfIdentity(arch));
  }

  std::string host_, other_, host_triplet_;
  std::string host_code_, other_code_;
};

TEST_F(ElfMachineBuildTest, EveryArchitecturesImageIsCheckedAndCounted) {
  AddFor(host_, "tool", {{"usr/bin/tool", host_code_}});
  AddFor(other_, "tool", {{"usr/bin/tool", other_code_}});
  Publish("stable");
  auto built = Build(ArchsBoth(), "packages: [tool]\n");
  ASSERT_TRUE(built.has_value()) << built.error().message;
  ASSERT_EQ(built->archs.size(), 2u);
  for (const ArchBuild& a : built->archs) {
    SCOPED_TRACE(a.arch);
    EXPECT_EQ(a.elf_files, 1u);
    EXPECT_EQ(a.elf_machines, (std::map<std::string, size_t>{{Describe(a.arch), 1}}));
  }
  EXPECT_TRUE(built->warnings.empty()) << built->warnings.front();

  // A catalog builds every architecture of each entry, each checked the same way.
  std::string catalog = Work() + "/catalog";
  WriteLocked(ArchsBoth(), "packages: [tool]\n", catalog + "/tool/image.yaml");
  CatalogOptions options;
  options.dir = catalog;
  options.output_dir = Work() + "/out";
  options.jobs = 1;
  options.build.locked = true;
  auto report = BuildCatalog(options, http_, *store_);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  ASSERT_EQ(report->images.size(), 1u);
  const CatalogImage& image = report->images[0];
  ASSERT_EQ(image.status, CatalogStatus::kBuilt) << (image.error ? image.error->message : "");
  std::vector<std::pair<std::string, size_t>> archs;
  for (const ArchBuild& a : image.archs) archs.emplace_back(a.arch, a.elf_files);
  EXPECT_THAT(archs, ElementsAre(std::pair{host_, size_t{1}}, std::pair{other_, size_t{1}}));
}

// The hostile case: the other architecture's package ships the host's binary. Nothing is written.
TEST_F(ElfMachineBuildTest, CodeForAnotherMachineIsRefusedNamingFilePackageAndMachines) {
  AddFor(host_, "tool", {{"usr/bin/tool", host_code_}});
  AddFor(other_, "tool", {{"usr/bin/tool", host_code_}});
  Publish("stable");
  EXPECT_THAT(
      Build(ArchsBoth(), "packages: [tool]\n"),
      FailsWith(ErrorCode::kIntegrity, HasSubstr("build " + other_ +
                                                 ": /usr/bin/tool of package tool is ELF code "
                                                 "for " +
                                                 Describe(host_) + ", but an " + other_ +
                                                 " image runs " + Describe(other_))));
  EXPECT_FALSE(PathExists(Work() + "/image"));
}

// A host binary copied in by `files:` is checked too, named by its entry in the spec.
TEST_F(ElfMachineBuildTest, AFilesEntryBuiltForTheHostIsRefusedInAnotherArchitecture) {
  AddFor(other_, "tool", {{"usr/bin/tool", other_code_}});
  Publish("stable");
  ASSERT_TRUE(WriteFileAtomic(Work() + "/server", host_code_).has_value());
  EXPECT_THAT(
      Build(other_, "packages: [tool]\nfiles:\n  - src: server\n    dest: /usr/local/bin/server\n"),
      FailsWith(ErrorCode::kIntegrity,
                AllOf(HasSubstr("/usr/local/bin/server of the files: entry at " + Work() +
                                "/image.yaml:"),
                      HasSubstr("is ELF code for " + Describe(host_)))));
}

// Code for the host's machine under the host's triplet, in the other architecture's image, is
// where Debian's cross packages keep it: a warning naming the package, or with --strict an error.
TEST_F(ElfMachineBuildTest, AnotherTripletsTreeIsAWarningOrAStrictError) {
  std::string path = "usr/lib/" + host_triplet_ + "/libcross.so.1";
  AddFor(other_, "cross", {{"usr/bin/tool", other_code_}, {path, host_code_}});
  Publish("stable");
  auto built = Build(other_, "packages: [cross]\n");
  ASSERT_TRUE(built.has_value()) << built.error().message;
  EXPECT_THAT(built->warnings,
              ElementsAre("package cross: 1 ELF file for " + Describe(host_) + " in an " + other_ +
                          " image, kept where Debian keeps code for other processors: /" + path));
  EXPECT_EQ(built->archs[0].elf_files, 2u);
  EXPECT_THAT(Build(other_, "packages: [cross]\n", /*strict=*/true),
              FailsWith(ErrorCode::kIntegrity,
                        AllOf(HasSubstr("package cross: 1 ELF file"), HasSubstr("--strict"))));
}

}  // namespace
}  // namespace hardbase::pipeline
