#include "deb/deb_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <lzma.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <limits>
#include <optional>
#include <thread>
#include <unordered_map>

namespace hardbase::deb {
namespace {

// Charged against max_unpacked for every entry on top of its contents and names (one tar header),
// so that an archive of millions of empty entries is bounded too.
constexpr uint64_t kEntryCost = 512;

struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveFree>;

// `text` from an archive, fit for a one-line message: control characters become \xNN.
std::string Printable(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (c >= 0x20 && c != 0x7f) {
      out += static_cast<char>(c);
    } else {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  return out;
}

std::string ArchiveError(archive* a) {
  const char* msg = archive_error_string(a);
  return msg ? msg : "corrupt archive";
}

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

// Reads the current entry's `size` bytes straight into `out`, charging them to `budget` first.
Result<void> ReadContent(archive* tar, archive_entry* entry, Budget& budget, std::string& out) {
  la_int64_t size = archive_entry_size(entry);
  if (size < 0) return Fail(ErrorCode::kIntegrity, "negative size");
  HB_TRY_VOID(budget.Take(static_cast<uint64_t>(size)));
  out.resize(static_cast<size_t>(size));
  for (size_t done = 0; done < out.size();) {
    la_ssize_t n = archive_read_data(tar, out.data() + done, out.size() - done);
    if (n < 0) return Fail(ErrorCode::kIntegrity, ArchiveError(tar));
    if (n == 0) return Fail(ErrorCode::kIntegrity, "truncated contents");
    done += static_cast<size_t>(n);
  }
  return {};
}

// The libarchive filter a tar member's name promises ("data.tar.xz" -> xz), for the compressions
// dpkg-deb writes that libarchive decompresses in-process; nullopt for any other name.
std::optional<int> FilterFor(std::string_view member, std::string_view prefix) {
  std::string_view suffix = member.substr(prefix.size());
  if (suffix.empty()) return ARCHIVE_FILTER_NONE;
  if (suffix == ".gz") return ARCHIVE_FILTER_GZIP;
  if (suffix == ".xz") return ARCHIVE_FILTER_XZ;
  if (suffix == ".zst") return ARCHIVE_FILTER_ZSTD;
  return std::nullopt;
}

// The unpacked size an xz stream's index records (read from its end), so the output is allocated
// once; nullopt when the stream has padding, several streams or a damaged index (the decoder then
// finds out what is wrong).
std::optional<uint64_t> XzUnpackedSize(std::string_view xz) {
  if (xz.size() < 2 * LZMA_STREAM_HEADER_SIZE) return std::nullopt;
  const auto* end = reinterpret_cast<const uint8_t*>(xz.data() + xz.size());
  lzma_stream_flags footer;
  if (lzma_stream_footer_decode(&footer, end - LZMA_STREAM_HEADER_SIZE) != LZMA_OK ||
      footer.backward_size > xz.size() - 2 * LZMA_STREAM_HEADER_SIZE) {
    return std::nullopt;
  }
  lzma_index* index = nullptr;
  uint64_t memlimit = uint64_t{64} << 20;
  size_t pos = 0;
  const uint8_t* start = end - LZMA_STREAM_HEADER_SIZE - footer.backward_size;
  if (lzma_index_buffer_decode(&index, &memlimit, nullptr, start, &pos, footer.backward_size) !=
      LZMA_OK) {
    return std::nullopt;
  }
  uint64_t size = lzma_index_uncompressed_size(index);
  lzma_index_end(index, nullptr);
  return size;
}

// The xz stream `xz` decompressed on every core: dpkg-deb compresses big members in independent
// blocks (8 for openjdk's 190 MB data.tar), which liblzma's threaded decoder unpacks in parallel,
// where libarchive would use one core. kIntegrity beyond `max_size` bytes or on a corrupt stream.
Result<std::string> DecompressXz(std::string_view xz, uint64_t max_size) {
  static constexpr std::string_view kMagic(
      "\xfd"
      "7zXZ\0",
      6);
  if (!xz.starts_with(kMagic)) {
    return Fail(ErrorCode::kIntegrity, "compressed differently than its name says");
  }
  lzma_stream stream = LZMA_STREAM_INIT;
  lzma_mt mt{};
  mt.threads = std::max(1u, std::thread::hardware_concurrency());
  mt.memlimit_threading = uint64_t{1} << 30;
  mt.memlimit_stop = uint64_t{4} << 30;
  if (lzma_stream_decoder_mt(&stream, &mt) != LZMA_OK) {
    return Fail(ErrorCode::kInternal, "xz: cannot start the decoder");
  }
  std::unique_ptr<lzma_stream, void (*)(lzma_stream*)> guard(&stream, lzma_end);
  std::string out;
  out.resize(std::min<uint64_t>(max_size + 1, XzUnpackedSize(xz).value_or(xz.size() * 4 + 4096)));
  stream.next_in = reinterpret_cast<const uint8_t*>(xz.data());
  stream.avail_in = xz.size();
  for (;;) {
    // Output goes in 1 MiB steps: given one huge output buffer, liblzma 5.4 decodes in the
    // calling thread only.
    size_t done = stream.total_out;
    if (done > max_size)
      return Fail(ErrorCode::kIntegrity, "unpacks to more than the allowed size");
    if (done == out.size()) out.resize(std::min<uint64_t>(max_size + 1, out.size() * 2));
    stream.next_out = reinterpret_cast<uint8_t*>(out.data()) + done;
    stream.avail_out = std::min<size_t>(out.size() - done, size_t{1} << 20);
    lzma_ret r = lzma_code(&stream, LZMA_FINISH);
    if (r == LZMA_STREAM_END) break;
    if (r != LZMA_OK) return Fail(ErrorCode::kIntegrity, "xz: corrupt or truncated stream");
  }
  if (stream.total_out > max_size) {
    return Fail(ErrorCode::kIntegrity, "unpacks to more than the allowed size");
  }
  out.resize(stream.total_out);
  return out;
}

// Calls `on_entry` with every entry of the tar archive `bytes` compressed with `filter`, the member
// called `member`; errors come back as "<member> entry <name>: ..." or "<member>: ...".
// `max_size` bounds an xz member's unpacked tar.
Result<void> ForEachTarEntry(
    std::string_view bytes, const std::string& member, int filter, uint64_t max_size,
    const std::function<Result<void>(archive*, archive_entry*, const char*)>& on_entry) {
  std::string unpacked;
  if (filter == ARCHIVE_FILTER_XZ) {
    HB_TRY(unpacked, WithContext(DecompressXz(bytes, max_size), member));
    bytes = unpacked;
    filter = ARCHIVE_FILTER_NONE;
  }
  ArchivePtr tar(archive_read_new());
  // In-process filters only (none runs an external program); no filter = plain tar.
  archive_read_support_filter_gzip(tar.get());
  archive_read_support_filter_xz(tar.get());
  archive_read_support_filter_zstd(tar.get());
  archive_read_support_format_tar(tar.get());
  auto broken = [&] {
    return Fail(ErrorCode::kIntegrity, member + ": " + ArchiveError(tar.get()));
  };
  if (archive_read_open_memory(tar.get(), bytes.data(), bytes.size()) != ARCHIVE_OK) {
    return broken();
  }
  if (archive_filter_code(tar.get(), 0) != filter) {
    return Fail(ErrorCode::kIntegrity, member + ": compressed differently than its name says");
  }
  for (;;) {
    archive_entry* entry = nullptr;
    int r = archive_read_next_header(tar.get(), &entry);
    if (r == ARCHIVE_EOF) return {};
    // ARCHIVE_WARN is also a name libarchive could not convert to the locale's character set
    // (a UTF-8 PAX name in the C locale); the name is then kept as the archive's bytes.
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) return broken();
    const char* name = archive_entry_pathname(entry);
    if (name == nullptr) return Fail(ErrorCode::kIntegrity, member + ": entry without a name");
    HB_TRY_VOID(
        WithContext(on_entry(tar.get(), entry, name), member + " entry " + Printable(name)));
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

Result<void> ReadData(std::string_view bytes, const std::string& member, int filter, Budget& budget,
                      std::vector<DataEntry>& out) {
  Seen seen;
  return ForEachTarEntry(bytes, member, filter, budget.TarBound(),
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
Result<void> ReadControl(std::string_view bytes, const std::string& member, int filter,
                         Budget& budget, std::map<std::string, std::string>& out) {
  return ForEachTarEntry(
      bytes, member, filter, budget.TarBound(),
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
    if (r != ARCHIVE_OK) return Fail(ErrorCode::kIntegrity, ArchiveError(ar));
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
  ArchivePtr ar(archive_read_new());
  archive_read_support_format_ar(ar.get());
  if (archive_read_open_memory(ar.get(), deb_bytes.data(), deb_bytes.size()) != ARCHIVE_OK) {
    return fail("ar archive: " + ArchiveError(ar.get()));
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
    if (r != ARCHIVE_OK) return fail("ar archive: " + ArchiveError(ar.get()));
    const char* raw_name = archive_entry_pathname(entry);
    std::string name = Printable(raw_name ? raw_name : "");
    if (name.starts_with('_')) continue;
    std::string_view expected = kMembers[next];
    if (!name.starts_with(expected) || (next == 0 && name != expected)) {
      return fail("unexpected member '" + name + "' where " + std::string(expected) + " belongs");
    }
    std::optional<int> filter = FilterFor(name, expected);
    if (next > 0 && !filter) return fail(name + ": unsupported compression");
    HB_TRY(std::string_view bytes, WithContext(ReadMember(ar.get(), entry, copy), name));
    if (next == 0 && !bytes.starts_with("2.")) {
      return fail("debian-binary: unsupported format version '" +
                  Printable(bytes.substr(0, std::min(bytes.find('\n'), size_t{16}))) + "'");
    }
    if (next == 1) HB_TRY_VOID(ReadControl(bytes, name, *filter, budget, out.control_files));
    if (next == 2) HB_TRY_VOID(ReadData(bytes, name, *filter, budget, out.data));
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
    out += '/';
    out += c;
  }
  return out;
}

Result<DebContents> ReadDeb(std::string_view deb_bytes, std::string_view what,
                            uint64_t max_unpacked) {
  return WithContext(ReadDebMembers(deb_bytes, max_unpacked), what);
}

}  // namespace hardbase::deb
