#include "support/tree_snapshot.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <filesystem>

#include "base/sha256.h"

namespace hardbase::testing {

std::map<std::string, std::string> TreeSnapshot(const std::string& dir,
                                                const std::set<std::string>& skip) {
  namespace fs = std::filesystem;
  std::map<std::string, std::string> out;
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(dir, ec))) return out;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    // Lexical: resolving would follow the links (and loops) a hostile test tree holds.
    std::string rel = it->path().lexically_relative(dir).string();
    if (skip.contains(rel)) {
      it.disable_recursion_pending();
      continue;
    }
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0) {
      out[rel] = "unreadable";
    } else if (S_ISDIR(st.st_mode)) {
      out[rel] = "dir";
    } else if (S_ISLNK(st.st_mode)) {
      out[rel] = "link " + fs::read_symlink(it->path(), ec).string();
    } else if (S_ISREG(st.st_mode)) {
      out[rel] = fmt::format("file {:o} {}", st.st_mode & 07777,
                             Sha256File(it->path().string()).value_or("unreadable"));
    } else {
      out[rel] = fmt::format("other {:o}", st.st_mode);
    }
  }
  return out;
}

}  // namespace hardbase::testing
