#include "vuln/tracker.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/result_matchers.h"

namespace hardbase::vuln {
namespace {

using ::hardbase::testing::FailsWith;

using ::testing::ElementsAre;

// The tracker's shape, cut down: one package with a fixed, a not-affected, an open and a nodsa
// issue, a TEMP id, and releases the importer does not know (sid).
constexpr std::string_view kTracker = R"({
  "glibc": {
    "CVE-2024-2961": {
      "description": "The iconv() function in the GNU C Library may overflow. More text.",
      "scope": "local",
      "debianbug": 1069191,
      "releases": {
        "bookworm": {"status": "resolved", "fixed_version": "2.36-9+deb12u6", "urgency": "not yet assigned",
                     "repositories": {"bookworm": "2.36-9+deb12u9"}},
        "bullseye": {"status": "resolved", "fixed_version": "2.31-13+deb11u9", "urgency": "not yet assigned"},
        "sid": {"status": "resolved", "fixed_version": "2.37-18", "urgency": "not yet assigned"}
      }
    },
    "CVE-2010-4756": {
      "description": "The glob implementation in the GNU C Library allows ...",
      "releases": {
        "bookworm": {"status": "open", "urgency": "unimportant", "repositories": {}},
        "trixie": {"status": "undetermined", "urgency": "low**"}
      }
    },
    "CVE-2020-0001": {
      "releases": {
        "bookworm": {"status": "resolved", "fixed_version": "0", "urgency": "unimportant"}
      }
    },
    "TEMP-0000000-A1B2C3": {
      "description": "",
      "releases": {
        "bookworm": {"status": "open", "urgency": "low", "nodsa": "Minor issue", "nodsa_reason": "ignored"},
        "experimental": {"status": "open", "urgency": "low"}
      }
    }
  },
  "openssl": {
    "CVE-2024-2961": {"releases": {}},
    "CVE-2024-5535": {
      "description": "Issue summary: Calling the OpenSSL API function SSL_select_next_proto",
      "releases": {
        "bookworm": {"status": "resolved", "fixed_version": "not a version!", "urgency": "low"},
        "bullseye": {"status": "weird", "urgency": "low"}
      }
    }
  }
})";

TEST(TrackerTest, ReadsStatusesPerRelease) {
  auto data = ParseTrackerJson(kTracker, "tracker.json");
  ASSERT_TRUE(data) << data.error().message;
  EXPECT_EQ(data->records, 6);

  std::vector<std::string> rows;
  for (const Entry& e : data->entries) {
    rows.push_back(e.release + " " + e.source + " " + e.id + " " + e.introduced +
                   " fixed=" + e.fixed + " urgency=" + e.urgency);
  }
  EXPECT_THAT(rows, ElementsAre("12 glibc CVE-2010-4756 0 fixed= urgency=unimportant",
                                "13 glibc CVE-2010-4756 0 fixed= urgency=low**",
                                "12 glibc CVE-2024-2961 0 fixed=2.36-9+deb12u6 urgency=",
                                "11 glibc CVE-2024-2961 0 fixed=2.31-13+deb11u9 urgency=",
                                "12 glibc TEMP-0000000-A1B2C3 0 fixed= urgency=low"));

  EXPECT_EQ(data->skipped, 2);
  EXPECT_THAT(data->skipped_examples,
              ElementsAre("CVE-2024-5535 openssl: bad version 'not a version!'",
                          "CVE-2024-5535 openssl: unknown status 'weird'"));

  std::vector<std::string> summaries;
  for (const Vulnerability& v : data->vulnerabilities) summaries.push_back(v.id + ": " + v.summary);
  EXPECT_THAT(summaries,
              ElementsAre("CVE-2010-4756: The glob implementation in the GNU C Library allows ...",
                          "CVE-2020-0001: ",
                          "CVE-2024-2961: The iconv() function in the GNU C Library may overflow.",
                          "TEMP-0000000-A1B2C3: ",
                          "CVE-2024-5535: Issue summary: Calling the OpenSSL API function "
                          "SSL_select_next_proto"));
}

TEST(TrackerTest, NotTrackerInputFailsNamingTheInput) {
  struct Case {
    std::string_view json;
    std::string_view message;
  };
  for (const Case& c : {
           Case{"{", "t.json: not valid JSON"},
           Case{"[]", "t.json: not Debian security tracker JSON: not an object"},
           Case{R"({"glibc": []})",
                "t.json: not Debian security tracker JSON: package glibc is not an object"},
           Case{R"({"glibc": {"CVE-1": 3}})",
                "t.json: not Debian security tracker JSON: glibc CVE-1 is not an object"},
           Case{R"({"glibc": {"CVE-1": {"releases": []}}})",
                "t.json: not Debian security tracker JSON: glibc CVE-1: releases is not an object"},
           Case{R"({"glibc": {"CVE-1": {"releases": {"bookworm": "open"}}}})",
                "t.json: not Debian security tracker JSON: glibc CVE-1 bookworm is not an object"},
       }) {
    auto data = ParseTrackerJson(c.json, "t.json");
    ASSERT_THAT(data, FailsWith(ErrorCode::kSpec)) << c.json;
    EXPECT_EQ(data.error().message, c.message);
  }
}

TEST(TrackerTest, EmptyObjectIsEmptyData) {
  auto data = ParseTrackerJson("{}", "t.json");
  ASSERT_TRUE(data) << data.error().message;
  EXPECT_EQ(data->records, 0);
  EXPECT_TRUE(data->entries.empty());
}

}  // namespace
}  // namespace hardbase::vuln
