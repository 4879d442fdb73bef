#include "spec/names.h"

#include <sys/utsname.h>

#include <algorithm>
#include <cstdint>

#include "base/strings.h"

namespace hardbase::spec {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlnum(char c) { return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Sorted, so that KnownArchitectures() can be binary-searched and printed in a stable order.
constexpr std::string_view kArchitectures[] = {
    "alpha",   "amd64",   "arc",       "arm",       "arm64",       "arm64ilp32", "armeb",
    "armel",   "armhf",   "avr32",     "hppa",      "i386",        "ia64",       "loong64",
    "m32r",    "m68k",    "mips",      "mips64",    "mips64el",    "mips64r6",   "mips64r6el",
    "mipsel",  "mipsn32", "mipsn32el", "mipsn32r6", "mipsn32r6el", "mipsr6",     "mipsr6el",
    "nios2",   "or1k",    "powerpc",   "powerpcel", "powerpcspe",  "ppc64",      "ppc64el",
    "riscv64", "s390",    "s390x",     "sh3",       "sh3eb",       "sh4",        "sh4eb",
    "sparc",   "sparc64", "tilegx",    "x32"};

// What a typo of a name may get wrong without counting as an edit: case, and '_' for '-'.
std::string Fold(std::string_view s) {
  std::string out = AsciiLower(s);
  std::replace(out.begin(), out.end(), '_', '-');
  return out;
}

}  // namespace

bool IsValidPackageName(std::string_view name) {
  if (name.size() < 2 || !IsLowerAlnum(name[0])) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return IsLowerAlnum(c) || c == '+' || c == '.' || c == '-'; });
}

bool IsValidVersion(std::string_view version) {
  std::string_view rest = version;
  if (size_t colon = rest.find(':'); colon != std::string_view::npos) {
    std::string_view epoch = rest.substr(0, colon);
    if (epoch.empty() || !std::all_of(epoch.begin(), epoch.end(), IsDigit)) return false;
    rest.remove_prefix(colon + 1);
  }
  std::string_view upstream = rest;
  std::string_view revision;
  bool has_revision = false;
  if (size_t dash = rest.rfind('-'); dash != std::string_view::npos) {
    upstream = rest.substr(0, dash);
    revision = rest.substr(dash + 1);
    has_revision = true;
  }
  if (upstream.empty() || !IsDigit(upstream[0])) return false;
  // dpkg still accepts ':' in the upstream part once an epoch is present (older policy did too).
  const bool has_epoch = rest.size() != version.size();
  auto upstream_char = [has_epoch](char c) {
    return IsAlnum(c) || c == '.' || c == '+' || c == '~' || c == '-' || (has_epoch && c == ':');
  };
  if (!std::all_of(upstream.begin(), upstream.end(), upstream_char)) return false;
  if (has_revision) {
    if (revision.empty()) return false;
    auto revision_char = [](char c) { return IsAlnum(c) || c == '.' || c == '+' || c == '~'; };
    if (!std::all_of(revision.begin(), revision.end(), revision_char)) return false;
  }
  return true;
}

std::span<const std::string_view> KnownArchitectures() { return kArchitectures; }

bool IsKnownArchitecture(std::string_view arch) {
  auto known = KnownArchitectures();
  return !arch.empty() && std::binary_search(known.begin(), known.end(), arch);
}

std::optional<std::string> DebianArchitectureForMachine(std::string_view machine) {
  struct Mapping {
    std::string_view machine;
    std::string_view arch;
  };
  // Exact kernel names first; the ARM families are matched by prefix below.
  static constexpr Mapping kExact[] = {
      {"x86_64", "amd64"},    {"amd64", "amd64"},     {"i386", "i386"},
      {"i486", "i386"},       {"i586", "i386"},       {"i686", "i386"},
      {"aarch64", "arm64"},   {"arm64", "arm64"},     {"armv8l", "armhf"},
      {"ppc64le", "ppc64el"}, {"ppc64", "ppc64"},     {"ppc", "powerpc"},
      {"s390x", "s390x"},     {"s390", "s390"},       {"riscv64", "riscv64"},
      {"mips64", "mips64el"}, {"mips", "mipsel"},     {"loongarch64", "loong64"},
      {"alpha", "alpha"},     {"ia64", "ia64"},       {"m68k", "m68k"},
      {"sh4", "sh4"},         {"sparc64", "sparc64"}, {"parisc", "hppa"},
      {"parisc64", "hppa"},
  };
  for (const Mapping& m : kExact) {
    if (machine == m.machine) return std::string(m.arch);
  }
  if (machine.starts_with("armv7")) return "armhf";
  if (machine.starts_with("armv5") || machine.starts_with("armv6")) return "armel";
  return std::nullopt;
}

Result<std::string> HostArchitecture() {
  struct utsname u {};
  if (::uname(&u) != 0) {
    return Fail(ErrorCode::kInternal, "uname failed: cannot tell the host architecture");
  }
  std::optional<std::string> arch = DebianArchitectureForMachine(u.machine);
  if (!arch) {
    return Fail(ErrorCode::kSpec, std::string("host machine '") + u.machine +
                                      "' has no known Debian architecture name: set archs");
  }
  return *arch;
}

std::string ClosestMatch(std::string_view word, std::span<const std::string_view> candidates) {
  size_t limit = std::max<size_t>(1, std::min<size_t>(3, word.size() / 3));
  std::string folded = Fold(word);
  size_t best = SIZE_MAX;
  std::string_view best_candidate;
  for (std::string_view c : candidates) {
    size_t d = EditDistance(folded, Fold(c), limit);
    if (d < best) {
      best = d;
      best_candidate = c;
    }
  }
  if (best > limit) return "";
  return std::string(best_candidate);
}

std::string EscapeControlCharacters(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  return out;
}

bool IsValidImageName(std::string_view s) {
  if (s.empty() || s.size() > 255) return false;
  size_t start = 0;
  while (true) {
    size_t slash = s.find('/', start);
    std::string_view part =
        s.substr(start, slash == std::string_view::npos ? s.npos : slash - start);
    if (part.empty()) return false;
    if (!IsLowerAlnum(part.front()) || !IsLowerAlnum(part.back())) return false;
    for (size_t i = 0; i < part.size();) {
      if (IsLowerAlnum(part[i])) {
        ++i;
        continue;
      }
      size_t j = i;
      while (j < part.size() && !IsLowerAlnum(part[j])) ++j;
      std::string_view sep = part.substr(i, j - i);
      bool ok = sep == "." || sep == "_" || sep == "__" ||
                std::all_of(sep.begin(), sep.end(), [](char c) { return c == '-'; });
      if (!ok) return false;
      i = j;
    }
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

}  // namespace hardbase::spec
