#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "base/fs.h"
#include "base/sha256.h"
#include "oci/image.h"
#include "oci/layer.h"
#include "oci/test_images.h"
#include "support/process.h"
#include "support/result_matchers.h"

namespace hardbase::oci {
namespace {

using ::hardbase::testing::FailsWith;

using ::hardbase::testing::ProcessResult;
using ::hardbase::testing::RunProcess;
using nlohmann::json;
using ::testing::ElementsAre;

// One platform's image: its blobs (layer, config, manifest) and the manifest's descriptor.
struct PlatformImage {
  std::vector<BlobSource> blobs;
  Descriptor manifest;
  std::string layer_digest;
  std::string diff_id;  // of the uncompressed layer
};

BlobSource Source(const Blob& blob) { return {blob.descriptor, blob.bytes, ""}; }

PlatformImage MakeImage(const Platform& platform, const std::string& greeting,
                        Compression compression = Compression::kGzip) {
  std::vector<LayerEntry> entries(3);
  entries[0].path = "/etc";
  entries[0].type = LayerEntryType::kDirectory;
  entries[0].mode = 0755;
  entries[1].path = "/etc/greeting";
  entries[1].mode = 0644;
  entries[1].content = std::make_shared<const std::string>(greeting);
  entries[2].path = "/home";
  entries[2].type = LayerEntryType::kDirectory;
  entries[2].mode = 0700;
  entries[2].uid = entries[2].gid = 1000;
  std::string tar = *WriteLayerTar(entries);
  Blob layer =
      MakeBlob(std::string(LayerMediaType(compression)), *CompressLayer(tar, compression, 2));

  ImageConfig config;
  config.platform = platform;
  config.created = Rfc3339(1739011441);
  config.user = "1000:1000";
  config.env = {"PATH=/usr/bin:/bin"};
  config.entrypoint = {"/bin/greet"};
  config.cmd = {"--loud"};
  config.working_dir = "/home";
  config.diff_ids = {"sha256:" + Sha256Hex(tar)};
  config.history = {{config.created, "hardbase: test layer", "", false}};
  Blob config_blob = MakeBlob(std::string(kMediaTypeConfig), ConfigJson(config));
  Blob manifest = MakeBlob(std::string(kMediaTypeManifest),
                           ManifestJson(config_blob.descriptor, {layer.descriptor}, {}));
  PlatformImage image;
  image.blobs = {Source(layer), Source(config_blob), Source(manifest)};
  image.manifest = manifest.descriptor;
  image.manifest.platform = platform;
  image.layer_digest = layer.descriptor.digest;
  image.diff_id = config.diff_ids[0];
  return image;
}

ImageOutput SinglePlatform(const PlatformImage& image, std::string tag) {
  return {image.blobs, image.manifest, std::move(tag), {}};
}

// Two platforms under one image index.
ImageOutput MultiPlatform(const PlatformImage& a, const PlatformImage& b, std::string tag,
                          Blob* index_blob = nullptr) {
  Blob index = MakeBlob(std::string(kMediaTypeIndex), IndexJson({a.manifest, b.manifest}));
  ImageOutput out{a.blobs, index.descriptor, std::move(tag), {}};
  out.blobs.insert(out.blobs.end(), b.blobs.begin(), b.blobs.end());
  out.blobs.push_back(Source(index));
  if (index_blob) *index_blob = index;
  return out;
}

class LayoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("oci-layout-test-");
    ASSERT_TRUE(dir.has_value());
    dir_.emplace(std::move(*dir));
  }
  std::string Path(const std::string& name) const { return dir_->path() + "/" + name; }

  json Skopeo(std::vector<std::string> args) {
    args.insert(args.begin(), "skopeo");
    ProcessResult r = RunProcess(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out, nullptr, false);
  }

  // Every file under `path` with the sha256 of its bytes.
  static std::map<std::string, std::string> Snapshot(const std::string& path) {
    std::map<std::string, std::string> files;
    for (const auto& e : std::filesystem::recursive_directory_iterator(path)) {
      files[e.path().string()] = e.is_regular_file() ? *Sha256File(e.path().string()) : "dir";
    }
    return files;
  }

  // Names in the test directory: no temporary sibling may be left behind.
  std::vector<std::string> Listing() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir_->path())) {
      names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  std::optional<TempDir> dir_;
};

TEST_F(LayoutTest, OciLayoutIsUnpackedByUmociAndInspectedBySkopeo) {
  PlatformImage image = MakeImage(kAmd64, "hello\n");
  // The layer comes from a file, as from the cache.
  std::string cached = Path("cached-layer");
  ASSERT_TRUE(WriteFileAtomic(cached, image.blobs[0].bytes).has_value());
  image.blobs[0].bytes.clear();
  image.blobs[0].path = cached;

  std::string out = Path("out");
  auto written = WriteImage(SinglePlatform(image, "1.0"), OutputFormat::kOciLayout, out);
  ASSERT_TRUE(written.has_value()) << written.error().message;
  EXPECT_THAT(Listing(), ElementsAre("cached-layer", "out"));
  EXPECT_EQ(*ReadFile(out + "/oci-layout"), R"({"imageLayoutVersion":"1.0.0"})");
  Descriptor tagged = image.manifest;
  tagged.annotations[std::string(kAnnotationRefName)] = "1.0";
  EXPECT_EQ(*ReadFile(out + "/index.json"), IndexJson({tagged}));
  for (const auto& blob : image.blobs) {
    std::string file = out + "/blobs/sha256/" + blob.descriptor.digest.substr(7);
    EXPECT_EQ("sha256:" + *Sha256File(file), blob.descriptor.digest);
  }

  json inspect = Skopeo({"inspect", "oci:" + out + ":1.0"});
  EXPECT_EQ(inspect["Digest"], image.manifest.digest);
  EXPECT_EQ(inspect["Architecture"], "amd64");
  EXPECT_EQ(inspect["Os"], "linux");
  EXPECT_EQ(inspect["Created"], "2025-02-08T10:44:01Z");
  EXPECT_EQ(inspect["Layers"], json::array({image.layer_digest}));
  EXPECT_EQ(inspect["Env"], json::array({"PATH=/usr/bin:/bin"}));

  std::vector<std::string> unpack = {"umoci", "unpack", "--image", out + ":1.0", Path("bundle")};
  if (::geteuid() != 0) unpack.insert(unpack.begin() + 2, "--rootless");
  ProcessResult r = RunProcess(unpack);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(*ReadFile(Path("bundle/rootfs/etc/greeting")), "hello\n");
  json runtime = json::parse(*ReadFile(Path("bundle/config.json")));
  EXPECT_EQ(runtime["process"]["args"], json::array({"/bin/greet", "--loud"}));
  EXPECT_EQ(runtime["process"]["cwd"], "/home");
  EXPECT_EQ(runtime["process"]["user"]["uid"], 1000);
  if (::geteuid() == 0) {
    struct stat home {};
    ASSERT_EQ(::stat(Path("bundle/rootfs/home").c_str(), &home), 0);
    EXPECT_EQ(home.st_uid, 1000u);
    EXPECT_EQ(home.st_mode & 07777, 0700u);
  }
}

TEST_F(LayoutTest, ZstdLayersAreReadBySkopeo) {
  // umoci 0.4.7 does not know zstd layers; skopeo does.
  PlatformImage image = MakeImage(kAmd64, "zstd\n", Compression::kZstd);
  std::string out = Path("out");
  ASSERT_TRUE(WriteImage(SinglePlatform(image, "z"), OutputFormat::kOciLayout, out).has_value());
  EXPECT_EQ(Skopeo({"inspect", "oci:" + out + ":z"})["Layers"], json::array({image.layer_digest}));
  // skopeo checks every blob against its digest as it copies; the layer decompresses to the
  // tar the config's diff_id names.
  ProcessResult r = RunProcess({"skopeo", "copy", "oci:" + out + ":z", "dir:" + Path("copy")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ProcessResult tar = RunProcess({"zstd", "-dc", Path("copy/" + image.layer_digest.substr(7))});
  ASSERT_EQ(tar.exit_code, 0) << tar.err;
  EXPECT_EQ("sha256:" + Sha256Hex(tar.out), image.diff_id);
}

TEST_F(LayoutTest, TwoPlatformIndexIsReadBySkopeo) {
  PlatformImage amd64 = MakeImage(kAmd64, "amd64\n");
  PlatformImage arm64 = MakeImage(kArm64, "arm64\n");
  Blob index;
  std::string out = Path("out");
  auto written =
      WriteImage(MultiPlatform(amd64, arm64, "multi", &index), OutputFormat::kOciLayout, out);
  ASSERT_TRUE(written.has_value()) << written.error().message;
  ProcessResult raw = RunProcess({"skopeo", "inspect", "--raw", "oci:" + out + ":multi"});
  ASSERT_EQ(raw.exit_code, 0) << raw.err;
  EXPECT_EQ(raw.out, index.bytes);
  json arm = Skopeo(
      {"--override-arch", "arm64", "--override-variant", "v8", "inspect", "oci:" + out + ":multi"});
  // Digest is the index's; the rest is from the platform's manifest and config.
  EXPECT_EQ(arm["Digest"], index.descriptor.digest);
  EXPECT_EQ(arm["Architecture"], "arm64");
  EXPECT_EQ(arm["Layers"], json::array({arm64.layer_digest}));
  json amd = Skopeo({"--override-arch", "amd64", "inspect", "oci:" + out + ":multi"});
  EXPECT_EQ(amd["Architecture"], "amd64");
  EXPECT_EQ(amd["Layers"], json::array({amd64.layer_digest}));
}

TEST_F(LayoutTest, OciArchiveIsReadBySkopeoAndReproducible) {
  PlatformImage image = MakeImage(kAmd64, "archive\n");
  std::string archive = Path("image.tar");
  ASSERT_TRUE(WriteImage(SinglePlatform(image, "v1"), OutputFormat::kOciArchive, archive));
  json inspect = Skopeo({"inspect", "oci-archive:" + archive + ":v1"});
  EXPECT_EQ(inspect["Digest"], image.manifest.digest);
  EXPECT_EQ(inspect["Layers"], json::array({image.layer_digest}));

  ProcessResult list = RunProcess({"tar", "-tf", archive});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  std::vector<std::string> blob_names;
  for (const auto& blob : image.blobs) blob_names.push_back(blob.descriptor.digest.substr(7));
  std::sort(blob_names.begin(), blob_names.end());
  EXPECT_EQ(list.out, "blobs/\nblobs/sha256/\nblobs/sha256/" + blob_names[0] + "\nblobs/sha256/" +
                          blob_names[1] + "\nblobs/sha256/" + blob_names[2] +
                          "\nindex.json\noci-layout\n");

  std::string first = *ReadFile(archive);
  ASSERT_TRUE(WriteImage(SinglePlatform(image, "v1"), OutputFormat::kOciArchive, archive));
  EXPECT_TRUE(*ReadFile(archive) == first);
  EXPECT_THAT(Listing(), ElementsAre("image.tar"));
}

TEST_F(LayoutTest, DockerArchiveIsReadBySkopeo) {
  PlatformImage image = MakeImage(kArm64, "docker\n");
  std::string archive = Path("docker.tar");
  auto written =
      WriteImage(SinglePlatform(image, "hardbase/test:1.0"), OutputFormat::kDockerArchive, archive);
  ASSERT_TRUE(written.has_value()) << written.error().message;
  // skopeo finds the image by its RepoTags entry, and lists layers by diff_id.
  json inspect = Skopeo({"inspect", "docker-archive:" + archive + ":hardbase/test:1.0"});
  EXPECT_EQ(inspect["Architecture"], "arm64");
  EXPECT_EQ(inspect["Layers"], json::array({image.diff_id}));
  ProcessResult other = RunProcess({"skopeo", "inspect", "docker-archive:" + archive + ":other:1"});
  EXPECT_NE(other.exit_code, 0);
  // Its layers are readable: copied into an OCI layout, the image unpacks.
  ProcessResult copy = RunProcess(
      {"skopeo", "copy", "docker-archive:" + archive + ":hardbase/test:1.0", "oci:" + Path("c:t")});
  ASSERT_EQ(copy.exit_code, 0) << copy.err;
  ProcessResult unpack =
      RunProcess({"umoci", "unpack", "--rootless", "--image", Path("c:t"), Path("bundle")});
  ASSERT_EQ(unpack.exit_code, 0) << unpack.err;
  EXPECT_EQ(*ReadFile(Path("bundle/rootfs/etc/greeting")), "docker\n");

  // manifest.json as `docker save` writes it since Docker 25.
  std::string extracted = Path("x");
  ASSERT_TRUE(MakeDirs(extracted).has_value());
  ASSERT_EQ(RunProcess({"tar", "-xf", archive, "-C", extracted}).exit_code, 0);
  json manifest = json::parse(*ReadFile(extracted + "/manifest.json"));
  std::string config_hex = image.blobs[1].descriptor.digest.substr(7);
  EXPECT_EQ(manifest, json::parse(R"([{"Config":"blobs/sha256/)" + config_hex +
                                  R"(","RepoTags":["hardbase/test:1.0"],"Layers":["blobs/sha256/)" +
                                  image.layer_digest.substr(7) + R"("]}])"));
  EXPECT_TRUE(PathExists(extracted + "/index.json"));
  EXPECT_TRUE(PathExists(extracted + "/oci-layout"));
}

TEST_F(LayoutTest, DockerArchiveTagsAndPlatforms) {
  PlatformImage amd64 = MakeImage(kAmd64, "a\n");
  PlatformImage arm64 = MakeImage(kArm64, "b\n");
  std::string archive = Path("docker.tar");
  // A name without a tag is name:latest.
  ASSERT_TRUE(WriteImage(SinglePlatform(amd64, "registry.local:5000/app"),
                         OutputFormat::kDockerArchive, archive));
  EXPECT_EQ(
      Skopeo({"inspect", "docker-archive:" + archive + ":registry.local:5000/app:latest"})["Os"],
      "linux");

  // An index holding one manifest is that platform.
  Blob single = MakeBlob(std::string(kMediaTypeIndex), IndexJson({arm64.manifest}));
  ImageOutput one{arm64.blobs, single.descriptor, "app:arm", {}};
  one.blobs.push_back(Source(single));
  ASSERT_TRUE(WriteImage(one, OutputFormat::kDockerArchive, archive));
  EXPECT_EQ(Skopeo({"inspect", "docker-archive:" + archive})["Architecture"], "arm64");

  std::string before = *ReadFile(archive);
  auto two =
      WriteImage(MultiPlatform(amd64, arm64, "app:multi"), OutputFormat::kDockerArchive, archive);
  ASSERT_FALSE(two.has_value());
  EXPECT_THAT(two, FailsWith(ErrorCode::kUsage));
  EXPECT_THAT(two.error().message, ::testing::HasSubstr("one platform"));
  EXPECT_TRUE(*ReadFile(archive) == before);
  EXPECT_THAT(Listing(), ElementsAre("docker.tar"));
}

TEST_F(LayoutTest, ReplacesAnExistingLayout) {
  std::string out = Path("out");
  PlatformImage first = MakeImage(kAmd64, "first\n");
  PlatformImage second = MakeImage(kAmd64, "second\n");
  ASSERT_TRUE(WriteImage(SinglePlatform(first, "t"), OutputFormat::kOciLayout, out));
  auto written = WriteImage(SinglePlatform(second, "t"), OutputFormat::kOciLayout, out);
  ASSERT_TRUE(written.has_value()) << written.error().message;
  EXPECT_EQ(Skopeo({"inspect", "oci:" + out + ":t"})["Digest"], second.manifest.digest);
  std::set<std::string> blobs;
  for (const auto& e : std::filesystem::directory_iterator(out + "/blobs/sha256")) {
    blobs.insert("sha256:" + e.path().filename().string());
  }
  std::set<std::string> expected;
  for (const auto& blob : second.blobs) expected.insert(blob.descriptor.digest);
  EXPECT_EQ(blobs, expected);
  EXPECT_THAT(Listing(), ElementsAre("out"));
}

TEST_F(LayoutTest, FailedWriteLeavesTheOldOutput) {
  std::string out = Path("out");
  std::string archive = Path("image.tar");
  PlatformImage good = MakeImage(kAmd64, "good\n");
  ASSERT_TRUE(WriteImage(SinglePlatform(good, "t"), OutputFormat::kOciLayout, out));
  ASSERT_TRUE(WriteImage(SinglePlatform(good, "t"), OutputFormat::kOciArchive, archive));
  auto layout_before = Snapshot(out);
  std::string archive_before = *ReadFile(archive);

  PlatformImage bad = MakeImage(kAmd64, "bad\n");
  // In memory: one byte changed, the size kept.
  ImageOutput tampered = SinglePlatform(bad, "t");
  tampered.blobs[0].bytes.back() ^= 1;
  // From a file: right size, wrong bytes; and a file of the wrong size.
  ImageOutput wrong_file = SinglePlatform(bad, "t");
  std::string corrupt = bad.blobs[0].bytes;
  corrupt[corrupt.size() / 2] ^= 1;
  ASSERT_TRUE(WriteFileAtomic(Path("corrupt"), corrupt).has_value());
  wrong_file.blobs[0] = {bad.blobs[0].descriptor, "", Path("corrupt")};
  ImageOutput short_file = wrong_file;
  ASSERT_TRUE(WriteFileAtomic(Path("short"), corrupt.substr(1)).has_value());
  short_file.blobs[0].path = Path("short");

  for (const auto* image : {&tampered, &wrong_file, &short_file}) {
    for (auto [format, path] :
         {std::pair{OutputFormat::kOciLayout, out}, std::pair{OutputFormat::kOciArchive, archive},
          std::pair{OutputFormat::kDockerArchive, archive}}) {
      auto written = WriteImage(*image, format, path);
      ASSERT_FALSE(written.has_value());
      EXPECT_THAT(written, FailsWith(ErrorCode::kIntegrity));
      EXPECT_THAT(written.error().message, ::testing::HasSubstr(bad.layer_digest));
    }
  }
  EXPECT_EQ(Snapshot(out), layout_before);
  EXPECT_TRUE(*ReadFile(archive) == archive_before);
  EXPECT_THAT(Listing(), ElementsAre("corrupt", "image.tar", "out", "short"));
}

TEST_F(LayoutTest, RefusesIncompleteImagesAndForeignDirectories) {
  PlatformImage image = MakeImage(kAmd64, "x\n");
  ImageOutput missing = SinglePlatform(image, "t");
  missing.blobs.erase(missing.blobs.begin());  // the layer
  auto written = WriteImage(missing, OutputFormat::kOciLayout, Path("out"));
  ASSERT_FALSE(written.has_value());
  EXPECT_THAT(written.error().message,
              ::testing::HasSubstr("blob " + image.layer_digest + " (referenced by " +
                                   image.manifest.digest + ") is not among the image's blobs"));

  // A directory that is not an image layout is never replaced; an empty one is.
  std::string home = Path("home");
  ASSERT_TRUE(MakeDirs(home).has_value());
  ASSERT_TRUE(WriteFileAtomic(home + "/notes.txt", "keep me").has_value());
  auto refused = WriteImage(SinglePlatform(image, "t"), OutputFormat::kOciLayout, home);
  ASSERT_FALSE(refused.has_value());
  EXPECT_THAT(refused, FailsWith(ErrorCode::kUsage));
  EXPECT_EQ(*ReadFile(home + "/notes.txt"), "keep me");
  std::string empty = Path("empty");
  ASSERT_TRUE(MakeDirs(empty).has_value());
  EXPECT_TRUE(WriteImage(SinglePlatform(image, "t"), OutputFormat::kOciLayout, empty + "/"));
  EXPECT_TRUE(PathExists(empty + "/index.json"));
  EXPECT_THAT(Listing(), ElementsAre("empty", "home"));

  // An oci-layout file does not make a directory an image: anything besides a layout's own files
  // stays, and so does the directory. A layout signed in place (index.json.lock) is replaced.
  ASSERT_TRUE(WriteFileAtomic(home + "/oci-layout", R"({"imageLayoutVersion":"1.0.0"})"));
  refused = WriteImage(SinglePlatform(image, "t"), OutputFormat::kOciLayout, home);
  ASSERT_FALSE(refused.has_value());
  EXPECT_THAT(refused.error().message, ::testing::HasSubstr(home + " exists and is not only an "
                                                                   "OCI image layout"));
  EXPECT_EQ(*ReadFile(home + "/notes.txt"), "keep me");
  ASSERT_TRUE(WriteFileAtomic(empty + "/index.json.lock", "").has_value());
  ASSERT_TRUE(WriteFileAtomic(empty + "/.index.json.tmp-1-abcdef", "").has_value());
  ASSERT_TRUE(WriteFileAtomic(
                  empty + "/blobs/sha256/." + image.layer_digest.substr(7) + ".tmp-1-abcdef", "")
                  .has_value());
  EXPECT_TRUE(WriteImage(SinglePlatform(image, "t"), OutputFormat::kOciLayout, empty));
  EXPECT_FALSE(PathExists(empty + "/.index.json.tmp-1-abcdef"));
  ASSERT_TRUE(WriteFileAtomic(empty + "/blobs/sha256/not-a-digest", "mine").has_value());
  EXPECT_FALSE(WriteImage(SinglePlatform(image, "t"), OutputFormat::kOciLayout, empty));
  EXPECT_TRUE(PathExists(empty + "/blobs/sha256/not-a-digest"));

  // An archive replaces a regular file only: not a symlink (to a file or a device) nor a FIFO.
  ASSERT_EQ(::symlink("/dev/null", Path("null.tar").c_str()), 0);
  ASSERT_EQ(::symlink((home + "/notes.txt").c_str(), Path("notes.tar").c_str()), 0);
  ASSERT_EQ(::mkfifo(Path("fifo.tar").c_str(), 0644), 0);
  for (const char* name : {"null.tar", "notes.tar", "fifo.tar"}) {
    for (auto format : {OutputFormat::kOciArchive, OutputFormat::kDockerArchive}) {
      auto archive = WriteImage(SinglePlatform(image, "t"), format, Path(name));
      ASSERT_FALSE(archive.has_value()) << name;
      EXPECT_THAT(archive, FailsWith(ErrorCode::kUsage));
      EXPECT_THAT(archive.error().message,
                  ::testing::HasSubstr(Path(name) + " exists and is not a regular file"));
    }
  }
  EXPECT_EQ(*ReadFile(home + "/notes.txt"), "keep me");
  EXPECT_THAT(Listing(), ElementsAre("empty", "fifo.tar", "home", "notes.tar", "null.tar"));
}

TEST(OutputFormatTest, Names) {
  EXPECT_EQ(*ParseOutputFormat("oci"), OutputFormat::kOciLayout);
  EXPECT_EQ(*ParseOutputFormat("oci-archive"), OutputFormat::kOciArchive);
  EXPECT_EQ(*ParseOutputFormat("docker-archive"), OutputFormat::kDockerArchive);
  EXPECT_THAT(ParseOutputFormat("docker"), FailsWith(ErrorCode::kUsage));
  // The CLI offers exactly these; each must parse, in the enum's order.
  EXPECT_THAT(OutputFormatNames(), ElementsAre("oci", "oci-archive", "docker-archive"));
  for (size_t i = 0; i < OutputFormatNames().size(); ++i) {
    EXPECT_EQ(*ParseOutputFormat(OutputFormatNames()[i]), static_cast<OutputFormat>(i));
  }
}

}  // namespace
}  // namespace hardbase::oci
