// For the tests of the setup parsers (sysusers_test, tmpfiles_test, maintainer_script_test): what
// a parser read, one "LINE description" string per action, easy to compare and to read in a
// failure.
#pragma once

#include <string>
#include <vector>

#include "image/setup.h"

namespace hardbase::image {

inline std::vector<std::string> Actions(const ParsedSetup& p) {
  std::vector<std::string> out;
  for (const SetupAction& a : p.actions) {
    out.push_back(a.origin.substr(a.origin.rfind(':') + 1) + " " + DescribeSetupAction(a));
  }
  return out;
}

}  // namespace hardbase::image
