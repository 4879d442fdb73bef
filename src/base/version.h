// hardbase's own version, as builds, SBOMs and provenance record it (from the CMake project).
#pragma once

#include <string_view>

namespace hardbase {

std::string_view HardbaseVersion();

}  // namespace hardbase
