// Fuzzes reading layer tars (tar, tar+gzip, tar+zstd) as ReadImageFiles and ReadImageTree do: the
// input is used as two stacked layers, so whiteouts and hard links act across layers too; the tree
// is read with a member visitor, as `audit` reads it. Every file whose content was asked for is a
// regular file of the tree, of that size.
#include <cstddef>
#include <cstdint>
#include <string>

#include "oci/image_source.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  auto open = [&](size_t) -> hardbase::Result<std::unique_ptr<hardbase::oci::BlobReader>> {
    return hardbase::oci::BlobReader::Bytes(bytes, "fuzz", std::nullopt);
  };
  auto even = [](std::string_view path) { return path.size() % 2 == 0; };
  (void)hardbase::oci::ReadLayerFiles(2, open, even);
  hardbase::oci::MemberVisitor visitor{64, [](const hardbase::oci::LayerMember& m) {
                                         if (m.content.size() > 64 || m.layer > 1) __builtin_trap();
                                       }};
  auto tree = hardbase::oci::ReadLayerTree(2, open, even, &visitor);
  if (tree) {
    for (const auto& [path, content] : tree->files) {
      auto node = tree->nodes.find(path);
      if (node == tree->nodes.end() || node->second.type != hardbase::oci::TreeNode::Type::kFile ||
          node->second.size != content.size()) {
        __builtin_trap();
      }
    }
  }
  return 0;
}
