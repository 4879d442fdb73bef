#include "pipeline/compare.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace hardbase::pipeline {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Package names and versions come from images and repositories: a newline in one cannot add a
// line, and escape sequences are shown escaped.
TEST(ComparisonTextTest, EscapesNamesAndVersions) {
  std::vector<vuln::InstalledPackage> before = {{"libfoo1", "1.0", "amd64", "foo", "1.0", 0},
                                                {"gone\x1b[8m", "1", "amd64", "gone", "1", 0}};
  std::vector<vuln::InstalledPackage> after = {
      {"libfoo1", "1.1\n0 packages changed\x1b[32m", "amd64", "foo", "1.1", 0},
      {"new", "2\xe2\x80\xae", "amd64\r", "new", "2", 0}};
  std::string text = ComparisonText(ComparePackages(before, after, nullptr, "12"));
  EXPECT_THAT(text, HasSubstr("amd64   libfoo1 1.0 -> 1.1\\x0a0 packages changed\\x1b[32m\n"));
  EXPECT_THAT(text, HasSubstr("amd64   - gone\\x1b[8m 1\n"));
  EXPECT_THAT(text, HasSubstr("amd64\\x0d + new 2\\u202e\n"));
  EXPECT_THAT(text, Not(HasSubstr("\n0 packages changed")));
  for (char c : text) EXPECT_TRUE(c == '\n' || static_cast<unsigned char>(c) >= 0x20) << text;
}

}  // namespace
}  // namespace hardbase::pipeline
