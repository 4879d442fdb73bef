// Reading a .deb: its control files and the entries of its data archive, checked for safety.
//
// A .deb is an `ar` archive holding `debian-binary`, `control.tar[.gz|.xz|.zst]` and
// `data.tar[.gz|.xz|.zst]`; libarchive reads all three layers. ReadDeb is pure (bytes in, values
// out): the caller has already checked the .deb's sha256 against the lock, but the contents are
// still treated as untrusted, because a verified package can still carry entries that would write
// outside an image's root.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace hardbase::deb {

enum class EntryType { kFile, kDirectory, kSymlink, kHardlink };

// One entry of data.tar, as the package ships it.
struct DataEntry {
  // Absolute and normalised: "/usr/bin/foo" (the archive's "./usr/bin/foo"), no trailing slash,
  // no "." or ".." components, never "/" itself (the archive's "./" entry is skipped).
  std::string path;
  EntryType type = EntryType::kFile;
  uint32_t mode = 0;  // permission bits including setuid/setgid/sticky (<= 07777)
  uint32_t uid = 0;
  uint32_t gid = 0;
  int64_t mtime = 0;  // seconds since the epoch, as recorded in the archive
  // kSymlink: the target exactly as written (relative or absolute).
  // kHardlink: the normalised absolute path of an earlier kFile entry of the same archive.
  std::string link_target;
  // kFile: the file's bytes (shared, so that copies of an entry are cheap). Null otherwise.
  std::shared_ptr<const std::string> content;
};

struct DebContents {
  // Members of control.tar by base name: "control", "md5sums", "conffiles", "postinst", ...
  std::map<std::string, std::string> control_files;
  std::vector<DataEntry> data;  // in archive order
};

// Reads a whole .deb. `what` names it in messages (e.g. "libc6_2.36-9_amd64.deb").
//
// Fails with kIntegrity, naming the package and the entry, for anything that could escape or
// subvert an image root: an absolute member path, a ".." component, a symlink whose target
// resolves outside the root when followed from the link's directory (absolute targets are
// interpreted inside the root and are allowed), a hard link to anything but an earlier regular file
// of the same archive, device nodes, FIFOs and sockets, a name whose last component starts with
// ".wh." (an OCI whiteout, which would delete other packages' files from an image), a path
// component over 255 bytes and a path or symlink target over 4095 bytes (Linux's NAME_MAX and
// PATH_MAX). A malformed archive (bad ar magic, no control.tar or data.tar, an unsupported
// compression, a truncated member) fails with kIntegrity too.
//
// File contents are held in memory: `max_unpacked` (by default DefaultMaxUnpacked of the .deb's
// size) bounds their total size, kIntegrity beyond it. The tar members are decompressed as a
// stream by decoders bounded in memory (decompress.h), so neither a decompression bomb nor a
// lying xz index, dictionary or zstd window can exhaust memory.
Result<DebContents> ReadDeb(std::string_view deb_bytes, std::string_view what,
                            std::optional<uint64_t> max_unpacked = std::nullopt);

// The default bound on the unpacked contents of a .deb of `deb_size` bytes: 64 times its size,
// at least 256 MiB and at most 4 GiB. Real packages unpack to a few times their size (openjdk's
// 44 MB to 193 MB), so only a decompression bomb meets it, and it meets it early.
uint64_t DefaultMaxUnpacked(uint64_t deb_size);

// The normalised absolute form of an archive member name ("./usr/bin/" -> "/usr/bin"), or an
// error message for an absolute or ".."-containing name. "" for the root itself ("./" or ".").
Result<std::string> NormaliseMemberPath(std::string_view name);

}  // namespace hardbase::deb
