#include "base/error.h"

namespace hardbase {

int ExitCode(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInternal:
      return 1;
    case ErrorCode::kUsage:
      return 2;
    case ErrorCode::kSpec:
      return 3;
    case ErrorCode::kIo:
      return 4;
    case ErrorCode::kNetwork:
      return 5;
    case ErrorCode::kNotFound:
      return 6;
    case ErrorCode::kIntegrity:
      return 7;
    case ErrorCode::kResolve:
      return 8;
    case ErrorCode::kStale:
      return 9;
    case ErrorCode::kVerification:
      return 10;
    case ErrorCode::kAuth:
      return 11;
    case ErrorCode::kVulnerable:
      return 12;
    case ErrorCode::kUntranslatable:
      return 13;
    case ErrorCode::kNotReproducible:
      return 14;
  }
  return 1;
}

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInternal:
      return "internal";
    case ErrorCode::kUsage:
      return "usage";
    case ErrorCode::kSpec:
      return "spec";
    case ErrorCode::kIo:
      return "io";
    case ErrorCode::kNetwork:
      return "network";
    case ErrorCode::kNotFound:
      return "not-found";
    case ErrorCode::kIntegrity:
      return "integrity";
    case ErrorCode::kResolve:
      return "resolve";
    case ErrorCode::kStale:
      return "stale";
    case ErrorCode::kVerification:
      return "verification";
    case ErrorCode::kAuth:
      return "auth";
    case ErrorCode::kVulnerable:
      return "vulnerable";
    case ErrorCode::kUntranslatable:
      return "untranslatable";
    case ErrorCode::kNotReproducible:
      return "not-reproducible";
  }
  return "internal";
}

Error Error::Wrap(std::string_view context) const& {
  return Error{code, std::string(context) + ": " + message, details};
}

Error Error::Wrap(std::string_view context) && {
  message.insert(0, std::string(context) + ": ");
  return std::move(*this);
}

}  // namespace hardbase
