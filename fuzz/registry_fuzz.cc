// Fuzzes the parsers of what registries send and what credential files hold: WWW-Authenticate
// headers, token service answers, error documents, upload ranges, Link headers, manifest media
// types, Retry-After, and credential files. For the credential functions the first line of the
// input is the host and the rest the file (the seeds in fuzz/corpus/registry/ are written that
// way).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "net/retry.h"
#include "registry/auth.h"
#include "registry/responses.h"

namespace {

using hardbase::registry::Credentials;

void CheckCredentialFile(std::string_view config, std::string_view host) {
  (void)hardbase::registry::FindCredentials(config, host);

  // Whatever the file held, a stored login is found again, in place of any other spelling.
  const Credentials login{"user", "pa:ss", "refresh"};
  if (auto updated = hardbase::registry::WithCredentials(config, host, login)) {
    auto found = hardbase::registry::FindCredentials(*updated, host);
    if (!found || !*found || !(**found == login)) __builtin_trap();

    bool removed = false;
    auto without = hardbase::registry::WithoutCredentials(*updated, host, &removed);
    if (!without || !removed) __builtin_trap();
    auto gone = hardbase::registry::FindCredentials(*without, host);
    if (!gone || *gone) __builtin_trap();
  }
  bool removed = false;
  (void)hardbase::registry::WithoutCredentials(config, host, &removed);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  if (auto challenges = hardbase::registry::ParseWwwAuthenticate(text)) {
    for (const auto& challenge : *challenges) {
      if (challenge.scheme.empty()) __builtin_trap();
      for (const auto& param : challenge.params) {
        if (param.first.empty()) __builtin_trap();
      }
    }
  }
  if (auto token = hardbase::registry::ParseTokenResponse(text)) {
    if (token->token.empty() || token->expires_in.count() < 60) __builtin_trap();
  }
  (void)hardbase::registry::ParseCredsFlag(text);
  (void)hardbase::registry::RegistryErrorText(text);
  (void)hardbase::registry::NextLink(text);
  if (hardbase::registry::ManifestMediaType(text, text).empty()) __builtin_trap();
  if (auto wait = hardbase::net::ParseRetryAfter(text, std::chrono::system_clock::now());
      wait && (wait->count() < 0 || *wait > hardbase::net::kMaxRetryAfter)) {
    __builtin_trap();
  }
  if (auto offset = hardbase::registry::UploadOffset(text); offset && *offset == UINT64_MAX) {
    __builtin_trap();
  }

  size_t newline = text.find('\n');
  if (newline != std::string_view::npos) {
    CheckCredentialFile(text.substr(newline + 1), text.substr(0, newline));
  }
  CheckCredentialFile(text, "registry.example:5000");
  CheckCredentialFile(text, "docker.io");
  return 0;
}
