#include "oci/image_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "base/sha256.h"
#include "oci/layout_update.h"
#include "oci/tar_writer.h"
#include "oci/test_images.h"
#include "support/process.h"
#include "support/result_matchers.h"

namespace hardbase::oci {
namespace {

using ::hardbase::testing::FailsWith;

using ::hardbase::testing::ProcessResult;
using ::hardbase::testing::RunProcess;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using namespace ::hardbase::oci::testing;

class ImageSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("oci-source-test-");
    ASSERT_TRUE(dir.has_value());
    dir_.emplace(std::move(*dir));
  }
  std::string Path(const std::string& name) const { return dir_->path() + "/" + name; }

  static void Run(const std::vector<std::string>& argv) {
    ProcessResult r = RunProcess(argv);
    ASSERT_EQ(r.exit_code, 0) << argv[0] << " " << argv[1] << ": " << r.err;
  }

  static std::unique_ptr<ImageSource> Open(const std::string& ref) {
    auto parsed = ParseImageRef(ref);
    EXPECT_TRUE(parsed.has_value()) << ref;
    auto source = OpenImage(*parsed);
    EXPECT_TRUE(source.has_value()) << source.error().message;
    return source ? std::move(*source) : nullptr;
  }

  // The files of the image `ref` names (its only platform).
  static std::map<std::string, std::string> Files(const std::string& ref,
                                                  const PathFilter& want = kAll) {
    auto source = Open(ref);
    if (!source) return {};
    auto root = source->Root();
    EXPECT_TRUE(root.has_value()) << root.error().message;
    auto platforms = ResolvePlatforms(*source, *root);
    EXPECT_TRUE(platforms.has_value()) << platforms.error().message;
    EXPECT_EQ(platforms->size(), 1u);
    auto files = ReadImageFiles(*source, platforms->at(0).manifest, want);
    EXPECT_TRUE(files.has_value()) << files.error().message;
    return files ? *files : std::map<std::string, std::string>{};
  }

  static std::string SkopeoDigest(const std::string& ref) {
    ProcessResult r = RunProcess({"skopeo", "inspect", ref});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out, nullptr, false).value("Digest", "");
  }

  std::optional<TempDir> dir_;
};

TEST_F(ImageSourceTest, ReadsBackWhatWriteImageWritesInEveryFormat) {
  TestImage amd64 = MakeTestImage({Tar({DirEntry("/etc"), FileEntry("/etc/greeting", "amd64\n")})});
  TestImage arm64 = MakeTestImage({Tar({DirEntry("/etc"), FileEntry("/etc/greeting", "arm64\n")})},
                                  kArm64, Compression::kZstd);
  Blob index = MakeBlob(std::string(kMediaTypeIndex), IndexJson({amd64.manifest, arm64.manifest}));
  ImageOutput multi = Output(amd64.blobs, index.descriptor, "multi");
  multi.blobs.insert(multi.blobs.end(), arm64.blobs.begin(), arm64.blobs.end());
  multi.blobs.push_back({index.descriptor, index.bytes, ""});

  for (auto [format, prefix] : {std::pair{OutputFormat::kOciLayout, "oci:"},
                                {OutputFormat::kOciArchive, "oci-archive:"},
                                {OutputFormat::kDockerArchive, "docker-archive:"}}) {
    std::string name = prefix;
    name.pop_back();  // no ':' in paths
    std::string out = Path("single-" + name);
    ASSERT_TRUE(WriteImage(Output(amd64.blobs, amd64.manifest, "app:1"), format, out).has_value());
    auto source = Open(prefix + out);
    ASSERT_TRUE(source);
    auto root = source->Root();
    ASSERT_TRUE(root.has_value()) << prefix << root.error().message;
    EXPECT_EQ(root->digest, amd64.manifest.digest) << prefix;
    EXPECT_EQ(source->Resolve("app:1")->digest, amd64.manifest.digest);
    auto platforms = ResolvePlatforms(*source, *root);
    ASSERT_TRUE(platforms.has_value()) << platforms.error().message;
    ASSERT_EQ(platforms->size(), 1u);
    EXPECT_EQ(platforms->at(0).config.platform, kAmd64);
    EXPECT_THAT(platforms->at(0).config.entrypoint, ElementsAre("/bin/app"));
    auto files = ReadImageFiles(*source, platforms->at(0).manifest, kAll);
    ASSERT_TRUE(files.has_value()) << files.error().message;
    EXPECT_THAT(*files, ElementsAre(Pair("etc/greeting", "amd64\n")));
    if (format == OutputFormat::kDockerArchive) continue;  // one platform only

    out = Path("multi-" + name);
    ASSERT_TRUE(WriteImage(multi, format, out).has_value());
    source = Open(prefix + out + ":multi");
    ASSERT_TRUE(source);
    root = source->Root();
    ASSERT_TRUE(root.has_value());
    EXPECT_EQ(root->digest, index.descriptor.digest);
    platforms = ResolvePlatforms(*source, *root);
    ASSERT_TRUE(platforms.has_value()) << platforms.error().message;
    ASSERT_EQ(platforms->size(), 2u);
    EXPECT_EQ(platforms->at(0).descriptor.digest, amd64.manifest.digest);
    EXPECT_EQ(platforms->at(1).descriptor.digest, arm64.manifest.digest);
    EXPECT_EQ(platforms->at(1).config.platform, kArm64);
    files = ReadImageFiles(*source, platforms->at(1).manifest, kAll);
    ASSERT_TRUE(files.has_value()) << files.error().message;
    EXPECT_THAT(*files, ElementsAre(Pair("etc/greeting", "arm64\n")));
  }
}

TEST_F(ImageSourceTest, ReadsUmociAndSkopeoImages) {
  std::string layout = Path("umoci");
  Run({"umoci", "init", "--layout", layout});
  Run({"umoci", "new", "--image", layout + ":t"});
  ASSERT_TRUE(WriteFileAtomic(Path("hello"), "hello\n").has_value());
  ASSERT_TRUE(WriteFileAtomic(Path("bye"), "bye\n").has_value());
  std::vector<std::string> rootless;
  if (::geteuid() != 0) rootless = {"--rootless"};
  auto umoci = [&](std::vector<std::string> args) {
    args.insert(args.begin() + 2, rootless.begin(), rootless.end());
    Run(args);
  };
  umoci({"umoci", "insert", "--image", layout + ":t", Path("hello"), "/etc/hello"});
  umoci({"umoci", "insert", "--image", layout + ":t", Path("bye"), "/etc/bye"});
  umoci({"umoci", "insert", "--image", layout + ":t", "--whiteout", "/etc/bye"});
  // A plain tar layer added as it is.
  Run({"tar", "-cf", Path("layer.tar"), "-C", dir_->path(), "--transform", "s,^,opt/,", "bye"});
  Run({"umoci", "raw", "add-layer", "--image", layout + ":t", Path("layer.tar")});

  auto source = Open("oci:" + layout);  // the only image: no tag needed
  ASSERT_TRUE(source);
  EXPECT_EQ(source->Root()->digest, SkopeoDigest("oci:" + layout + ":t"));
  std::map<std::string, std::string> want = {{"etc/hello", "hello\n"}, {"opt/bye", "bye\n"}};
  EXPECT_EQ(Files("oci:" + layout + ":t"), want);

  // skopeo's archives of the same image.
  Run({"skopeo", "copy", "oci:" + layout + ":t", "oci-archive:" + Path("a.tar") + ":t"});
  Run({"skopeo", "copy", "oci:" + layout + ":t", "docker-archive:" + Path("d.tar") + ":app:v1"});
  EXPECT_EQ(Files("oci-archive:" + Path("a.tar") + ":t"), want);
  EXPECT_EQ(Open("oci-archive:" + Path("a.tar"))->Root()->digest,
            SkopeoDigest("oci-archive:" + Path("a.tar")));
  EXPECT_EQ(Files("docker-archive:" + Path("d.tar")), want);
  auto docker = Open("docker-archive:" + Path("d.tar"));
  ASSERT_TRUE(docker);
  auto tagged = docker->Resolve("docker.io/library/app:v1");  // as skopeo names it
  ASSERT_TRUE(tagged.has_value()) << tagged.error().message;
  auto platforms = ResolvePlatforms(*docker, *tagged);
  ASSERT_TRUE(platforms.has_value()) << platforms.error().message;
  EXPECT_EQ(platforms->at(0).config.platform.architecture, "amd64");
}

TEST_F(ImageSourceTest, AppliesWhiteoutsOpaqueDirectoriesAndHardLinks) {
  TestImage image = MakeTestImage({
      Tar({DirEntry("/a"), FileEntry("/a/x", "x"), FileEntry("/a/y", "y"), DirEntry("/b"),
           DirEntry("/b/d"), FileEntry("/b/d/z", "z"), DirEntry("/c"), FileEntry("/c/1", "1"),
           FileEntry("/keep", "old"), FileEntry("/h", "hard"), DirEntry("/dir"),
           FileEntry("/dir/f", "f"), FileEntry("/s", "s")}),
      Tar({FileEntry("/a/.wh.x", ""), FileEntry("/.wh.b", ""), FileEntry("/c/2", "2"),
           FileEntry("/c/.wh..wh..opq", ""), FileEntry("/keep", "new"),
           FileEntry("/dir", "now a file"), FileEntry("/t", "T"),
           LinkEntry("/t2", "/t", LayerEntryType::kHardlink),
           LinkEntry("/s", "/keep", LayerEntryType::kSymlink)}),
      // Hand-made: a hard link to a file of the first layer, which WriteLayerTar refuses.
      RawTar({LinkEntry("/link", "/h", LayerEntryType::kHardlink), FileEntry("/a/y", "y2")}),
  });
  std::string out = Path("wh");
  ASSERT_TRUE(WriteImage(Output(image.blobs, image.manifest, "wh"), OutputFormat::kOciLayout, out));

  // Hard link targets "h" and "t" are not wanted themselves.
  auto files = Files("oci:" + out, [](std::string_view p) { return p != "h" && p != "t"; });
  std::map<std::string, std::string> want = {{"a/y", "y2"},         {"c/2", "2"}, {"keep", "new"},
                                             {"dir", "now a file"}, {"t2", "T"},  {"link", "hard"}};
  EXPECT_EQ(files, want);

  // umoci, independently, unpacks the same tree.
  std::vector<std::string> unpack = {"umoci", "unpack", "--image", out + ":wh", Path("bundle")};
  if (::geteuid() != 0) unpack.insert(unpack.begin() + 2, "--rootless");
  Run(unpack);
  for (const auto& [path, content] : want) {
    EXPECT_EQ(*ReadFile(Path("bundle/rootfs/" + path)), content) << path;
  }
  for (std::string gone : {"a/x", "b", "c/1", "dir/f"}) {
    EXPECT_FALSE(PathExists(Path("bundle/rootfs/" + gone))) << gone;
  }
}

TEST_F(ImageSourceTest, TamperedAndMissingBlobsAreReported) {
  TestImage image = MakeTestImage({Tar({FileEntry("/f", std::string(1000, 'f'))})});
  std::string out = Path("img");
  ASSERT_TRUE(WriteImage(Output(image.blobs, image.manifest, "t"), OutputFormat::kOciLayout, out));
  auto source = Open("oci:" + out + ":t");
  ASSERT_TRUE(source);
  auto platforms = ResolvePlatforms(*source, *source->Root());
  ASSERT_TRUE(platforms.has_value());
  const Manifest& manifest = platforms->at(0).manifest;

  std::string layer = out + "/blobs/sha256/" + image.layers[0].digest.substr(7);
  std::string bytes = *ReadFile(layer);
  std::string tampered = bytes;
  tampered[tampered.size() - 9] ^= 1;  // in the gzip trailer: the tar still reads
  ASSERT_TRUE(WriteFileAtomic(layer, tampered).has_value());
  auto files = ReadImageFiles(*source, manifest, kAll);
  ASSERT_FALSE(files.has_value());
  EXPECT_THAT(files, FailsWith(ErrorCode::kIntegrity));
  EXPECT_THAT(files.error().message, HasSubstr(image.layers[0].digest));
  ASSERT_TRUE(WriteFileAtomic(layer, bytes + "x").has_value());
  files = ReadImageFiles(*source, manifest, kAll);
  ASSERT_FALSE(files.has_value());
  EXPECT_THAT(files, FailsWith(ErrorCode::kIntegrity));

  auto config = source->ReadBlob(manifest.config);
  ASSERT_TRUE(config.has_value());
  ASSERT_TRUE(
      WriteFileAtomic(out + "/blobs/sha256/" + manifest.config.digest.substr(7), *config + " ")
          .has_value());
  EXPECT_THAT(source->ReadBlob(manifest.config), FailsWith(ErrorCode::kIntegrity));

  ASSERT_TRUE(RemoveAll(layer).has_value());
  files = ReadImageFiles(*source, manifest, kAll);
  ASSERT_FALSE(files.has_value());
  EXPECT_THAT(files, FailsWith(ErrorCode::kNotFound));
}

TEST_F(ImageSourceTest, RootNeedsATagAmongSeveralImages) {
  TestImage a = MakeTestImage({Tar({FileEntry("/a", "a")})});
  TestImage b = MakeTestImage({Tar({FileEntry("/b", "b")})});
  std::string out = Path("img");
  ASSERT_TRUE(WriteImage(Output(a.blobs, a.manifest, "a"), OutputFormat::kOciLayout, out));
  // A cosign signature tag does not count as an image.
  Descriptor sig = b.manifest;
  sig.annotations[std::string(kAnnotationRefName)] =
      "sha256-" + a.manifest.digest.substr(7) + ".sig";
  ASSERT_TRUE(AddToLayout(out, b.blobs, {sig}).has_value());
  EXPECT_EQ(Open("oci:" + out)->Root()->digest, a.manifest.digest);

  Descriptor tagged = b.manifest;
  tagged.annotations[std::string(kAnnotationRefName)] = "b";
  ASSERT_TRUE(AddToLayout(out, {}, {tagged}).has_value());
  auto root = Open("oci:" + out)->Root();
  ASSERT_FALSE(root.has_value());
  EXPECT_THAT(root, FailsWith(ErrorCode::kUsage));
  EXPECT_THAT(root.error().message,
              HasSubstr("holds 2 images; name one as oci:" + out + ":TAG (tags: a, b)"));
  EXPECT_EQ(Files("oci:" + out + ":b"), (std::map<std::string, std::string>{{"b", "b"}}));
  EXPECT_EQ(Open("oci:" + out + "@" + b.manifest.digest)->Root()->digest, b.manifest.digest);
  auto missing = Open("oci:" + out + ":c")->Root();
  ASSERT_FALSE(missing.has_value());
  EXPECT_THAT(missing, FailsWith(ErrorCode::kNotFound));

  tagged.annotations[std::string(kAnnotationRefName)] = "latest";
  ASSERT_TRUE(AddToLayout(out, {}, {tagged}).has_value());
  EXPECT_EQ(Open("oci:" + out)->Root()->digest, b.manifest.digest);
}

// Tags are looked up as containers/image (skopeo, podman) looks them up, so that an image that
// is verified is the image they run.
TEST_F(ImageSourceTest, TagsResolveAsSkopeoResolvesThem) {
  TestImage a = MakeTestImage({Tar({FileEntry("/a", "a")})});
  TestImage b = MakeTestImage({Tar({FileEntry("/b", "b")})});
  std::string out = Path("img");
  ASSERT_TRUE(WriteImage(Output(a.blobs, a.manifest, "app"), OutputFormat::kOciLayout, out));
  // A tag spelled like a digest is a tag.
  Descriptor lookalike = b.manifest;
  lookalike.annotations[std::string(kAnnotationRefName)] = a.manifest.digest;
  ASSERT_TRUE(AddToLayout(out, b.blobs, {lookalike}).has_value());
  EXPECT_EQ(Open("oci:" + out + ":" + a.manifest.digest)->Root()->digest, b.manifest.digest);
  auto inspect = RunProcess({"skopeo", "inspect", "--raw", "oci:" + out + ":" + a.manifest.digest});
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  EXPECT_EQ("sha256:" + Sha256Hex(inspect.out), b.manifest.digest);

  // One tag on two different images is refused rather than resolved to either.
  auto index = nlohmann::json::parse(*ReadFile(out + "/index.json"));
  auto second = index["manifests"][1];
  second["annotations"]["org.opencontainers.image.ref.name"] = "app";
  index["manifests"].push_back(second);
  ASSERT_TRUE(WriteFileAtomic(out + "/index.json", index.dump()).has_value());
  auto twice = Open("oci:" + out + ":app")->Root();
  ASSERT_FALSE(twice.has_value());
  EXPECT_THAT(twice, FailsWith(ErrorCode::kIntegrity));
  EXPECT_THAT(twice.error().message, HasSubstr("tag 'app' names several images"));
}

TEST_F(ImageSourceTest, RefusesWhatIsNotAnImage) {
  auto open = [](const std::string& text) { return OpenImage(*ParseImageRef(text)); };
  EXPECT_THAT(open("oci:" + Path("nothing")), FailsWith(ErrorCode::kNotFound));
  EXPECT_THAT(open("oci:" + dir_->path()), FailsWith(ErrorCode::kSpec));
  EXPECT_THAT(open("docker://localhost/app"), FailsWith(ErrorCode::kUsage));
  // An archive member escaping the directory it is unpacked into.
  Run({"tar", "-cf", Path("evil.tar"), "-C", "/", "--transform", "s,^,../,", "etc/hostname"});
  auto evil = open("oci-archive:" + Path("evil.tar"));
  ASSERT_FALSE(evil.has_value());
  EXPECT_THAT(evil.error().message, HasSubstr("unsafe member '../etc/hostname'"));
  // A member twice, once as "./name": tar(1) and skopeo take the last, so no one of them counts.
  ASSERT_TRUE(WriteFileAtomic(Path("index.json"), "{}").has_value());
  Run({"tar", "-cf", Path("twice.tar"), "-C", dir_->path(), "index.json", "./index.json"});
  auto twice = open("oci-archive:" + Path("twice.tar"));
  ASSERT_FALSE(twice.has_value());
  EXPECT_THAT(twice, FailsWith(ErrorCode::kSpec));
  EXPECT_THAT(twice.error().message, HasSubstr("member 'index.json' appears more than once"));
  // A pax archive cut inside its extended header's block: libarchive fails without saying why.
  Run({"tar", "--format=posix", "-cf", Path("cut.tar"), "-C", dir_->path(), "index.json"});
  ASSERT_EQ(::truncate(Path("cut.tar").c_str(), 991), 0);
  auto cut = open("oci-archive:" + Path("cut.tar"));
  ASSERT_FALSE(cut.has_value());
  EXPECT_THAT(cut, FailsWith(ErrorCode::kSpec));
  EXPECT_THAT(cut.error().message, HasSubstr("cut.tar: not a readable tar archive"));
  // A FIFO where the archive should be fails at once instead of waiting for a writer.
  ASSERT_EQ(::mkfifo(Path("fifo.tar").c_str(), 0644), 0);
  auto fifo = open("oci-archive:" + Path("fifo.tar"));
  ASSERT_FALSE(fifo.has_value());
  EXPECT_THAT(fifo, FailsWith(ErrorCode::kIo));
  EXPECT_THAT(fifo.error().message, HasSubstr("not a regular file (a FIFO)"));
}

TEST(PlatformMatchesTest, NamesAnArchitectureOrAVariantWithOrWithoutLinux) {
  const Platform arm_v7{"arm", "linux", "v7"};
  for (std::string_view wanted : {"arm", "arm/v7", "linux/arm", "linux/arm/v7"}) {
    EXPECT_TRUE(PlatformMatches(wanted, arm_v7)) << wanted;
  }
  for (std::string_view wanted : {"arm/v6", "arm64", "linux/", "v7", "arm/", "windows/arm", ""}) {
    EXPECT_FALSE(PlatformMatches(wanted, arm_v7)) << wanted;
  }
  EXPECT_TRUE(PlatformMatches("amd64", kAmd64));
  EXPECT_FALSE(PlatformMatches("amd64/", kAmd64));  // no variant to name
}

TEST(MatchingPlatformsTest, KeepsEveryImageTheNameMatches) {
  auto image = [](Platform p) {
    PlatformImage i;
    i.descriptor.digest = p.architecture + p.variant;
    i.config.platform = std::move(p);
    return i;
  };
  std::vector<PlatformImage> all = {image(kAmd64), image({"arm", "linux", "v5"}),
                                    image({"arm", "linux", "v7"}), image(kArm64)};
  auto digests = [](const std::vector<PlatformImage>& images) {
    std::vector<std::string> out;
    for (const auto& i : images) out.push_back(i.descriptor.digest);
    return out;
  };
  EXPECT_THAT(digests(*MatchingPlatforms(all, "")),
              ElementsAre("amd64", "armv5", "armv7", "arm64v8"));
  EXPECT_THAT(digests(*MatchingPlatforms(all, "arm")), ElementsAre("armv5", "armv7"));
  EXPECT_THAT(digests(*MatchingPlatforms(all, "linux/arm/v7")), ElementsAre("armv7"));
  EXPECT_THAT(digests(*MatchingPlatforms(all, "arm64")), ElementsAre("arm64v8"));
  auto none = MatchingPlatforms(all, "linux/s390x");
  ASSERT_FALSE(none.has_value());
  EXPECT_THAT(none, FailsWith(ErrorCode::kNotFound));
  EXPECT_EQ(none.error().message, "no linux/s390x image");
}

}  // namespace
}  // namespace hardbase::oci
