// Small pieces of URL building shared by HTTP clients: query values and appended queries.
#pragma once

#include <string>
#include <string_view>

namespace hardbase::net {

// `s` with every byte except RFC 3986 unreserved characters (ALPHA DIGIT - . _ ~) written %XX
// (upper-case hex), for a query value or a path segment.
std::string PercentEncode(std::string_view s);

// `url` with `query` ("a=1&b=2") appended after '?', or after '&' when it has a query already.
std::string AppendQuery(std::string_view url, std::string_view query);

}  // namespace hardbase::net
