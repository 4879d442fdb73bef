#include "deb/deb_archive.h"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <limits>
#include <optional>
#include <thread>
#include <unordered_map>

#include "base/archive.h"
#include "base/printable.h"
#include "deb/decompress.h"

namespace hardbase::deb {
namespace {

// Charged against max_unpacked for every entry on top of its contents and names (one tar header),
// so that an archive of millions of empty entries is bounded too.
constexpr uint64_t kEntryCost = 512;

// Linux's limits (NAME_MAX, PATH_MAX without its NUL): longer names cannot exist on disk, and
// tools handling the image would truncate or reject them.
constexpr size_t kMaxNameBytes = 255;
constexpr size_t kMaxPathBytes = 4095;

// The base-name prefix of OCI layer whiteouts (".wh.foo", ".wh..wh..opq").
constexpr std::string_view kWhiteoutPrefix = ".wh.";

// The most memory reserved for a file's contents before its bytes arrive.
constexpr uint64_t kInitialReserve = uint64_t{16} << 20;

// The components of a slash-separated path, without empty and "." ones.
std::vector<std::string_view> Components(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view c = path.substr(0, slash);
    if (!c.empty() && c != ".") out.push_back(c);
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
  }
  return out;
}

// Whether the symlink at `link_path` (normalised) pointing to `target` resolves inside the root,
// computed lexically from the link's directory. Absolute targets are taken inside the root.
bool StaysInRoot(std::string_view link_path, std::string_view target) {
  if (target.starts_with('/')) return true;
  size_t depth = Components(link_path).size() - 1;
  for (std::string_view c : Components(target)) {
    if (c != "..") {
      ++depth;
    } else if (depth-- == 0) {
      return false;
    }
  }
  return true;
}

// What remains of max_unpacked.
class Budget {
 public:
  explicit Budget(uint64_t limit) : limit_(limit), left_(limit) {}
  // A bound on the size of a tar archive whose entries fit the budget: every entry costs at least
  // what its header and padding take in the archive.
  uint64_t TarBound() const { return 2 * left_ + (uint64_t{1} << 20); }
  Result<void> Take(uint64_t bytes) {
    if (bytes > left_) {
      return Fail(ErrorCode::kIntegrity,
                  "unpacked size exceeds the limit of " + std::to_string(limit_) + " bytes");
    }
    left_ -= bytes;
    return {};
  }

 private:
  uint64_t limit_;
  uint64_t left_;
};

// Reads the current entry's `size` bytes into `out`, charging them to `budget` first. The buffer
// grows as bytes arrive: a header claiming a huge size over a short stream costs no memory.
Result<void> ReadContent(archive* tar, archive_entry* entry, Budget& budget, std::string& out) {
  la_int64_t size = archive_entry_size(entry);
  if (size < 0) return Fail(ErrorCode::kIntegrity, "negative size");
  HB_TRY_VOID(budget.Take(static_cast<uint64_t>(size)));
  out.clear();
  out.reserve(std::min<uint64_t>(static_cast<uint64_t>(size), kInitialReserve));
  for (;;) {
    const void* block = nullptr;
    size_t n = 0;
    la_int64_t offset = 0;
    int r = archive_read_data_block(tar, &block, &n, &offset);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK) return Fail(ErrorCode::kIntegrity, ArchiveWhy(tar, "corrupt archive"));
    if (offset != static_cast<la_int64_t>(out.size()) || n > static_cast<uint64_t>(size - offset)) {
      return Fail(ErrorCode::kIntegrity, "contents do not match the entry's size");
    }
    if (out.size() + n > out.capacity()) {
      // Doubling, but never past the entry's size: a bomb's memory stays within the budget.
      out.reserve(std::min<uint64_t>(static_cast<uint64_t>(size),
                                     std::max(2 * out.capacity(), out.size() + n)));
    }
    out.append(static_cast<const char*>(block), n);
  }
  if (out.size() != static_cast<uint64_t>(size)) {
    return Fail(ErrorCode::kIntegrity, "truncated contents");
  }
  return {};
}

// The compression a tar member's name promises ("data.tar.xz" -> xz), for the compressions
// dpkg-deb writes; nullopt for any other name.
std::optional<Compression> CompressionFor(std::string_view member, std::string_view prefix) {
  std::string_view suffix = member.substr(prefix.size());
  if (suffix.empty()) return Compression::kNone;
  if (suffix == ".gz") return Compression::kGzip;
  if (suffix == ".xz") return Compression::kXz;
  if (suffix == ".zst") return Compression::kZstd;
  return std::nullopt;
}

// libarchive's source of a tar member: the bounded decoder's output, piece by piece, so neither
// the unpacked tar nor a size its compressed stream claims is ever held in memory at once.
struct TarSource {
  Decoder* decoder;
  std::optional<Error> error;  // what stopped the decoder, which libarchive only sees as -1
};

la_ssize_t ReadPiece(archive* a, void* client, const void** buffer) {
  auto* source = static_cast<TarSource*>(client);
  auto piece = source->decoder->Next();
  if (!piece) {
    archive_set_error(a, EIO, "%s", piece.error().message.c_str());
    source->error = std::move(piece.error());
    return -1;
  }
  *buffer = piece->data();
  return static_cast<la_ssize_t>(piece->size());
}

// Calls `on_entry` with every entry of the tar archive `bytes` compressed with `compression`, the
// member called `member`; errors come back as "<member> entry <name>: ..." or "<member>: ...".
// `max_size` bounds the unpacked tar.
Result<void> ForEachTarEntry(
    std::string_view bytes, const std::string& member, Compression compression, uint64_t max_size,
    const std::function<Result<void>(archive*, archive_entry*, const char*)>& on_entry) {
  // dpkg-deb compresses big members in independent xz blocks (8 for openjdk's 190 MB data.tar),
  // which liblzma's threaded decoder unpacks on every core.
  HB_TRY(auto decoder,
         WithContext(OpenDecoder(compression, bytes, max_size, std::thread::hardware_concurrency()),
                     member));
  TarSource source{decoder.get(), std::nullopt};
  ArchiveReader tar(archive_read_new());
  archive_read_support_format_tar(tar.get());
  auto broken = [&] {
    if (source.error) return Fail(source.error->Wrap(member));
    return Fail(ErrorCode::kIntegrity, member + ": " + ArchiveWhy(tar.get(), "corrupt archive"));
  };
  if (archive_read_open(tar.get(), &source, nullptr, ReadPiece, nullptr) != ARCHIVE_OK) {
    return broken();
  }
  for (;;) {
    archive_entry* entry = nullptr;
    int r = archive_read_next_header(tar.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    // ARCHIVE_WARN is also a name libarchive could not convert to the locale's character set
    // (a UTF-8 PAX name in the C locale); the name is then kept as the archive's bytes.
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) return broken();
    const char* name = archive_entry_pathname(entry);
    if (name == nullptr) return Fail(ErrorCode::kIntegrity, member + ": entry without a name");
    auto done = on_entry(tar.get(), entry, name);
    if (!done && source.error) return broken();
    HB_TRY_VOID(WithContext(std::move(done), member + " entry " + Printable(name)));
  }
  // libarchive stops at the end-of-archive blocks; the rest of the stream must still decode
  // (a truncated or corrupt member is refused however little of it is cut).
  if (source.error) return broken();
  for (;;) {
    HB_TRY(std::string_view piece, WithContext(decoder->Next(), member));
    if (piece.empty()) return {};
  }
}

// The type of a data.tar entry, or why it is refused.
Result<EntryType> TypeOf(archive_entry* entry) {
  if (archive_entry_hardlink(entry) != nullptr) return EntryType::kHardlink;
  switch (archive_entry_filetype(entry)) {
    case AE_IFREG:
      return EntryType::kFile;
    case AE_IFDIR:
      return EntryType::kDirectory;
    case AE_IFLNK:
      return EntryType::kSymlink;
    case AE_IFCHR:
    case AE_IFBLK:
      return Fail(ErrorCode::kIntegrity, "device nodes are not allowed");
    case AE_IFIFO:
      return Fail(ErrorCode::kIntegrity, "FIFOs are not allowed");
    case AE_IFSOCK:
      return Fail(ErrorCode::kIntegrity, "sockets are not allowed");
    default:
      return Fail(ErrorCode::kIntegrity, "unsupported entry type");
  }
}

Result<uint32_t> Id(la_int64_t id, std::string_view what) {
  if (id < 0 || id > std::numeric_limits<uint32_t>::max()) {
    return Fail(ErrorCode::kIntegrity, std::string(what) + " out of range");
  }
  return static_cast<uint32_t>(id);
}

// Paths of data.tar so far, with their types.
using Seen = std::unordered_map<std::string, EntryType>;

// The data.tar entry at hand, checked against the entries before it; nullopt for the root.
Result<std::optional<DataEntry>> ToDataEntry(archive* tar, archive_entry* e, const char* name,
                                             const Seen& seen, Budget& budget) {
  HB_TRY(std::string path, NormaliseMemberPath(name));
  HB_TRY(EntryType type, TypeOf(e));
  if (path.empty()) {
    if (type == EntryType::kDirectory) return std::nullopt;
    return Fail(ErrorCode::kIntegrity, "the root is not a directory");
  }
  if (seen.contains(path)) return Fail(ErrorCode::kIntegrity, "duplicate path");
  // In an image layer such a name is an OCI deletion marker: it would remove other packages'
  // files (and their status.d records, hiding them from scanners) instead of being a file.
  if (std::string_view(path).substr(path.rfind('/') + 1).starts_with(kWhiteoutPrefix)) {
    return Fail(ErrorCode::kIntegrity, "names starting with '.wh.' are OCI whiteouts, not allowed");
  }
  DataEntry d;
  d.path = std::move(path);
  d.type = type;
  d.mode = archive_entry_perm(e) & 07777u;
  HB_TRY(d.uid, Id(archive_entry_uid(e), "uid"));
  HB_TRY(d.gid, Id(archive_entry_gid(e), "gid"));
  d.mtime = archive_entry_mtime(e);
  if (type == EntryType::kFile) {
    auto content = std::make_shared<std::string>();
    HB_TRY_VOID(ReadContent(tar, e, budget, *content));
    d.content = std::move(content);
  } else if (type == EntryType::kSymlink) {
    const char* target = archive_entry_symlink(e);
    if (target == nullptr || *target == '\0') {
      return Fail(ErrorCode::kIntegrity, "symlink without a target");
    }
    if (std::strlen(target) > kMaxPathBytes) {
      return Fail(ErrorCode::kIntegrity,
                  "symlink target longer than " + std::to_string(kMaxPathBytes) + " bytes");
    }
    if (!StaysInRoot(d.path, target)) {
      return Fail(ErrorCode::kIntegrity,
                  "symlink target " + Printable(target) + " leaves the root");
    }
    d.link_target = target;
  } else if (type == EntryType::kHardlink) {
    std::string target = archive_entry_hardlink(e);
    auto normal = NormaliseMemberPath(target);
    auto it = normal ? seen.find(*normal) : seen.end();
    if (it == seen.end() || it->second != EntryType::kFile) {
      return Fail(ErrorCode::kIntegrity, "hard link to " + Printable(target) +
                                             ", not an earlier regular file of the archive");
    }
    d.link_target = *normal;
  }
  HB_TRY_VOID(budget.Take(kEntryCost + d.path.size() + d.link_target.size()));
  return d;
}

Result<void> ReadData(std::string_view bytes, const std::string& member, Compression compression,
                      Budget& budget, std::vector<DataEntry>& out) {
  Seen seen;
  return ForEachTarEntry(bytes, member, compression, budget.TarBound(),
                         [&](archive* tar, archive_entry* e, const char* name) -> Result<void> {
                           HB_TRY(std::optional<DataEntry> entry,
                                  ToDataEntry(tar, e, name, seen, budget));
                           if (entry) {
                             seen.emplace(entry->path, entry->type);
                             out.push_back(std::move(*entry));
                           }
                           return {};
                         });
}

// Reads control.tar into `out`: regular files at its top level, by name.
Result<void> ReadControl(std::string_view bytes, const std::string& member, Compression compression,
                         Budget& budget, std::map<std::string, std::string>& out) {
  return ForEachTarEntry(
      bytes, member, compression, budget.TarBound(),
      [&](archive* tar, archive_entry* e, const char* name) -> Result<void> {
        HB_TRY(std::string path, NormaliseMemberPath(name));
        bool is_file =
            archive_entry_hardlink(e) == nullptr && archive_entry_filetype(e) == AE_IFREG;
        if (path.empty() && archive_entry_filetype(e) == AE_IFDIR) return {};
        if (!is_file || path.find('/', 1) != std::string::npos) {
          return Fail(ErrorCode::kIntegrity, "not a regular file at the top level");
        }
        HB_TRY_VOID(budget.Take(kEntryCost + path.size()));
        auto [it, fresh] = out.try_emplace(path.substr(1));
        if (!fresh) return Fail(ErrorCode::kIntegrity, "duplicate path");
        return ReadContent(tar, e, budget, it->second);
      });
}

// The bytes of the ar member at hand. Read from memory, libarchive hands a whole member over as one
// block, which is used in place (valid until the next call on `ar`); otherwise it is copied.
Result<std::string_view> ReadMember(archive* ar, archive_entry* entry, std::string& copy) {
  const la_int64_t size = archive_entry_size(entry);
  copy.clear();
  for (;;) {
    const void* block = nullptr;
    size_t n = 0;
    la_int64_t offset = 0;
    int r = archive_read_data_block(ar, &block, &n, &offset);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK) return Fail(ErrorCode::kIntegrity, ArchiveWhy(ar, "corrupt archive"));
    if (copy.empty() && static_cast<la_int64_t>(n) == size) {
      return std::string_view(static_cast<const char*>(block), n);
    }
    copy.append(static_cast<const char*>(block), n);
  }
  if (static_cast<la_int64_t>(copy.size()) != size) {
    return Fail(ErrorCode::kIntegrity, "truncated member");
  }
  return std::string_view(copy);
}

Result<DebContents> ReadDebMembers(std::string_view deb_bytes, uint64_t max_unpacked) {
  auto fail = [](std::string msg) { return Fail(ErrorCode::kIntegrity, std::move(msg)); };
  if (deb_bytes.empty()) return fail("empty file");
  ArchiveReader ar(archive_read_new());
  archive_read_support_format_ar(ar.get());
  if (archive_read_open_memory(ar.get(), deb_bytes.data(), deb_bytes.size()) != ARCHIVE_OK) {
    return fail("ar archive: " + ArchiveWhy(ar.get(), "corrupt archive"));
  }
  // dpkg's order: debian-binary, control.tar*, data.tar*; members named "_*" are ignored.
  const char* const kMembers[] = {"debian-binary", "control.tar", "data.tar"};
  size_t next = 0;
  DebContents out;
  Budget budget(max_unpacked);
  std::string copy;
  while (next < std::size(kMembers)) {
    archive_entry* entry = nullptr;
    int r = archive_read_next_header(ar.get(), &entry);
    if (r == ARCHIVE_EOF) return fail(std::string("no ") + kMembers[next] + " member");
    if (r != ARCHIVE_OK) return fail("ar archive: " + ArchiveWhy(ar.get(), "corrupt archive"));
    const char* raw_name = archive_entry_pathname(entry);
    std::string name = Printable(raw_name ? raw_name : "");
    if (name.starts_with('_')) continue;
    std::string_view expected = kMembers[next];
    if (!name.starts_with(expected) || (next == 0 && name != expected)) {
      return fail("unexpected member '" + name + "' where " + std::string(expected) + " belongs");
    }
    std::optional<Compression> compression = CompressionFor(name, expected);
    if (next > 0 && !compression) return fail(name + ": unsupported compression");
    HB_TRY(std::string_view bytes, WithContext(ReadMember(ar.get(), entry, copy), name));
    if (next == 0 && !bytes.starts_with("2.")) {
      return fail("debian-binary: unsupported format version '" +
                  Printable(bytes.substr(0, std::min(bytes.find('\n'), size_t{16}))) + "'");
    }
    if (next == 1) HB_TRY_VOID(ReadControl(bytes, name, *compression, budget, out.control_files));
    if (next == 2) HB_TRY_VOID(ReadData(bytes, name, *compression, budget, out.data));
    ++next;
  }
  return out;
}

}  // namespace

Result<std::string> NormaliseMemberPath(std::string_view name) {
  if (name.empty()) return Fail(ErrorCode::kIntegrity, "empty path");
  if (name.find('\0') != std::string_view::npos) {
    return Fail(ErrorCode::kIntegrity, "NUL byte in path");
  }
  if (name.front() == '/') return Fail(ErrorCode::kIntegrity, "absolute path");
  std::string out;
  for (std::string_view c : Components(name)) {
    if (c == "..") return Fail(ErrorCode::kIntegrity, "path leaves the root ('..' component)");
    if (c.size() > kMaxNameBytes) {
      return Fail(ErrorCode::kIntegrity,
                  "path component longer than " + std::to_string(kMaxNameBytes) + " bytes");
    }
    out += '/';
    out += c;
  }
  if (out.size() > kMaxPathBytes) {
    return Fail(ErrorCode::kIntegrity,
                "path longer than " + std::to_string(kMaxPathBytes) + " bytes");
  }
  return out;
}

Result<DebContents> ReadDeb(std::string_view deb_bytes, std::string_view what,
                            std::optional<uint64_t> max_unpacked) {
  return WithContext(
      ReadDebMembers(deb_bytes, max_unpacked.value_or(DefaultMaxUnpacked(deb_bytes.size()))), what);
}

uint64_t DefaultMaxUnpacked(uint64_t deb_size) {
  constexpr uint64_t kRatio = 64;
  constexpr uint64_t kFloor = uint64_t{256} << 20;
  constexpr uint64_t kCeiling = uint64_t{4} << 30;
  if (deb_size > kCeiling / kRatio) return kCeiling;
  return std::max(kFloor, deb_size * kRatio);
}

}  // namespace hardbase::deb
