#include "spec/path_checks.h"

#include <algorithm>
#include <string>

#include "spec/names.h"

namespace hardbase::spec {
namespace {

bool IsControl(char c) {
  auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

std::string Quoted(std::string_view s) {
  constexpr size_t kShown = 60;
  std::string text = s.size() <= kShown ? std::string(s) : std::string(s.substr(0, kShown)) + "...";
  return "'" + EscapeControlCharacters(text) + "'";
}

}  // namespace

Result<void> CheckPathLimits(std::string_view path) {
  if (path.size() > kMaxPathBytes) {
    return Fail(ErrorCode::kSpec, "path is " + std::to_string(path.size()) +
                                      " bytes long (at most " + std::to_string(kMaxPathBytes) +
                                      ")");
  }
  if (auto c = std::find_if(path.begin(), path.end(), IsControl); c != path.end()) {
    return Fail(ErrorCode::kSpec, "path " + Quoted(path) + " contains the control character " +
                                      EscapeControlCharacters(std::string_view(&*c, 1)));
  }
  for (size_t start = 0; start < path.size();) {
    size_t slash = std::min(path.find('/', start), path.size());
    if (slash - start > kMaxNameBytes) {
      return Fail(ErrorCode::kSpec, "path component " + Quoted(path.substr(start, slash - start)) +
                                        " is " + std::to_string(slash - start) +
                                        " bytes long (at most " + std::to_string(kMaxNameBytes) +
                                        ")");
    }
    start = slash + 1;
  }
  return {};
}

Result<void> CheckRepositoryPath(std::string_view filename) {
  auto bad = [&](std::string_view why) {
    return Fail(ErrorCode::kSpec, "repository path " + Quoted(filename) + " " + std::string(why));
  };
  if (filename.empty()) return bad("is empty");
  HB_TRY_VOID(CheckPathLimits(filename));
  if (filename.front() == '/') return bad("is absolute");
  if (size_t pct = filename.find('%'); pct != std::string_view::npos) {
    return bad("contains the percent-escape " + Quoted(filename.substr(pct, 3)));
  }
  if (size_t c = filename.find_first_of("\\?#"); c != std::string_view::npos) {
    return bad("contains '" + std::string(1, filename[c]) + "'");
  }
  for (size_t start = 0; start <= filename.size();) {
    size_t slash = std::min(filename.find('/', start), filename.size());
    std::string_view part = filename.substr(start, slash - start);
    if (part.empty()) return bad("has an empty component");
    if (part == "." || part == "..") return bad("has a '" + std::string(part) + "' component");
    start = slash + 1;
  }
  return {};
}

}  // namespace hardbase::spec
