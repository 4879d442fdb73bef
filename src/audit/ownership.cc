#include "audit/ownership.h"

#include <deque>
#include <vector>

#include "base/strings.h"
#include "image/installed_packages.h"

namespace hardbase::audit {
namespace {

constexpr std::string_view kInfoDir = "var/lib/dpkg/info/";
constexpr int kMaxLinks = 40;

void Split(std::string_view path, std::deque<std::string>& out, bool front) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = std::min(path.find('/', start), path.size());
    if (end > start) parts.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  if (front) {
    out.insert(out.begin(), parts.begin(), parts.end());
  } else {
    out.insert(out.end(), parts.begin(), parts.end());
  }
}

// The package a list file names: "info/libc6:amd64.list" -> "libc6", "status.d/bash.md5sums" ->
// "bash".
std::string ListPackage(std::string_view path) {
  std::string_view name = path.substr(path.rfind('/') + 1);
  name = name.substr(0, name.rfind('.'));
  return std::string(name.substr(0, name.find(':')));
}

}  // namespace

bool IsFileListPath(std::string_view path) {
  if (path.starts_with(kInfoDir)) {
    std::string_view name = path.substr(kInfoDir.size());
    return name.find('/') == std::string_view::npos && name.size() > 5 && name.ends_with(".list");
  }
  std::string prefix = std::string(image::kDpkgStatusDir) + "/";
  if (path.starts_with(prefix)) {
    std::string_view name = path.substr(prefix.size());
    return name.find('/') == std::string_view::npos && name.size() > 8 &&
           name.ends_with(".md5sums") && !name.starts_with('.');
  }
  return false;
}

std::optional<std::string> ResolveInTree(const oci::ImageTree& tree, std::string_view path,
                                         bool follow_last) {
  std::deque<std::string> rest;
  Split(path, rest, false);
  std::vector<std::string> done;
  int links = 0;
  auto joined = [&done] {
    std::string out;
    for (const auto& part : done) out += (out.empty() ? "" : "/") + part;
    return out;
  };
  while (!rest.empty()) {
    std::string part = std::move(rest.front());
    rest.pop_front();
    if (part == ".") continue;
    if (part == "..") {
      if (!done.empty()) done.pop_back();
      continue;
    }
    done.push_back(std::move(part));
    if (rest.empty() && !follow_last) break;
    auto it = tree.nodes.find(joined());
    if (it == tree.nodes.end() || it->second.type != oci::TreeNode::Type::kSymlink) continue;
    if (++links > kMaxLinks) return std::nullopt;
    const std::string& target = it->second.link_target;
    done.pop_back();
    if (target.starts_with('/')) done.clear();
    Split(target, rest, true);
  }
  return joined();
}

const oci::TreeNode* NodeAt(const oci::ImageTree& tree, std::string_view path) {
  auto resolved = ResolveInTree(tree, path, true);
  if (!resolved) return nullptr;
  auto it = tree.nodes.find(*resolved);
  return it == tree.nodes.end() ? nullptr : &it->second;
}

FileOwners::FileOwners(const oci::ImageTree& tree) {
  for (const auto& [path, text] : tree.files) {
    if (!IsFileListPath(path)) continue;
    known_ = true;
    std::string package = ListPackage(path);
    bool md5sums = path.ends_with(".md5sums");
    for (auto [line, number] : Lines(text, {.skip_blank = true})) {
      std::string_view listed = line;
      if (md5sums) {
        // "<md5>  <path>"
        size_t space = listed.find("  ");
        if (space == std::string_view::npos) continue;
        listed = listed.substr(space + 2);
      }
      while (listed.starts_with('/')) listed.remove_prefix(1);
      if (listed.empty() || listed == ".") continue;
      auto resolved = ResolveInTree(tree, listed, false);
      if (resolved) owner_.emplace(std::move(*resolved), package);
    }
  }
}

std::string FileOwners::Owner(std::string_view path) const {
  auto it = owner_.find(path);
  return it == owner_.end() ? "" : it->second;
}

std::string FileOwners::OwnerFollowing(const oci::ImageTree& tree, std::string_view path) const {
  if (auto direct = ResolveInTree(tree, path, false)) {
    std::string owner = Owner(*direct);
    if (!owner.empty()) return owner;
  }
  auto resolved = ResolveInTree(tree, path, true);
  return resolved ? Owner(*resolved) : "";
}

}  // namespace hardbase::audit
