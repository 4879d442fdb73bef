#include "oci/image_source.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "base/archive.h"
#include "base/fs.h"
#include "base/fs_safe.h"
#include "base/json_limits.h"
#include "base/log.h"
#include "oci/cosign_layout.h"

namespace hardbase::oci {

// ---- BlobReader

BlobReader::BlobReader(int fd, std::string bytes, std::string name,
                       std::optional<Descriptor> expect)
    : fd_(fd), bytes_(std::move(bytes)), name_(std::move(name)), expect_(std::move(expect)) {}

BlobReader::~BlobReader() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::unique_ptr<BlobReader>> BlobReader::File(const std::string& path, std::string name,
                                                     std::optional<Descriptor> expect) {
  auto file = OpenRegularFile(path);
  if (!file) {
    if (!PathExists(path)) {
      return Fail(ErrorCode::kNotFound, "blob " + name + ": missing (" + path + ")");
    }
    return Fail(std::move(file.error()).Wrap("blob " + name));
  }
  if (expect && file->size != static_cast<uint64_t>(expect->size)) {
    return Fail(ErrorCode::kIntegrity, "blob " + expect->digest + ": size " +
                                           std::to_string(file->size) + ", expected " +
                                           std::to_string(expect->size));
  }
  return std::unique_ptr<BlobReader>(
      new BlobReader(file->fd.Release(), "", std::move(name), std::move(expect)));
}

Result<std::unique_ptr<BlobReader>> BlobReader::Range(int fd, uint64_t offset, uint64_t size,
                                                      std::string name,
                                                      std::optional<Descriptor> expect) {
  if (expect && size != static_cast<uint64_t>(expect->size)) {
    return Fail(ErrorCode::kIntegrity, "blob " + expect->digest + ": size " + std::to_string(size) +
                                           ", expected " + std::to_string(expect->size));
  }
  int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (own < 0) return Fail(ErrorCode::kIo, "dup " + name + ": " + std::strerror(errno));
  std::unique_ptr<BlobReader> reader(new BlobReader(own, "", std::move(name), std::move(expect)));
  reader->at_ = offset;
  reader->end_ = offset + size;
  return reader;
}

std::unique_ptr<BlobReader> BlobReader::Bytes(std::string bytes, std::string name,
                                              std::optional<Descriptor> expect) {
  return std::unique_ptr<BlobReader>(
      new BlobReader(-1, std::move(bytes), std::move(name), std::move(expect)));
}

Result<void> BlobReader::Check(size_t more) {
  done_ += more;
  if (!expect_) return {};
  auto mismatch = [&](const std::string& what) {
    return Fail(ErrorCode::kIntegrity, "blob " + expect_->digest + ": " + what);
  };
  if (done_ > static_cast<uint64_t>(expect_->size)) {
    return mismatch("more than the " + std::to_string(expect_->size) +
                    " bytes its descriptor says");
  }
  if (more > 0) return {};
  if (done_ != static_cast<uint64_t>(expect_->size)) {
    return mismatch("size " + std::to_string(done_) + ", expected " +
                    std::to_string(expect_->size));
  }
  if ("sha256:" + hash_.HexDigest() != expect_->digest) return mismatch("sha256 mismatch");
  return {};
}

Result<size_t> BlobReader::Read(char* buf, size_t size) {
  if (finished_ || size == 0) return 0;
  size_t n = 0;
  if (fd_ < 0) {
    n = std::min(size, bytes_.size() - offset_);
    std::memcpy(buf, bytes_.data() + offset_, n);
    offset_ += n;
  } else if (at_) {
    size = static_cast<size_t>(std::min<uint64_t>(size, end_ - *at_));
    ssize_t r = 0;
    if (size > 0) {
      do r = ::pread(fd_, buf, size, static_cast<off_t>(*at_));
      while (r < 0 && errno == EINTR);
    }
    if (r < 0) return Fail(ErrorCode::kIo, "read blob " + name_ + ": " + std::strerror(errno));
    if (r == 0 && size > 0) {
      return Fail(ErrorCode::kIo, "read blob " + name_ + ": the archive ends inside it");
    }
    *at_ += static_cast<uint64_t>(r);
    n = static_cast<size_t>(r);
  } else {
    ssize_t r;
    do r = ::read(fd_, buf, size);
    while (r < 0 && errno == EINTR);
    if (r < 0) return Fail(ErrorCode::kIo, "read blob " + name_ + ": " + std::strerror(errno));
    n = static_cast<size_t>(r);
  }
  hash_.Update(std::string_view(buf, n));
  finished_ = n == 0;
  HB_TRY_VOID(Check(n));
  return n;
}

Result<std::string> BlobReader::ReadAll() {
  std::string out;
  for (;;) {
    size_t at = out.size();
    out.resize(at + (1 << 16));
    HB_TRY(size_t n, Read(out.data() + at, 1 << 16));
    out.resize(at + n);
    if (n == 0) return out;
  }
}

// ---- ImageSource

Result<std::string> ImageSource::ReadBlob(const Descriptor& blob) {
  // Documents (manifests, configs, signatures, SBOMs) are read whole; layers are streamed.
  constexpr int64_t kMaxDocument = int64_t{64} << 20;
  if (blob.size > kMaxDocument) {
    return Fail(ErrorCode::kSpec, fmt::format("blob {} has {} bytes: more than a document "
                                              "read into memory may have",
                                              blob.digest, blob.size));
  }
  HB_TRY(auto reader, OpenBlob(blob));
  return reader->ReadAll();
}

std::optional<std::string> ImageSource::BlobFile(const Descriptor&) { return std::nullopt; }

Result<Descriptor> ImageSource::ResolveTag(std::string_view tag) {
  HB_TRY(std::vector<Descriptor> entries, Entries());
  std::optional<Descriptor> found;
  for (const auto& entry : entries) {
    if (RefName(entry) != tag) continue;
    if (!IsManifestMediaType(entry.media_type) && !IsIndexMediaType(entry.media_type)) continue;
    if (found && found->digest != entry.digest) {
      return Fail(ErrorCode::kIntegrity,
                  fmt::format("{}: tag '{}' names several images ({} and "
                              "{})",
                              ref_.ToString(), tag, found->digest, entry.digest));
    }
    found = entry;
  }
  if (!found) {
    return Fail(ErrorCode::kNotFound,
                fmt::format("{}: no image tagged '{}'", ref_.ToString(), tag));
  }
  return *found;
}

Result<Descriptor> ImageSource::Root() {
  std::string where = ref_.ToString();
  if (!ref_.digest.empty()) {
    HB_TRY(Descriptor d, Resolve(ref_.digest));
    if (!ref_.tag.empty()) {
      HB_TRY(Descriptor tagged, ResolveTag(ref_.tag));
      if (tagged.digest != d.digest) {
        return Fail(ErrorCode::kIntegrity, where + ": tag '" + ref_.tag + "' names " +
                                               tagged.digest + ", not " + ref_.digest);
      }
    }
    return d;
  }
  if (!ref_.tag.empty()) return ResolveTag(ref_.tag);

  HB_TRY(std::vector<Descriptor> entries, Entries());
  for (const auto& entry : entries) {
    if (RefName(entry) == "latest") return ResolveTag("latest");
  }
  std::vector<Descriptor> images;
  for (const auto& entry : entries) {
    if (!entry.artifact_type.empty() || IsCosignEntry(entry)) continue;
    if (IsManifestMediaType(entry.media_type)) {
      // A referrer listed without its artifactType; one that cannot be read counts, to fail later.
      auto bytes = ReadBlob(entry);
      auto manifest = bytes ? ParseManifest(*bytes) : Fail(bytes.error());
      if (manifest && (manifest->subject || !manifest->artifact_type.empty())) continue;
    }
    images.push_back(entry);
  }
  std::set<std::string> digests;
  std::string tags;
  for (const auto& image : images) {
    std::string tag = RefName(image);
    if (!tag.empty()) tags += (tags.empty() ? "" : ", ") + tag;
    digests.insert(image.digest);
  }
  if (digests.size() == 1) return images[0];
  if (images.empty()) return Fail(ErrorCode::kNotFound, where + " holds no image");
  return Fail(ErrorCode::kUsage, where + " holds " + std::to_string(digests.size()) +
                                     " images; name one as " + where +
                                     ":TAG (tags: " + (tags.empty() ? "none" : tags) + ")");
}

// ---- Local sources: layouts and archives

namespace {

// A member or manifest.json path that stays inside the archive: relative, no "..", normalised.
std::optional<std::string> SafeRelativePath(std::string_view name) {
  while (name.starts_with("./")) name.remove_prefix(2);
  while (name.ends_with("/")) name.remove_suffix(1);
  if (name.empty() || name.starts_with("/")) return std::nullopt;
  for (size_t start = 0; start <= name.size();) {
    size_t end = std::min(name.find('/', start), name.size());
    std::string_view part = name.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return std::nullopt;
    start = end + 1;
  }
  return std::string(name);
}

// Where the symlink member `link` points, inside the archive: nullopt when outside or absolute.
std::optional<std::string> LinkTarget(const std::string& link, std::string_view target) {
  if (target.starts_with("/")) return std::nullopt;
  std::vector<std::string> parts;
  std::string joined = link.substr(0, link.rfind('/') + 1) + std::string(target);
  for (size_t start = 0; start <= joined.size();) {
    size_t end = std::min(joined.find('/', start), joined.size());
    std::string part = joined.substr(start, end - start);
    start = end + 1;
    if (part.empty() || part == ".") continue;
    if (part != "..") {
      parts.push_back(part);
    } else if (parts.empty()) {
      return std::nullopt;
    } else {
      parts.pop_back();
    }
  }
  std::string out;
  for (const auto& part : parts) out += (out.empty() ? "" : "/") + part;
  return SafeRelativePath(out);
}

// A member of an archive read in place: where its bytes are in the (uncompressed) tar file.
struct MemberRange {
  uint64_t offset = 0;
  uint64_t size = 0;
};

// The compressions an image archive may come in, decoded in-process: libarchive's other filters
// (lrzip, lzop, grzip, ...) may run an external program on the archive's bytes.
void SupportArchiveFilters(archive* in) {
  archive_read_support_filter_gzip(in);
  archive_read_support_filter_bzip2(in);
  archive_read_support_filter_xz(in);
  archive_read_support_filter_zstd(in);
}

// What an archive failure says where libarchive says nothing (a header of zeros but for a PAX
// name).
constexpr std::string_view kNotATar = "not a readable tar archive";

// The most an archive's compressed form may grow to when decompressed: a decompression bomb (a few
// MB of compressed zeros) must not fill TMPDIR.
uint64_t MaxDecompressed(uint64_t compressed) {
  constexpr uint64_t kFloor = uint64_t{256} << 20;
  constexpr uint64_t kRatio = 32;
  return std::max(kFloor, compressed * kRatio);
}

// A tar archive read in place: its members indexed once (name -> offset and size in the file),
// then read on demand with pread, so that nothing is unpacked. Regular files and directories
// only, each name once; symlinks, which `docker save` and skopeo's docker-archive use for
// "<id>/layer.tar", are recorded as links (member -> target inside the archive) and followed by
// name. A compressed archive is decompressed first, into a private temporary file of bounded size.
class ArchiveIndex {
 public:
  static Result<std::shared_ptr<ArchiveIndex>> Open(const std::string& file) {
    auto index = std::shared_ptr<ArchiveIndex>(new ArchiveIndex());
    auto opened = OpenRegularFile(file);
    if (!opened) {
      return Fail(PathExists(file) ? opened.error().code : ErrorCode::kNotFound,
                  opened.error().message);
    }
    index->fd_ = std::move(opened->fd);
    HB_TRY(bool compressed, index->IsCompressed(file));
    if (compressed) HB_TRY_VOID(index->Decompress(file, opened->size));
    HB_TRY_VOID(index->Index(file));
    return index;
  }

  bool Has(const std::string& name) const { return files_.count(Follow(name)) > 0; }

  // The member `name` (links followed) as a blob reader; kNotFound naming `display` if absent.
  Result<std::unique_ptr<BlobReader>> Open(const std::string& name, std::string display,
                                           std::optional<Descriptor> expect) const {
    auto it = files_.find(Follow(name));
    if (it == files_.end()) {
      return Fail(ErrorCode::kNotFound, "blob " + display + ": missing (no member " + name + ")");
    }
    return BlobReader::Range(fd_.get(), it->second.offset, it->second.size, std::move(display),
                             std::move(expect));
  }

  // The member `name` whole, when it has at most `max_bytes`.
  Result<std::string> Read(const std::string& name, uint64_t max_bytes) const {
    auto it = files_.find(Follow(name));
    if (it == files_.end()) return Fail(ErrorCode::kNotFound, name + ": no such member");
    if (it->second.size > max_bytes) {
      return Fail(ErrorCode::kSpec, name + ": more than " + std::to_string(max_bytes) + " bytes");
    }
    HB_TRY(auto reader, Open(name, name, std::nullopt));
    return reader->ReadAll();
  }

 private:
  ArchiveIndex() = default;

  std::string Follow(std::string name) const {
    for (int hops = 0; hops < 8; ++hops) {
      auto it = links_.find(name);
      if (it == links_.end()) break;
      name = it->second;
    }
    return name;
  }

  // Whether libarchive finds a compression filter (gzip, zstd, xz, ...) over the tar.
  Result<bool> IsCompressed(const std::string& file) {
    ArchiveReader in(archive_read_new());
    if (!in) return Fail(ErrorCode::kInternal, "libarchive: out of memory");
    SupportArchiveFilters(in.get());
    archive_read_support_format_raw(in.get());
    archive_read_support_format_empty(in.get());
    if (archive_read_open_fd(in.get(), fd_.get(), 1 << 16) != ARCHIVE_OK) {
      return Fail(ErrorCode::kSpec, file + ": " + ArchiveWhy(in.get(), kNotATar));
    }
    archive_entry* entry = nullptr;
    int r = archive_read_next_header(in.get(), &entry);
    if (r != ARCHIVE_OK && r != ARCHIVE_EOF) {
      return Fail(ErrorCode::kSpec, file + ": " + ArchiveWhy(in.get(), kNotATar));
    }
    return archive_filter_code(in.get(), 0) != ARCHIVE_FILTER_NONE;
  }

  Result<void> Decompress(const std::string& file, uint64_t compressed) {
    HB_TRY(tmp_, TempDir::Create("hardbase-image-"));
    std::string out_path = tmp_->path() + "/archive.tar";
    UniqueFd out(::open(out_path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (out.get() < 0)
      return Fail(ErrorCode::kIo, "create " + out_path + ": " + std::strerror(errno));
    ArchiveReader in(archive_read_new());
    if (!in) return Fail(ErrorCode::kInternal, "libarchive: out of memory");
    SupportArchiveFilters(in.get());
    archive_read_support_format_raw(in.get());
    if (::lseek(fd_.get(), 0, SEEK_SET) != 0 ||
        archive_read_open_fd(in.get(), fd_.get(), 1 << 16) != ARCHIVE_OK) {
      return Fail(ErrorCode::kSpec, file + ": cannot be decompressed");
    }
    archive_entry* entry = nullptr;
    if (archive_read_next_header(in.get(), &entry) != ARCHIVE_OK) {
      return Fail(ErrorCode::kSpec, file + ": " + ArchiveWhy(in.get(), kNotATar));
    }
    uint64_t limit = MaxDecompressed(compressed), written = 0;
    std::vector<char> buf(1 << 16);
    for (;;) {
      la_ssize_t n = archive_read_data(in.get(), buf.data(), buf.size());
      if (n < 0) return Fail(ErrorCode::kSpec, file + ": " + ArchiveWhy(in.get(), kNotATar));
      if (n == 0) break;
      written += static_cast<uint64_t>(n);
      if (written > limit) {
        return Fail(ErrorCode::kSpec,
                    file + ": decompresses to more than " + std::to_string(limit) + " bytes");
      }
      for (size_t off = 0; off < static_cast<size_t>(n);) {
        ssize_t w = ::write(out.get(), buf.data() + off, static_cast<size_t>(n) - off);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return Fail(ErrorCode::kIo, "write " + out_path + ": " + std::strerror(errno));
        off += static_cast<size_t>(w);
      }
    }
    fd_ = std::move(out);
    return {};
  }

  Result<void> Index(const std::string& file) {
    struct stat st {};
    if (::fstat(fd_.get(), &st) != 0 || ::lseek(fd_.get(), 0, SEEK_SET) != 0) {
      return Fail(ErrorCode::kIo, "read " + file + ": " + std::strerror(errno));
    }
    ArchiveReader in(archive_read_new());
    if (!in) return Fail(ErrorCode::kInternal, "libarchive: out of memory");
    archive_read_support_format_tar(in.get());
    if (archive_read_open_fd(in.get(), fd_.get(), 1 << 16) != ARCHIVE_OK) {
      return Fail(ErrorCode::kSpec, file + ": " + ArchiveWhy(in.get(), kNotATar));
    }
    std::set<std::string> seen;
    for (;;) {
      archive_entry* entry = nullptr;
      int r = archive_read_next_header(in.get(), &entry);
      if (r == ARCHIVE_EOF) return {};
      if (r != ARCHIVE_OK) {
        return Fail(ErrorCode::kSpec, file + ": " + ArchiveWhy(in.get(), kNotATar));
      }
      const char* raw = archive_entry_pathname(entry);
      std::string name = raw ? raw : "";
      auto path = SafeRelativePath(name);
      auto type = archive_entry_filetype(entry);
      if (!path && type == AE_IFDIR && (name == "." || name == "./")) continue;
      if (path && !seen.insert(*path).second) {
        return Fail(ErrorCode::kSpec, file + ": member '" + *path +
                                          "' appears more than once (readers differ on which "
                                          "one counts)");
      }
      if (path && type == AE_IFLNK && !archive_entry_hardlink(entry)) {
        const char* target = archive_entry_symlink(entry);
        auto resolved = LinkTarget(*path, target ? target : "");
        if (!resolved) {
          return Fail(ErrorCode::kSpec,
                      file + ": unsafe symlink '" + name + "' -> '" + (target ? target : "") + "'");
        }
        links_[*path] = *resolved;
        continue;
      }
      if (!path || (type != AE_IFREG && type != AE_IFDIR) || archive_entry_hardlink(entry) ||
          archive_entry_sparse_count(entry) > 0) {
        return Fail(ErrorCode::kSpec, file + ": unsafe member '" + name +
                                          "' (only files and directories inside it are allowed)");
      }
      if (type == AE_IFDIR) continue;
      // The format reader has consumed the member's headers and none of its data: what the
      // filter has handed on so far is where the data starts.
      int64_t offset = archive_filter_bytes(in.get(), 0);
      int64_t size = archive_entry_size(entry);
      if (offset < 0 || size < 0 || offset + size > st.st_size) {
        return Fail(ErrorCode::kSpec, file + ": member '" + name + "' runs past the end");
      }
      // Checked against what libarchive itself reads there, so an offset this reckoning got
      // wrong fails here rather than giving other bytes.
      char expect[512], got[512];
      size_t probe = static_cast<size_t>(std::min<int64_t>(size, sizeof expect));
      la_ssize_t n = archive_read_data(in.get(), expect, probe);
      if (n != static_cast<la_ssize_t>(probe) ||
          ::pread(fd_.get(), got, probe, offset) != static_cast<ssize_t>(probe) ||
          std::memcmp(expect, got, probe) != 0) {
        return Fail(ErrorCode::kSpec, file + ": member '" + name + "' cannot be read in place");
      }
      files_[*path] = {static_cast<uint64_t>(offset), static_cast<uint64_t>(size)};
    }
  }

  UniqueFd fd_;
  std::optional<TempDir> tmp_;  // the decompressed copy of a compressed archive
  std::map<std::string, MemberRange> files_;
  std::map<std::string, std::string> links_;
};

// A layout directory, or an archive read in place, with made-up blobs (for the legacy
// docker-archive form) kept in memory or elsewhere in the archive.
class LocalSource final : public ImageSource {
 public:
  LocalSource(ImageRef ref, std::string dir, std::shared_ptr<ArchiveIndex> archive = nullptr)
      : ImageSource(std::move(ref)), dir_(std::move(dir)), archive_(std::move(archive)) {}

  // Reads oci-layout and index.json.
  Result<void> LoadLayout() {
    auto version = ReadSmall("oci-layout", kMaxLayoutDocument);
    if (!version) {
      // Present but unreadable (a FIFO, too big): that error; absent: not a layout.
      bool present = archive_ ? archive_->Has("oci-layout") : PathExists(dir_ + "/oci-layout");
      ErrorCode code = present                        ? version.error().code
                       : archive_ || PathExists(dir_) ? ErrorCode::kSpec
                                                      : ErrorCode::kNotFound;
      return Fail(code, "not an OCI image layout (" + version.error().message + ")");
    }
    auto json = ParseUntrustedJsonOrDiscarded(*version);
    if (!json.is_object() || !json.contains("imageLayoutVersion")) {
      return Fail(ErrorCode::kSpec, "oci-layout: no imageLayoutVersion");
    }
    HB_TRY(std::string index, ReadSmall("index.json", kMaxLayoutDocument));
    auto parsed = ParseIndex(index);
    if (!parsed) return Fail(parsed.error().Wrap("index.json"));
    entries_ = std::move(parsed->manifests);
    return {};
  }

  // Reads the manifest.json of `docker save` before Docker 25: [{"Config":"<hex>.json",
  // "RepoTags":["name:tag"],"Layers":["<hex>/layer.tar",...]}]. Each image gets an OCI manifest
  // made here, over its config and uncompressed layer files as they are, with the OCI config and
  // layer.v1.tar media types. Its digest (listed in Entries, each RepoTag as a ref.name) is thus
  // that of an uncompressed OCI copy of the image: neither Docker's image ID nor the digest a
  // registry gives the image once pushed (compressed).
  Result<void> LoadDockerManifest() {
    HB_TRY(std::string text, ReadSmall("manifest.json", kMaxLayoutDocument));
    auto json = ParseUntrustedJsonOrDiscarded(text);
    if (!json.is_array()) return Fail(ErrorCode::kSpec, "manifest.json: not a JSON array");
    for (const auto& image : json) {
      if (!image.is_object() || !image.contains("Config") || !image["Config"].is_string() ||
          !image.contains("Layers") || !image["Layers"].is_array()) {
        return Fail(ErrorCode::kSpec, "manifest.json: an entry lacks Config or Layers");
      }
      HB_TRY(Descriptor config, AddFile(image["Config"], kMediaTypeConfig));
      std::vector<Descriptor> layers;
      for (const auto& layer : image["Layers"]) {
        HB_TRY(Descriptor d, AddFile(layer, kMediaTypeLayerTar));
        layers.push_back(std::move(d));
      }
      Blob manifest = MakeBlob(std::string(kMediaTypeManifest), ManifestJson(config, layers, {}));
      std::vector<std::string> tags;
      if (image.contains("RepoTags") && image["RepoTags"].is_array()) {
        for (const auto& tag : image["RepoTags"]) {
          if (tag.is_string()) tags.push_back(tag.get<std::string>());
        }
      }
      if (tags.empty()) tags.push_back("");
      for (const auto& tag : tags) {
        Descriptor entry = manifest.descriptor;
        if (!tag.empty()) entry.annotations[std::string(kAnnotationRefName)] = tag;
        entries_.push_back(std::move(entry));
      }
      memory_[manifest.descriptor.digest] = std::move(manifest.bytes);
    }
    return {};
  }

  Result<std::vector<Descriptor>> Entries() override { return entries_; }

  std::optional<std::string> BlobFile(const Descriptor& blob) override {
    if (archive_ || !IsSha256Digest(blob.digest) || memory_.count(blob.digest)) {
      return std::nullopt;
    }
    std::string path = dir_ + "/" + MemberOf(blob.digest);
    if (!PathExists(path)) return std::nullopt;
    return path;
  }

  Result<Descriptor> Resolve(std::string_view tag_or_digest) override {
    std::string name(tag_or_digest);
    if (!name.starts_with("sha256:")) return ResolveTag(name);
    for (const auto& entry : entries_) {
      if (entry.digest == name) return entry;
    }
    if (!IsSha256Digest(name)) return Fail(ErrorCode::kUsage, "'" + name + "' is not a digest");
    // A blob not listed in index.json: a manifest or index by its own mediaType.
    Descriptor d{"", name, 0, std::nullopt, "", {}};
    auto it = memory_.find(name);
    constexpr uint64_t kMaxDocument = uint64_t{64} << 20;
    Result<std::string> bytes =
        it != memory_.end() ? it->second : ReadSmall(MemberOf(name), kMaxDocument);
    if (!bytes) {
      return Fail(ErrorCode::kNotFound, ref().ToString() + ": no image or blob " + name);
    }
    if ("sha256:" + Sha256Hex(*bytes) != name) {
      return Fail(ErrorCode::kIntegrity, "blob " + name + ": sha256 mismatch");
    }
    d.size = static_cast<int64_t>(bytes->size());
    auto json = ParseUntrustedJsonOrDiscarded(*bytes);
    if (json.is_object() && json.contains("mediaType") && json["mediaType"].is_string()) {
      d.media_type = json["mediaType"].get<std::string>();
    } else if (json.is_object()) {
      d.media_type = json.contains("manifests") ? kMediaTypeIndex : kMediaTypeManifest;
    }
    if (!IsManifestMediaType(d.media_type) && !IsIndexMediaType(d.media_type)) {
      return Fail(ErrorCode::kUsage, ref().ToString() + ": " + name + " is not an image");
    }
    return d;
  }

  Result<std::unique_ptr<BlobReader>> OpenBlob(const Descriptor& blob) override {
    if (!IsSha256Digest(blob.digest)) {
      return Fail(ErrorCode::kSpec, "blob '" + blob.digest + "': not a sha256 digest");
    }
    auto it = memory_.find(blob.digest);
    if (it != memory_.end()) return BlobReader::Bytes(it->second, blob.digest, blob);
    return WithContext(OpenMember(MemberOf(blob.digest), blob.digest, blob), ref().ToString());
  }

  Result<std::vector<Descriptor>> Referrers(std::string_view subject_digest) override {
    std::vector<Descriptor> out;
    for (const auto& entry : entries_) {
      if (!IsManifestMediaType(entry.media_type)) continue;
      // An entry that cannot be read or parsed refers to nothing it can prove; it must not hide
      // the referrers that can be read.
      auto bytes = ReadBlob(entry);
      auto manifest = bytes ? ParseManifest(*bytes) : Result<Manifest>(Fail(bytes.error()));
      if (!manifest) {
        LogWarn("{}: skipping index.json entry {}: {}", ref().ToString(), entry.digest,
                manifest.error().message);
        continue;
      }
      if (!manifest->subject || manifest->subject->digest != subject_digest) continue;
      Descriptor d{entry.media_type,        entry.digest,         entry.size, std::nullopt,
                   manifest->artifact_type, manifest->annotations};
      if (d.artifact_type.empty()) d.artifact_type = manifest->config.media_type;
      if (std::find(out.begin(), out.end(), d) == out.end()) out.push_back(std::move(d));
    }
    return out;
  }

 private:
  // The layout-relative name of a blob's file.
  std::string MemberOf(const std::string& digest) const {
    auto it = files_.find(digest);
    return it != files_.end() ? it->second : "blobs/sha256/" + digest.substr(7);
  }

  // The file `name` of the layout or member of the archive, whole, up to `max_bytes`.
  Result<std::string> ReadSmall(const std::string& name, uint64_t max_bytes) const {
    if (archive_) return archive_->Read(name, max_bytes);
    return ReadRegularFile(dir_ + "/" + name, max_bytes);
  }

  Result<std::unique_ptr<BlobReader>> OpenMember(const std::string& name, std::string display,
                                                 std::optional<Descriptor> expect) const {
    if (archive_) return archive_->Open(name, std::move(display), std::move(expect));
    return BlobReader::File(dir_ + "/" + name, std::move(display), std::move(expect));
  }

  // A member of the archive named by manifest.json, as a blob.
  Result<Descriptor> AddFile(const nlohmann::json& name, std::string_view media_type) {
    auto path = name.is_string() ? SafeRelativePath(name.get<std::string>()) : std::nullopt;
    if (!path) return Fail(ErrorCode::kSpec, "manifest.json: unsafe path " + name.dump());
    HB_TRY(auto reader, OpenMember(*path, *path, std::nullopt));
    Sha256 hash;
    int64_t size = 0;
    std::vector<char> buf(1 << 16);
    for (;;) {
      HB_TRY(size_t n, reader->Read(buf.data(), buf.size()));
      if (n == 0) break;
      hash.Update(std::string_view(buf.data(), n));
      size += static_cast<int64_t>(n);
    }
    Descriptor d{std::string(media_type), "sha256:" + hash.HexDigest(), size, std::nullopt, "", {}};
    files_[d.digest] = *path;
    return d;
  }

  std::string dir_;  // a layout directory, when the source is not an archive
  std::shared_ptr<ArchiveIndex> archive_;
  std::vector<Descriptor> entries_;
  std::map<std::string, std::string> memory_;  // digest -> bytes of made-up blobs
  std::map<std::string, std::string> files_;   // digest -> member outside blobs/sha256
};

}  // namespace

Result<std::unique_ptr<ImageSource>> OpenImage(const ImageRef& ref) {
  using T = ImageRef::Transport;
  std::string context = "open " + ref.ToString();
  if (ref.transport == T::kRegistry) {
    return Fail(ErrorCode::kUsage, context + ": registry images are opened by the registry module");
  }
  auto open = [&]() -> Result<std::unique_ptr<ImageSource>> {
    if (ref.transport == T::kOciLayout) {
      auto source = std::make_unique<LocalSource>(ref, ref.path);
      HB_TRY_VOID(source->LoadLayout());
      return source;
    }
    HB_TRY(auto archive, ArchiveIndex::Open(ref.path));
    bool layout = archive->Has("oci-layout") && archive->Has("index.json");
    auto source = std::make_unique<LocalSource>(ref, "", std::move(archive));
    if (ref.transport == T::kDockerArchive && !layout) {
      HB_TRY_VOID(source->LoadDockerManifest());
    } else {
      HB_TRY_VOID(source->LoadLayout());
    }
    return source;
  };
  return WithContext(open(), context);
}

// ---- Platforms

namespace {

bool IsAttestation(const Descriptor& d) {
  if (!d.artifact_type.empty() || d.annotations.count("vnd.docker.reference.type")) return true;
  return d.platform && (d.platform->os == "unknown" || d.platform->architecture == "unknown");
}

Result<void> CollectPlatforms(ImageSource& source, const Descriptor& d, int depth, bool top,
                              std::set<std::string>& seen, std::vector<PlatformImage>& out) {
  std::string context = (IsIndexMediaType(d.media_type) ? "image index " : "manifest ") + d.digest;
  if (depth > 8) return Fail(ErrorCode::kSpec, context + ": indexes nested too deep");
  if (!seen.insert(d.digest).second) return {};  // listed twice: once is enough
  auto collect = [&]() -> Result<void> {
    HB_TRY(std::string bytes, source.ReadBlob(d));
    if (IsIndexMediaType(d.media_type)) {
      HB_TRY(Index index, ParseIndex(bytes));
      for (const auto& entry : index.manifests) {
        if (IsAttestation(entry)) continue;
        if (IsIndexMediaType(entry.media_type) || IsManifestMediaType(entry.media_type)) {
          HB_TRY_VOID(CollectPlatforms(source, entry, depth + 1, false, seen, out));
        }
      }
      return {};
    }
    if (!IsManifestMediaType(d.media_type)) {
      return Fail(ErrorCode::kUsage, "media type " + d.media_type + " is not an image");
    }
    PlatformImage image{d, {}, {}};
    HB_TRY(image.manifest, ParseManifest(bytes));
    if (!top && (image.manifest.subject || !image.manifest.artifact_type.empty())) return {};
    HB_TRY(std::string config, source.ReadBlob(image.manifest.config));
    auto parsed = ParseConfig(config);
    if (!parsed) return Fail(parsed.error().Wrap("config " + image.manifest.config.digest));
    image.config = std::move(*parsed);
    out.push_back(std::move(image));
    return {};
  };
  return WithContext(collect(), context);
}

}  // namespace

Result<std::vector<PlatformImage>> ResolvePlatforms(ImageSource& source, const Descriptor& root) {
  std::vector<PlatformImage> out;
  std::set<std::string> seen;
  HB_TRY_VOID(CollectPlatforms(source, root, 0, true, seen, out));
  if (out.empty()) {
    return Fail(ErrorCode::kNotFound, "image index " + root.digest + ": no platform image in it");
  }
  return out;
}

bool PlatformMatches(std::string_view wanted, const Platform& platform) {
  if (wanted.starts_with("linux/")) wanted.remove_prefix(6);
  return wanted == platform.architecture ||
         (!platform.variant.empty() && wanted == platform.architecture + "/" + platform.variant);
}

Result<std::vector<PlatformImage>> MatchingPlatforms(std::vector<PlatformImage> platforms,
                                                     std::string_view wanted) {
  if (wanted.empty()) return platforms;
  std::erase_if(platforms, [&](const PlatformImage& p) {
    return !PlatformMatches(wanted, p.config.platform);
  });
  if (platforms.empty()) return Fail(ErrorCode::kNotFound, fmt::format("no {} image", wanted));
  return platforms;
}

Result<PlatformImage> SelectPlatform(ImageSource& source, const Descriptor& root,
                                     const std::string& wanted) {
  HB_TRY(auto platforms, ResolvePlatforms(source, root));
  std::string want = wanted;
  if (want.empty() && platforms.size() == 1) return platforms[0];
  if (want.empty()) {
    struct utsname u {};
    uname(&u);
    std::string_view machine = u.machine;
    want = machine == "x86_64" ? "amd64" : machine == "aarch64" ? "arm64" : std::string(machine);
  }
  if (want.starts_with("linux/")) want = want.substr(6);
  std::vector<std::string> names;
  for (const auto& p : platforms) {
    const Platform& pl = p.config.platform;
    if (PlatformMatches(want, pl)) return p;
    names.push_back(pl.architecture + (pl.variant.empty() ? "" : "/" + pl.variant));
  }
  return Fail(ErrorCode::kNotFound,
              fmt::format("no {} image (the image has {})", want, fmt::join(names, ", ")));
}

}  // namespace hardbase::oci
