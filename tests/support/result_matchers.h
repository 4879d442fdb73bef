// gMock matchers for Result<T>, so a test states the failure it expects in one line and a wrong
// outcome prints what actually happened (the value, or the error's code name and message):
//
//   EXPECT_THAT(ParseLock(text), FailsWith(ErrorCode::kSpec));
//   ASSERT_THAT(result, FailsWith(ErrorCode::kSpec, HasSubstr("line 3")));
#pragma once

#include <gmock/gmock.h>

#include <ostream>
#include <string>

#include "base/error.h"

namespace hardbase {

// How gtest prints a Result (found by argument-dependent lookup through Error): its outcome, not
// a dump of its bytes.
template <typename T>
void PrintTo(const Result<T>& result, std::ostream* os) {
  if (result) {
    *os << "a success";
  } else {
    *os << "a failure (" << ErrorCodeName(result.error().code) << ": " << result.error().message
        << ")";
  }
}

}  // namespace hardbase

namespace hardbase::testing {

// Matches a failed Result whose error has `code`.
MATCHER_P(FailsWith, code,
          std::string(negation ? "does not fail" : "fails") + " with " +
              std::string(::hardbase::ErrorCodeName(code))) {
  if (arg) {
    *result_listener << "succeeded";
    return false;
  }
  *result_listener << "failed with " << ::hardbase::ErrorCodeName(arg.error().code) << ": "
                   << arg.error().message;
  return arg.error().code == code;
}

// Matches a failed Result whose error has `code` and whose message matches `message_matcher`.
MATCHER_P2(FailsWith, code, message_matcher,
           std::string(negation ? "does not fail" : "fails") + " with " +
               std::string(::hardbase::ErrorCodeName(code)) + " and a message that " +
               ::testing::DescribeMatcher<std::string>(message_matcher)) {
  if (arg) {
    *result_listener << "succeeded";
    return false;
  }
  *result_listener << "failed with " << ::hardbase::ErrorCodeName(arg.error().code) << ": "
                   << arg.error().message;
  return arg.error().code == code && ::testing::Matches(message_matcher)(arg.error().message);
}

}  // namespace hardbase::testing
