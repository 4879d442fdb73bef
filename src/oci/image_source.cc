#include "oci/image_source.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <set>

#include "base/fs.h"
#include "base/log.h"

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
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT)
      return Fail(ErrorCode::kNotFound, "blob " + name + ": missing (" + path + ")");
    return Fail(ErrorCode::kIo, "open " + path + ": " + std::strerror(err));
  }
  return std::unique_ptr<BlobReader>(new BlobReader(fd, "", std::move(name), std::move(expect)));
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

namespace {

// Tags cosign gives signatures, attestations and SBOMs of the image sha256:<hex>.
bool IsCosignTag(std::string_view tag) {
  if (!tag.starts_with("sha256-") || tag.size() < 7 + 64 || !IsSha256Hex(tag.substr(7, 64))) {
    return false;
  }
  std::string_view suffix = tag.substr(7 + 64);
  return suffix.empty() || suffix == ".sig" || suffix == ".att" || suffix == ".sbom";
}

std::string RefName(const Descriptor& d) {
  auto it = d.annotations.find(std::string(kAnnotationRefName));
  return it == d.annotations.end() ? "" : it->second;
}

}  // namespace

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
      return Fail(ErrorCode::kIntegrity, fmt::format("{}: tag '{}' names several images ({} and "
                                                     "{})",
                                                     ref_.ToString(), tag, found->digest,
                                                     entry.digest));
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
    if (!entry.artifact_type.empty() || IsCosignTag(RefName(entry))) continue;
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

struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct ArchiveWriteFree {
  void operator()(archive* a) const { archive_write_free(a); }
};

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

// Unpacks the tar `file` into `dir`: directories and regular files only (no devices, no member
// outside `dir`, none twice). Symlinks, which `docker save` and skopeo's docker-archive use for
// "<id>/layer.tar", are not made: they go into `links` (member -> target inside the archive).
Result<void> Unpack(const std::string& file, const std::string& dir,
                    std::map<std::string, std::string>& links) {
  std::unique_ptr<archive, ArchiveFree> in(archive_read_new());
  std::unique_ptr<archive, ArchiveWriteFree> out(archive_write_disk_new());
  if (!in || !out) return Fail(ErrorCode::kInternal, "libarchive: out of memory");
  archive_read_support_format_tar(in.get());
  archive_read_support_filter_all(in.get());
  archive_write_disk_set_options(out.get(), ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                                ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                                ARCHIVE_EXTRACT_NO_OVERWRITE);
  if (archive_read_open_filename(in.get(), file.c_str(), 1 << 16) != ARCHIVE_OK) {
    int err = archive_errno(in.get());
    return Fail(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kSpec,
                file + ": " + archive_error_string(in.get()));
  }
  for (;;) {
    archive_entry* entry = nullptr;
    int r = archive_read_next_header(in.get(), &entry);
    if (r == ARCHIVE_EOF) return {};
    if (r != ARCHIVE_OK) {
      return Fail(ErrorCode::kSpec, file + ": " + archive_error_string(in.get()));
    }
    const char* raw = archive_entry_pathname(entry);
    std::string name = raw ? raw : "";
    auto path = SafeRelativePath(name);
    auto type = archive_entry_filetype(entry);
    if (!path && type == AE_IFDIR && (name == "." || name == "./")) continue;
    if (path && type == AE_IFLNK) {
      const char* target = archive_entry_symlink(entry);
      auto resolved = LinkTarget(*path, target ? target : "");
      if (!resolved) {
        return Fail(ErrorCode::kSpec,
                    file + ": unsafe symlink '" + name + "' -> '" + (target ? target : "") + "'");
      }
      links[*path] = *resolved;
      continue;
    }
    if (!path || (type != AE_IFREG && type != AE_IFDIR) || archive_entry_hardlink(entry)) {
      return Fail(ErrorCode::kSpec, file + ": unsafe member '" + name +
                                        "' (only files and directories inside it are allowed)");
    }
    archive_entry_set_pathname(entry, (dir + "/" + *path).c_str());
    archive_entry_set_perm(entry, type == AE_IFDIR ? 0755 : 0644);
    if (archive_read_extract2(in.get(), entry, out.get()) != ARCHIVE_OK) {
      const char* why = archive_error_string(out.get());
      if (!why) why = archive_error_string(in.get());
      return Fail(ErrorCode::kSpec, file + ": member '" + name + "': " + (why ? why : "?"));
    }
  }
}

// A layout directory, maybe unpacked from an archive into a temporary directory it owns, with
// made-up blobs (for the legacy docker-archive form) kept in memory or elsewhere in the tree.
class LocalSource final : public ImageSource {
 public:
  LocalSource(ImageRef ref, std::string dir, std::optional<TempDir> tmp,
              std::map<std::string, std::string> links = {})
      : ImageSource(std::move(ref)),
        dir_(std::move(dir)),
        tmp_(std::move(tmp)),
        links_(std::move(links)) {}

  // Reads oci-layout and index.json.
  Result<void> LoadLayout() {
    auto version = ReadFile(dir_ + "/oci-layout");
    if (!version) {
      return Fail(PathExists(dir_) ? ErrorCode::kSpec : ErrorCode::kNotFound,
                  "not an OCI image layout (" + version.error().message + ")");
    }
    auto json = nlohmann::json::parse(*version, nullptr, false);
    if (!json.is_object() || !json.contains("imageLayoutVersion")) {
      return Fail(ErrorCode::kSpec, "oci-layout: no imageLayoutVersion");
    }
    HB_TRY(std::string index, ReadFile(dir_ + "/index.json"));
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
    HB_TRY(std::string text, ReadFile(dir_ + "/manifest.json"));
    auto json = nlohmann::json::parse(text, nullptr, false);
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
    if (!IsSha256Digest(blob.digest) || memory_.count(blob.digest)) return std::nullopt;
    std::string path = PathOf(blob.digest);
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
    Result<std::string> bytes = it != memory_.end() ? it->second : ReadFile(PathOf(name));
    if (!bytes) {
      return Fail(ErrorCode::kNotFound, ref().ToString() + ": no image or blob " + name);
    }
    if ("sha256:" + Sha256Hex(*bytes) != name) {
      return Fail(ErrorCode::kIntegrity, "blob " + name + ": sha256 mismatch");
    }
    d.size = static_cast<int64_t>(bytes->size());
    auto json = nlohmann::json::parse(*bytes, nullptr, false);
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
    auto opened = BlobReader::File(PathOf(blob.digest), blob.digest, blob);
    return WithContext(std::move(opened), ref().ToString());
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
  std::string PathOf(const std::string& digest) const {
    auto it = files_.find(digest);
    return it != files_.end() ? it->second : dir_ + "/blobs/sha256/" + digest.substr(7);
  }

  // A file of the unpacked archive named by manifest.json, as a blob.
  Result<Descriptor> AddFile(const nlohmann::json& name, std::string_view media_type) {
    auto path = name.is_string() ? SafeRelativePath(name.get<std::string>()) : std::nullopt;
    for (int hops = 0; path && links_.count(*path); ++hops) {
      path = hops < 8 ? std::optional(links_.at(*path)) : std::nullopt;
    }
    if (!path) return Fail(ErrorCode::kSpec, "manifest.json: unsafe path " + name.dump());
    std::string file = dir_ + "/" + *path;
    HB_TRY(std::string hex, Sha256File(file));
    std::error_code ec;
    Descriptor d{std::string(media_type),
                 "sha256:" + hex,
                 static_cast<int64_t>(std::filesystem::file_size(file, ec)),
                 std::nullopt,
                 "",
                 {}};
    files_[d.digest] = file;
    return d;
  }

  std::string dir_;
  std::optional<TempDir> tmp_;  // removed with the source
  std::vector<Descriptor> entries_;
  std::map<std::string, std::string> memory_;  // digest -> bytes of made-up blobs
  std::map<std::string, std::string> files_;   // digest -> file outside blobs/sha256
  std::map<std::string, std::string> links_;   // symlinks of the archive (see Unpack)
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
      auto source = std::make_unique<LocalSource>(ref, ref.path, std::nullopt);
      HB_TRY_VOID(source->LoadLayout());
      return source;
    }
    HB_TRY(TempDir tmp, TempDir::Create("hardbase-image-"));
    std::map<std::string, std::string> links;
    HB_TRY_VOID(Unpack(ref.path, tmp.path(), links));
    std::string dir = tmp.path();
    auto source = std::make_unique<LocalSource>(ref, dir, std::move(tmp), std::move(links));
    bool layout = PathExists(dir + "/oci-layout") && PathExists(dir + "/index.json");
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
    std::string name = pl.architecture + (pl.variant.empty() ? "" : "/" + pl.variant);
    if (want == name || want == pl.architecture) return p;
    names.push_back(name);
  }
  return Fail(ErrorCode::kNotFound, fmt::format("no {} image (the image has {})", want,
                                                fmt::join(names, ", ")));
}

}  // namespace hardbase::oci
