// Reading images back, whoever wrote them (hardbase, umoci, skopeo, `docker save`): where an
// image's blobs come from, which images a tag or digest names, and the files of an image's
// filesystem, for `hardbase sbom`, `sign`, `verify`, `scan` and `audit`.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "base/sha256.h"
#include "oci/image.h"
#include "oci/image_ref.h"
#include "oci/manifest.h"

namespace hardbase::oci {

// A blob's bytes read in pieces, so big layers never sit in memory. When made with a descriptor,
// reading is checked against it: more bytes than its size fail at once, and the read that reaches
// the end fails unless size and sha256 match (kIntegrity naming the digest).
class BlobReader {
 public:
  // The regular file at `path` (kNotFound naming `name` when it does not exist; kIo when it is a
  // FIFO, a device or anything else that is not a regular file; kIntegrity when its size is not
  // the descriptor's).
  static Result<std::unique_ptr<BlobReader>> File(const std::string& path, std::string name,
                                                  std::optional<Descriptor> expect);
  // `size` bytes of the open file `fd` from `offset` (a member of an archive read in place);
  // `fd` is duplicated, the caller keeps its own.
  static Result<std::unique_ptr<BlobReader>> Range(int fd, uint64_t offset, uint64_t size,
                                                   std::string name,
                                                   std::optional<Descriptor> expect);
  static std::unique_ptr<BlobReader> Bytes(std::string bytes, std::string name,
                                           std::optional<Descriptor> expect);
  ~BlobReader();
  BlobReader(const BlobReader&) = delete;
  BlobReader& operator=(const BlobReader&) = delete;

  // Up to `size` bytes into `buf`; 0 at the end (and on every call after it).
  Result<size_t> Read(char* buf, size_t size);
  Result<std::string> ReadAll();
  // What errors call it: the digest, or the path for an unchecked file.
  const std::string& name() const { return name_; }

 private:
  BlobReader(int fd, std::string bytes, std::string name, std::optional<Descriptor> expect);
  Result<void> Check(size_t more);

  int fd_;
  std::string bytes_;
  size_t offset_ = 0;
  // For Range readers: the next offset in `fd_` and the end of the range (pread, not read).
  std::optional<uint64_t> at_;
  uint64_t end_ = 0;
  std::string name_;
  std::optional<Descriptor> expect_;
  Sha256 hash_;
  uint64_t done_ = 0;
  bool finished_ = false;  // the end was reached and checked
};

// The most bytes an index.json, an oci-layout or a docker-archive manifest.json may have: these
// are read whole into memory before anything is known about them.
inline constexpr uint64_t kMaxLayoutDocument = uint64_t{8} << 20;

// Where an image's blobs come from: a layout directory, an archive, later a registry.
class ImageSource {
 public:
  virtual ~ImageSource() = default;
  const ImageRef& ref() const { return ref_; }

  // The descriptor a tag or digest names: for a layout, the index.json entry with that ref.name,
  // or the entry / blob with that digest. kNotFound naming the ref when absent.
  virtual Result<Descriptor> Resolve(std::string_view tag_or_digest) = 0;
  // The top-level descriptors this source lists (a layout's index.json entries).
  virtual Result<std::vector<Descriptor>> Entries() = 0;
  // The image a tag names: the one manifest or index entry with that ref.name, looked up as
  // containers/image (skopeo, podman) does, so that what is verified is what they run. kNotFound
  // when absent; kIntegrity when the tag names several different images.
  virtual Result<Descriptor> ResolveTag(std::string_view tag);
  // The descriptor the ImageRef names: its digest, its tag, or when it names neither the only
  // image among Entries() (referrers -- with a subject or an artifactType -- and cosign tags
  // "sha256-<hex>[.sig|.att|.sbom]" do not count), else "latest", else kUsage listing the tags.
  Result<Descriptor> Root();

  // The blob's bytes, checked against the descriptor's size and sha256 (kIntegrity naming the
  // digest on a mismatch; kNotFound when missing).
  virtual Result<std::unique_ptr<BlobReader>> OpenBlob(const Descriptor& blob) = 0;
  Result<std::string> ReadBlob(const Descriptor& blob);
  // The local file holding the blob, when there is one to copy from as it is (a layout's
  // blobs/sha256/<hex>); nullopt otherwise (a registry, a made-up manifest). Not checked here.
  virtual std::optional<std::string> BlobFile(const Descriptor& blob);

  // Manifests in this source whose `subject` is `subject_digest` (OCI 1.1 referrers), as
  // descriptors carrying the manifest's artifactType (its config's mediaType when it has none)
  // and annotations. For a layout: the index.json entries.
  virtual Result<std::vector<Descriptor>> Referrers(std::string_view subject_digest) = 0;

 protected:
  explicit ImageSource(ImageRef ref) : ref_(std::move(ref)) {}

 private:
  ImageRef ref_;
};

// Opens a layout directory (oci-layout checked; its files must be regular files: a FIFO or a
// device is refused, not read); an oci-archive (read in place: the tar is indexed once, member name
// -> offset and size, and members are read from the file on demand, so nothing is unpacked; a
// compressed archive is first decompressed into a private temporary file of bounded size; members
// that are absolute, hold "..", are hard links, devices, sparse, or appear twice are refused, as
// readers disagree about which of two same-named members counts); a docker-archive (the
// OCI layout Docker 25+ and hardbase write into it, else the legacy manifest.json form, for which
// an OCI manifest is made up: see image_source.cc). Registries are opened by the registry module
// (registry::OpenRegistryImage); here they are kUsage.
Result<std::unique_ptr<ImageSource>> OpenImage(const ImageRef& ref);

struct PlatformImage {
  Descriptor descriptor;
  Manifest manifest;
  ImageConfig config;
};

// The images a root descriptor stands for: itself (a manifest) or each platform manifest of an
// index (nested indexes followed; attestation and referrer manifests -- platform unknown/unknown,
// an artifactType, a subject -- skipped).
Result<std::vector<PlatformImage>> ResolvePlatforms(ImageSource& source, const Descriptor& root);

// Whether `wanted` names `platform`: its architecture ("amd64", "arm") or architecture/variant
// ("arm64/v8", "arm/v7"), either optionally after "linux/".
bool PlatformMatches(std::string_view wanted, const Platform& platform);

// The platform images `wanted` names (PlatformMatches: "arm" keeps arm/v5 and arm/v7), all of
// them when `wanted` is empty. kNotFound "no <wanted> image" when none matches.
Result<std::vector<PlatformImage>> MatchingPlatforms(std::vector<PlatformImage> platforms,
                                                     std::string_view wanted);

// The platform image `wanted` names ("amd64", "linux/arm64", "arm/v7"); empty: the only one, else
// the host's. kNotFound listing the platforms the image has.
Result<PlatformImage> SelectPlatform(ImageSource& source, const Descriptor& root,
                                     const std::string& wanted);

using PathFilter = std::function<bool(std::string_view path)>;

// The regular files of an image's filesystem whose path `want` selects, with their contents, after
// applying the layers bottom-up: later layers replace, whiteouts ".wh.<name>" delete (also whole
// subtrees), ".wh..wh..opq" clears a directory of lower layers' entries; hard links get their
// target's content; symlinks are not followed. Paths are normalised ("var/lib/dpkg/status").
// Layers are tar, tar+gzip or tar+zstd, streamed and checked against their descriptors.
Result<std::map<std::string, std::string>> ReadImageFiles(ImageSource& source,
                                                          const Manifest& manifest,
                                                          const PathFilter& want);

// The same over layers opened by `open_layer(i)`, i = 0 (bottom) .. count-1; a layer may be
// opened twice (to fetch the target of a hard link the filter did not select). The core of
// ReadImageFiles, apart so it can be fuzzed on bytes.
using LayerOpener = std::function<Result<std::unique_ptr<BlobReader>>(size_t layer)>;
Result<std::map<std::string, std::string>> ReadLayerFiles(size_t count,
                                                          const LayerOpener& open_layer,
                                                          const PathFilter& want);

// One path of an image's filesystem as the layers left it: its tar header's metadata.
struct TreeNode {
  enum class Type { kFile, kDirectory, kSymlink, kCharDevice, kBlockDevice, kFifo, kOther };
  Type type = Type::kOther;
  uint32_t mode = 0;  // permission bits with setuid, setgid and sticky (07777)
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t size = 0;        // of a regular file
  std::string link_target;  // of a symlink, as written
  // Where a regular file's bytes are: member `origin` of layer `layer` (the file itself, or for
  // a hard link its target). For other types: the member that made the node.
  size_t layer = 0;
  std::string origin;
  bool operator==(const TreeNode&) const = default;
};

// An image's whole filesystem: every path (normalised as ReadImageFiles names them; the root
// itself is not listed) with its metadata, and the contents of the regular files a filter asked
// for. A hard link is a regular file node with its target's bytes and metadata (it is the same
// inode).
struct ImageTree {
  std::map<std::string, TreeNode> nodes;
  std::map<std::string, std::string> files;
};

// A regular file as one layer holds it, whatever later layers do to it (a file deleted or
// replaced further up is still in this layer's blob, for anyone who pulls the image).
struct LayerMember {
  size_t layer = 0;
  std::string_view path;     // normalised
  std::string_view content;  // complete
};

// What ReadImageTree shows each layer's regular file members of at most `max_size` bytes (hard
// links, which repeat a member's bytes, are not shown again). Called in layer order, one member
// at a time; the content is only valid during the call.
struct MemberVisitor {
  uint64_t max_size = 0;
  std::function<void(const LayerMember&)> visit;
};

// The tree of the image, applying the layers as ReadImageFiles does (it is the same reader), with
// the contents of the files `want` selects; `members`, when given, sees every small regular file
// of every layer on the way. Bounded like ReadImageFiles.
Result<ImageTree> ReadImageTree(ImageSource& source, const Manifest& manifest,
                                const PathFilter& want, const MemberVisitor* members = nullptr);
// The same over layers opened by `open_layer` (see ReadLayerFiles).
Result<ImageTree> ReadLayerTree(size_t count, const LayerOpener& open_layer, const PathFilter& want,
                                const MemberVisitor* members = nullptr);

}  // namespace hardbase::oci
