// `hardbase scan` against an independent matcher: Debian's own debsecan, run offline on the same
// dpkg status with a data file the test derives from the same OSV records (support/debsecan.h:
// straight from the osv.dev snapshot zip in ../shared/data, not from hardbase's database), while
// hardbase scans with the database `hardbase vuln update` imports from that zip. Both must report
// the same (vulnerability, binary package) pairs and agree on which have a fix, except for the
// divergences named below, each asserted as exactly the set the rule predicts:
//
//  - Folded: every record is its own vulnerability for debsecan, so it reports advisory ids
//    (DSA-, DLA-, DTSA-) as well as CVE ids. hardbase folds an advisory into the CVEs it names (the
//    finding's "advisories" lists it) and reports it under its own id only when none of its CVEs
//    has an entry for that package. A debsecan pair (advisory, package) that hardbase does not
//    report must be folded into a hardbase finding on the same package. The converse holds
//    without exception: every hardbase pair is a debsecan pair.
//  - IntroducedLater: debsecan's data has no "introduced" version, so an entry affecting only
//    versions from X on is reported by debsecan for an older package too. (None of bookworm's
//    entries in this snapshot start later than "0"; the rule is kept so a snapshot that has some
//    does not fail for this known reason.)
//
// Treatment on both sides: every hardbase finding counts, kernel-header ones included (debsecan
// does not set them apart) and none suppressed (no VEX is given); unfixed entries are in both
// (no --only-fixed), and "fixable" must equal debsecan's "fixed". debsecan only ever reads local
// files here: its source is a file:// URL, proxies point at a closed port, and the only names it
// resolves are the host's own.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "base/fs.h"
#include "deb/control.h"
#include "deb/version.h"
#include "support/debsecan.h"
#include "support/examples.h"
#include "support/oci_runtime.h"
#include "support/process.h"

namespace hardbase::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Pair = std::pair<std::string, std::string>;  // (vulnerability id, binary package)
using Pairs = std::set<Pair>;

constexpr std::string_view kSuite = "bookworm";
constexpr std::string_view kRelease = "12";

std::string Snapshot() {
  return std::string(HARDBASE_SOURCE_DIR) + "/../shared/data/osv-debian-2025-02-12.zip";
}

Pairs Minus(const Pairs& a, const Pairs& b) {
  Pairs out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::inserter(out, out.end()));
  return out;
}
Pairs Intersect(const Pairs& a, const Pairs& b) {
  Pairs out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::inserter(out, out.end()));
  return out;
}
// The first pairs of a set, for failure messages.
std::string Describe(const Pairs& pairs) {
  std::string out = std::to_string(pairs.size()) + " pairs:";
  size_t shown = 0;
  for (const auto& [id, package] : pairs) {
    if (shown++ == 20) return out + " ...";
    out += " " + id + "/" + package;
  }
  return out;
}

// An installed package as dpkg's status says (debsecan's reading: the Status has the word
// "installed").
struct Installed {
  std::string name, source, source_version;
};
std::vector<Installed> InstalledPackages(const std::string& status) {
  std::vector<Installed> out;
  auto parsed = deb::ForEachStanza(status, [&](const deb::Stanza& s) -> Result<void> {
    std::string words = " " + std::string(s.Get("Status")) + " ";
    if (words.find(" installed ") == std::string::npos) return {};
    Installed p{std::string(s.Get("Package")), std::string(s.Get("Package")),
                std::string(s.Get("Version"))};
    if (std::string_view source = s.Get("Source"); !source.empty()) {
      auto paren = source.find(" (");
      p.source = std::string(source.substr(0, paren));
      if (paren != std::string_view::npos)
        p.source_version = std::string(source.substr(paren + 2, source.size() - paren - 3));
    }
    out.push_back(std::move(p));
    return {};
  });
  EXPECT_TRUE(parsed.has_value()) << parsed.error().message;
  return out;
}

class ScanOracleTest : public ::testing::Test {
 protected:
  // One import for the suite: `hardbase vuln update` of the snapshot, and debsecan's data file
  // made from the snapshot's records for the suite.
  static void SetUpTestSuite() {
    auto dir = TempDir::Create("hardbase-oracle-");
    if (!dir) return SetUpFailed(dir.error().message);
    work_ = new TempDir(std::move(*dir));
    ProcessResult r = RunProcess({HardbaseBinary(), "--cache-dir", Work() + "/cache", "vuln",
                                  "update", "--from", Snapshot(), "--db", DbPath()});
    if (r.exit_code != 0) return SetUpFailed("hardbase vuln update: " + r.err);
    auto entries = ReadOsvEntries(Snapshot(), kRelease);
    if (!entries) return SetUpFailed(entries.error().message);
    entries_ = new std::vector<OsvEntry>(std::move(*entries));
    auto written = MakeDirs(DataDir()).and_then(
        [] { return WriteDebsecanData(*entries_, kSuite, DataDir()); });
    if (!written) return SetUpFailed(written.error().message);
  }
  static void TearDownTestSuite() {
    delete entries_;
    delete work_;
    entries_ = nullptr;
    work_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(setup_error_.empty()) << setup_error_; }

  static void SetUpFailed(std::string error) { setup_error_ = std::move(error); }
  static std::string Work() { return work_->path(); }
  static std::string DbPath() { return Work() + "/vulndb"; }
  static std::string DataDir() { return Work() + "/debsecan"; }

  // A root filesystem holding only what a scan reads: the status file and os-release.
  static std::string MakeRoot(const std::string& name, const std::string& status) {
    std::string root = Work() + "/" + name;
    EXPECT_TRUE(MakeDirs(root + "/var/lib/dpkg").has_value());
    EXPECT_TRUE(MakeDirs(root + "/etc").has_value());
    EXPECT_TRUE(WriteFileAtomic(root + "/var/lib/dpkg/status", status).has_value());
    EXPECT_TRUE(WriteFileAtomic(root + "/etc/os-release",
                                "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian "
                                "GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n"
                                "ID=debian\n")
                    .has_value());
    return root;
  }

  // IntroducedLater: the pairs debsecan reports for entries whose first affected version is
  // above the installed source version (and that are still open or fixed above it).
  static Pairs IntroducedLater(const std::vector<Installed>& packages) {
    std::multimap<std::string, const OsvEntry*> by_source;
    for (const OsvEntry& e : *entries_) by_source.emplace(e.source, &e);
    Pairs out;
    for (const Installed& p : packages) {
      auto [first, last] = by_source.equal_range(p.source);
      for (auto it = first; it != last; ++it) {
        const OsvEntry& e = *it->second;
        if (e.introduced == "0" || deb::CompareVersions(p.source_version, e.introduced) >= 0)
          continue;
        if (e.fixed.empty() || deb::CompareVersions(p.source_version, e.fixed) < 0)
          out.emplace(e.id, p.name);
      }
    }
    return out;
  }

  struct Agreement {
    Pairs both;     // reported by both
    Pairs fixable;  // of those, with a fix
    Pairs folded;   // reported by debsecan under an advisory id hardbase folded into a CVE
  };

  // Scans `image` with hardbase and `status_file` (the same packages) with debsecan, and checks
  // they agree but for the named divergences.
  static Agreement ExpectAgreement(const std::string& image, const std::string& status_file) {
    ProcessResult r = RunProcess({HardbaseBinary(), "--cache-dir", Work() + "/cache", "scan", image,
                                  "--format", "json", "--db", DbPath()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    json report = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(report.is_discarded()) << r.out.substr(0, 200);
    if (report.is_discarded()) return {};
    EXPECT_EQ(report.value("schema", ""), "hardbase-scan/v1");
    EXPECT_EQ(report["unmatched"], json::array());
    Pairs hardbase, hardbase_fixable;
    Pairs hardbase_advisories;  // (advisory, package) of the advisories each finding folds in
    const json& findings = report["findings"];
    for (const json& f : findings) {
      EXPECT_EQ(f.value("suppressed", true), false) << f.dump();
      Pair pair{f["id"].get<std::string>(), f["package"].get<std::string>()};
      hardbase.insert(pair);
      if (f["status"] == "fixable") hardbase_fixable.insert(pair);
      const json& advisories = f["advisories"];
      EXPECT_TRUE(advisories.is_array()) << f.dump();
      if (advisories.is_array())
        for (const json& a : advisories)
          hardbase_advisories.emplace(a.get<std::string>(), pair.second);
    }

    auto debsecan = RunDebsecan(DataDir(), kSuite, status_file);
    EXPECT_TRUE(debsecan.has_value()) << debsecan.error().message;
    if (!debsecan) return {};
    auto status = ReadFile(status_file);
    EXPECT_TRUE(status.has_value());
    Pairs introduced_later = IntroducedLater(InstalledPackages(status.value_or("")));

    Pairs only_hardbase = Minus(hardbase, debsecan->pairs);
    Pairs only_debsecan = Minus(debsecan->pairs, hardbase);
    EXPECT_TRUE(only_hardbase.empty()) << "reported by hardbase only: " << Describe(only_hardbase);
    // Folded: only advisory ids (a CVE is never folded), each in some finding's "advisories" on
    // the same package.
    Pairs folded = Intersect(only_debsecan, hardbase_advisories);
    for (const auto& [id, package] : folded)
      EXPECT_FALSE(id.starts_with("CVE-")) << id << " folded for " << package;
    Pairs unexplained = Minus(only_debsecan, folded);
    EXPECT_TRUE(unexplained == introduced_later)
        << "reported by debsecan only, neither folded nor for a later introduced version: "
        << Describe(Minus(unexplained, introduced_later))
        << "; IntroducedLater predicted but not seen: "
        << Describe(Minus(introduced_later, unexplained));
    Agreement agreement{Intersect(hardbase, debsecan->pairs), {}, folded};
    agreement.fixable = Intersect(hardbase_fixable, agreement.both);
    Pairs debsecan_fixed = Intersect(debsecan->fixed, agreement.both);
    EXPECT_TRUE(agreement.fixable == debsecan_fixed)
        << "fixable by hardbase only: " << Describe(Minus(agreement.fixable, debsecan_fixed))
        << "; fixed by debsecan only: " << Describe(Minus(debsecan_fixed, agreement.fixable));
    size_t advisories = std::count_if(agreement.both.begin(), agreement.both.end(),
                                      [](const Pair& p) { return !p.first.starts_with("CVE-"); });
    std::cout << "[ oracle   ] hardbase " << hardbase.size() << " pairs, debsecan "
              << debsecan->pairs.size() << ", both " << agreement.both.size() << " (fixable "
              << agreement.fixable.size() << ", advisory ids " << advisories << "), Folded "
              << folded.size() << ", IntroducedLater " << introduced_later.size() << "\n";
    return agreement;
  }

  static inline TempDir* work_ = nullptr;
  static inline std::vector<OsvEntry>* entries_ = nullptr;  // the snapshot's records for kRelease
  static inline std::string setup_error_;
};

// A stanza of a package built from `source` at `version`.
std::string Stanza(const std::string& name, const std::string& status, const std::string& source,
                   const std::string& version) {
  return "Package: " + name + "\nStatus: " + status +
         "\nPriority: optional\nArchitecture: amd64\nVersion: " + version + "\nSource: " + source +
         " (" + version + ")\nMaintainer: Oracle Test <oracle@example.org>\nDescription: test\n\n";
}

// This machine's own package database (Debian 12, hundreds of packages), plus stanzas in the
// states dpkg leaves behind: only the installed ones (the word "installed" in Status: hold or
// install) count, for both.
TEST_F(ScanOracleTest, AgreesWithDebsecanOnHostStatus) {
  auto host = ReadFile("/var/lib/dpkg/status");
  ASSERT_TRUE(host.has_value());
  std::string status = *host;
  if (!status.ends_with("\n\n")) status += "\n";
  const std::string old_openssl = "3.0.0-1";  // before every bookworm fix
  status += Stanza("oracle-hold", "hold ok installed", "openssl", old_openssl);
  const std::map<std::string, std::string> not_installed = {
      {"oracle-config-files", "deinstall ok config-files"},
      {"oracle-half-installed", "install ok half-installed"},
      {"oracle-unpacked", "install ok unpacked"},
      {"oracle-not-installed", "purge ok not-installed"}};
  for (const auto& [name, state] : not_installed)
    status += Stanza(name, state, "openssl", old_openssl);
  std::string root = MakeRoot("host", status);

  Agreement agreement = ExpectAgreement("dir:" + root, root + "/var/lib/dpkg/status");
  EXPECT_GT(agreement.both.size(), 500u);  // a real comparison, not two empty sets
  EXPECT_GT(agreement.fixable.size(), 0u);
  EXPECT_LT(agreement.fixable.size(), agreement.both.size());
  std::set<std::string> packages;
  for (const auto& [id, package] : agreement.both) packages.insert(package);
  EXPECT_TRUE(packages.contains("oracle-hold"));
  for (const auto& [name, state] : not_installed) EXPECT_FALSE(packages.contains(name)) << state;
}

// Version ordering at every boundary the data has: for each bookworm source package, one package
// built from exactly a fixed version of it and one from just below (the version with "~"
// appended, which sorts before it), so each entry of that source is on one side or the other.
// debsecan compares with apt_pkg; hardbase with its own dpkg ordering.
TEST_F(ScanOracleTest, AgreesWithDebsecanAtFixedVersionBoundaries) {
  std::string status;
  std::string source;
  std::vector<std::string> fixed;  // the fixed versions of `source`
  auto flush = [&] {
    if (fixed.empty()) return;
    const std::string& version = fixed[fixed.size() / 2];  // some entries above, some below
    status += Stanza("oracle-at-" + source, "install ok installed", source, version);
    status += Stanza("oracle-below-" + source, "install ok installed", source, version + "~");
    fixed.clear();
  };
  size_t sources = 0;
  for (const OsvEntry& e : *entries_) {  // sorted by source
    if (e.source != source) {
      flush();
      source = e.source;
      ++sources;
    }
    if (!e.fixed.empty()) fixed.push_back(e.fixed);
  }
  flush();
  ASSERT_GT(sources, 1000u);
  std::string root = MakeRoot("boundaries", status);

  Agreement agreement = ExpectAgreement("dir:" + root, root + "/var/lib/dpkg/status");
  EXPECT_GT(agreement.both.size(), 10000u);
  EXPECT_GT(agreement.folded.size(), 100u);  // the Folded rule is exercised
  // Both sides of a boundary: at the fixed version its entry is gone, just below it is there.
  size_t at = 0, below = 0;
  for (const auto& [id, package] : agreement.both)
    (package.starts_with("oracle-at-") ? at : below)++;
  EXPECT_LT(at, below);
}

// A hardbase image (java17 example): scanned as an OCI layout, its packages read from
// var/lib/dpkg/status.d; debsecan reads the same stanzas joined into one status file, as umoci
// unpacks them.
TEST_F(ScanOracleTest, AgreesWithDebsecanOnJava17Image) {
  std::string layout = Work() + "/java17";
  ProcessResult built = HardbaseWithCache({"build", ExampleSpec("java17"), "--lock",
                                           ExampleLock("java17"), "-o", layout, "--tag", "test"});
  ASSERT_EQ(built.exit_code, 0) << built.err;
  auto unpacked = UnpackWithUmoci(layout, "test", Work() + "/java17-bundle");
  ASSERT_TRUE(unpacked.has_value()) << unpacked.error().message;
  std::string status;
  size_t stanzas = 0;
  for (const auto& entry : fs::directory_iterator(unpacked->rootfs + "/var/lib/dpkg/status.d")) {
    if (entry.path().extension() == ".md5sums") continue;
    auto text = ReadFile(entry.path().string());
    ASSERT_TRUE(text.has_value());
    status += *text + (text->ends_with("\n") ? "\n" : "\n\n");
    ++stanzas;
  }
  ASSERT_GT(stanzas, 20u);
  std::string status_file = Work() + "/java17-status";
  ASSERT_TRUE(WriteFileAtomic(status_file, status).has_value());

  Agreement agreement = ExpectAgreement("oci:" + layout + ":test", status_file);
  EXPECT_GT(agreement.both.size(), 10u);
}

}  // namespace
}  // namespace hardbase::testing
