// Small pieces of URL building shared by HTTP clients: appended queries (query values are
// base/strings.h's PercentEncode).
#pragma once

#include <string>
#include <string_view>

namespace hardbase::net {

// `url` with `query` ("a=1&b=2") appended after '?', or after '&' when it has a query already.
std::string AppendQuery(std::string_view url, std::string_view query);

}  // namespace hardbase::net
