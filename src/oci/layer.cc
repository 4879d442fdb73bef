#include "oci/layer.h"

#include <libdeflate.h>
#include <zstd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <set>

#include "base/parallel.h"
#include "oci/tar_writer.h"

namespace hardbase::oci {
namespace {

// Compression's names, indexed by the enum.
constexpr std::array<std::string_view, 2> kCompressionNames = {"gzip", "zstd"};

// Fixed compression parameters: changing any of them changes every layer digest.
constexpr size_t kChunkSize = size_t{8} << 20;  // tar bytes per gzip member / zstd frame
// libdeflate level 6: on a 193 MB JRE tar, 1.5% smaller than GNU gzip -6 at 84 MB/s per core;
// level 7 saves 0.35% at 66 MB/s, level 9 another 0.5% at 27 MB/s: not worth the build time.
constexpr int kGzipLevel = 6;
constexpr int kZstdLevel = 3;
// ID1 ID2, CM deflate, no flags, MTIME 0, XFL 0, OS 255 (unknown). libdeflate writes the same
// bytes except XFL, which it sets from the level.
constexpr unsigned char kGzipHeader[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};

Error EntryError(const LayerEntry& entry, std::string_view what) {
  return Error{ErrorCode::kSpec, "layer entry " + entry.path + ": " + std::string(what)};
}

// Absolute, no empty, "." or ".." component, no trailing '/', not the root itself.
bool IsNormalisedAbsolute(std::string_view path) {
  if (path.size() < 2 || path[0] != '/' || path.back() == '/') return false;
  if (path.find('\0') != std::string_view::npos) return false;
  for (size_t start = 1; start <= path.size();) {
    size_t end = std::min(path.find('/', start), path.size());
    std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

Result<void> CheckEntry(const LayerEntry& entry) {
  if (!IsNormalisedAbsolute(entry.path)) {
    return Fail(EntryError(entry, "not a normalised absolute path"));
  }
  if (entry.mode > 07777) return Fail(EntryError(entry, "mode has more than permission bits"));
  bool link = entry.type == LayerEntryType::kSymlink || entry.type == LayerEntryType::kHardlink;
  if (link && entry.link_target.empty()) return Fail(EntryError(entry, "empty link target"));
  if (entry.link_target.find('\0') != std::string::npos) {
    return Fail(EntryError(entry, "NUL byte in link target"));
  }
  return {};
}

uint64_t ContentSize(const LayerEntry& entry) { return entry.content ? entry.content->size() : 0; }

// Chunk codecs: each compresses one chunk into a complete gzip member / zstd frame. One per
// thread at a time, reused for the chunks after.
class GzipCodec {
 public:
  GzipCodec() : compressor_(libdeflate_alloc_compressor(kGzipLevel)) {}
  ~GzipCodec() { libdeflate_free_compressor(compressor_); }
  GzipCodec(const GzipCodec&) = delete;
  GzipCodec& operator=(const GzipCodec&) = delete;

  // The compressed chunk, or an empty string on failure.
  std::string Compress(std::string_view in) {
    if (compressor_ == nullptr) return {};
    scratch_.resize(libdeflate_gzip_compress_bound(compressor_, in.size()));
    size_t n = libdeflate_gzip_compress(compressor_, in.data(), in.size(), scratch_.data(),
                                        scratch_.size());
    if (n < sizeof kGzipHeader) return {};
    std::memcpy(scratch_.data(), kGzipHeader, sizeof kGzipHeader);
    return std::string(scratch_.data(), n);
  }

 private:
  libdeflate_compressor* compressor_;
  std::vector<char> scratch_;
};

class ZstdCodec {
 public:
  ZstdCodec() : cctx_(ZSTD_createCCtx()) {
    if (cctx_ == nullptr) return;
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, kZstdLevel);
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 1);
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_contentSizeFlag, 1);
  }
  ~ZstdCodec() { ZSTD_freeCCtx(cctx_); }
  ZstdCodec(const ZstdCodec&) = delete;
  ZstdCodec& operator=(const ZstdCodec&) = delete;

  std::string Compress(std::string_view in) {
    if (cctx_ == nullptr) return {};
    scratch_.resize(ZSTD_compressBound(in.size()));
    size_t n = ZSTD_compress2(cctx_, scratch_.data(), scratch_.size(), in.data(), in.size());
    if (ZSTD_isError(n)) return {};
    return std::string(scratch_.data(), n);
  }

 private:
  ZSTD_CCtx* cctx_;
  std::vector<char> scratch_;
};

// Compresses the chunks of `in` on up to `threads` threads (0: one per core) and concatenates
// them in order.
template <class Codec>
Result<std::string> CompressChunks(std::string_view in, unsigned threads) {
  size_t count = std::max<size_t>(1, (in.size() + kChunkSize - 1) / kChunkSize);
  std::vector<std::string> parts(count);
  // Codecs between chunks: a task takes one (or makes one when none is free) and puts it back, so
  // there are never more codecs than threads.
  std::mutex mutex;
  std::vector<std::unique_ptr<Codec>> idle;
  HB_TRY_VOID(ParallelFor(count, threads, [&](size_t i) -> Result<void> {
    std::unique_ptr<Codec> codec;
    {
      std::lock_guard lock(mutex);
      if (!idle.empty()) {
        codec = std::move(idle.back());
        idle.pop_back();
      }
    }
    if (!codec) codec = std::make_unique<Codec>();
    parts[i] = codec->Compress(in.substr(std::min(in.size(), i * kChunkSize), kChunkSize));
    if (parts[i].empty()) {
      return Fail(ErrorCode::kInternal, "compress layer: the compressor failed");
    }
    std::lock_guard lock(mutex);
    idle.push_back(std::move(codec));
    return {};
  }));

  size_t total = 0;
  for (const auto& part : parts) total += part.size();
  std::string out;
  out.reserve(total);
  for (auto& part : parts) {
    out += part;
    std::string().swap(part);
  }
  return out;
}

}  // namespace

Result<std::string> WriteLayerTar(std::vector<LayerEntry> entries) {
  for (const auto& entry : entries) HB_TRY_VOID(CheckEntry(entry));
  std::sort(entries.begin(), entries.end(),
            [](const LayerEntry& a, const LayerEntry& b) { return TarPathLess(a.path, b.path); });
  auto find = [&](std::string_view path) -> const LayerEntry* {
    auto it = std::lower_bound(
        entries.begin(), entries.end(), path,
        [](const LayerEntry& e, std::string_view p) { return TarPathLess(e.path, p); });
    return it != entries.end() && it->path == path ? &*it : nullptr;
  };

  // Tar readers need a hard link's target earlier in the archive, so of a file and its links the
  // first path in order carries the content (with the file's metadata) and the others link to it.
  std::vector<size_t> first(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    first[i] = i;
    if (i > 0 && entries[i].path == entries[i - 1].path) {
      return Fail(EntryError(entries[i], "duplicate path"));
    }
  }
  std::vector<size_t> target_of(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].type != LayerEntryType::kHardlink) continue;
    const LayerEntry* target = find(entries[i].link_target);
    if (target == nullptr || target->type != LayerEntryType::kFile) {
      return Fail(EntryError(entries[i], "hard link to " + entries[i].link_target +
                                             ", which is not a regular file in the layer"));
    }
    size_t t = static_cast<size_t>(target - entries.data());
    target_of[i] = t;
    first[t] = std::min(first[t], i);
  }

  // The regular file whose metadata and content entry i has, and the entry carrying that content.
  auto file_of = [&](size_t i) -> size_t {
    return entries[i].type == LayerEntryType::kHardlink ? target_of[i] : i;
  };
  auto has_content = [&](size_t i) {
    LayerEntryType type = entries[i].type;
    return (type == LayerEntryType::kFile || type == LayerEntryType::kHardlink) &&
           first[file_of(i)] == i;
  };
  size_t reserve = kTarTrailerSize;
  for (size_t i = 0; i < entries.size(); ++i) {
    uint64_t size = has_content(i) ? ContentSize(entries[file_of(i)]) : 0;
    reserve += 2 * kTarBlockSize + size + TarPadding(size);  // room for a PAX header
  }
  std::string out;
  out.reserve(reserve);
  for (size_t i = 0; i < entries.size(); ++i) {
    const LayerEntry& entry = entries[i];
    if (entry.type != LayerEntryType::kFile && entry.type != LayerEntryType::kHardlink) {
      AppendTarHeader(entry, 0, &out);
      continue;
    }
    const LayerEntry& file = entries[file_of(i)];
    bool carries = has_content(i);
    const LayerEntry* header = &entry;
    LayerEntry moved;  // the file's metadata at this entry's path
    if (&file != &entry || !carries) {
      moved = file;
      moved.path = entry.path;
      if (!carries) {
        moved.type = LayerEntryType::kHardlink;
        moved.link_target = entries[first[file_of(i)]].path;
      }
      header = &moved;
    }
    AppendTarHeader(*header, carries ? ContentSize(file) : 0, &out);
    if (carries && file.content) {
      out += *file.content;
      out.append(TarPadding(file.content->size()), '\0');
    }
  }
  out.append(kTarTrailerSize, '\0');
  return out;
}

std::span<const std::string_view> CompressionNames() { return kCompressionNames; }

std::string_view CompressionName(Compression compression) {
  return kCompressionNames[static_cast<size_t>(compression)];
}

Result<Compression> ParseCompression(std::string_view name) {
  for (size_t i = 0; i < kCompressionNames.size(); ++i) {
    if (kCompressionNames[i] == name) return static_cast<Compression>(i);
  }
  return Fail(ErrorCode::kUsage,
              "unknown compression '" + std::string(name) + "' (expected gzip or zstd)");
}

std::string CompressionFingerprint(Compression compression) {
  if (compression == Compression::kGzip) {
    return "gzip libdeflate " LIBDEFLATE_VERSION_STRING " level " + std::to_string(kGzipLevel) +
           " chunk " + std::to_string(kChunkSize);
  }
  return std::string("zstd ") + ZSTD_versionString() + " level " + std::to_string(kZstdLevel) +
         " chunk " + std::to_string(kChunkSize);
}

std::string_view LayerMediaType(Compression compression) {
  return compression == Compression::kGzip ? "application/vnd.oci.image.layer.v1.tar+gzip"
                                           : "application/vnd.oci.image.layer.v1.tar+zstd";
}

Result<std::string> CompressLayer(std::string_view tar, Compression compression, unsigned threads) {
  if (compression == Compression::kGzip) return CompressChunks<GzipCodec>(tar, threads);
  return CompressChunks<ZstdCodec>(tar, threads);
}

namespace {

// A ustar numeric field: octal digits up to a NUL or space.
std::optional<uint64_t> TarOctal(std::string_view field) {
  uint64_t v = 0;
  size_t i = 0;
  while (i < field.size() && field[i] == ' ') ++i;
  size_t digits = 0;
  for (; i < field.size() && field[i] >= '0' && field[i] <= '7'; ++i, ++digits) {
    if (v >> 60) return std::nullopt;
    v = v * 8 + static_cast<uint64_t>(field[i] - '0');
  }
  if (digits == 0) return std::nullopt;
  return v;
}

// A NUL-terminated header field.
std::string_view TarString(std::string_view field) { return field.substr(0, field.find('\0')); }

}  // namespace

Result<std::string> MergeLayerTars(const std::vector<std::string>& tars) {
  std::string out;
  std::set<std::string, std::less<>> seen;
  for (size_t t = 0; t < tars.size(); ++t) {
    std::string_view tar = tars[t];
    auto bad = [&](std::string_view what) {
      return Fail(ErrorCode::kIntegrity,
                  "merge layers: tar " + std::to_string(t) + ": " + std::string(what));
    };
    size_t pos = 0;
    for (;;) {
      if (pos + kTarBlockSize > tar.size()) return bad("truncated");
      std::string_view header = tar.substr(pos, kTarBlockSize);
      if (header.find_first_not_of('\0') == std::string_view::npos) break;  // end of archive
      const size_t start = pos;
      std::string path;
      std::optional<uint64_t> pax_size;
      if (header[156] == 'x') {  // PAX records for the header that follows
        auto size = TarOctal(header.substr(124, 12));
        if (!size || *size > tar.size() - pos - kTarBlockSize) return bad("bad PAX header");
        std::string_view records = tar.substr(pos + kTarBlockSize, *size);
        while (!records.empty()) {
          size_t space = records.find(' ');
          uint64_t n = 0;
          for (size_t i = 0; i < space && i < records.size(); ++i) {
            if (records[i] < '0' || records[i] > '9' || n > records.size()) {
              return bad("bad PAX record");
            }
            n = n * 10 + static_cast<uint64_t>(records[i] - '0');
          }
          if (space == std::string_view::npos || n <= space + 1 || n > records.size()) {
            return bad("bad PAX record");
          }
          std::string_view record = records.substr(space + 1, n - space - 2);
          if (record.starts_with("path=")) path = record.substr(5);
          if (record.starts_with("size=")) {
            uint64_t v = 0;
            for (char c : record.substr(5)) {
              if (c < '0' || c > '9' || v > (uint64_t{1} << 50)) return bad("bad PAX size");
              v = v * 10 + static_cast<uint64_t>(c - '0');
            }
            pax_size = v;
          }
          records.remove_prefix(n);
        }
        pos += kTarBlockSize + *size + TarPadding(*size);
        if (pos + kTarBlockSize > tar.size()) return bad("truncated");
        header = tar.substr(pos, kTarBlockSize);
      }
      auto size = pax_size ? pax_size : TarOctal(header.substr(124, 12));
      if (!size || *size > tar.size() - pos - kTarBlockSize) return bad("bad header");
      if (path.empty()) {
        std::string_view prefix = TarString(header.substr(345, 155));
        path = std::string(prefix) + (prefix.empty() ? "" : "/") +
               std::string(TarString(header.substr(0, 100)));
      }
      while (path.ends_with('/')) path.pop_back();
      pos += kTarBlockSize + *size + TarPadding(*size);
      if (pos > tar.size()) return bad("truncated");
      if (seen.insert(path).second) out.append(tar.substr(start, pos - start));
    }
  }
  out.append(kTarTrailerSize, '\0');
  return out;
}

}  // namespace hardbase::oci
