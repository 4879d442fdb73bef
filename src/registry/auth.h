// Registry authentication: the challenges a registry answers with, the token a token service
// hands out, and the credential files docker, podman and skopeo share.
//
// Parsing is pure (bytes in, values out) and fuzzed; only LoadCredentials / StoreCredentials /
// RemoveCredentials touch the disk. Presenting credentials to a registry is authenticator.h's.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace hardbase::registry {

// One challenge of a WWW-Authenticate header (RFC 7235): `Bearer realm="https://auth/token",
// service="registry",scope="repository:app:pull"`. The scheme and parameter names are lowercased;
// values are unquoted (backslash escapes undone).
struct Challenge {
  std::string scheme;  // "basic", "bearer", ...
  std::map<std::string, std::string> params;
  bool operator==(const Challenge&) const = default;
};

// Every challenge in one header value (several may be separated by commas, as may parameters).
// kSpec on malformed input (unterminated quote, a parameter without a name). An empty header has no
// challenges; a token68 (`Negotiate abc==`) is accepted and not kept; a repeated parameter keeps
// its first value.
Result<std::vector<Challenge>> ParseWwwAuthenticate(std::string_view header);

// What a token service answers: {"token": ...} or {"access_token": ...} ("token" wins when both
// are there and it is not empty), with "expires_in" in seconds (60 when absent or smaller, as
// docker/distribution's client assumes). kSpec when there is no token or a member has the wrong
// type; the message never quotes the body.
struct Token {
  std::string token;
  std::chrono::seconds expires_in{60};
};
Result<Token> ParseTokenResponse(std::string_view body);
// A token service answers with a few kilobytes ({"token": JWT, "expires_in": ...}); a longer
// answer (or one nested deeper than 16 levels) is not a token.
inline constexpr size_t kMaxTokenResponseBytes = size_t{1} << 20;

// A registry login. `identity_token` is an OAuth2 refresh token some registries issue instead of
// a password; when set it is sent to the token service instead of Basic credentials.
struct Credentials {
  std::string username;
  std::string password;
  std::string identity_token;
  bool operator==(const Credentials&) const = default;
};

// "USER:PASS" as given to --creds (the password may contain ':'; an empty user or no ':' is
// kUsage).
Result<Credentials> ParseCredsFlag(std::string_view text);

// The credentials a docker config.json / containers auth.json holds for `host` ("127.0.0.1:5000",
// "registry.example"): "auths": {KEY: {"auth": base64("user:pass")} or {"username", "password"},
// optional "identitytoken"}. KEY may be written "host", "https://host", "http://host/v1/" or
// "host/some/path": it is normalised to its host part before comparing; "docker.io",
// "index.docker.io" and "registry-1.docker.io" are one host. The key spelled exactly as `host`
// is tried first, then the others in file order. An entry holding none of "auth", "username",
// "password", "identitytoken" (as docker writes next to a credsStore) counts as no entry; "auth"
// wins over "username"/"password". nullopt when there is no entry (an empty text is a file without
// entries); kSpec on a file that is not such JSON or an "auth" that is not base64 of "user:pass".
// Error messages name keys, never values.
Result<std::optional<Credentials>> FindCredentials(std::string_view config_json,
                                                   std::string_view host);

// `config_json` (empty: a new file) with the entry for `host` set to `credentials` (as
// {"auth": base64} and "identitytoken" when it has one; an entry under another spelling of the
// same host is replaced); every other key of the file is kept as it was, in its order. The key
// written is the bare host, except Docker Hub's "https://index.docker.io/v1/" (the only spelling
// docker itself finds); "auth" is left out when the credentials are an identity token alone.
// The output is tab-indented like docker's.
Result<std::string> WithCredentials(std::string_view config_json, std::string_view host,
                                    const Credentials& credentials);
// `config_json` without any entry for `host`; `removed` (may be null) says whether there was one.
// The text is returned unchanged when there was none.
Result<std::string> WithoutCredentials(std::string_view config_json, std::string_view host,
                                       bool* removed);

// Where credentials are looked for, in order: `auth_file` when not empty (then only it), else
// $REGISTRY_AUTH_FILE when set, then $DOCKER_CONFIG/config.json or ~/.docker/config.json.
std::vector<std::string> AuthFileCandidates(const std::string& auth_file);
// Where `login` writes: `auth_file`, else $REGISTRY_AUTH_FILE, else the docker config.json.
std::string AuthFileForWriting(const std::string& auth_file);

// The first credentials for `host` among AuthFileCandidates (missing files are skipped;
// kSpec naming the file when one is malformed).
Result<std::optional<Credentials>> LoadCredentials(std::string_view host,
                                                   const std::string& auth_file);
// Stores `credentials` for `host` in AuthFileForWriting(auth_file): read, modified and written
// atomically under a lock beside the file (PATH.lock), mode 0600 (its missing directories
// created 0700). Returns the path written.
Result<std::string> StoreCredentials(std::string_view host, const Credentials& credentials,
                                     const std::string& auth_file);
// Removes the entry for `host` from that file; false when there was none.
Result<bool> RemoveCredentials(std::string_view host, const std::string& auth_file);

}  // namespace hardbase::registry
