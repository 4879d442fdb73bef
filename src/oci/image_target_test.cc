// The local image targets (a new layout directory, an existing one, oci-archive, docker-archive):
// what they write reads back through the ImageSource readers, and nothing appears before Commit.
#include "oci/image_target.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "base/sha256.h"
#include "oci/image_source.h"
#include "oci/layout_update.h"
#include "oci/manifest.h"
#include "oci/test_images.h"
#include "support/result_matchers.h"

namespace hardbase::oci {
namespace {

using ::hardbase::testing::FailsWith;

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using namespace ::hardbase::oci::testing;

bool IsDocument(const Descriptor& d) {
  return IsManifestMediaType(d.media_type) || IsIndexMediaType(d.media_type);
}

// Every entry under `dir`, relative, sorted.
std::vector<std::string> Tree(const std::string& dir) {
  std::vector<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    out.push_back(fs::relative(e.path(), dir).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// A two-platform image (an index over two manifests), a signature at its cosign tag and an SBOM
// referrer of its amd64 manifest.
struct Fixture {
  TestImage amd64 = MakeTestImage({Tar({FileEntry("/etc/motd", "amd64\n")})});
  TestImage arm64 =
      MakeTestImage({Tar({FileEntry("/etc/motd", "arm64\n")})}, {"arm64", "linux", "v8"});
  Blob index;
  Blob signature_layer = MakeBlob("application/vnd.dev.cosign.simplesigning.v1+json", "payload");
  Blob empty = MakeBlob(std::string(kMediaTypeEmpty), std::string(kEmptyJson));
  Blob signature;
  Blob sbom_layer = MakeBlob("application/spdx+json", R"({"spdxVersion":"SPDX-2.3"})");
  Blob sbom;
  Descriptor sbom_entry;

  Fixture() {
    index = MakeBlob(std::string(kMediaTypeIndex), IndexJson({amd64.manifest, arm64.manifest}));
    signature = MakeBlob(std::string(kMediaTypeManifest),
                         ManifestJson(empty.descriptor, {signature_layer.descriptor}, {}));
    Descriptor subject = amd64.manifest;
    subject.platform.reset();
    sbom = MakeBlob(std::string(kMediaTypeManifest),
                    ManifestJson(empty.descriptor, {sbom_layer.descriptor}, {{"k", "v"}}, subject,
                                 "application/spdx+json"));
    sbom_entry = sbom.descriptor;
    sbom_entry.artifact_type = "application/spdx+json";
    sbom_entry.annotations = {{"k", "v"}};
  }
  std::string SignatureTag() const {
    return "sha256-" + std::string(DigestHex(index.descriptor.digest)) + ".sig";
  }

  // Puts one platform's blobs and manifest (by digest) into `target`.
  static void PutPlatform(ImageTarget& target, const TestImage& image) {
    for (const auto& b : image.blobs) {
      if (IsDocument(b.descriptor)) {
        Blob doc{b.descriptor, b.bytes};
        doc.descriptor.platform.reset();
        ASSERT_TRUE(target.PutManifest(doc, "").has_value());
      } else {
        auto put = target.PutBlob(ContentOf(b), nullptr);
        ASSERT_TRUE(put.has_value()) << put.error().message;
      }
    }
  }
  // Puts everything; `platforms` 1 puts the amd64 manifest alone as the image.
  void PutAll(ImageTarget& target, std::string_view tag, int platforms = 2) const {
    PutPlatform(target, amd64);
    if (platforms == 2) {
      PutPlatform(target, arm64);
      ASSERT_TRUE(target.PutImage(index, tag).has_value());
    } else {
      Blob root{amd64.manifest, ""};
      for (const auto& b : amd64.blobs) {
        if (b.descriptor.digest == amd64.manifest.digest) root.bytes = b.bytes;
      }
      root.descriptor.platform.reset();
      ASSERT_TRUE(target.PutImage(root, tag).has_value());
    }
    for (const Blob* b : {&empty, &signature_layer, &sbom_layer}) {
      ASSERT_TRUE(target.PutBlob(ContentOf(BlobSource{b->descriptor, b->bytes, ""}), nullptr));
    }
    ASSERT_TRUE(target.PutManifest(signature, SignatureTag()).has_value());
    auto referrers = target.PutReferrers(amd64.manifest.digest, {{sbom, sbom_entry}});
    ASSERT_TRUE(referrers.has_value()) << referrers.error().message;
    EXPECT_EQ(*referrers, 1);
  }
};

class ImageTargetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("oci-target-test-");
    ASSERT_TRUE(dir.has_value());
    dir_.emplace(std::move(*dir));
    // Temporary files of the targets go here, to be seen and counted.
    tmp_ = dir_->path() + "/tmp";
    ASSERT_TRUE(MakeDirs(tmp_).has_value());
    const char* old = std::getenv("TMPDIR");
    old_tmpdir_ = old ? old : "";
    ::setenv("TMPDIR", tmp_.c_str(), 1);
  }
  void TearDown() override {
    if (old_tmpdir_.empty()) {
      ::unsetenv("TMPDIR");
    } else {
      ::setenv("TMPDIR", old_tmpdir_.c_str(), 1);
    }
  }

  std::string Path(const std::string& name) const { return dir_->path() + "/" + name; }
  static ImageRef Ref(const std::string& text) { return *ParseImageRef(text); }
  static std::unique_ptr<ImageTarget> Open(const std::string& text,
                                           ImageTargetOptions options = {}) {
    auto target = OpenImageTarget(Ref(text), options);
    EXPECT_TRUE(target.has_value()) << target.error().message;
    return target ? std::move(*target) : nullptr;
  }

  // The files of the image `ref` names, for platform `platform` ("" for the only one).
  static std::map<std::string, std::string> Files(const std::string& ref,
                                                  const std::string& platform) {
    auto source = OpenImage(Ref(ref));
    EXPECT_TRUE(source.has_value()) << source.error().message;
    if (!source) return {};
    auto root = (*source)->Root();
    EXPECT_TRUE(root.has_value()) << root.error().message;
    auto selected = SelectPlatform(**source, *root, platform);
    EXPECT_TRUE(selected.has_value()) << selected.error().message;
    auto files = ReadImageFiles(**source, selected->manifest, kAll);
    EXPECT_TRUE(files.has_value()) << files.error().message;
    return files ? *files : std::map<std::string, std::string>{};
  }

  Fixture f_;
  std::optional<TempDir> dir_;
  std::string tmp_;
  std::string old_tmpdir_;
};

TEST_F(ImageTargetTest, NewLayoutReadsBackWithItsArtifactsAndAppearsOnlyAtCommit) {
  std::string dir = Path("img");
  auto target = Open("oci:" + dir + ":v1");
  ASSERT_TRUE(target);
  f_.PutAll(*target, "v1");
  EXPECT_FALSE(PathExists(dir));  // nothing before Commit
  auto committed = target->Commit();
  ASSERT_TRUE(committed.has_value()) << committed.error().message;

  auto source = OpenImage(Ref("oci:" + dir + ":v1"));
  ASSERT_TRUE(source.has_value()) << source.error().message;
  auto root = (*source)->Root();
  ASSERT_TRUE(root.has_value()) << root.error().message;
  EXPECT_EQ(root->digest, f_.index.descriptor.digest);
  EXPECT_EQ(*(*source)->ReadBlob(*root), f_.index.bytes);  // byte for byte
  auto sig = (*source)->Resolve(f_.SignatureTag());
  ASSERT_TRUE(sig.has_value()) << sig.error().message;
  EXPECT_EQ(sig->digest, f_.signature.descriptor.digest);
  auto referrers = (*source)->Referrers(f_.amd64.manifest.digest);
  ASSERT_TRUE(referrers.has_value());
  ASSERT_EQ(referrers->size(), 1u);
  EXPECT_EQ((*referrers)[0], f_.sbom_entry);
  EXPECT_EQ(Files("oci:" + dir + ":v1", "arm64")["etc/motd"], "arm64\n");
  EXPECT_EQ(Files("oci:" + dir + ":v1", "amd64")["etc/motd"], "amd64\n");
}

TEST_F(ImageTargetTest, ArchivesReadBack) {
  for (std::string transport : {"oci-archive", "docker-archive"}) {
    SCOPED_TRACE(transport);
    std::string file = Path(transport + ".tar");
    auto target = Open(transport + ":" + file);
    ASSERT_TRUE(target);
    // docker-archive holds one platform.
    f_.PutAll(*target, "app:1", transport == "docker-archive" ? 1 : 2);
    EXPECT_FALSE(PathExists(file));
    auto committed = target->Commit();
    ASSERT_TRUE(committed.has_value()) << committed.error().message;
    EXPECT_EQ(Files(transport + ":" + file, "amd64")["etc/motd"], "amd64\n");
    auto source = OpenImage(Ref(transport + ":" + file));
    ASSERT_TRUE(source.has_value());
    auto referrers = (*source)->Referrers(f_.amd64.manifest.digest);
    ASSERT_TRUE(referrers.has_value());
    EXPECT_EQ(referrers->size(), 1u);
  }
  // A docker-archive of two platforms is refused at Commit, and nothing is written.
  auto target = Open("docker-archive:" + Path("two.tar"));
  ASSERT_TRUE(target);
  f_.PutAll(*target, "app:1");
  auto refused = target->Commit();
  ASSERT_FALSE(refused.has_value());
  EXPECT_THAT(refused, FailsWith(ErrorCode::kUsage));
  EXPECT_THAT(refused.error().message, HasSubstr("one platform"));
  EXPECT_FALSE(PathExists(Path("two.tar")));
}

TEST_F(ImageTargetTest, UncommittedTargetsLeaveNothingBehind) {
  // A big blob given without a file is streamed into a temporary file.
  std::string big(5 << 20, 'x');
  Blob layer = MakeBlob("application/octet-stream", big);
  auto shared = std::make_shared<const std::string>(big);

  ASSERT_TRUE(WriteFileAtomic(Path("previous.tar"), "previous").has_value());
  std::string layout = Path("existing");
  TestImage first = MakeTestImage({Tar({FileEntry("/first", "1")})});
  ASSERT_TRUE(
      WriteImage(Output(first.blobs, first.manifest, "first"), OutputFormat::kOciLayout, layout));
  auto layout_before = Tree(layout);
  std::string index_before = *ReadFile(layout + "/index.json");

  for (std::string ref : {"oci:" + Path("new"), "oci-archive:" + Path("new.tar"),
                          "oci-archive:" + Path("previous.tar"), "oci:" + layout + ":second"}) {
    SCOPED_TRACE(ref);
    {
      auto target = Open(ref);
      ASSERT_TRUE(target);
      f_.PutAll(*target, "t");
      ASSERT_TRUE(target->PutBlob({layer.descriptor, BytesOpener(shared), ""}, nullptr));
      EXPECT_EQ(Tree(tmp_).size(), 2u);  // the temporary directory and the big blob
    }
    EXPECT_TRUE(Tree(tmp_).empty());
  }
  EXPECT_FALSE(PathExists(Path("new")));
  EXPECT_FALSE(PathExists(Path("new.tar")));
  EXPECT_EQ(*ReadFile(Path("previous.tar")), "previous");
  EXPECT_EQ(Tree(layout), layout_before);
  EXPECT_EQ(*ReadFile(layout + "/index.json"), index_before);
  std::vector<std::string> expected = {"existing",
                                       "existing/blobs",
                                       "existing/blobs/sha256",
                                       "existing/index.json",
                                       "existing/oci-layout",
                                       "previous.tar",
                                       "tmp"};
  for (const auto& b : first.blobs) {
    expected.push_back("existing/blobs/sha256/" + std::string(DigestHex(b.descriptor.digest)));
  }
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(Tree(dir_->path()), expected);
}

TEST_F(ImageTargetTest, ExistingLayoutGetsTheImageAddedUnderItsLock) {
  std::string layout = Path("existing");
  TestImage first = MakeTestImage({Tar({FileEntry("/first", "1")})});
  ASSERT_TRUE(
      WriteImage(Output(first.blobs, first.manifest, "first"), OutputFormat::kOciLayout, layout));
  auto target = Open("oci:" + layout + ":second");
  ASSERT_TRUE(target);
  // Lock is held until Commit, which adds under it rather than waiting for it.
  ASSERT_TRUE(target->Lock().has_value());
  // The blobs of the first image are there; the new ones are not.
  EXPECT_TRUE(*target->HasBlob(first.blobs[0].descriptor));
  EXPECT_FALSE(*target->HasBlob(f_.amd64.blobs[0].descriptor));
  EXPECT_FALSE(*target->HasManifest(first.manifest));  // a layout cannot vouch for its blobs
  f_.PutAll(*target, "second");
  auto committed = target->Commit();
  ASSERT_TRUE(committed.has_value()) << committed.error().message;

  EXPECT_EQ(Files("oci:" + layout + ":first", "")["first"], "1");
  EXPECT_EQ(Files("oci:" + layout + ":second", "arm64")["etc/motd"], "arm64\n");
  auto index = ParseIndex(*ReadFile(layout + "/index.json"));
  ASSERT_TRUE(index.has_value());
  ASSERT_EQ(index->manifests.size(), 4u);  // first, second, the signature tag, the SBOM
  EXPECT_EQ(RefName(index->manifests[1]), "second");
  EXPECT_EQ(RefName(index->manifests[2]), f_.SignatureTag());
  EXPECT_EQ(index->manifests[3], f_.sbom_entry);
  // Taking the lock again works: Commit released it.
  auto again = LockLayout(layout);
  EXPECT_TRUE(again.has_value());
}

TEST_F(ImageTargetTest, BlobNotMatchingItsDigestFailsAndChangesNothing) {
  ASSERT_TRUE(WriteFileAtomic(Path("previous.tar"), "previous").has_value());
  std::string layout = Path("existing");
  TestImage first = MakeTestImage({Tar({FileEntry("/first", "1")})});
  ASSERT_TRUE(
      WriteImage(Output(first.blobs, first.manifest, "first"), OutputFormat::kOciLayout, layout));
  std::string index_before = *ReadFile(layout + "/index.json");
  std::string bad_digest;
  for (std::string ref :
       {"oci-archive:" + Path("previous.tar"), "oci:" + layout + ":second", "oci:" + Path("new")}) {
    SCOPED_TRACE(ref);
    auto target = Open(ref);
    ASSERT_TRUE(target);
    // A layer whose bytes are not the ones its descriptor names (same size).
    Fixture f;
    BlobSource& layer = f.amd64.blobs[0];
    ASSERT_FALSE(IsDocument(layer.descriptor));
    layer.bytes[layer.bytes.size() / 2] ^= 1;
    bad_digest = layer.descriptor.digest;
    f.PutAll(*target, "second");
    auto committed = target->Commit();
    ASSERT_FALSE(committed.has_value());
    EXPECT_THAT(committed, FailsWith(ErrorCode::kIntegrity));
    EXPECT_THAT(committed.error().message, HasSubstr(layer.descriptor.digest));
  }
  EXPECT_EQ(*ReadFile(Path("previous.tar")), "previous");
  // An existing layout keeps its index.json; blobs that matched may have been added (as
  // AddToLayout adds them), the one that did not is not.
  EXPECT_EQ(*ReadFile(layout + "/index.json"), index_before);
  EXPECT_FALSE(PathExists(layout + "/blobs/sha256/" + std::string(DigestHex(bad_digest))));
  EXPECT_FALSE(PathExists(Path("new")));

  // More bytes than the descriptor says are refused as they are read.
  auto target = Open("oci:" + Path("new"));
  ASSERT_TRUE(target);
  Blob small = MakeBlob("application/octet-stream", "four");
  auto longer = std::make_shared<const std::string>("four and more");
  auto put = target->PutBlob({small.descriptor, BytesOpener(longer), ""}, nullptr);
  ASSERT_FALSE(put.has_value());
  EXPECT_THAT(put, FailsWith(ErrorCode::kIntegrity));
}

TEST_F(ImageTargetTest, WhatCannotBeWrittenIsRefusedWhenOpened) {
  auto code = [](const std::string& ref, ImageTargetOptions options = {}) {
    auto target = OpenImageTarget(*ParseImageRef(ref), options);
    return target ? std::optional<ErrorCode>() : target.error().code;
  };
  // Registries are the registry module's.
  EXPECT_EQ(code("docker://registry.test/app:1"), ErrorCode::kUsage);
  // A directory holding more than a layout is not hardbase's to replace.
  ASSERT_TRUE(MakeDirs(Path("notes")).has_value());
  ASSERT_TRUE(WriteFileAtomic(Path("notes/todo.txt"), "mine").has_value());
  EXPECT_EQ(code("oci:" + Path("notes")), ErrorCode::kUsage);
  EXPECT_EQ(code("oci-archive:" + Path("notes")), ErrorCode::kUsage);
  // Adding needs a layout that is there; archives are written whole.
  ImageTargetOptions add{.add_only = true};
  EXPECT_EQ(code("oci:" + Path("absent"), add), ErrorCode::kNotFound);
  EXPECT_EQ(code("oci:" + Path("notes"), add), ErrorCode::kSpec);
  EXPECT_EQ(code("oci-archive:" + Path("a.tar"), add), ErrorCode::kUsage);
  EXPECT_EQ(code("docker-archive:" + Path("a.tar"), add), ErrorCode::kUsage);
  EXPECT_EQ(Tree(dir_->path()), (std::vector<std::string>{"notes", "notes/todo.txt", "tmp"}));
}

TEST_F(ImageTargetTest, FileOpenerRefusesFifosAndReadsFromAnOffset) {
  ASSERT_TRUE(WriteFileAtomic(Path("file"), "0123456789").has_value());
  auto reader = FileOpener(Path("file"))(4);
  ASSERT_TRUE(reader.has_value());
  char buf[16];
  auto got = (*reader)(buf, sizeof buf);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(std::string(buf, *got), "456789");
  ASSERT_EQ(::mkfifo(Path("fifo").c_str(), 0600), 0);
  auto fifo = FileOpener(Path("fifo"))(0);
  ASSERT_FALSE(fifo.has_value());
  EXPECT_THAT(fifo, FailsWith(ErrorCode::kIo));
  EXPECT_THAT(fifo.error().message, HasSubstr("FIFO"));
}

}  // namespace
}  // namespace hardbase::oci
