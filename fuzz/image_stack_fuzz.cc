// Fuzzes stacking package layers (image::StackPackages) and where a runtime puts an entry
// (ImageView::WritePath) with entries as hostile packages could ship them. Each input line is
// "<package 0-3> <f|d|l|h> <member name> [<link target>]", the name as in a data.tar
// ("usr/lib/x"), taken to its image path as the .deb reader and PackageLayerFiles do. Once a
// stack is accepted, no entry of any package may land anywhere but at its own path when a runtime
// applies the layers.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "deb/deb_archive.h"
#include "image/image_files.h"
#include "image/package_files.h"

using hardbase::image::ViewEntry;
using hardbase::oci::LayerEntryType;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::vector<std::pair<std::string, ViewEntry>>> entries(4);
  while (!text.empty()) {
    size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? "" : text.substr(eol + 1);
    if (line.size() < 5 || line[0] < '0' || line[0] > '3' || line[1] != ' ' || line[3] != ' ') {
      continue;
    }
    std::string_view rest = line.substr(4);
    std::string_view path = rest.substr(0, rest.find(' '));
    std::string_view target = path.size() < rest.size() ? rest.substr(path.size() + 1) : "";
    auto normalised = hardbase::deb::NormaliseMemberPath(path);
    if (!normalised || *normalised == "") continue;
    std::string image_path = hardbase::image::ImagePath(*normalised);
    ViewEntry e;
    switch (line[2]) {
      case 'd':
        e.type = LayerEntryType::kDirectory;
        break;
      case 'l':
        e.type = LayerEntryType::kSymlink;
        break;
      case 'h':
        e.type = LayerEntryType::kHardlink;
        break;
      default:
        e.type = LayerEntryType::kFile;
        e.sha256 = std::string(target);
        break;
    }
    if (e.type == LayerEntryType::kSymlink || e.type == LayerEntryType::kHardlink) {
      e.link_target = std::string(target);
    }
    auto& pkg = entries[line[0] - '0'];
    bool twice = false;
    for (const auto& [p, _] : pkg) twice = twice || p == image_path;
    if (!twice) pkg.emplace_back(std::move(image_path), std::move(e));
  }
  hardbase::image::ImageView view;
  view.Add(hardbase::image::SkeletonEntries("amd64"));
  std::vector<hardbase::image::StackedPackage> packages;
  for (size_t i = 0; i < entries.size(); ++i) {
    packages.push_back({"p" + std::to_string(i), &entries[i]});
  }
  bool accepted = hardbase::image::StackPackages(packages, view).has_value();
  for (const auto& pkg : entries) {
    for (const auto& [path, e] : pkg) {
      (void)view.Resolve(path);
      auto written = view.WritePath(path);
      if (accepted && written != path) __builtin_trap();
    }
  }
  return 0;
}
