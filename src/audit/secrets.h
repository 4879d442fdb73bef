// Credentials left in an image: private keys, tokens and passwords in its files, and secrets in
// its config's environment. A fixed set of well-known, distinctive patterns, each checked beyond
// its prefix (lengths, alphabets, a key body after a PEM header), so that documentation that merely
// mentions a format is not reported. Pure.
//
// In any text file:
//   private-key      a PEM or OpenSSH private key ("-----BEGIN ... PRIVATE KEY-----" followed by
//                    key material; PGP private key blocks too)
//   aws-access-key   an AWS access key id (AKIA/ASIA + 16 base32 characters; the documentation's
//                    "...EXAMPLE" ids are not reported)
//   aws-secret-key   "aws_secret_access_key" assigned a 40-character value
//   github-token     ghp_/gho_/ghu_/ghs_/ghr_ + 36 characters, github_pat_ tokens
//   gitlab-token     glpat- tokens
//   slack-token      xoxb-/xoxp-/xoxa-/xoxo-/xoxs-/xoxr- tokens
//   google-api-key   AIza + 35 characters
//   npm-token        npm_ + 36 characters
//   pypi-token       PyPI API tokens (pypi-AgEIcHlwaS5vcmc...)
//   stripe-key       sk_live_ keys
//   jwt              a signed JSON Web Token (three base64url parts, the first two JSON objects)
// In the credential files tools write, by file name:
//   password         .netrc/_netrc "password", .pypirc "password", .pgpass entries, .my.cnf
//                    "password=", a secret-named variable in a .env file
//   npm-credentials  .npmrc _authToken/_auth/_password
//   docker-auth      .docker/config.json "auth"/"identitytoken"
//   git-credentials  .git-credentials "scheme://user:password@host"
// Binary files (a NUL byte among the first 8000 bytes, as git decides) are not searched: the
// callers also skip files over kMaxSecretScanBytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hardbase::audit {

inline constexpr uint64_t kMaxSecretScanBytes = uint64_t{1} << 20;

struct SecretMatch {
  std::string kind;
  int line = 0;  // 1-based
  bool operator==(const SecretMatch&) const = default;
};

// Whether `content` looks binary: a NUL byte among its first 8000 bytes.
bool LooksBinary(std::string_view content);

// The secrets in the file at `path` (normalised, no leading '/') with this content; one per kind
// and line, in order of lines. Nothing for binary content.
std::vector<SecretMatch> FindSecrets(std::string_view path, std::string_view content);

// Whether an environment variable of this name holds a secret by its name: PASSWORD, PASSWD,
// PASSPHRASE, SECRET, TOKEN, API_KEY/APIKEY, ACCESS_KEY, PRIVATE_KEY, CREDENTIAL in it (any case),
// but not one that names where a secret is (..._FILE, ..._PATH, ..._DIR).
bool IsSecretName(std::string_view name);

// The names of the "NAME=value" variables that hold a secret: a non-empty value under a secret
// name (IsSecretName), or a value that is a token FindSecrets knows whatever the name. In order,
// each once.
std::vector<std::string> SecretEnvNames(const std::vector<std::string>& env);

}  // namespace hardbase::audit
