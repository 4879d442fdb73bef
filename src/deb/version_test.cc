#include "deb/version.h"

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <sstream>
#include <thread>

#include "support/process.h"
#include "support/result_matchers.h"

namespace hardbase::deb {
namespace {

using ::hardbase::testing::FailsWith;

using testing::RunProcess;

int Sign(int v) { return (v > 0) - (v < 0); }

TEST(VersionTest, HandPickedOrdering) {
  // Each pair sorts a < b; cases from dpkg's own test suite and Debian policy 5.6.12.
  const std::pair<const char*, const char*> less[] = {
      {"1.0~rc1", "1.0"},
      {"1.0~~", "1.0~"},
      {"1.0~", "1.0"},
      {"1.0", "1.0a"},
      {"1.0a", "1.0+"},
      {"1.0", "1.0.1"},
      {"1.0-1", "1.0-1.1"},
      {"1.0-1", "1.0-2"},
      {"1.0-9", "1.0-10"},
      {"9", "10"},
      {"1:0.1", "2:0.0"},
      {"99:1", "100:0"},
      {"1.2.3", "1:0"},
      {"0.9", "0.10"},
      {"1.0-0", "1.0-0.1"},
      {"2.30-1", "2.30+dfsg-1"},
      {"3.0.11-1~deb12u1", "3.0.11-1~deb12u2"},
      {"3.0.11-1~deb12u2", "3.0.11-1"},
      {"1.0a+dfsg", "1.0a.1"},
      {"a", "b"},
      {"1.0a", "1.0b"},
      {"1.0Z", "1.0a"} /* ASCII */,
      {"123456789012345678901234567890", "123456789012345678901234567891"},
      {"1.01", "1.2"},
      {"1~~a", "1~"},
  };
  for (const auto& [a, b] : less) {
    EXPECT_LT(CompareVersions(a, b), 0) << a << " < " << b;
    EXPECT_GT(CompareVersions(b, a), 0) << b << " > " << a;
  }
  const std::pair<const char*, const char*> equal[] = {
      {"1.0", "1.0"},  {"0:1.0", "1.0"}, {"1.0-0", "1.0"},
      {"1.00", "1.0"}, {"1.001", "1.1"}, {"00:1", "0:1"},
  };
  for (const auto& [a, b] : equal) EXPECT_EQ(CompareVersions(a, b), 0) << a << " == " << b;
}

TEST(VersionTest, ParseRejectsWhatDpkgRejects) {
  for (const char* bad :
       {"", " ", "a1.0", "1.0 2", ":1.0", "x:1.0", "1.0-", "1.0_1", "-1", "1:", "1.0-a_b"}) {
    EXPECT_FALSE(ParseVersion(bad).has_value()) << "'" << bad << "'";
  }
  auto p = ParseVersion("2:1.2-3-4~bpo1");
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->epoch, 2u);
  EXPECT_EQ(p->upstream, "1.2-3");
  EXPECT_EQ(p->revision, "4~bpo1");
  EXPECT_THAT(ParseVersion("bad version"), FailsWith(ErrorCode::kSpec));
}

TEST(VersionTest, Satisfies) {
  EXPECT_TRUE(Satisfies("1.0", Relation::kGreaterEq, "1.0"));
  EXPECT_FALSE(Satisfies("1.0~rc1", Relation::kGreaterEq, "1.0"));
  EXPECT_TRUE(Satisfies("1.0~rc1", Relation::kLess, "1.0"));
  EXPECT_TRUE(Satisfies("2.0", Relation::kGreater, "1.0"));
  EXPECT_TRUE(Satisfies("0:1.0", Relation::kEq, "1.0"));
  EXPECT_TRUE(Satisfies("1.0", Relation::kLessEq, "1.0"));
  EXPECT_TRUE(Satisfies("anything", Relation::kAny, ""));
}

// A random valid version mixing the features that make ordering subtle.
std::string RandomVersion(std::mt19937& rng) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  static const std::string kChars = "0123456789abcxyzABZ.+~";
  auto part = [&](size_t max_len) {
    std::string s;
    size_t len = 1 + static_cast<size_t>(pick(static_cast<int>(max_len)));
    for (size_t i = 0; i < len; ++i) {
      if (pick(6) == 0) {
        // A digit run, sometimes very long or with leading zeros.
        int digits = pick(8) == 0 ? 20 + pick(10) : 1 + pick(3);
        if (pick(5) == 0) s += '0';
        for (int d = 0; d < digits; ++d) s += static_cast<char>('0' + pick(10));
      } else {
        s += kChars[static_cast<size_t>(pick(static_cast<int>(kChars.size())))];
      }
    }
    return s;
  };
  std::string v;
  if (pick(5) == 0) v += std::to_string(pick(3)) + ":";
  v += static_cast<char>('0' + pick(10));
  v += part(6);
  if (pick(3) != 0) {
    if (pick(4) == 0) v += "-" + part(2);  // a hyphen inside upstream
    v += "-" + part(5);
  }
  return v;
}

// Ordering agrees with dpkg itself (`dpkg --compare-versions`) on generated pairs, and with apt's
// independent implementation (python3-apt's apt_pkg.version_compare) three-way on the same pairs.
TEST(VersionTest, AgreesWithDpkgAndAptOnGeneratedPairs) {
  constexpr int kPairs = 10000;
  std::mt19937 rng(20261127);
  std::vector<std::pair<std::string, std::string>> pairs;
  pairs.reserve(kPairs);
  while (pairs.size() < kPairs) {
    std::string a = RandomVersion(rng);
    // Half the pairs share a prefix so that the interesting tails are what decides.
    std::string b = (rng() % 2) ? a.substr(0, rng() % (a.size() + 1)) : std::string();
    if (b.empty() || !ParseVersion(b))
      b = RandomVersion(rng);
    else if (b.find('-') == std::string::npos)
      b += RandomVersion(rng).substr(1);
    if (!ParseVersion(a) || !ParseVersion(b)) continue;
    pairs.emplace_back(a, b);
  }

  // apt_pkg: one process for all pairs.
  std::ostringstream script_in;
  for (const auto& [a, b] : pairs) script_in << a << ' ' << b << '\n';
  auto apt = RunProcess({"/usr/bin/python3", "-c",
                         "import sys, apt_pkg\n"
                         "apt_pkg.init_system()\n"
                         "for line in sys.stdin:\n"
                         "    a, b = line.split()\n"
                         "    r = apt_pkg.version_compare(a, b)\n"
                         "    print((r > 0) - (r < 0))\n"},
                        {}, script_in.str());
  ASSERT_EQ(apt.exit_code, 0) << apt.err;
  std::istringstream apt_out(apt.out);
  int mismatches = 0;
  for (const auto& [a, b] : pairs) {
    int expected = 0;
    apt_out >> expected;
    if (Sign(CompareVersions(a, b)) != expected && ++mismatches < 20) {
      ADD_FAILURE() << "apt_pkg orders " << a << " vs " << b << " as " << expected;
    }
  }
  EXPECT_EQ(mismatches, 0);

  // dpkg: one process per pair (about 8 ms each), so two threads share the first 2000 pairs;
  // apt_pkg above, a second implementation, has checked all of them.
  constexpr size_t kDpkgPairs = 2000;
  std::atomic<int> dpkg_mismatches{0};
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < kDpkgPairs; i = next++) {
      const auto& [a, b] = pairs[i];
      auto r = RunProcess({"dpkg", "--compare-versions", a, "lt", b});
      bool dpkg_less = r.exit_code == 0;
      if (r.exit_code != 0 && r.exit_code != 1) {
        ADD_FAILURE() << "dpkg failed on " << a << " " << b << ": " << r.err;
      }
      if (dpkg_less != (CompareVersions(a, b) < 0) && ++dpkg_mismatches < 20) {
        ADD_FAILURE() << "dpkg says " << a << (dpkg_less ? " < " : " >= ") << b;
      }
    }
  };
  std::thread t1(worker), t2(worker);
  t1.join();
  t2.join();
  EXPECT_EQ(dpkg_mismatches.load(), 0);
}

TEST(VersionTest, EqualityAgreesWithDpkg) {
  const std::pair<const char*, const char*> cases[] = {
      {"1.0", "1.00"},  {"0:1.0", "1.0"},    {"1.0-0", "1.0"}, {"1.0~", "1.0"},
      {"1:1.0", "1.0"}, {"1.0-1", "1.0-01"}, {"1a", "1A"},     {"2.30+dfsg-1", "2.30+dfsg-1"}};
  for (const auto& [a, b] : cases) {
    bool dpkg_eq = RunProcess({"dpkg", "--compare-versions", a, "eq", b}).exit_code == 0;
    EXPECT_EQ(dpkg_eq, CompareVersions(a, b) == 0) << a << " vs " << b;
  }
}

}  // namespace
}  // namespace hardbase::deb
