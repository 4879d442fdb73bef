// ReadImageFiles and ReadImageTree: an image's filesystem, layer over layer, as overlay and
// `umoci unpack` make it.
#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>

#include <cerrno>
#include <set>

#include "base/archive.h"
#include "oci/image_source.h"

namespace hardbase::oci {
namespace {

using Node = TreeNode;
using Kind = TreeNode::Type;

// What a member is in the filesystem, from its tar header (not for hard links: see Apply).
Node MemberNode(archive_entry* e, size_t layer, const std::string& path) {
  Node node;
  switch (archive_entry_filetype(e)) {
    case AE_IFREG:
      node.type = Kind::kFile;
      node.size = static_cast<uint64_t>(std::max<la_int64_t>(archive_entry_size(e), 0));
      break;
    case AE_IFDIR:
      node.type = Kind::kDirectory;
      break;
    case AE_IFLNK: {
      node.type = Kind::kSymlink;
      const char* target = archive_entry_symlink(e);
      node.link_target = target ? target : "";
      break;
    }
    case AE_IFCHR:
      node.type = Kind::kCharDevice;
      break;
    case AE_IFBLK:
      node.type = Kind::kBlockDevice;
      break;
    case AE_IFIFO:
      node.type = Kind::kFifo;
      break;
    default:
      node.type = Kind::kOther;
      break;
  }
  node.mode = static_cast<uint32_t>(archive_entry_mode(e)) & 07777;
  node.uid = static_cast<uint32_t>(std::max<la_int64_t>(archive_entry_uid(e), 0));
  node.gid = static_cast<uint32_t>(std::max<la_int64_t>(archive_entry_gid(e), 0));
  node.layer = layer;
  node.origin = path;
  return node;
}

// A member's path normalised: no leading "/" or "./", no trailing "/"; "" for the root;
// nullopt when it has "." or ".." components or empty ones.
std::optional<std::string> Normalise(std::string_view name) {
  for (;;) {
    if (name.starts_with("/")) {
      name.remove_prefix(1);
    } else if (name.starts_with("./")) {
      name.remove_prefix(2);
    } else {
      break;
    }
  }
  while (name.ends_with("/")) name.remove_suffix(1);
  if (name == ".") return "";
  for (size_t start = 0; start < name.size();) {
    size_t end = std::min(name.find('/', start), name.size());
    std::string_view part = name.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return std::nullopt;
    start = end + 1;
  }
  return std::string(name);
}

std::string Parent(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? "" : std::string(path.substr(0, slash));
}

// One layer as a tar stream (tar, tar+gzip or tar+zstd: the filter is detected), read through a
// BlobReader so that what is read is checked against the layer's descriptor.
class LayerTar {
  static constexpr uint64_t kMaxMember = uint64_t{512} << 20;  // one file's content, in memory

 public:
  explicit LayerTar(BlobReader& reader) : reader_(reader), buf_(1 << 16) {}

  // Calls `member(entry, path)` for each member; then reads the blob to its end, so the check
  // against its descriptor covers every byte.
  Result<void> ForEach(
      const std::function<Result<void>(archive_entry*, const std::string&)>& member) {
    ArchiveReader tar(archive_read_new());
    if (!tar) return Fail(ErrorCode::kInternal, "libarchive: out of memory");
    archive_read_support_format_tar(tar.get());
    archive_read_support_filter_gzip(tar.get());
    archive_read_support_filter_zstd(tar.get());
    tar_ = tar.get();
    if (archive_read_open(tar.get(), this, nullptr, &LayerTar::ReadCallback, nullptr) !=
        ARCHIVE_OK) {
      return Fail(Failure("open"));
    }
    for (;;) {
      archive_entry* entry = nullptr;
      int r = archive_read_next_header(tar.get(), &entry);
      // umoci 0.4.7 `insert` ends its layers after the last member's data, without padding or
      // end blocks: like umoci and Go's tar reader, take the end of the stream as the end.
      if (r == ARCHIVE_EOF || (r == ARCHIVE_FATAL && at_end_ && !error_)) break;
      if (r != ARCHIVE_OK && r != ARCHIVE_WARN) return Fail(Failure("read"));
      const char* raw = archive_entry_pathname(entry);
      auto path = Normalise(raw ? raw : "");
      if (!path) {
        return Fail(ErrorCode::kSpec, "unsafe member name '" + std::string(raw ? raw : "") + "'");
      }
      entry_ = entry;
      read_ = false;
      HB_TRY_VOID(member(entry, *path));
      // A member's data is read to its end even when nobody wants it, so that a layer cut short
      // inside a member is an error (libarchive would take it for the tolerated end above).
      if (!read_) HB_TRY_VOID(Data(nullptr));
    }
    for (;;) {
      HB_TRY(size_t n, reader_.Read(buf_.data(), buf_.size()));
      if (n == 0) return {};
    }
  }

  // The data of the current member. It stops at the member's size rather than at libarchive's
  // end of data, which also wants the padding after it (see ForEach).
  Result<std::string> Content() {
    std::string out;
    HB_TRY_VOID(Data(&out));
    return out;
  }

 private:
  // Reads the current member's data into `out` (nullptr: drops it).
  Result<void> Data(std::string* out) {
    read_ = true;
    const void* block = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    if (archive_entry_sparse_count(entry_) > 0) {
      if (!out) return {};  // unwanted: libarchive skips it
      return Fail(ErrorCode::kSpec, "sparse files are not supported");
    }
    auto total = static_cast<uint64_t>(std::max<la_int64_t>(archive_entry_size(entry_), 0));
    if (out && total > kMaxMember) {
      return Fail(ErrorCode::kSpec,
                  fmt::format("a {} byte file is more than this reader takes", total));
    }
    uint64_t done = 0;
    while (done < total) {
      int r = archive_read_data_block(tar_, &block, &size, &offset);
      if (r == ARCHIVE_EOF) break;
      if (r != ARCHIVE_OK && r != ARCHIVE_WARN) return Fail(Failure("read data"));
      if (offset < 0 || static_cast<uint64_t>(offset) != done) {
        return Fail(ErrorCode::kSpec, "member data out of order");
      }
      if (out) out->append(static_cast<const char*>(block), size);
      done += size;
    }
    if (done != total) return Fail(ErrorCode::kSpec, "member data ends before its size");
    return {};
  }

  static la_ssize_t ReadCallback(archive* a, void* self_ptr, const void** out) {
    auto* self = static_cast<LayerTar*>(self_ptr);
    auto n = self->reader_.Read(self->buf_.data(), self->buf_.size());
    if (!n) {
      self->error_ = n.error();
      archive_set_error(a, EIO, "%s", n.error().message.c_str());
      return -1;
    }
    self->at_end_ = *n == 0;
    *out = self->buf_.data();
    return static_cast<la_ssize_t>(*n);
  }

  // The error of a failed libarchive call: the reader's own (e.g. kIntegrity) when it caused it.
  Error Failure(std::string_view what) {
    if (error_) return *error_;
    return Error{ErrorCode::kSpec, std::string(what) + ": " + ArchiveWhy(tar_, "not a tar")};
  }

  BlobReader& reader_;
  std::vector<char> buf_;
  archive* tar_ = nullptr;
  archive_entry* entry_ = nullptr;  // the current member
  bool read_ = false;               // its data was read
  bool at_end_ = false;             // the reader has given all its bytes
  std::optional<Error> error_;
};

// The filesystem as the layers are applied.
class Filesystem {
 public:
  Filesystem(const PathFilter& want, const MemberVisitor* members)
      : want_(want), members_(members) {}

  // Applies layer `index`: whiteouts and opaque markers act on the lower layers only, whatever
  // their place in the tar, so they are applied before the layer's own entries.
  Result<void> Apply(size_t index, BlobReader& reader) {
    LayerTar tar(reader);
    std::vector<std::string> deleted, opaque;
    std::vector<std::pair<std::string, Node>> added;
    std::map<std::string, Node> local;            // the layer's entries, latest per path
    std::map<std::string, std::string> contents;  // the layer's wanted files
    HB_TRY_VOID(tar.ForEach([&](archive_entry* e, const std::string& path) -> Result<void> {
      if (path.empty()) return {};
      std::string_view base = std::string_view(path).substr(path.rfind('/') + 1);
      if (base == ".wh..wh..opq") {
        opaque.push_back(Parent(path));
        return {};
      }
      if (base.starts_with(".wh..wh.")) return {};  // aufs bookkeeping
      if (base.starts_with(".wh.")) {
        std::string dir = Parent(path);
        deleted.push_back((dir.empty() ? "" : dir + "/") + std::string(base.substr(4)));
        return {};
      }
      Node node;
      if (const char* link = archive_entry_hardlink(e)) {
        auto target = Normalise(link);
        const Node* to = nullptr;
        if (target) {
          auto it = local.find(*target);
          if (it != local.end()) {
            to = &it->second;
          } else if (auto lower = tree_.find(*target); lower != tree_.end()) {
            to = &lower->second;
          }
        }
        if (!to || to->type != Kind::kFile) {
          return Fail(ErrorCode::kSpec, "hard link '" + path + "' to '" + link +
                                            "', which is not a regular file before it");
        }
        node = *to;  // the same inode: the target's bytes and metadata
        if (want_(path)) {
          auto in_layer = local.count(*target) ? contents.find(*target) : contents.end();
          auto lower = files_.find(*target);
          if (in_layer != contents.end()) {
            HB_TRY_VOID(Keep(in_layer->second.size()));
            contents[path] = in_layer->second;
          } else if (!local.count(*target) && lower != files_.end()) {
            HB_TRY_VOID(Keep(lower->second.size()));
            contents[path] = lower->second;
          } else {
            contents.erase(path);
            unresolved_.insert(path);
          }
        }
      } else if (archive_entry_filetype(e) == AE_IFREG) {
        node = MemberNode(e, index, path);
        bool show = members_ && members_->visit && node.size <= members_->max_size;
        if (want_(path)) {
          HB_TRY(contents[path], tar.Content());
          HB_TRY_VOID(Keep(contents[path].size()));
          if (show) members_->visit(LayerMember{index, path, contents[path]});
        } else {
          contents.erase(path);
          if (show) {
            HB_TRY(std::string content, tar.Content());
            members_->visit(LayerMember{index, path, content});
          }
        }
      } else {
        node = MemberNode(e, index, path);
        contents.erase(path);
      }
      local[path] = node;
      added.emplace_back(path, std::move(node));
      return {};
    }));

    for (const auto& dir : opaque) Erase(dir, /*self=*/false);
    for (const auto& path : deleted) Erase(path, /*self=*/true);
    for (auto& [path, node] : added) {
      auto it = tree_.find(path);
      if (it != tree_.end() && it->second.type == Kind::kDirectory &&
          node.type != Kind::kDirectory) {
        Erase(path, /*self=*/false);
      }
      tree_[path] = std::move(node);
      auto content = contents.find(path);
      if (content != contents.end()) {
        files_[path] = content->second;
      } else {
        files_.erase(path);
      }
    }
    return {};
  }

  // Wanted files whose content is in a member the filter did not select (hard links to
  // unwanted files): member path by layer.
  std::map<size_t, std::set<std::string>> Missing() const {
    std::map<size_t, std::set<std::string>> missing;
    for (const auto& path : unresolved_) {
      if (const Node* node = MissingNode(path)) missing[node->layer].insert(node->origin);
    }
    return missing;
  }

  // Fills the content of Missing() files from `fetched`, by (layer, member path); the tree.
  Result<ImageTree> Finish(const std::map<std::pair<size_t, std::string>, std::string>& fetched) {
    for (const auto& path : unresolved_) {
      const Node* node = MissingNode(path);
      if (!node) continue;
      auto it = fetched.find({node->layer, node->origin});
      if (it == fetched.end()) {
        return Fail(ErrorCode::kSpec, "hard link '" + path + "': target '" + node->origin +
                                          "' not found in layer " + std::to_string(node->layer));
      }
      files_[path] = it->second;
    }
    return ImageTree{std::move(tree_), std::move(files_)};
  }

 private:
  // Removes `path`'s subtree, and `path` itself when `self`.
  void Erase(const std::string& path, bool self) {
    if (self) {
      tree_.erase(path);
      files_.erase(path);
    }
    std::string prefix = path.empty() ? "" : path + "/";
    for (auto it = tree_.lower_bound(prefix); it != tree_.end() && it->first.starts_with(prefix);) {
      files_.erase(it->first);
      it = tree_.erase(it);
    }
  }

  const Node* MissingNode(const std::string& path) const {
    auto it = tree_.find(path);
    if (it == tree_.end() || it->second.type != Kind::kFile || files_.count(path)) {
      return nullptr;
    }
    return &it->second;
  }

  const PathFilter& want_;
  const MemberVisitor* members_;
  std::map<std::string, Node> tree_;  // every path of the filesystem
  // Bytes of wanted content read so far: an image is untrusted input, and a small compressed
  // layer can expand to any size (or hard-link one big file many times).
  Result<void> Keep(uint64_t bytes) {
    kept_ += bytes;
    if (kept_ <= kMaxKept) return {};
    return Fail(ErrorCode::kSpec, fmt::format("the files asked for exceed {} MiB", kMaxKept >> 20));
  }
  static constexpr uint64_t kMaxKept = uint64_t{1} << 30;
  uint64_t kept_ = 0;
  std::map<std::string, std::string> files_;  // wanted regular files with their content
  std::set<std::string> unresolved_;          // wanted hard links whose content was not at hand
};

}  // namespace

Result<ImageTree> ReadLayerTree(size_t count, const LayerOpener& open_layer, const PathFilter& want,
                                const MemberVisitor* members) {
  Filesystem fs(want, members);
  auto layer_context = [](size_t i) { return "layer " + std::to_string(i); };
  for (size_t i = 0; i < count; ++i) {
    HB_TRY(auto reader, open_layer(i));
    HB_TRY_VOID(WithContext(fs.Apply(i, *reader), layer_context(i)));
  }
  std::map<std::pair<size_t, std::string>, std::string> fetched;
  for (const auto& missing : fs.Missing()) {
    size_t layer = missing.first;
    const std::set<std::string>& members = missing.second;  // (clang: no captured bindings)
    HB_TRY(auto reader, open_layer(layer));
    LayerTar tar(*reader);
    auto read = tar.ForEach([&](archive_entry* e, const std::string& path) -> Result<void> {
      if (members.count(path) && !archive_entry_hardlink(e) &&
          archive_entry_filetype(e) == AE_IFREG) {
        HB_TRY(fetched[std::make_pair(layer, path)], tar.Content());
      }
      return {};
    });
    HB_TRY_VOID(WithContext(std::move(read), layer_context(layer)));
  }
  return fs.Finish(fetched);
}

Result<std::map<std::string, std::string>> ReadLayerFiles(size_t count,
                                                          const LayerOpener& open_layer,
                                                          const PathFilter& want) {
  HB_TRY(ImageTree tree, ReadLayerTree(count, open_layer, want));
  return std::move(tree.files);
}

Result<ImageTree> ReadImageTree(ImageSource& source, const Manifest& manifest,
                                const PathFilter& want, const MemberVisitor* members) {
  for (const auto& layer : manifest.layers) {
    if (!IsLayerMediaType(layer.media_type)) {
      return Fail(ErrorCode::kSpec, "layer " + layer.digest + ": media type '" + layer.media_type +
                                        "' is not a filesystem layer");
    }
  }
  return ReadLayerTree(
      manifest.layers.size(),
      [&](size_t i) -> Result<std::unique_ptr<BlobReader>> {
        return WithContext(source.OpenBlob(manifest.layers[i]),
                           "layer " + manifest.layers[i].digest);
      },
      want, members);
}

Result<std::map<std::string, std::string>> ReadImageFiles(ImageSource& source,
                                                          const Manifest& manifest,
                                                          const PathFilter& want) {
  HB_TRY(ImageTree tree, ReadImageTree(source, manifest, want));
  return std::move(tree.files);
}

}  // namespace hardbase::oci
