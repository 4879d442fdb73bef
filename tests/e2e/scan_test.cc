// End-to-end tests of `hardbase vuln`, `scan`, `diff` and `update`: the real OSV snapshot against
// a real image in every kind of store (layout, archive, registry, unpacked root filesystem), CI
// gates and VEX, the SARIF and CycloneDX outputs checked by independent validators, and the
// patching loop over repositories built by the tests, with vulnerability records they write.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "base/fs.h"
#include "support/examples.h"
#include "support/exit_codes.h"
#include "support/http_server.h"
#include "support/process.h"
#include "support/registry_fixture.h"
#include "support/repo_fixture.h"

namespace hardbase::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

std::string Snapshot() { return OsvSnapshot(); }

// The excerpt of the snapshot that ships for offline demos (scripts/make-vuln-excerpt.py).
std::string Excerpt() { return HARDBASE_SOURCE_DIR "/data/vuln/osv-debian-excerpt-2025-02-12.zip"; }

// The whole snapshot imported once for every test process of the suite (support/examples.h).
std::string SharedDb() { return SharedVulnDb(); }

// (id, package) pairs of a JSON report.
std::set<std::pair<std::string, std::string>> Pairs(const json& report) {
  std::set<std::pair<std::string, std::string>> out;
  for (const auto& f : report["findings"]) {
    out.insert({f["id"].get<std::string>(), f["package"].get<std::string>()});
  }
  return out;
}

// An OSV record for a Debian 12 source package: fixed in `fixed` ("" = no fix yet).
std::string OsvRecord(const std::string& id, const std::string& source, const std::string& fixed,
                      const std::string& urgency = "high") {
  json events = json::array({{{"introduced", "0"}}});
  if (!fixed.empty()) events.push_back({{"fixed", fixed}});
  json record = {{"schema_version", "1.6.0"},
                 {"id", id},
                 {"modified", "2020-01-02T03:04:05Z"},
                 {"published", "2020-01-01T00:00:00Z"},
                 {"details", id + " in " + source + "."},
                 {"affected",
                  {{{"package", {{"ecosystem", "Debian:12"}, {"name", source}}},
                    {"ranges", {{{"type", "ECOSYSTEM"}, {"events", events}}}},
                    {"ecosystem_specific", {{"urgency", urgency}}}}}}};
  return record.dump(1);
}

class ScanE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("hardbase-scan-");
    ASSERT_TRUE(dir.has_value());
    work_.emplace(std::move(*dir));
  }

  std::string Work() const { return work_->path(); }
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = Work() + "/" + name;
    EXPECT_TRUE(MakeDirs(DirName(path)).has_value());
    EXPECT_TRUE(WriteFileAtomic(path, text).has_value());
    return path;
  }
  static ProcessResult Hardbase(std::vector<std::string> args) {
    return HardbaseWithCache(std::move(args));
  }
  json ScanJson(const std::string& image, const std::string& db,
                std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"scan", image, "--db", db, "--format", "json"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = Hardbase(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.exit_code == 0 ? r.out : "{}");
  }

  // The small database of the fixture tests: foo has a fixable and an unfixed CVE, bar one.
  std::string FixtureDb() {
    Write("osv/CVE-2099-0001.json", OsvRecord("CVE-2099-0001", "foo", "1.1"));
    Write("osv/CVE-2099-0002.json", OsvRecord("CVE-2099-0002", "foo", "", "unimportant"));
    Write("osv/CVE-2099-0003.json", OsvRecord("CVE-2099-0003", "bar", "1:0.5"));
    std::string db = Work() + "/fixture.db";
    auto r = Hardbase({"vuln", "update", "--from", Work() + "/osv", "--db", db});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return db;
  }

  // A root filesystem with a dpkg status file listing `stanzas`.
  std::string Rootfs(const std::string& name, const std::string& stanzas) {
    Write(name + "/etc/os-release", "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n");
    Write(name + "/var/lib/dpkg/status", stanzas);
    return Work() + "/" + name;
  }
  static std::string Stanza(const std::string& name, const std::string& version,
                            const std::string& source = "", int size = 100) {
    return "Package: " + name +
           "\nStatus: install ok installed\nArchitecture: amd64\nVersion: " + version + "\n" +
           (source.empty() ? "" : "Source: " + source + "\n") +
           "Installed-Size: " + std::to_string(size) + "\n\n";
  }

  std::optional<TempDir> work_;
};

// The cc example, a real image of real bookworm packages, scanned with the real snapshot from a
// layout, an archive, a registry and as an unpacked root filesystem: the same findings each time,
// and every finding names a package the lock holds.
TEST_F(ScanE2ETest, EveryKindOfImageGivesTheSameFindings) {
  std::string db = SharedDb();
  std::string layout = Work() + "/cc";
  auto built = Hardbase(
      {"build", ExampleSpec("cc"), "--lock", ExampleLock("cc"), "-o", layout, "--tag", "test"});
  ASSERT_EQ(built.exit_code, 0) << built.err;
  json from_layout = ScanJson("oci:" + layout + ":test", db);
  auto pairs = Pairs(from_layout);

  auto lock = json::parse(*ReadFile(ExampleLock("cc")));
  std::set<std::string> locked;
  for (const auto& p : lock["archs"][0]["packages"]) locked.insert(p["name"].get<std::string>());
  EXPECT_EQ(from_layout["summary"]["findings"].get<size_t>(),
            from_layout["findings"].size() - from_layout["summary"]["suppressed"].get<size_t>() -
                from_layout["summary"]["kernel_headers"].get<size_t>());
  for (const auto& f : from_layout["findings"]) {
    EXPECT_TRUE(locked.count(f["package"].get<std::string>())) << f.dump();
  }
  // glibc carries unfixed CVEs in bookworm (e.g. the "unimportant" CVE-2010-4756).
  EXPECT_TRUE(pairs.count({"CVE-2010-4756", "libc6"})) << from_layout.dump().substr(0, 2000);
  EXPECT_EQ(from_layout["database"]["data_date"].get<std::string>().substr(0, 10), "2025-02-12");
  std::string warnings = from_layout["warnings"].dump();
  EXPECT_THAT(warnings, HasSubstr("days old"));

  auto archive = Hardbase({"build", ExampleSpec("cc"), "--lock", ExampleLock("cc"), "-o",
                           Work() + "/cc.tar", "--format", "oci-archive"});
  ASSERT_EQ(archive.exit_code, 0) << archive.err;
  EXPECT_EQ(Pairs(ScanJson("oci-archive:" + Work() + "/cc.tar", db)), pairs);

  auto server = RegistryServer::Start();
  ASSERT_TRUE(server.has_value()) << server.error().message;
  std::string ref = (*server)->host() + "/hardened/cc:1";
  auto pushed = Hardbase({"push", "oci:" + layout + ":test", ref, "--plain-http"});
  ASSERT_EQ(pushed.exit_code, 0) << pushed.err;
  json from_registry = ScanJson(ref, db, {"--plain-http"});
  EXPECT_EQ(Pairs(from_registry), pairs);
  EXPECT_EQ(from_registry["image"]["digest"], from_layout["image"]["digest"]);

  auto unpacked = RunProcess(
      {"umoci", "raw", "unpack", "--rootless", "--image", layout + ":test", Work() + "/rootfs"});
  ASSERT_EQ(unpacked.exit_code, 0) << unpacked.err;
  EXPECT_EQ(Pairs(ScanJson("dir:" + Work() + "/rootfs", db)), pairs);

  // The table states the data's date and the summary.
  auto table = Hardbase({"scan", "oci:" + layout + ":test", "--db", db});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out, HasSubstr("2025-02-12"));
  EXPECT_THAT(table.out, HasSubstr("CVE-2010-4756"));

  // SARIF as GitHub code scanning takes it, and a CycloneDX 1.5 document, each checked by an
  // independent validator.
  for (const auto& [format, validator] : std::vector<std::pair<std::string, std::string>>{
           {"sarif", "validate_sarif.mjs"}, {"cyclonedx", "validate_cyclonedx.mjs"}}) {
    std::string out = Work() + "/report." + format;
    auto r =
        Hardbase({"scan", "oci:" + layout + ":test", "--db", db, "--format", format, "-o", out});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto valid =
        RunProcess({"node", std::string(HARDBASE_SOURCE_DIR) + "/tests/npm/" + validator, out});
    EXPECT_EQ(valid.exit_code, 0) << format << ": " << valid.out << valid.err;
  }
}

TEST_F(ScanE2ETest, GatesExitTwelveAndVexStatementsSuppress) {
  std::string db = FixtureDb();
  std::string root = Rootfs("root", Stanza("libfoo1", "1.0", "foo") + Stanza("bar", "1:0.4"));
  auto table = Hardbase({"scan", "dir:" + root, "--db", db});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out, HasSubstr("CVE-2099-0001"));

  auto high = Hardbase({"scan", "dir:" + root, "--db", db, "--fail-on", "high"});
  EXPECT_EQ(high.exit_code, kExitVulnerable) << high.err;
  EXPECT_THAT(high.err, HasSubstr("2 high or worse findings"));
  EXPECT_THAT(high.out, HasSubstr("CVE-2099-0003"));  // the report is still printed
  auto fixable =
      Hardbase({"scan", "dir:" + root, "--db", db, "--fail-on-fixable", "--fail-on", "critical"});
  EXPECT_EQ(fixable.exit_code, 0) << fixable.err;  // nothing critical
  EXPECT_EQ(Hardbase({"scan", "dir:" + root, "--db", db, "--fail-on", "bogus"}).exit_code, 2);

  json vex = {{"@context", "https://openvex.dev/ns/v0.2.0"},
              {"@id", "https://example.invalid/vex/1"},
              {"author", "security team"},
              {"timestamp", "2025-01-01T00:00:00Z"},
              {"version", 1},
              {"statements",
               {{{"vulnerability", {{"name", "CVE-2099-0001"}}},
                 {"products", {{{"@id", "pkg:deb/debian/libfoo1@1.0"}}}},
                 {"status", "not_affected"},
                 {"justification", "vulnerable_code_not_in_execute_path"}},
                {{"vulnerability", {{"name", "CVE-2099-0003"}}},
                 {"products", {{{"@id", "pkg:deb/debian/bar"}}}},
                 {"status", "not_affected"},
                 {"justification", "component_not_present"}}}}};
  std::string vex_path = Write("vex.json", vex.dump());
  auto suppressed = Hardbase({"scan", "dir:" + root, "--db", db, "--fail-on", "high", "--vex",
                              vex_path, "--format", "json"});
  EXPECT_EQ(suppressed.exit_code, 0) << suppressed.err;
  json report = json::parse(suppressed.out);
  EXPECT_EQ(report["summary"]["suppressed"], 2);
  for (const auto& f : report["findings"]) {
    EXPECT_EQ(f["suppressed"].get<bool>(), f["id"] != "CVE-2099-0002") << f.dump();
  }
  Write("bad-vex.json", R"({"@context":"https://openvex.dev/ns/v0.2.0","statements":[
    {"vulnerability":{"name":"CVE-1"},"status":"not_affected"}]})");
  auto bad = Hardbase({"scan", "dir:" + root, "--db", db, "--vex", Work() + "/bad-vex.json"});
  EXPECT_EQ(bad.exit_code, kExitSpec) << bad.err;
  EXPECT_THAT(bad.err, HasSubstr("bad-vex.json"));
}

TEST_F(ScanE2ETest, AnImageWithoutAPackageDatabaseIsNotCalledClean) {
  std::string db = FixtureDb();
  Write("empty/etc/os-release", "ID=debian\nVERSION_ID=12\n");
  auto r = Hardbase({"scan", "dir:" + Work() + "/empty", "--db", db});
  EXPECT_EQ(r.exit_code, kExitNotFound);
  EXPECT_THAT(r.err, HasSubstr("no package database"));
  EXPECT_THAT(r.out, Not(HasSubstr("0 ")));

  std::string ubuntu = Rootfs("ubuntu", Stanza("bar", "1:0.4"));
  Write("ubuntu/etc/os-release", "ID=ubuntu\nVERSION_ID=24.04\n");
  auto other = Hardbase({"scan", "dir:" + ubuntu, "--db", db});
  EXPECT_EQ(other.exit_code, kExitSpec);
  EXPECT_THAT(other.err, HasSubstr("not Debian"));

  std::string debian = Rootfs("debian", Stanza("bar", "1:0.4"));
  auto missing = Hardbase({"scan", "dir:" + debian, "--db", Work() + "/no.db"});
  EXPECT_EQ(missing.exit_code, kExitNotFound);
  EXPECT_THAT(missing.err, HasSubstr("vuln update"));
}

// A scanned directory is read as the image would see it: links never lead to the host's files.
TEST_F(ScanE2ETest, LinksInARootFilesystemStayInsideIt) {
  std::string db = FixtureDb();
  Write("linked/etc/os-release", "ID=debian\nVERSION_ID=12\n");
  ASSERT_TRUE(MakeDirs(Work() + "/linked/var/lib").has_value());
  fs::create_symlink("/var/lib/dpkg", Work() + "/linked/var/lib/dpkg");
  auto parent = Hardbase({"scan", "dir:" + Work() + "/linked", "--db", db});
  EXPECT_EQ(parent.exit_code, kExitNotFound) << parent.out;
  EXPECT_THAT(parent.err, HasSubstr("no package database"));

  std::string root = Rootfs("escape", "");
  ASSERT_TRUE(MakeDirs(root + "/var/lib/dpkg/status.d").has_value());
  fs::create_symlink("/var/lib/dpkg/status", root + "/var/lib/dpkg/status.d/evil");
  fs::remove(root + "/var/lib/dpkg/status");
  fs::create_symlink("/etc/../../../../../var/lib/dpkg/status", root + "/var/lib/dpkg/status");
  auto child = Hardbase({"scan", "dir:" + root, "--db", db});
  EXPECT_EQ(child.exit_code, kExitNotFound) << child.out;

  // An empty status file is no package list either; bytes that are not UTF-8 still give JSON.
  std::string empty = Rootfs("empty-status", "");
  EXPECT_EQ(Hardbase({"scan", "dir:" + empty, "--db", db}).exit_code, kExitNotFound);
  std::string odd = Rootfs("odd", Stanza("libfoo1", "1.0\xff", "foo") + Stanza("bar", "1:0.4"));
  json report = ScanJson("dir:" + odd, db);
  EXPECT_EQ(report["summary"]["unmatched"], 1);
}

TEST_F(ScanE2ETest, BadDataIsNamedAndTheDatabaseKept) {
  std::string db = FixtureDb();
  std::string before = *ReadFile(db);
  auto status = Hardbase({"vuln", "status", "--db", db, "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  json s = json::parse(status.out);
  EXPECT_EQ(s["records"], 3);
  EXPECT_THAT(status.err, HasSubstr("days old"));  // data from 2020

  // A truncated zip, a record that is not JSON: named, and the database stays as it was.
  std::string zip = Work() + "/cut.zip";
  std::string whole = *ReadFile(Snapshot());
  ASSERT_TRUE(WriteFileAtomic(zip, std::string_view(whole).substr(0, whole.size() / 3)));
  auto cut = Hardbase({"vuln", "update", "--from", zip, "--db", db});
  EXPECT_EQ(cut.exit_code, kExitSpec) << cut.err;
  EXPECT_THAT(cut.err, HasSubstr("corrupt or truncated"));
  Write("broken/CVE-2099-0009.json", "{\"id\": ");
  auto broken = Hardbase({"vuln", "update", "--from", Work() + "/broken", "--db", db});
  EXPECT_EQ(broken.exit_code, kExitSpec);
  EXPECT_THAT(broken.err, HasSubstr("CVE-2099-0009.json"));
  EXPECT_EQ(*ReadFile(db), before);

  // A record with an unparseable version is skipped, counted, and every scan says so.
  Write("osv/CVE-2099-0004.json", OsvRecord("CVE-2099-0004", "foo", "not a version!"));
  ASSERT_EQ(Hardbase({"vuln", "update", "--from", Work() + "/osv", "--db", db}).exit_code, 0);
  json after = json::parse(Hardbase({"vuln", "status", "--db", db, "--json"}).out);
  EXPECT_EQ(after["skipped"], 1);
  std::string root = Rootfs("root", Stanza("libfoo1", "1.0", "foo"));
  json report = ScanJson("dir:" + root, db);
  EXPECT_THAT(report["warnings"].dump(), HasSubstr("CVE-2099-0004"));

  // Data older than the image's packages is said.
  EXPECT_THAT(report["warnings"].dump(), HasSubstr("newer than the vulnerability data"));
}

// The shipped excerpt, imported offline, dates itself as the snapshot it came from and finds in
// a root filesystem of the java17 example's packages exactly what the whole snapshot finds.
TEST_F(ScanE2ETest, TheShippedExcerptFindsWhatTheWholeSnapshotFinds) {
  std::string db = Work() + "/excerpt.db";
  auto imported = Hardbase({"vuln", "update", "--from", Excerpt(), "--db", db});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  auto status = Hardbase({"vuln", "status", "--db", db, "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  json s = json::parse(status.out);
  EXPECT_EQ(s["data_date"].get<std::string>().substr(0, 10), "2025-02-12") << status.out;
  EXPECT_GT(s["releases"]["12"]["vulnerabilities"].get<int>(), 100) << status.out;
  EXPECT_LT(fs::file_size(Excerpt()), 2u << 20);

  // The example's packages as dpkg would list them, with glibc one update behind the lock, so
  // that a fix exists: CVE-2024-2961 (iconv) was fixed in 2.36-9+deb12u6.
  auto lock =
      json::parse(*ReadFile(std::string(HARDBASE_SOURCE_DIR) + "/examples/java17/image.lock.json"));
  std::string stanzas;
  for (const auto& p : lock["archs"][0]["packages"]) {
    std::string version = p["version"].get<std::string>();
    std::string source_version = p["source_version"].get<std::string>();
    if (p["source"] == "glibc") version = source_version = "2.36-9+deb12u4";
    stanzas +=
        "Package: " + p["name"].get<std::string>() +
        "\nStatus: install ok installed\nArchitecture: " + p["architecture"].get<std::string>() +
        "\nVersion: " + version + "\nSource: " + p["source"].get<std::string>() + " (" +
        source_version + ")\n\n";
  }
  std::string root = Rootfs("java17", stanzas);
  json report = ScanJson("dir:" + root, db);
  auto pairs = Pairs(report);
  EXPECT_TRUE(pairs.count({"CVE-2024-2961", "libc6"})) << report.dump().substr(0, 2000);
  EXPECT_TRUE(pairs.count({"CVE-2010-4756", "libc6"}));    // unfixed, unimportant
  EXPECT_TRUE(pairs.count({"CVE-2023-45853", "zlib1g"}));  // unfixed, critical by CVSS
  EXPECT_FALSE(pairs.count({"CVE-2023-4911", "libc6"}));   // fixed in 2.36-9+deb12u3
  for (const auto& f : report["findings"]) {
    if (f["id"] == "CVE-2024-2961") {
      EXPECT_EQ(f["status"], "fixable");
      EXPECT_EQ(f["fixed_version"], "2.36-9+deb12u6");
    }
  }
  EXPECT_EQ(report["database"]["data_date"].get<std::string>().substr(0, 10), "2025-02-12");
  EXPECT_EQ(pairs, Pairs(ScanJson("dir:" + root, SharedDb())));
}

// `vuln update` with no --from downloads the default source (here a loopback server standing in
// for osv.dev, through the tests' HARDBASE_VULN_URL); where it is unreachable, or what arrives is
// not the data, the command fails saying what to do and the database stays as it was.
TEST_F(ScanE2ETest, UpdateWithoutFromDownloadsTheDefaultSource) {
  std::string db = FixtureDb();
  std::string before = *ReadFile(db);
  auto update = [&](const std::string& url, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"vuln", "update", "--db", db};
    args.insert(args.end(), extra.begin(), extra.end());
    return HardbaseWithCache(args, {{"HARDBASE_VULN_URL", url}});
  };

  std::string closed;
  {
    HttpServer gone;
    ASSERT_TRUE(gone.Start().has_value());
    closed = gone.Url("/Debian/all.zip");
  }
  auto start = std::chrono::steady_clock::now();
  auto unreachable = update(closed);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  EXPECT_EQ(unreachable.exit_code, kExitNetwork) << unreachable.err;
  EXPECT_THAT(unreachable.err, HasSubstr("hardbase: error: GET " + closed));
  EXPECT_THAT(unreachable.err, HasSubstr("`hardbase vuln update --from FILE`"));
  EXPECT_THAT(unreachable.err, HasSubstr("data/vuln/osv-debian-excerpt-2025-02-12.zip"));
  size_t error_line = unreachable.err.find("hardbase: error:");
  EXPECT_EQ(unreachable.err.find('\n', error_line), unreachable.err.size() - 1)
      << "one line: " << unreachable.err;
  EXPECT_EQ(*ReadFile(db), before);

  std::string excerpt = *ReadFile(Excerpt());
  Write("srv/Debian/all.zip", excerpt);
  Write("srv/Debian/cut.zip", excerpt.substr(0, excerpt.size() / 2));
  Write("srv/Debian/error.html", "<html><body>Service Unavailable</body></html>\n");
  HttpServer server(Work() + "/srv");
  ASSERT_TRUE(server.Start().has_value());

  // A zip cut at the source, or an error page served as the data: the import names it.
  auto cut = update(server.Url("/Debian/cut.zip"));
  EXPECT_EQ(cut.exit_code, kExitSpec) << cut.err;
  EXPECT_THAT(cut.err, HasSubstr("corrupt or truncated zip"));
  auto page = update(server.Url("/Debian/error.html"));
  EXPECT_EQ(page.exit_code, kExitSpec) << page.err;
  EXPECT_THAT(page.err, HasSubstr("neither an OSV zip"));
  EXPECT_EQ(*ReadFile(db), before);

  // A connection cut halfway is resumed; the data is imported, dated by its records, and the
  // download leaves nothing behind beside the database.
  std::string url = server.Url("/Debian/all.zip");
  server.InjectTruncation("/Debian/all.zip", excerpt.size() / 3);
  auto downloaded = update(url, {"--source", "osv"});
  ASSERT_EQ(downloaded.exit_code, 0) << downloaded.err;
  EXPECT_EQ(server.RequestCount("/Debian/all.zip"), 2);
  EXPECT_EQ(server.LastRequest("/Debian/all.zip")->Header("Range"),
            "bytes=" + std::to_string(excerpt.size() / 3) + "-");
  json s = json::parse(Hardbase({"vuln", "status", "--db", db, "--json"}).out);
  EXPECT_EQ(s["source"], url);
  EXPECT_EQ(s["data_date"].get<std::string>().substr(0, 10), "2025-02-12");
  std::set<std::string> left;
  for (const auto& entry : fs::directory_iterator(Work())) {
    left.insert(entry.path().filename().string());
  }
  for (const std::string& name : left) {
    EXPECT_FALSE(name.starts_with(".download-")) << name;
  }

  // --source and --from are one or the other.
  EXPECT_EQ(Hardbase({"vuln", "update", "--db", db, "--source", "tracker", "--from", Excerpt()})
                .exit_code,
            2);
  EXPECT_EQ(Hardbase({"vuln", "update", "--db", db, "--source", "nvd"}).exit_code, 2);
}

TEST_F(ScanE2ETest, DiffShowsPackagesSizeAndTheCvesClosed) {
  std::string db = FixtureDb();
  std::string a = Rootfs("a", Stanza("libfoo1", "1.0", "foo") + Stanza("bar", "1:0.4"));
  std::string b = Rootfs("b", Stanza("libfoo1", "1.1", "foo (1.1)", 120) + Stanza("baz", "2.0"));
  Write("b/usr/lib/big", std::string(3 << 20, 'x'));
  auto r = Hardbase({"diff", "dir:" + a, "dir:" + b, "--db", db});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("libfoo1 1.0 -> 1.1  closes CVE-2099-0001 (high)"));
  EXPECT_THAT(r.out, HasSubstr("- bar 1:0.4  closes CVE-2099-0003 (high)"));
  EXPECT_THAT(r.out, HasSubstr("+ baz 2.0"));
  EXPECT_THAT(r.out, HasSubstr("(+3.0 MiB)"));
  auto j = json::parse(Hardbase({"diff", "dir:" + a, "dir:" + b, "--db", db, "--json"}).out);
  EXPECT_EQ(j["packages"]["closed"], 2);
  EXPECT_EQ(j["packages"]["opened"], 0);
  EXPECT_GT(j["size_change"].get<int64_t>(), 3 << 20);
}

// The nightly loop over repositories the test builds: a fix lands, `update` names the CVE it
// closes and exits 9 until the lock is written.
TEST_F(ScanE2ETest, UpdateNamesTheCvesANewVersionCloses) {
  std::string db = FixtureDb();
  RepoFixture repo(Work() + "/repo");
  HttpServer server(Work() + "/repo");
  ASSERT_TRUE(server.Start().has_value());
  auto add = [&](const std::string& suite, PackageSpec spec) {
    auto p = repo.AddPackage(suite, "amd64", spec);
    ASSERT_TRUE(p.has_value()) << p.error().message;
  };
  add("stable", {"libfoo1", "1.0", "amd64", {{"Source", "foo"}}, {{"usr/lib/libfoo", "1.0\n"}}});
  add("stable-security", {"other", "1.0", "amd64", {}, {{"usr/share/other", "1\n"}}});
  // Named as Debian names its suites: the release to match comes from the codename.
  auto publish = [&](const std::string& suite, const std::string& codename) {
    PublishOptions options;
    options.codename = codename;
    ASSERT_TRUE(repo.Publish(suite, options).has_value());
  };
  publish("stable", "bookworm");
  publish("stable-security", "bookworm-security");
  std::string spec = Write(
      "image.yaml", "name: test\nrepositories:\n  - url: " + server.base_url() +
                        "\n    suites: [stable, stable-security]\n"
                        "    keyring: " +
                        RepoFixture::KeyringPath() + "\narchs: [amd64]\npackages: [libfoo1]\n");
  std::string cache = Work() + "/cache";
  auto run = [&](std::vector<std::string> args) {
    return HardbaseWithCache(std::move(args), {}, cache);
  };
  auto locked = run({"lock", spec});
  ASSERT_EQ(locked.exit_code, 0) << locked.err;
  auto same = run({"update", spec, "--db", db});
  EXPECT_EQ(same.exit_code, 0) << same.err;

  add("stable-security",
      {"libfoo1", "1.1", "amd64", {{"Source", "foo"}}, {{"usr/lib/libfoo", "1.1\n"}}});
  publish("stable-security", "bookworm-security");
  std::string lock_before = *ReadFile(Work() + "/image.lock.json");
  auto behind = run({"update", spec, "--db", db});
  EXPECT_EQ(behind.exit_code, kExitStale) << behind.err;
  EXPECT_THAT(behind.out, HasSubstr("libfoo1 1.0 -> 1.1  closes CVE-2099-0001 (high)"));
  EXPECT_THAT(behind.out, HasSubstr("1 finding closed"));
  EXPECT_EQ(*ReadFile(Work() + "/image.lock.json"), lock_before);

  auto json_out = run({"update", spec, "--db", db, "--json"});
  EXPECT_EQ(json::parse(json_out.out)["amd64"]["closed"], 1) << json_out.out;

  auto written = run({"update", spec, "--db", db, "--write"});
  EXPECT_EQ(written.exit_code, kExitStale) << written.err;
  EXPECT_NE(*ReadFile(Work() + "/image.lock.json"), lock_before);
  EXPECT_EQ(run({"update", spec, "--db", db}).exit_code, 0);
}

}  // namespace
}  // namespace hardbase::testing
