// Times as RFC 3339 text, the form every document hardbase reads or writes uses.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace hardbase {

// "2025-02-08T10:44:01Z" for seconds since the epoch.
std::string Rfc3339(int64_t seconds);

// An RFC 3339 date-time ("2025-02-12T16:46:00.463980Z", "2025-02-12T17:46:00+01:00") as
// (seconds since the epoch, nanoseconds), so that times written with different offsets or
// precisions order correctly; nullopt when it is not one.
std::optional<std::pair<int64_t, int64_t>> ParseRfc3339(std::string_view s);

}  // namespace hardbase
