#include "oci/image_ref.h"

#include <algorithm>
#include <cctype>

#include "base/sha256.h"

namespace hardbase::oci {
namespace {

constexpr std::string_view kOciPrefix = "oci:";
constexpr std::string_view kOciArchivePrefix = "oci-archive:";
constexpr std::string_view kDockerArchivePrefix = "docker-archive:";
constexpr std::string_view kRegistryPrefix = "docker://";

// The Docker reference grammar (distribution/reference), checked by hand: std::regex recurses
// per character and would overflow the stack on long untrusted input.
bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool AllOf(std::string_view s, bool (*pred)(char)) {
  return !s.empty() && std::all_of(s.begin(), s.end(), pred);
}

// Splits `s` at every `sep` and checks each part.
template <class F>
bool EachPart(std::string_view s, char sep, F ok) {
  for (size_t start = 0;;) {
    size_t end = s.find(sep, start);
    if (!ok(s.substr(start, end - start))) return false;
    if (end == std::string_view::npos) return true;
    start = end + 1;
  }
}

// host[:port], where host is "localhost", a dotted DNS name or "[ipv6]", or any DNS label with a
// port: a first component Docker would not take for part of the repository.
bool IsRegistryHost(std::string_view host) {
  std::string_view port;
  size_t colon = host.rfind(':');
  if (colon != std::string_view::npos && host.find(']', colon) == std::string_view::npos) {
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
    if (!AllOf(port, [](char c) { return c >= '0' && c <= '9'; })) return false;
  }
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    return AllOf(host.substr(1, host.size() - 2),
                 [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) || c == ':'; });
  }
  bool label_ok = EachPart(host, '.', [](std::string_view label) {
    return AllOf(label, [](char c) { return IsAlnum(c) || c == '-'; }) && label.front() != '-' &&
           label.back() != '-';
  });
  return label_ok &&
         (host == "localhost" || host.find('.') != std::string_view::npos || !port.empty());
}

// Path components: [a-z0-9]+ joined by '.', '_', "__" or runs of '-'.
bool IsRepository(std::string_view repo) {
  return EachPart(repo, '/', [](std::string_view part) {
    if (part.empty() || !IsLowerAlnum(part.front()) || !IsLowerAlnum(part.back())) return false;
    for (size_t i = 1; i < part.size(); ++i) {
      char c = part[i], prev = part[i - 1];
      if (IsLowerAlnum(c) || c == '-') continue;
      if (c == '.' && IsLowerAlnum(prev)) continue;
      if (c == '_' && (IsLowerAlnum(prev) || (prev == '_' && i >= 2 && part[i - 2] != '_'))) {
        continue;
      }
      return false;
    }
    return part.find("-.") == std::string_view::npos && part.find("-_") == std::string_view::npos &&
           part.find("_-") == std::string_view::npos;
  });
}

bool IsDockerTag(std::string_view tag) {
  return tag.size() <= 128 && !tag.empty() && tag.front() != '.' && tag.front() != '-' &&
         AllOf(tag, [](char c) { return IsAlnum(c) || c == '_' || c == '.' || c == '-'; });
}

// An OCI ref.name (image-spec annotations.md): alphanumerics joined by -._:+/ ('@' left out, as
// it starts a digest here).
bool IsLayoutTag(std::string_view tag) {
  auto sep = [](char c) { return std::string_view("-._:+/").find(c) != std::string_view::npos; };
  return tag.size() <= 255 && !tag.empty() && IsAlnum(tag.front()) &&
         (IsAlnum(tag.back()) || tag.back() == '_') &&
         std::all_of(tag.begin(), tag.end(),
                     [&](char c) { return IsAlnum(c) || c == '_' || sep(c); });
}

Error Usage(std::string_view text, std::string_view what) {
  return Error{ErrorCode::kUsage,
               "image reference '" + std::string(text) + "': " + std::string(what)};
}

// Splits a trailing "@sha256:<hex>" off `rest`.
Result<void> TakeDigest(std::string_view text, std::string_view& rest, ImageRef& ref) {
  size_t at = rest.rfind('@');
  if (at == std::string_view::npos) return {};
  std::string_view digest = rest.substr(at + 1);
  if (!IsSha256Digest(digest)) {
    return Fail(
        Usage(text, "'" + std::string(digest) + "' is not a digest (sha256:<64 hex digits>)"));
  }
  ref.digest = digest;
  rest = rest.substr(0, at);
  return {};
}

Result<ImageRef> ParseLocal(std::string_view text, std::string_view rest,
                            ImageRef::Transport transport) {
  ImageRef ref;
  ref.transport = transport;
  if (transport != ImageRef::Transport::kDockerArchive) {
    HB_TRY_VOID(TakeDigest(text, rest, ref));
    size_t colon = rest.find(':');
    if (colon != std::string_view::npos) {
      ref.tag = rest.substr(colon + 1);
      rest = rest.substr(0, colon);
      if (!IsLayoutTag(ref.tag)) {
        return Fail(Usage(text, "'" + ref.tag + "' is not a valid tag"));
      }
    }
  }
  if (rest.empty()) return Fail(Usage(text, "no path"));
  ref.path = rest;
  return ref;
}

Result<ImageRef> ParseRegistry(std::string_view text, std::string_view rest) {
  ImageRef ref;
  ref.transport = ImageRef::Transport::kRegistry;
  HB_TRY_VOID(TakeDigest(text, rest, ref));
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) {
    return Fail(Usage(text,
                      "expected HOST/REPOSITORY, or a transport (oci:, oci-archive:, "
                      "docker-archive:, docker://)"));
  }
  size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos && colon > rest.rfind('/')) {
    ref.tag = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
    if (!IsDockerTag(ref.tag)) {
      return Fail(Usage(text, "'" + ref.tag + "' is not a valid tag"));
    }
  }
  ref.registry = rest.substr(0, slash);
  ref.repository = rest.substr(slash + 1);
  if (!IsRegistryHost(ref.registry)) {
    return Fail(Usage(
        text, "'" + ref.registry + "' is not a registry host (name one: HOST[:PORT]/REPOSITORY)"));
  }
  if (!IsRepository(ref.repository)) {
    return Fail(Usage(text, "'" + ref.repository + "' is not a valid repository name"));
  }
  return ref;
}

}  // namespace

bool IsSha256Digest(std::string_view digest) {
  return digest.starts_with("sha256:") && IsSha256Hex(digest.substr(7));
}

Result<ImageRef> ParseImageRef(std::string_view text) {
  using T = ImageRef::Transport;
  if (text.starts_with(kOciPrefix)) {
    return ParseLocal(text, text.substr(kOciPrefix.size()), T::kOciLayout);
  }
  if (text.starts_with(kOciArchivePrefix)) {
    return ParseLocal(text, text.substr(kOciArchivePrefix.size()), T::kOciArchive);
  }
  if (text.starts_with(kDockerArchivePrefix)) {
    return ParseLocal(text, text.substr(kDockerArchivePrefix.size()), T::kDockerArchive);
  }
  if (text.starts_with(kRegistryPrefix))
    return ParseRegistry(text, text.substr(kRegistryPrefix.size()));
  if (text.find("://") != std::string_view::npos) return Fail(Usage(text, "unknown transport"));
  return ParseRegistry(text, text);
}

std::string ImageRef::ToString() const {
  std::string out;
  switch (transport) {
    case Transport::kOciLayout:
      out = std::string(kOciPrefix) + path;
      break;
    case Transport::kOciArchive:
      out = std::string(kOciArchivePrefix) + path;
      break;
    case Transport::kDockerArchive:
      return std::string(kDockerArchivePrefix) + path;
    case Transport::kRegistry:
      out = std::string(kRegistryPrefix) + registry + "/" + repository;
      break;
  }
  if (!tag.empty()) out += ":" + tag;
  if (!digest.empty()) out += "@" + digest;
  return out;
}

}  // namespace hardbase::oci
