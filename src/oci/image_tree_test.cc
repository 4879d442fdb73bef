// ReadLayerTree / ReadImageTree: the whole tree of an image with each path's metadata, and every
// layer's small files shown to a visitor, whatever later layers do to them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "oci/image_source.h"
#include "oci/memory_image.h"
#include "oci/tar_writer.h"
#include "oci/test_images.h"
#include "support/result_matchers.h"

namespace hardbase::oci {
namespace {

using ::hardbase::testing::FailsWith;
using ::testing::ElementsAre;
using ::testing::Pair;
using namespace ::hardbase::oci::testing;
using Type = TreeNode::Type;

const PathFilter kNone = [](std::string_view) { return false; };

LayerEntry Owned(LayerEntry e, uint32_t uid, uint32_t gid) {
  e.uid = uid;
  e.gid = gid;
  return e;
}

Result<ImageTree> TreeOf(const std::vector<std::string>& layers, const PathFilter& want,
                         const MemberVisitor* members = nullptr) {
  return ReadLayerTree(
      layers.size(),
      [&](size_t i) -> Result<std::unique_ptr<BlobReader>> {
        return BlobReader::Bytes(layers[i], "layer " + std::to_string(i), std::nullopt);
      },
      want, members);
}

TEST(ImageTreeTest, KeepsEveryPathsMetadataThroughWhiteoutsOpaqueDirsAndHardLinks) {
  std::vector<std::string> layers = {
      Tar({DirEntry("/bin"), FileEntry("/bin/su", "su", 04755), FileEntry("/bin/wall", "w", 02755),
           DirEntry("/tmp"), DirEntry("/a"), FileEntry("/a/x", "x"), DirEntry("/c"),
           FileEntry("/c/1", "1"), FileEntry("/h", "hard", 0600), FileEntry("/gone", "g")}),
      Tar({FileEntry("/a/.wh.x", ""), FileEntry("/c/.wh..wh..opq", ""), FileEntry("/c/2", "22"),
           Owned(FileEntry("/srv", "s", 0666), 1000, 1001),
           LinkEntry("/sh", "bin/su", LayerEntryType::kSymlink), FileEntry("/.wh.gone", "")}),
      RawTar({LinkEntry("/link", "/h", LayerEntryType::kHardlink)}),
  };
  // WriteLayerTar takes modes up to 07777: a sticky world-writable /tmp.
  LayerEntry tmp = DirEntry("/tmp");
  tmp.mode = 01777;
  layers.push_back(Tar({tmp}));

  auto tree = TreeOf(layers, [](std::string_view p) { return p == "link" || p == "c/2"; });
  ASSERT_TRUE(tree.has_value()) << tree.error().message;
  std::vector<std::string> paths;
  for (const auto& [path, node] : tree->nodes) paths.push_back(path);
  EXPECT_THAT(paths, ElementsAre("a", "bin", "bin/su", "bin/wall", "c", "c/2", "h", "link", "sh",
                                 "srv", "tmp"));
  const auto& n = tree->nodes;
  EXPECT_EQ(n.at("bin/su").type, Type::kFile);
  EXPECT_EQ(n.at("bin/su").mode, 04755u);
  EXPECT_EQ(n.at("bin/su").size, 2u);
  EXPECT_EQ(n.at("bin/wall").mode, 02755u);
  EXPECT_EQ(n.at("tmp").type, Type::kDirectory);
  EXPECT_EQ(n.at("tmp").mode, 01777u);
  EXPECT_EQ(n.at("tmp").layer, 3u);
  EXPECT_EQ(n.at("srv").mode, 0666u);
  EXPECT_EQ(n.at("srv").uid, 1000u);
  EXPECT_EQ(n.at("srv").gid, 1001u);
  EXPECT_EQ(n.at("srv").layer, 1u);
  EXPECT_EQ(n.at("sh").type, Type::kSymlink);
  EXPECT_EQ(n.at("sh").link_target, "bin/su");
  // A hard link is its target's inode: bytes, metadata and where they are.
  EXPECT_EQ(n.at("link").type, Type::kFile);
  EXPECT_EQ(n.at("link").mode, 0600u);
  EXPECT_EQ(n.at("link").size, 4u);
  EXPECT_EQ(n.at("link").layer, 0u);
  EXPECT_EQ(n.at("link").origin, "h");
  EXPECT_EQ(n.at("c/2").layer, 1u);
  EXPECT_EQ(n.at("c/2").origin, "c/2");
  EXPECT_THAT(tree->files, ElementsAre(Pair("c/2", "22"), Pair("link", "hard")));

  // ReadLayerFiles, the same reader, gives the same contents.
  auto files = ReadLayerFiles(
      layers.size(),
      [&](size_t i) -> Result<std::unique_ptr<BlobReader>> {
        return BlobReader::Bytes(layers[i], "l", std::nullopt);
      },
      [](std::string_view p) { return p == "link" || p == "c/2"; });
  ASSERT_TRUE(files.has_value());
  EXPECT_EQ(*files, tree->files);
}

TEST(ImageTreeTest, ShowsEveryLayersSmallFilesEvenWhenALaterLayerDeletesThem) {
  std::string key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n";
  std::vector<std::string> layers = {
      Tar({DirEntry("/root"), FileEntry("/root/id_ed25519", key),
           FileEntry("/big", std::string(200, 'b')), FileEntry("/keep", "k")}),
      Tar({FileEntry("/root/.wh.id_ed25519", ""), FileEntry("/keep", "k2")}),
      RawTar({LinkEntry("/again", "/keep", LayerEntryType::kHardlink)}),
  };
  std::vector<std::tuple<size_t, std::string, std::string>> seen;
  MemberVisitor visitor{100, [&](const LayerMember& m) {
                          seen.emplace_back(m.layer, std::string(m.path), std::string(m.content));
                        }};
  // Shown whether or not the filter wants the file; hard links are not shown twice; /big is over
  // the visitor's size.
  auto tree = TreeOf(
      layers, [](std::string_view p) { return p == "keep"; }, &visitor);
  ASSERT_TRUE(tree.has_value()) << tree.error().message;
  EXPECT_THAT(seen, ElementsAre(std::make_tuple(0u, "keep", "k"),
                                std::make_tuple(0u, "root/id_ed25519", key),
                                std::make_tuple(1u, "keep", "k2")));
  EXPECT_EQ(tree->nodes.count("root/id_ed25519"), 0u);
  EXPECT_EQ(tree->nodes.at("again").origin, "keep");
  EXPECT_EQ(tree->nodes.at("again").layer, 1u);
}

TEST(ImageTreeTest, ReadsAnImageAndFailsOnATruncatedLayer) {
  TestImage image = MakeTestImage({Tar({DirEntry("/etc"), FileEntry("/etc/passwd", "root\n")})});
  auto store = std::make_shared<MemoryStore>();
  for (const auto& b : image.blobs) store->Add(b.descriptor.media_type, b.bytes);
  store->SetTag("t", image.manifest);
  ImageRef ref;
  ref.path = "memory";
  ref.tag = "t";
  auto source = OpenMemorySource(store, ref);
  auto manifest = ParseManifest(*source->ReadBlob(image.manifest));
  ASSERT_TRUE(manifest.has_value());
  auto tree = ReadImageTree(*source, *manifest, kNone);
  ASSERT_TRUE(tree.has_value()) << tree.error().message;
  EXPECT_EQ(tree->nodes.at("etc/passwd").size, 5u);
  EXPECT_TRUE(tree->files.empty());

  // A layer cut short, its descriptor made to match: the tar itself is what is broken.
  std::string noise(100000, '\0');
  uint32_t x = 1;
  for (char& c : noise) c = static_cast<char>((x = x * 1103515245 + 12345) >> 24);
  std::string layer = *CompressLayer(Tar({FileEntry("/f", noise)}), Compression::kGzip, 1);
  ASSERT_GT(layer.size(), 50000u);
  Blob cut = MakeBlob(std::string(LayerMediaType(Compression::kGzip)), layer.substr(0, 20000));
  Manifest broken = *manifest;
  broken.layers = {cut.descriptor};
  store->Add(cut.descriptor.media_type, cut.bytes);
  auto failed = ReadImageTree(*source, broken, kNone);
  ASSERT_FALSE(failed.has_value());
  EXPECT_THAT(failed, FailsWith(ErrorCode::kSpec));
  EXPECT_THAT(failed.error().message, ::testing::HasSubstr("layer 0: "));
}

}  // namespace
}  // namespace hardbase::oci
