#include "oci/tar_writer.h"

#include <algorithm>
#include <cstring>

namespace hardbase::oci {
namespace {

// Field offsets and widths of a ustar header (POSIX.1-1988).
constexpr size_t kNameOff = 0, kNameLen = 100;
constexpr size_t kModeOff = 100, kUidOff = 108, kGidOff = 116, kIdLen = 8;
constexpr size_t kSizeOff = 124, kMtimeOff = 136, kTimeLen = 12;
constexpr size_t kChksumOff = 148, kChksumLen = 8;
constexpr size_t kTypeOff = 156;
constexpr size_t kLinkOff = 157, kLinkLen = 100;
constexpr size_t kMagicOff = 257;
constexpr size_t kDevMajorOff = 329, kDevMinorOff = 337;
constexpr size_t kPrefixOff = 345, kPrefixLen = 155;

// Largest value an octal field of `width` bytes holds (width - 1 digits and a NUL).
constexpr uint64_t MaxOctal(size_t width) { return (uint64_t{1} << (3 * (width - 1))) - 1; }

void PutOctal(char* field, size_t width, uint64_t value) {
  field[width - 1] = '\0';
  for (size_t i = width - 1; i-- > 0; value >>= 3) field[i] = static_cast<char>('0' + (value & 7));
}

void PutString(char* field, std::string_view s) { s.copy(field, s.size()); }

// Appends the PAX record "<length> <key>=<value>\n", whose length counts its own digits.
void AppendPaxRecord(std::string_view key, std::string_view value, std::string* records) {
  size_t base = key.size() + value.size() + 3;  // ' ', '=', '\n'
  size_t length = base + 1;
  while (length != base + std::to_string(length).size()) ++length;
  *records += std::to_string(length);
  *records += ' ';
  *records += key;
  *records += '=';
  *records += value;
  *records += '\n';
}

// Appends one 512-byte header block; `fill` writes the fields, the checksum is added after.
template <class Fill>
void AppendBlock(std::string* out, Fill fill) {
  size_t start = out->size();
  out->append(kTarBlockSize, '\0');
  char* h = out->data() + start;
  fill(h);
  PutString(h + kMagicOff, "ustar");  // NUL-terminated, then the version
  PutString(h + kMagicOff + 6, "00");
  PutOctal(h + kDevMajorOff, kIdLen, 0);
  PutOctal(h + kDevMinorOff, kIdLen, 0);
  std::memset(h + kChksumOff, ' ', kChksumLen);
  unsigned sum = 0;
  for (size_t i = 0; i < kTarBlockSize; ++i) sum += static_cast<unsigned char>(h[i]);
  PutOctal(h + kChksumOff, kChksumLen - 1, sum);  // six digits, NUL, and the space already there
}

char TypeFlag(LayerEntryType type) {
  switch (type) {
    case LayerEntryType::kHardlink:
      return '1';
    case LayerEntryType::kSymlink:
      return '2';
    case LayerEntryType::kDirectory:
      return '5';
    case LayerEntryType::kFile:
      break;
  }
  return '0';
}

}  // namespace

void AppendTarHeader(const LayerEntry& entry, uint64_t size, std::string* out) {
  std::string name = entry.path.substr(entry.path.starts_with('/') ? 1 : 0);
  if (entry.type == LayerEntryType::kDirectory) name += '/';
  std::string_view link = entry.link_target;
  if (entry.type == LayerEntryType::kHardlink && link.starts_with('/')) link.remove_prefix(1);

  // A name too long for the name field alone may still fit split at a '/' into prefix and name.
  std::string_view ustar_name = name, ustar_prefix;
  std::string records;
  if (name.size() > kNameLen) {
    size_t limit = std::min(name.size() - 1, kPrefixLen + 1);  // a trailing '/' stays in the name
    size_t slash = std::string_view(name).substr(0, limit).rfind('/');
    if (slash != std::string_view::npos && slash > 0 && name.size() - slash - 1 <= kNameLen) {
      ustar_prefix = std::string_view(name).substr(0, slash);
      ustar_name = std::string_view(name).substr(slash + 1);
    } else {
      AppendPaxRecord("path", name, &records);
      ustar_name = ustar_name.substr(0, kNameLen);
    }
  }
  if (link.size() > kLinkLen) {
    AppendPaxRecord("linkpath", link, &records);
    link = link.substr(0, kLinkLen);
  }
  auto numeric = [&](std::string_view key, uint64_t value, size_t width) -> uint64_t {
    if (value <= MaxOctal(width)) return value;
    AppendPaxRecord(key, std::to_string(value), &records);
    return 0;
  };
  uint64_t uid = numeric("uid", entry.uid, kIdLen);
  uint64_t gid = numeric("gid", entry.gid, kIdLen);
  uint64_t ustar_size = numeric("size", size, kTimeLen);
  uint64_t mtime = 0;
  if (entry.mtime < 0) {
    AppendPaxRecord("mtime", std::to_string(entry.mtime), &records);
  } else {
    mtime = numeric("mtime", static_cast<uint64_t>(entry.mtime), kTimeLen);
  }

  if (!records.empty()) {
    std::string_view base = name;
    if (base.ends_with('/')) base.remove_suffix(1);
    std::string pax_name = "PaxHeaders/" + std::string(base.substr(base.rfind('/') + 1));
    AppendBlock(out, [&](char* h) {
      PutString(h + kNameOff, std::string_view(pax_name).substr(0, kNameLen));
      PutOctal(h + kModeOff, kIdLen, 0644);
      PutOctal(h + kUidOff, kIdLen, 0);
      PutOctal(h + kGidOff, kIdLen, 0);
      PutOctal(h + kSizeOff, kTimeLen, records.size());
      PutOctal(h + kMtimeOff, kTimeLen, 0);
      h[kTypeOff] = 'x';
    });
    *out += records;
    out->append(TarPadding(records.size()), '\0');
  }

  AppendBlock(out, [&](char* h) {
    PutString(h + kNameOff, ustar_name);
    PutString(h + kPrefixOff, ustar_prefix);
    PutOctal(h + kModeOff, kIdLen, entry.mode & 07777);
    PutOctal(h + kUidOff, kIdLen, uid);
    PutOctal(h + kGidOff, kIdLen, gid);
    PutOctal(h + kSizeOff, kTimeLen, ustar_size);
    PutOctal(h + kMtimeOff, kTimeLen, mtime);
    h[kTypeOff] = TypeFlag(entry.type);
    PutString(h + kLinkOff, link);
  });
}

bool TarPathLess(std::string_view a, std::string_view b) {
  auto [ia, ib] = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
  if (ia == a.end() || ib == b.end()) return ia == a.end() && ib != b.end();
  if (*ia == '/') return true;
  if (*ib == '/') return false;
  return static_cast<unsigned char>(*ia) < static_cast<unsigned char>(*ib);
}

}  // namespace hardbase::oci
