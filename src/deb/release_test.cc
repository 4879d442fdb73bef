#include "deb/release.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ctime>
#include <filesystem>
#include <string>

#include "base/fs.h"
#include "base/sha256.h"
#include "deb/keyring.h"
#include "support/repo_fixture.h"
#include "support/result_matchers.h"

namespace hardbase::deb {
namespace {

using ::hardbase::testing::FailsWith;

using ::testing::HasSubstr;

// Shaped like bookworm-security's Release (trimmed SHA256 table).
constexpr std::string_view kSecurityRelease =
    "Origin: Debian\n"
    "Label: Debian-Security\n"
    "Suite: oldstable-security\n"
    "Version: 12\n"
    "Codename: bookworm-security\n"
    "Date: Wed, 25 Nov 2026 02:22:30 UTC\n"
    "Valid-Until: Wed, 02 Dec 2026 02:22:30 UTC\n"
    "Acquire-By-Hash: yes\n"
    "Architectures: amd64 arm64 armhf i386 ppc64el\n"
    "Components: updates/main updates/contrib updates/non-free-firmware updates/non-free\n"
    "Description: Debian 12 - Security Updates\n"
    "MD5Sum:\n"
    " d41d8cd98f00b204e9800998ecf8427e        0 contrib/Contents-amd64\n"
    "SHA256:\n"
    " e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855        0 "
    "contrib/Contents-amd64\n"
    " c8688a4761aec8f6dfbab8f3941f383fc5ee72aaf0bdaaa3c43aac81d8c42c84     3681 "
    "contrib/binary-amd64/Packages\n"
    " 49a9e54c4ffc7bde7834f37042f551ce863c2630382396592602f432cdbf6f1c  2532743 "
    "main/binary-amd64/Packages\n"
    " 19f8dd5f1ee03c4ce44d79f31c4a9bb538e7b8324bf8db398cf395e3223affe9   501456 "
    "main/binary-amd64/Packages.xz\n";

// Expected values below come from `date -d '<text>' +%s` (GNU coreutils), not from this code.
TEST(ReleaseTest, ParsesSecurityRelease) {
  auto r = ParseRelease(kSecurityRelease);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->origin, "Debian");
  EXPECT_EQ(r->label, "Debian-Security");
  EXPECT_EQ(r->suite, "oldstable-security");
  EXPECT_EQ(r->codename, "bookworm-security");
  EXPECT_EQ(r->version, "12");
  EXPECT_EQ(r->date, 1795573350);
  ASSERT_TRUE(r->valid_until.has_value());
  EXPECT_EQ(*r->valid_until, 1796178150);
  EXPECT_EQ(*r->valid_until - r->date, 7 * 86400);
  EXPECT_TRUE(r->acquire_by_hash);
  EXPECT_THAT(r->architectures,
              ::testing::ElementsAre("amd64", "arm64", "armhf", "i386", "ppc64el"));
  EXPECT_THAT(r->components,
              ::testing::ElementsAre("updates/main", "updates/contrib", "updates/non-free-firmware",
                                     "updates/non-free"));
  EXPECT_EQ(r->sha256.size(), 4u);  // MD5Sum lines are not taken

  auto xz = r->Lookup("main/binary-amd64/Packages.xz");
  ASSERT_TRUE(xz) << xz.error().message;
  EXPECT_EQ(xz->sha256, "19f8dd5f1ee03c4ce44d79f31c4a9bb538e7b8324bf8db398cf395e3223affe9");
  EXPECT_EQ(xz->size, 501456u);
  auto empty = r->Lookup("contrib/Contents-amd64");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->size, 0u);

  auto missing = r->Lookup("main/binary-s390x/Packages.xz");
  ASSERT_THAT(missing, FailsWith(ErrorCode::kNotFound));
  EXPECT_THAT(missing.error().message, HasSubstr("main/binary-s390x/Packages.xz"));
}

TEST(ReleaseTest, WithoutValidUntilAndByHash) {
  std::string text(kSecurityRelease);
  text.erase(text.find("Valid-Until:"), text.find("Acquire-By-Hash:") - text.find("Valid-Until:"));
  text.erase(text.find("Acquire-By-Hash: yes\n"), 21);
  auto r = ParseRelease(text);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->valid_until.has_value());
  EXPECT_FALSE(r->acquire_by_hash);
  EXPECT_TRUE(CheckFreshness(*r, 4000000000));
}

TEST(ReleaseTest, DateFormats) {
  struct Case {
    const char* text;
    int64_t want;
  };
  for (const Case& c : {
           Case{"Sat, 11 Jul 2026 10:16:37 UTC", 1783764997},
           Case{"Wed, 25 Nov 2026 02:22:30 +0000", 1795573350},
           Case{"Tue, 01 Mar 2022 23:59:59 -0130", 1646184599},
           Case{"1 Mar 2022 22:05 +0200", 1646165100},
           Case{"Thu, 29 Feb 2024 12:00:00 GMT", 1709208000},
           Case{"Thu, 01 Jan 1970 00:00:00 +0000", 0},
           Case{"Mon, 15 Jun 2026 08:00:00 +0530", 1781490600},
           Case{"Fri, 31 Dec 9999 23:59:59 UTC", 253402300799},
           Case{"  sat,  11 jul 2026 10:16:37 utc ", 1783764997},
       }) {
    auto t = ParseRfc2822Date(c.text);
    ASSERT_TRUE(t) << c.text << ": " << t.error().message;
    EXPECT_EQ(*t, c.want) << c.text;
  }
}

TEST(ReleaseTest, MalformedDates) {
  for (const char* text : {
           "",
           "Sat, 11 Jul 2026 10:16:37",         // no zone
           "Sat, 11 Jul 2026 10:16:37 CEST",    // named zones other than UTC are ambiguous
           "Sun, 11 Jul 2026 10:16:37 UTC",     // wrong weekday
           "Sat, 32 Jul 2026 10:16:37 UTC",     // no such day
           "Sun, 29 Feb 2026 10:16:37 UTC",     // not a leap year
           "Sat, 11 Juli 2026 10:16:37 UTC",    // month name
           "Sat, 11 Jul 26 10:16:37 UTC",       // two-digit year
           "Sat, 11 Jul 2026 24:00:00 UTC",     // hour
           "Sat, 11 Jul 2026 10:16 :37 UTC",    // extra token
           "Sat, 11 Jul 2026 10-16-37 UTC",     // separators
           "Sat, 11 Jul 2026 10:16:37 +00000",  // offset width
           "2026-07-11T10:16:37Z",              // ISO 8601 is not what Release files use
       }) {
    auto t = ParseRfc2822Date(text);
    EXPECT_FALSE(t) << "'" << text << "' parsed as " << (t ? *t : 0);
    if (!t) {
      EXPECT_THAT(t, FailsWith(ErrorCode::kSpec)) << text;
    }
  }
}

TEST(ReleaseTest, FormatsDatesLikeTheArchive) {
  // Inverse of the parser; expected strings from `date -u -d @N '+%a, %d %b %Y %H:%M:%S UTC'`.
  EXPECT_EQ(FormatRfc2822Date(1783764997), "Sat, 11 Jul 2026 10:16:37 UTC");
  EXPECT_EQ(FormatRfc2822Date(1700000000), "Tue, 14 Nov 2023 22:13:20 UTC");
  EXPECT_EQ(FormatRfc2822Date(0), "Thu, 01 Jan 1970 00:00:00 UTC");
}

TEST(ReleaseTest, Freshness) {
  auto r = ParseRelease(kSecurityRelease);
  ASSERT_TRUE(r);
  EXPECT_TRUE(CheckFreshness(*r, 1795573350));  // at Date
  EXPECT_TRUE(CheckFreshness(*r, 1796178149));  // one second before Valid-Until
  auto expired = CheckFreshness(*r, 1796178150);
  ASSERT_THAT(expired, FailsWith(ErrorCode::kIntegrity));
  EXPECT_THAT(expired.error().message,
              HasSubstr("expired: Valid-Until Wed, 02 Dec 2026 02:22:30 UTC has passed"));
}

// Replaces the first occurrence of `from` in kSecurityRelease.
std::string Edit(std::string_view from, std::string_view to) {
  std::string text(kSecurityRelease);
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

TEST(ReleaseTest, MalformedLinesAreSpecErrorsNamingTheLine) {
  struct Case {
    std::string text;
    const char* want;
  };
  const Case cases[] = {
      {Edit("Date: Wed, 25 Nov 2026", "Date: Wed, 25 Nox 2026"), "line 6"},
      {Edit("Valid-Until: Wed, 02 Dec", "Valid-Until: Thu, 02 Dec"), "line 7"},
      {Edit(" c8688a4761aec8f6", " c8688a4761aec8fX"), "line 16"},
      {Edit("     3681 contrib", "     36x1 contrib"), "line 16"},
      {Edit(" c8688a4761aec8f6dfbab8f3941f383fc5ee72aaf0bdaaa3c43aac81d8c42c84     3681 ",
            " c8688a4761aec8f6dfbab8f3941f383fc5ee72aaf0bdaaa3c43aac81d8c42c84 "),
       "line 16"},
      {Edit(" c8688a4761aec8f6dfbab8f3941f383fc5ee72aaf0bdaaa3c43aac81d8c42c84 ", " c8 "),
       "line 16"},
      {Edit("contrib/binary-amd64/Packages\n", "main/binary-amd64/Packages\n"), "line 17"},
      {Edit("Label: Debian-Security\n", "Label Debian-Security\n"), "line 2"},
      {Edit("Description:", "\nDescription:"), "line 12"},
  };
  for (const Case& c : cases) {
    auto r = ParseRelease(c.text);
    ASSERT_THAT(r, FailsWith(ErrorCode::kSpec)) << c.want;
    EXPECT_THAT(r.error().message, HasSubstr(c.want)) << r.error().message;
  }
}

TEST(ReleaseTest, RequiresDateAndSha256) {
  auto no_date = ParseRelease(Edit("Date: Wed, 25 Nov 2026 02:22:30 UTC\n", ""));
  ASSERT_THAT(no_date, FailsWith(ErrorCode::kSpec));
  std::string md5_only(kSecurityRelease.substr(0, kSecurityRelease.find("SHA256:")));
  auto no_sha = ParseRelease(md5_only);
  ASSERT_FALSE(no_sha);
  EXPECT_THAT(no_sha.error().message, HasSubstr("SHA256"));
  auto empty = ParseRelease("");
  ASSERT_THAT(empty, FailsWith(ErrorCode::kSpec));
}

TEST(ReleaseTest, UppercaseHashesAreNormalized) {
  auto r = ParseRelease(Edit("19f8dd5f1ee03c4ce44d79f31c4a9bb538e7b8324bf8db398cf395e3223affe9",
                             "19F8DD5F1EE03C4CE44D79F31C4A9BB538E7B8324BF8DB398CF395E3223AFFE9"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->Lookup("main/binary-amd64/Packages.xz")->sha256,
            "19f8dd5f1ee03c4ce44d79f31c4a9bb538e7b8324bf8db398cf395e3223affe9");
}

// A Release written by the test fixture (dates from the C library, hashes of files on disk).
TEST(ReleaseTest, FixtureReleaseMatchesFilesOnDisk) {
  auto dir = TempDir::Create("release-test-");
  ASSERT_TRUE(dir);
  hardbase::testing::RepoFixture repo(dir->path());
  hardbase::testing::PackageSpec hello{.name = "hello", .version = "1.0-1"};
  hello.files["usr/bin/hello"] = "#!/bin/true\n";
  ASSERT_TRUE(repo.AddPackage("stable", "amd64", hello));
  hardbase::testing::PublishOptions options;
  options.date = 1783764997;
  auto published = repo.Publish("stable", options);
  ASSERT_TRUE(published) << published.error().message;

  auto text = ReadFile(dir->path() + "/dists/stable/Release");
  ASSERT_TRUE(text);
  auto r = ParseRelease(*text);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->codename, "stable");
  EXPECT_EQ(r->date, 1783764997);
  EXPECT_EQ(r->valid_until, 1783764997 + 7 * 86400);
  for (const char* path : {"main/binary-amd64/Packages", "main/binary-amd64/Packages.xz"}) {
    auto entry = r->Lookup(path);
    ASSERT_TRUE(entry) << entry.error().message;
    auto sum = hardbase::testing::RepoFixture::RunTool(
        {"sha256sum", dir->path() + "/dists/stable/" + path});
    ASSERT_TRUE(sum) << sum.error().message;
    EXPECT_EQ(entry->sha256, sum->substr(0, 64)) << path;
  }
  EXPECT_TRUE(CheckFreshness(*r, 1783764997 + 86400));
  EXPECT_FALSE(CheckFreshness(*r, 1783764997 + 8 * 86400));
}

// The fixture's broken repositories are broken the way they claim, checked with sha256sum, xz
// and dpkg-deb rather than with hardbase code.
TEST(ReleaseTest, FixtureBadRepositories) {
  using hardbase::testing::RepoFixture;
  auto dir = TempDir::Create("release-test-");
  ASSERT_TRUE(dir);
  RepoFixture repo(dir->path());
  hardbase::testing::PackageSpec good{.name = "libfoo1", .version = "1:2.0-1"};
  good.fields = {{"Source", "foo (2.0-1)"}, {"Depends", "libc6 (>= 2.36)"}, {"Multi-Arch", "same"}};
  good.files["usr/lib/x86_64-linux-gnu/libfoo.so.1"] = "ELF?";
  good.symlinks["usr/lib/x86_64-linux-gnu/libfoo.so"] = "libfoo.so.1";
  auto added = repo.AddPackage("bad", "amd64", good);
  ASSERT_TRUE(added) << added.error().message;
  EXPECT_EQ(added->filename, "pool/main/f/foo/libfoo1_2.0-1_amd64.deb");
  hardbase::testing::PackageSpec corrupt{.name = "bar", .version = "1.0", .architecture = "all"};
  corrupt.corrupt_deb = true;
  auto bar = repo.AddPackage("bad", "amd64", corrupt);
  ASSERT_TRUE(bar) << bar.error().message;
  auto bar_arm = repo.AddPackage("bad", "arm64", corrupt);  // built once, listed twice
  ASSERT_TRUE(bar_arm);
  EXPECT_EQ(bar_arm->sha256, bar->sha256);

  auto fields = RepoFixture::RunTool({"dpkg-deb", "--field", added->path, "Depends", "Version"});
  ASSERT_TRUE(fields) << fields.error().message;
  EXPECT_EQ(*fields, "Depends: libc6 (>= 2.36)\nVersion: 1:2.0-1\n");
  auto listing = RepoFixture::RunTool({"dpkg-deb", "--contents", added->path});
  ASSERT_TRUE(listing) << listing.error().message;
  EXPECT_THAT(*listing, HasSubstr("./usr/lib/x86_64-linux-gnu/libfoo.so -> libfoo.so.1"));
  EXPECT_THAT(*listing, HasSubstr("root/root"));
  auto good_sum = RepoFixture::RunTool({"sha256sum", added->path});
  ASSERT_TRUE(good_sum);
  EXPECT_EQ(good_sum->substr(0, 64), added->sha256);
  auto bad_sum = RepoFixture::RunTool({"sha256sum", bar->path});
  ASSERT_TRUE(bad_sum);
  EXPECT_NE(bad_sum->substr(0, 64), bar->sha256);
  EXPECT_EQ(std::filesystem::file_size(bar->path), bar->size);

  hardbase::testing::PublishOptions mismatch;
  mismatch.packages_xz_hash_mismatch = true;
  ASSERT_TRUE(repo.Publish("bad", mismatch));
  const std::string xz_path = dir->path() + "/dists/bad/main/binary-amd64/Packages.xz";
  auto release_text = ReadFile(dir->path() + "/dists/bad/Release");
  ASSERT_TRUE(release_text);
  auto release = ParseRelease(*release_text);
  ASSERT_TRUE(release) << release.error().message;
  EXPECT_THAT(release->architectures, ::testing::ElementsAre("amd64", "arm64"));
  auto listed = release->Lookup("main/binary-amd64/Packages.xz");
  ASSERT_TRUE(listed);
  EXPECT_TRUE(RepoFixture::RunTool({"xz", "-t", xz_path}));
  auto sum = RepoFixture::RunTool({"sha256sum", xz_path});
  ASSERT_TRUE(sum);
  EXPECT_NE(sum->substr(0, 64), listed->sha256);
  auto plain =
      RepoFixture::RunTool({"sha256sum", dir->path() + "/dists/bad/main/binary-amd64/Packages"});
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->substr(0, 64), release->Lookup("main/binary-amd64/Packages")->sha256);

  hardbase::testing::PublishOptions truncated;
  truncated.packages_xz_truncated = true;
  ASSERT_TRUE(repo.Publish("bad", truncated));
  EXPECT_FALSE(RepoFixture::RunTool({"xz", "-t", xz_path}));

  hardbase::testing::PublishOptions expired;
  expired.expired = true;
  ASSERT_TRUE(repo.Publish("bad", expired));
  release_text = ReadFile(dir->path() + "/dists/bad/Release");
  ASSERT_TRUE(release_text);
  release = ParseRelease(*release_text);
  ASSERT_TRUE(release) << release.error().message;
  auto fresh = CheckFreshness(*release, static_cast<int64_t>(std::time(nullptr)));
  ASSERT_THAT(fresh, FailsWith(ErrorCode::kIntegrity));
}

// The host's real bookworm-security InRelease, when apt has fetched it: Valid-Until is a week
// after Date, dates agree with GNU date, and the Packages hash agrees with apt's stored copy.
TEST(ReleaseTest, RealSecurityRelease) {
  const std::string lists = "/var/lib/apt/lists/";
  std::string inrelease;
  std::string packages_lz4;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(lists, ec)) {
    std::string name = e.path().filename().string();
    if (name.ends_with("_dists_bookworm-security_InRelease")) inrelease = e.path().string();
    if (name.ends_with("_dists_bookworm-security_main_binary-amd64_Packages.lz4")) {
      packages_lz4 = e.path().string();
    }
  }
  const std::string keyring_path = "/usr/share/keyrings/debian-archive-keyring.gpg";
  if (inrelease.empty() || !PathExists(keyring_path)) GTEST_SKIP() << "no bookworm-security lists";
  auto keyring = Keyring::FromFiles({keyring_path});
  ASSERT_TRUE(keyring) << keyring.error().message;
  auto data = ReadFile(inrelease);
  ASSERT_TRUE(data);
  auto verified = VerifyClearsigned(*keyring, *data, "InRelease of bookworm-security");
  ASSERT_TRUE(verified) << verified.error().message;
  auto r = ParseRelease(verified->signed_text);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->codename, "bookworm-security");
  ASSERT_TRUE(r->valid_until.has_value());
  EXPECT_EQ(*r->valid_until - r->date, 7 * 86400);

  auto stanza_date = [&](std::string_view field) {
    size_t at = verified->signed_text.find(std::string("\n") + std::string(field) + ": ");
    size_t start = at + field.size() + 3;
    return verified->signed_text.substr(start, verified->signed_text.find('\n', start) - start);
  };
  auto gnu_date =
      hardbase::testing::RepoFixture::RunTool({"date", "-d", stanza_date("Date"), "+%s"});
  ASSERT_TRUE(gnu_date) << gnu_date.error().message;
  EXPECT_EQ(std::to_string(r->date) + "\n", *gnu_date);

  if (!packages_lz4.empty()) {
    auto unpacked = hardbase::testing::RepoFixture::RunTool({"lz4", "-dc", packages_lz4});
    if (unpacked) {
      auto entry = r->Lookup("main/binary-amd64/Packages");
      ASSERT_TRUE(entry) << entry.error().message;
      EXPECT_EQ(entry->size, unpacked->size());
      EXPECT_EQ(entry->sha256, Sha256Hex(*unpacked));
    }
  }
}

}  // namespace
}  // namespace hardbase::deb
