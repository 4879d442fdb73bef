#include "image/dpkg_db.h"

#include <openssl/evp.h>

#include <algorithm>
#include <set>

#include "base/sha256.h"
#include "base/strings.h"

namespace hardbase::image {
namespace {

constexpr std::string_view kStatusField = "Status: install ok installed\n";

// A deb822 field name: printable US-ASCII but ':' and space, not starting with '#' or '-'.
bool IsFieldName(std::string_view name) {
  if (name.empty() || name[0] == '#' || name[0] == '-') return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return c > ' ' && c < 127 && c != ':'; });
}

std::string Md5Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_md5(), nullptr);
  return ToHex(std::string_view(reinterpret_cast<const char*>(digest), len));
}

}  // namespace

// Copies the stanza line by line, so folded values and spelling stay as the package has them. A
// Status field the control file may carry is dropped: status.d must say the package is installed.
Result<std::string> StatusStanza(std::string_view control) {
  auto error = [](size_t line, std::string_view what) {
    return Fail(ErrorCode::kSpec,
                "control file: line " + std::to_string(line) + ": " + std::string(what));
  };
  std::string out;
  std::set<std::string> seen;
  bool ended = false, have_package = false;
  std::string field;  // lower-case name of the field being read
  // Lines keep a CR: the stanza is copied as the package wrote it.
  for (auto [line, number] : Lines(control, {.strip_cr = false})) {
    if (Trim(line).empty()) {
      ended = !field.empty();
      continue;
    }
    if (ended) return error(number, "more than one stanza");
    if (line[0] == ' ' || line[0] == '\t') {
      if (field.empty()) return error(number, "continuation line before any field");
      if (field == "package") return error(number, "Package field spans lines");
      if (field != "status") out.append(line).push_back('\n');
      continue;
    }
    size_t colon = line.find(':');
    std::string_view name = line.substr(0, colon);
    if (colon == std::string_view::npos || !IsFieldName(name)) {
      return error(number, "expected 'Field: value'");
    }
    field = AsciiLower(name);
    if (!seen.insert(field).second) {
      return error(number, "duplicate field '" + std::string(name) + "'");
    }
    if (field == "status") continue;
    out.append(line).push_back('\n');
    if (field == "package") {
      if (Trim(line.substr(colon + 1)).empty()) return error(number, "empty Package field");
      have_package = true;
      out += kStatusField;
    }
  }
  if (!have_package) return Fail(ErrorCode::kSpec, "control file: no Package field");
  return out;
}

std::string Md5sums(const std::vector<ShippedFile>& files) {
  std::vector<std::pair<std::string_view, std::string_view>> sorted;  // relative path, content
  sorted.reserve(files.size());
  for (const ShippedFile& f : files) {
    std::string_view path = f.path;
    path.remove_prefix(std::min(path.find_first_not_of('/'), path.size()));
    sorted.emplace_back(path, f.content);
  }
  std::sort(sorted.begin(), sorted.end());
  std::string out;
  for (const auto& [path, content] : sorted) {
    out += Md5Hex(content);
    out += "  ";
    out.append(path).push_back('\n');
  }
  return out;
}

}  // namespace hardbase::image
