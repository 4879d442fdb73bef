#include "base/version.h"

namespace hardbase {

std::string_view HardbaseVersion() { return HARDBASE_VERSION; }

}  // namespace hardbase
