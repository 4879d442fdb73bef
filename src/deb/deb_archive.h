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
// of the same archive, and device nodes, FIFOs and sockets. A malformed archive (bad ar magic, no
// control.tar or data.tar, an unsupported compression, a truncated member) fails with kIntegrity too.
// Everything is decompressed in memory; `max_unpacked` bounds the total size of data.tar's file
// contents (kIntegrity beyond it), so a decompression bomb cannot exhaust memory.
Result<DebContents> ReadDeb(std::string_view deb_bytes, std::string_view what,
                            uint64_t max_unpacked = uint64_t{4} << 30);

// The normalised absolute form of an archive member name ("./usr/bin/" -> "/usr/bin"), or an
// error message for an absolute or ".."-containing name. "" for the root itself ("./" or ".").
Result<std::string> NormaliseMemberPath(std::string_view name);

}  // namespace hardbase::deb
