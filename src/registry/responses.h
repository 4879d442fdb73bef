// What a registry's answers say, beyond status codes: its error documents, the progress of an
// upload, the next page of a listing and the media type of a manifest (how long to wait is
// net::ParseRetryAfter's). Pure parsing of untrusted input (fuzzed with the auth parsers in
// fuzz/registry_fuzz.cc).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hardbase::registry {

// The registry's explanation of a failure, from {"errors":[{"code","message"},...]}:
// "CODE: message; CODE: message", or "" when the body is not such a document.
std::string RegistryErrorText(std::string_view body);

// The offset an upload continues at, from its Range header ("0-1234" -> 1235; "bytes=" accepted).
// docker/distribution writes an empty upload as "0-0" too, which is read as 0: chunked uploads
// (the only ones that ask) are larger than one byte. nullopt when malformed.
std::optional<uint64_t> UploadOffset(std::string_view range);

// The target of rel="next" in a Link header (`</v2/x/tags/list?last=a&n=100>; rel="next"`), or
// nullopt.
std::optional<std::string> NextLink(std::string_view link);

// A manifest's media type: its own "mediaType" field, else `content_type` (parameters dropped),
// else -- for the OCI documents that may omit it, or a registry saying application/json -- an
// index when it has "manifests", a manifest otherwise.
std::string ManifestMediaType(std::string_view bytes, std::string_view content_type);

}  // namespace hardbase::registry
