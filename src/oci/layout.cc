// WriteImage: the OCI image layout as a directory, an oci-archive or a docker-archive.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <vector>

#include "base/fs.h"
#include "base/fs_safe.h"
#include "base/json_limits.h"
#include "base/sha256.h"
#include "oci/image.h"
#include "oci/output_target.h"
#include "oci/tar_writer.h"

namespace hardbase::oci {
namespace {

// OutputFormat's names, indexed by the enum.
constexpr std::array<std::string_view, 3> kOutputFormatNames = {"oci", "oci-archive",
                                                                "docker-archive"};

constexpr std::string_view kOciLayoutFile = "oci-layout";
constexpr std::string_view kOciLayoutJson = R"({"imageLayoutVersion":"1.0.0"})";

Error ErrnoError(std::string_view what, const std::string& path, int err = errno) {
  return Error{ErrorCode::kIo, std::string(what) + " " + path + ": " + std::strerror(err)};
}

// Closes a descriptor when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // Closes now, reporting the error close(2) gives (a late write error on some file systems).
  Result<void> Close(const std::string& path) {
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) return Fail(ErrnoError("close", path));
    return {};
  }

 private:
  int fd_;
};

Result<void> SyncPath(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return Fail(ErrnoError("open", path));
  if (::fsync(fd.get()) != 0) return Fail(ErrnoError("fsync", path));
  return {};
}

// The blob's path in the layout.
std::string BlobPath(std::string_view digest) {
  return "blobs/sha256/" + std::string(DigestHex(digest));
}

Error Mismatch(const BlobSource& blob, std::string_view what) {
  std::string where = blob.path.empty() ? "" : " (" + blob.path + ")";
  return Error{ErrorCode::kIntegrity,
               "blob " + blob.descriptor.digest + where + ": " + std::string(what)};
}

// Copies `in` to `out` at their current offsets: copy_file_range (which may share extents),
// or read/write where the kernel cannot.
Result<void> CopyRange(int in, const std::string& in_path, int out, const std::string& out_path,
                       uint64_t size) {
  bool kernel_copy = true;
  std::vector<char> buf;
  while (size > 0) {
    ssize_t n = -1;
    if (kernel_copy) {
      n = ::copy_file_range(in, nullptr, out, nullptr, size, 0);
      if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP ||
                    errno == EPERM)) {
        kernel_copy = false;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Fail(ErrnoError("copy to", out_path));
    } else {
      buf.resize(1 << 20);
      n = ::read(in, buf.data(), std::min<uint64_t>(size, buf.size()));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Fail(ErrnoError("read", in_path));
      HB_TRY_VOID(WriteAll(out, out_path, std::string_view(buf.data(), static_cast<size_t>(n))));
    }
    if (n == 0) return Fail(ErrorCode::kIo, "read " + in_path + ": file shrank while copying");
    size -= static_cast<uint64_t>(n);
  }
  return {};
}

// Writes a blob at the current offset of `out`, checked against its descriptor: bytes are hashed
// before they are written, a file's copy is read back from `out` and hashed, so what is checked is
// what the output holds.
Result<void> WriteBlob(const BlobSource& blob, int out, const std::string& out_path) {
  const Descriptor& d = blob.descriptor;
  if (blob.path.empty()) {
    if (static_cast<int64_t>(blob.bytes.size()) != d.size) {
      return Fail(Mismatch(blob, "size " + std::to_string(blob.bytes.size()) + ", expected " +
                                     std::to_string(d.size)));
    }
    if (Sha256Hex(blob.bytes) != DigestHex(d.digest)) {
      return Fail(Mismatch(blob, "sha256 mismatch"));
    }
    return WriteAll(out, out_path, blob.bytes);
  }
  HB_TRY(RegularFile file, OpenRegularFile(blob.path));
  Fd in(file.fd.Release());
  if (file.size != static_cast<uint64_t>(d.size)) {
    return Fail(Mismatch(
        blob, "size " + std::to_string(file.size) + ", expected " + std::to_string(d.size)));
  }
  off_t start = ::lseek(out, 0, SEEK_CUR);
  if (start < 0) return Fail(ErrnoError("seek", out_path));
  HB_TRY_VOID(CopyRange(in.get(), blob.path, out, out_path, static_cast<uint64_t>(d.size)));

  Sha256 hash;
  std::vector<char> buf(1 << 20);
  for (off_t at = start, end = start + d.size; at < end;) {
    ssize_t n = ::pread(out, buf.data(), std::min<off_t>(end - at, buf.size()), at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Fail(ErrnoError("read back", out_path, n == 0 ? EIO : errno));
    hash.Update(std::string_view(buf.data(), static_cast<size_t>(n)));
    at += n;
  }
  if (hash.HexDigest() != DigestHex(d.digest)) return Fail(Mismatch(blob, "sha256 mismatch"));
  return {};
}

// A file of the layout: a blob, or one of the layout's own documents.
struct Member {
  std::string path;  // inside the layout: "blobs/sha256/<hex>", "index.json", ...
  const BlobSource* blob = nullptr;
  std::string bytes;  // when `blob` is null

  uint64_t size() const {
    return blob ? static_cast<uint64_t>(blob->descriptor.size) : bytes.size();
  }
  Result<void> WriteTo(int out, const std::string& out_path) const {
    return blob ? WriteBlob(*blob, out, out_path) : WriteAll(out, out_path, bytes);
  }
};

using BlobMap = std::map<std::string, const BlobSource*>;  // by digest

// A manifest's or an index's bytes, checked, and what it refers to.
struct Document {
  std::string config;              // a manifest's config digest
  std::vector<std::string> blobs;  // its layers, or an index's manifests
};

Result<Document> ReadDocument(const BlobSource& blob, bool index) {
  std::string bytes = blob.bytes;
  if (!blob.path.empty()) {
    // No more than its descriptor says: what is there beyond cannot match the digest anyway.
    HB_TRY(bytes, ReadRegularFile(blob.path, static_cast<uint64_t>(
                                                 std::max<int64_t>(blob.descriptor.size, 0))));
  }
  if ("sha256:" + Sha256Hex(bytes) != blob.descriptor.digest) {
    return Fail(Mismatch(blob, "sha256 mismatch"));
  }
  HB_TRY_VOID(CheckUntrustedJson(bytes, "blob " + blob.descriptor.digest));
  try {
    auto json = nlohmann::json::parse(bytes);
    Document doc;
    if (!index) doc.config = json.at("config").at("digest").get<std::string>();
    for (const auto& d : json.at(index ? "manifests" : "layers")) {
      doc.blobs.push_back(d.at("digest").get<std::string>());
    }
    return doc;
  } catch (const nlohmann::json::exception& e) {
    return Fail(ErrorCode::kInternal, "blob " + blob.descriptor.digest + ": not an OCI " +
                                          (index ? "image index: " : "image manifest: ") +
                                          e.what());
  }
}

// Checks that every blob the root refers to, down to the layers, is among the image's blobs.
Result<void> CheckComplete(const Descriptor& root, const BlobMap& blobs) {
  std::vector<std::pair<std::string, std::string>> todo = {{root.digest, "index.json"}};
  std::set<std::string> seen;
  while (!todo.empty()) {
    auto [digest, parent] = todo.back();
    todo.pop_back();
    if (!seen.insert(digest).second) continue;
    auto it = blobs.find(digest);
    if (it == blobs.end()) {
      return Fail(ErrorCode::kInternal, "blob " + digest + " (referenced by " + parent +
                                            ") is not among the image's blobs");
    }
    std::string_view type = it->second->descriptor.media_type;
    if (type != kMediaTypeIndex && type != kMediaTypeManifest) continue;
    HB_TRY(Document doc, ReadDocument(*it->second, type == kMediaTypeIndex));
    if (!doc.config.empty()) todo.emplace_back(doc.config, digest);
    for (auto& child : doc.blobs) todo.emplace_back(std::move(child), digest);
  }
  return {};
}

// docker-archive's manifest.json, for the one manifest under `root`.
Result<std::string> DockerManifest(const ImageOutput& image, const BlobMap& blobs) {
  const BlobSource* manifest = blobs.at(image.root.digest);
  if (image.root.media_type == kMediaTypeIndex) {
    HB_TRY(Document index, ReadDocument(*manifest, true));
    if (index.blobs.size() != 1) {
      return Fail(ErrorCode::kUsage, "a docker-archive holds one platform; the image has " +
                                         std::to_string(index.blobs.size()));
    }
    manifest = blobs.at(index.blobs[0]);
  }
  if (manifest->descriptor.media_type != kMediaTypeManifest) {
    return Fail(ErrorCode::kUsage, "a docker-archive holds an image; " +
                                       manifest->descriptor.digest + " is " +
                                       manifest->descriptor.media_type);
  }
  HB_TRY(Document doc, ReadDocument(*manifest, false));
  nlohmann::ordered_json entry = {{"Config", BlobPath(doc.config)}};
  entry["RepoTags"] = nlohmann::ordered_json::array();
  if (!image.tag.empty()) {
    // A name without a tag means name:latest, as for `docker tag` and `docker load`.
    bool tagged = image.tag.find(':', image.tag.rfind('/') + 1) != std::string::npos;
    entry["RepoTags"].push_back(tagged ? image.tag : image.tag + ":latest");
  }
  entry["Layers"] = nlohmann::ordered_json::array();
  for (const auto& layer : doc.blobs) entry["Layers"].push_back(BlobPath(layer));
  return nlohmann::ordered_json::array({entry}).dump(
      -1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

// The files of the layout, sorted as they go into an archive.
Result<std::vector<Member>> LayoutMembers(const ImageOutput& image, OutputFormat format) {
  BlobMap blobs;
  for (const auto& blob : image.blobs) {
    const std::string& digest = blob.descriptor.digest;
    if (!digest.starts_with("sha256:") || !IsSha256Hex(DigestHex(digest)) ||
        blob.descriptor.size < 0) {
      return Fail(ErrorCode::kInternal, "blob '" + digest + "': not a sha256 descriptor");
    }
    blobs.emplace(digest, &blob);  // the same blob listed twice is written once
  }
  HB_TRY_VOID(CheckComplete(image.root, blobs));
  for (const auto& artifact : image.artifacts) HB_TRY_VOID(CheckComplete(artifact, blobs));

  std::vector<Member> members;
  for (const auto& [digest, blob] : blobs) members.push_back({BlobPath(digest), blob, {}});
  std::vector<Descriptor> entries = {image.root};
  if (!image.tag.empty()) entries[0].annotations[std::string(kAnnotationRefName)] = image.tag;
  entries.insert(entries.end(), image.artifacts.begin(), image.artifacts.end());
  members.push_back({"index.json", nullptr, IndexJson(entries)});
  members.push_back({std::string(kOciLayoutFile), nullptr, std::string(kOciLayoutJson)});
  if (format == OutputFormat::kDockerArchive) {
    HB_TRY(std::string manifest, DockerManifest(image, blobs));
    members.push_back({"manifest.json", nullptr, std::move(manifest)});
  }
  std::sort(members.begin(), members.end(),
            [](const Member& a, const Member& b) { return TarPathLess(a.path, b.path); });
  return members;
}

// Creates a directory with mode 0755 whatever the umask.
Result<void> MakeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0 || ::chmod(path.c_str(), 0755) != 0) {
    return Fail(ErrnoError("create directory", path));
  }
  return {};
}

// The names in directory `dir`, "." and ".." left out; nullopt when it cannot be read.
std::optional<std::vector<std::string>> DirEntries(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return std::nullopt;
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  ::closedir(d);
  return names;
}

bool IsKind(const std::string& path, mode_t kind) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && (st.st_mode & S_IFMT) == kind;
}

// Whether `name` is the temporary file a killed AddToLayout left for the file `of`
// (CreateTempFileBeside names it ".<of>.tmp-<pid>-XXXXXX").
bool IsTempOf(std::string_view name, std::string_view of) {
  return name.starts_with(".") && name.substr(1).starts_with(of) &&
         name.substr(1 + of.size()).starts_with(".tmp-");
}

// Whether `dir` holds an OCI image layout and nothing else (what WriteLayoutDir and AddToLayout
// put there: oci-layout, index.json, its lock, blobs/sha256/<hex> files, and the temporary files
// of theirs a killed run leaves), or nothing at all. Replacing a directory deletes it, so it must
// only ever be an earlier image: one more file (a user's notes, a source tree that happened to
// hold an oci-layout) and it is not ours to delete.
bool IsReplaceableLayout(const std::string& dir) {
  auto top = IsKind(dir, S_IFDIR) ? DirEntries(dir) : std::nullopt;
  if (!top) return false;
  if (top->empty()) return true;
  bool has_layout = false;
  for (const auto& name : *top) {
    std::string path = dir + "/" + name;
    if (name == kOciLayoutFile) {
      has_layout = IsKind(path, S_IFREG);
      if (!has_layout) return false;
    } else if (name == "index.json" || name == "index.json.lock" || IsTempOf(name, "index.json")) {
      if (!IsKind(path, S_IFREG)) return false;
    } else if (name == "blobs") {
      auto algorithms = DirEntries(path);
      if (!IsKind(path, S_IFDIR) || !algorithms) return false;
      for (const auto& algorithm : *algorithms) {
        std::string sub = path + "/" + algorithm;
        auto blobs = DirEntries(sub);
        if (algorithm != "sha256" || !IsKind(sub, S_IFDIR) || !blobs) return false;
        for (const auto& blob : *blobs) {
          std::string_view hex = std::string_view(blob).substr(blob.starts_with(".") ? 1 : 0, 64);
          bool ours = IsSha256Hex(blob) || (IsSha256Hex(hex) && IsTempOf(blob, hex));
          if (!ours || !IsKind(sub + "/" + blob, S_IFREG)) return false;
        }
      }
    } else {
      return false;
    }
  }
  return has_layout;
}

Result<void> CheckReplaceableLayout(const std::string& path) {
  if (PathExists(path) && !IsReplaceableLayout(path)) {
    return Fail(ErrorCode::kUsage, path +
                                       " exists and is not only an OCI image layout (hardbase "
                                       "replaces nothing else); refusing to replace it");
  }
  return {};
}

Result<void> WriteLayoutDir(const std::vector<Member>& members, const std::string& path) {
  HB_TRY_VOID(CheckReplaceableLayout(path));
  HB_TRY(TempDir tmp, TempDir::Create(TempPrefixFor(path), DirName(path)));
  if (::chmod(tmp.path().c_str(), 0755) != 0) return Fail(ErrnoError("chmod", tmp.path()));
  HB_TRY_VOID(MakeDir(tmp.path() + "/blobs"));
  HB_TRY_VOID(MakeDir(tmp.path() + "/blobs/sha256"));
  for (const auto& member : members) {
    std::string file = tmp.path() + "/" + member.path;
    Fd fd(::open(file.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (fd.get() < 0) return Fail(ErrnoError("create", file));
    HB_TRY_VOID(member.WriteTo(fd.get(), file));
    if (::fchmod(fd.get(), 0644) != 0) return Fail(ErrnoError("chmod", file));
    if (::fsync(fd.get()) != 0) return Fail(ErrnoError("fsync", file));
    HB_TRY_VOID(fd.Close(file));
  }
  for (const char* dir : {"/blobs/sha256", "/blobs", ""}) HB_TRY_VOID(SyncPath(tmp.path() + dir));

  // Into place in one step: a plain rename when nothing is there, else an exchange with the old
  // directory, which is then removed with the temporary name it now has.
  if (::renameat2(AT_FDCWD, tmp.path().c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) != 0) {
    if (errno != EEXIST && errno != ENOTEMPTY) return Fail(ErrnoError("rename into place", path));
    if (::renameat2(AT_FDCWD, tmp.path().c_str(), AT_FDCWD, path.c_str(), RENAME_EXCHANGE) != 0) {
      return Fail(ErrnoError("exchange into place", path));
    }
  }
  return SyncPath(DirName(path));
}

// An archive is renamed over what is at `path`: only ever a regular file, never a directory, a
// symlink (whose target would stay and the link be lost), a device or a FIFO.
Result<void> CheckReplaceableFile(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return {};
    return Fail(ErrnoError("stat", path));
  }
  if (S_ISDIR(st.st_mode)) return Fail(ErrorCode::kUsage, path + " is a directory");
  if (!S_ISREG(st.st_mode)) {
    return Fail(ErrorCode::kUsage,
                path + " exists and is not a regular file; refusing to replace it");
  }
  return {};
}

Result<void> WriteArchive(const std::vector<Member>& members, const std::string& path) {
  HB_TRY_VOID(CheckReplaceableFile(path));
  HB_TRY(LockedTempFile temp, CreateTempFileBeside(path));
  std::string tmp = std::move(temp.path);
  Fd fd(temp.fd.Release());
  auto write = [&]() -> Result<void> {
    std::string headers;
    auto header = [&](std::string path, LayerEntryType type, uint64_t size) {
      LayerEntry entry;
      entry.path = std::move(path);
      entry.type = type;
      entry.mode = type == LayerEntryType::kDirectory ? 0755 : 0644;
      AppendTarHeader(entry, size, &headers);
    };
    header("/blobs", LayerEntryType::kDirectory, 0);
    header("/blobs/sha256", LayerEntryType::kDirectory, 0);
    for (const auto& member : members) {
      header("/" + member.path, LayerEntryType::kFile, member.size());
      HB_TRY_VOID(WriteAll(fd.get(), tmp, headers));
      HB_TRY_VOID(member.WriteTo(fd.get(), tmp));
      headers.assign(TarPadding(member.size()), '\0');
    }
    headers.append(kTarTrailerSize, '\0');
    HB_TRY_VOID(WriteAll(fd.get(), tmp, headers));
    if (::fchmod(fd.get(), 0644) != 0) return Fail(ErrnoError("chmod", tmp));
    if (::fsync(fd.get()) != 0) return Fail(ErrnoError("fsync", tmp));
    HB_TRY_VOID(fd.Close(tmp));
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
      return Fail(ErrnoError("rename into place", path));
    }
    return SyncPath(DirName(path));
  };
  auto written = write();
  if (!written) ::unlink(tmp.c_str());
  return written;
}

std::string_view FormatName(OutputFormat format) {
  return kOutputFormatNames[static_cast<size_t>(format)];
}

}  // namespace

std::span<const std::string_view> OutputFormatNames() { return kOutputFormatNames; }

Result<OutputFormat> ParseOutputFormat(std::string_view name) {
  for (size_t i = 0; i < kOutputFormatNames.size(); ++i) {
    if (kOutputFormatNames[i] == name) return static_cast<OutputFormat>(i);
  }
  return Fail(ErrorCode::kUsage, "unknown output format '" + std::string(name) +
                                     "' (expected oci, oci-archive or docker-archive)");
}

Result<void> WriteBlobFile(const BlobSource& blob, const std::string& path) {
  HB_TRY_VOID(CheckReplaceableFile(path));
  HB_TRY(LockedTempFile temp, CreateTempFileBeside(path));
  std::string tmp = std::move(temp.path);
  Fd fd(temp.fd.Release());
  auto write = [&]() -> Result<void> {
    HB_TRY_VOID(WriteBlob(blob, fd.get(), tmp));
    if (::fchmod(fd.get(), 0644) != 0) return Fail(ErrnoError("chmod", tmp));
    if (::fsync(fd.get()) != 0) return Fail(ErrnoError("fsync", tmp));
    HB_TRY_VOID(fd.Close(tmp));
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
      return Fail(ErrnoError("rename into place", path));
    }
    return SyncPath(DirName(path));
  };
  auto written = write();
  if (!written) ::unlink(tmp.c_str());
  return written;
}

namespace {

// `path` without trailing slashes, or kUsage when that leaves no file name.
Result<std::string> OutputPath(const std::string& path) {
  std::string out = path;
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  if (out.empty() || out == "/") return Fail(ErrorCode::kUsage, "not a file path");
  return out;
}

}  // namespace

Result<void> CheckOutputTarget(OutputFormat format, const std::string& path) {
  auto check = [&]() -> Result<void> {
    HB_TRY(std::string out, OutputPath(path));
    return format == OutputFormat::kOciLayout ? CheckReplaceableLayout(out)
                                              : CheckReplaceableFile(out);
  };
  return WithContext(check(), "write " + std::string(FormatName(format)) + " " + path);
}

Result<void> WriteImage(const ImageOutput& image, OutputFormat format, const std::string& path) {
  std::string context = "write " + std::string(FormatName(format)) + " " + path;
  auto normalised = OutputPath(path);
  if (!normalised) return Fail(std::move(normalised.error()).Wrap(context));
  const std::string& out = *normalised;
  auto members = LayoutMembers(image, format);
  if (!members) return Fail(std::move(members.error()).Wrap(context));
  auto written = format == OutputFormat::kOciLayout ? WriteLayoutDir(*members, out)
                                                    : WriteArchive(*members, out);
  return WithContext(std::move(written), context);
}

}  // namespace hardbase::oci
