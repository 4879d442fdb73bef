// End-to-end tests of issue 13 for printed output: values from images, package databases,
// repositories, registries and VEX documents that carry newlines, terminal escape sequences, C1
// controls and bidi overrides reach the terminal escaped (\x1b, \x0a, \u009b, \u202e), never raw,
// so that none can fake a line ("verified attestation ...") or recolour a failure as a success.
// Every hostile input is built here, file by file; each command keeps its exit code.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/fs.h"
#include "base/sha256.h"
#include "support/exit_codes.h"
#include "support/http_server.h"
#include "support/process.h"
#include "support/repo_fixture.h"
#include "support/tree_snapshot.h"

namespace hardbase::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kManifestType[] = "application/vnd.oci.image.manifest.v1+json";
constexpr char kConfigType[] = "application/vnd.oci.image.config.v1+json";
constexpr char kRefName[] = "org.opencontainers.image.ref.name";

// What a hostile value carries: a line of its own that claims success, in green, a one-byte CSI
// (U+009B) and a right-to-left override, a terminal title change and a carriage return.
constexpr char kFakeLine[] = "FAKE-LINE verified attestation";
const std::string kHostile = std::string("x\n") + kFakeLine + " \x1b[32mOK\x1b[0m";
const std::string kHostileNoNewline =
    "y\x1b[31m\r\xc2\x9b"
    "1m\xe2\x80\xae"
    "txt\x1b]0;pwned\x07";

// Fails the test when `text` holds anything a terminal would act on, or a line that a value
// started.
void ExpectNoRawControls(const std::string& text, const std::string& what) {
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << what << ":\n" << text;
  EXPECT_EQ(text.find('\r'), std::string::npos) << what;
  EXPECT_EQ(text.find('\x07'), std::string::npos) << what;
  EXPECT_EQ(text.find("\xc2\x9b"), std::string::npos) << what << ":\n" << text;
  EXPECT_EQ(text.find("\xe2\x80\xae"), std::string::npos) << what << ":\n" << text;
  EXPECT_FALSE(text.starts_with(kFakeLine)) << what;
  EXPECT_EQ(text.find(std::string("\n") + kFakeLine), std::string::npos) << what << ":\n" << text;
}

void ExpectNoRawControls(const ProcessResult& r) {
  ExpectNoRawControls(r.out, "stdout");
  ExpectNoRawControls(r.err, "stderr");
}

// JSON output escapes C0 controls itself (the value's newline stays \n inside its string); C1 and
// bidi controls are valid JSON text and stay as they are there.
void ExpectJsonWithoutRawC0(const ProcessResult& r) {
  EXPECT_FALSE(json::parse(r.out, nullptr, false).is_discarded()) << r.out;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find('\r'), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(std::string("\n") + kFakeLine), std::string::npos) << r.out;
  ExpectNoRawControls(r.err, "stderr");
}

class HostileOutputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("hardbase-hostile-output-");
    ASSERT_TRUE(dir.has_value());
    work_.emplace(std::move(*dir));
  }

  std::string Path(const std::string& name) const { return work_->path() + "/" + name; }
  std::string Write(const std::string& name, const std::string& bytes) {
    EXPECT_TRUE(MakeDirs(DirName(Path(name))).has_value()) << name;
    EXPECT_TRUE(WriteFileAtomic(Path(name), bytes).has_value()) << name;
    return Path(name);
  }

  // hardbase with its cache and $HOME inside the test's directory.
  ProcessResult Hardbase(std::vector<std::string> args) {
    args.insert(args.begin(), {HardbaseBinary(), "--cache-dir", Path("cache")});
    return RunProcess(args, {{"HOME", Path("home")}});
  }

  // Every file under the test's directory and its SHA-256: the read-only commands change nothing.
  std::map<std::string, std::string> Snapshot() {
    return TreeSnapshot(work_->path(), {"cache", "home"});
  }

  // A database with one record: CVE-2099-0001 in source foo, fixed in 1.1.
  std::string Database() {
    json record = {
        {"schema_version", "1.6.0"},
        {"id", "CVE-2099-0001"},
        {"modified", "2020-01-02T03:04:05Z"},
        {"published", "2020-01-01T00:00:00Z"},
        {"details", "CVE-2099-0001 in foo."},
        {"affected",
         {{{"package", {{"ecosystem", "Debian:12"}, {"name", "foo"}}},
           {"ranges",
            {{{"type", "ECOSYSTEM"}, {"events", {{{"introduced", "0"}}, {{"fixed", "1.1"}}}}}}},
           {"ecosystem_specific", {{"urgency", "high"}}}}}}};
    Write("osv/CVE-2099-0001.json", record.dump());
    auto r = Hardbase({"vuln", "update", "--from", Path("osv"), "--db", Path("vulndb")});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return Path("vulndb");
  }

  // A Debian 12 root filesystem whose dpkg status lists libfoo1 `foo_version` (source foo) and a
  // package "evil" whose Version and Maintainer carry escape sequences (a status file cannot
  // carry a newline inside a one-line field).
  std::string Rootfs(const std::string& name, const std::string& foo_version,
                     const std::string& evil_version) {
    Write(name + "/etc/os-release", "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n");
    Write(name + "/var/lib/dpkg/status",
          "Package: libfoo1\nStatus: install ok installed\nArchitecture: amd64\nVersion: " +
              foo_version + "\nSource: foo\nInstalled-Size: 10\n\n" +
              "Package: evil\nStatus: install ok installed\nArchitecture: amd64\nVersion: " +
              evil_version + "\nMaintainer: m \x1b]0;pwned\x07\nInstalled-Size: 10\n\n");
    return "dir:" + Path(name);
  }

  // Adds `bytes` to the layout's blobs; its descriptor.
  json Blob(const std::string& layout, const std::string& media_type, const std::string& bytes) {
    std::string hex = Sha256Hex(bytes);
    Write(layout + "/blobs/sha256/" + hex, bytes);
    return {{"mediaType", media_type}, {"digest", "sha256:" + hex}, {"size", bytes.size()}};
  }

  // An OCI layout, written file by file, holding one linux/amd64 image tagged "test" with one
  // empty layer and the config `settings`; the image manifest's descriptor.
  json Layout(const std::string& layout, const json& settings) {
    Write(layout + "/oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
    json layer = Blob(layout, "application/vnd.oci.image.layer.v1.tar", std::string(1024, '\0'));
    json config = {{"architecture", "amd64"},
                   {"os", "linux"},
                   {"config", settings},
                   {"rootfs", {{"type", "layers"}, {"diff_ids", {layer["digest"]}}}}};
    json manifest = {{"schemaVersion", 2},
                     {"mediaType", kManifestType},
                     {"config", Blob(layout, kConfigType, config.dump())},
                     {"layers", {layer}}};
    json descriptor = Blob(layout, kManifestType, manifest.dump());
    json entry = descriptor;
    entry["annotations"] = {{kRefName, "test"}};
    Write(layout + "/index.json", json({{"schemaVersion", 2}, {"manifests", {entry}}}).dump());
    return descriptor;
  }

  // cosign's tag-scheme signature at the image's .sig tag: one layer of `media_type` holding
  // `payload`, with `signature` (base64) as its signature annotation.
  void AttachSignature(const std::string& layout, const json& image, const std::string& media_type,
                       const std::string& payload, const std::string& signature) {
    json layer = Blob(layout, media_type, payload);
    layer["annotations"] = {{"dev.cosignproject.cosign/signature", signature}};
    json config = {{"architecture", ""},
                   {"os", ""},
                   {"config", json::object()},
                   {"rootfs", {{"type", "layers"}, {"diff_ids", {layer["digest"]}}}}};
    json manifest = {{"schemaVersion", 2},
                     {"mediaType", kManifestType},
                     {"config", Blob(layout, kConfigType, config.dump())},
                     {"layers", {layer}}};
    json entry = Blob(layout, kManifestType, manifest.dump());
    entry["annotations"] = {
        {kRefName, "sha256-" + image["digest"].get<std::string>().substr(7) + ".sig"}};
    json index = json::parse(ReadFile(Path(layout + "/index.json")).value_or("{}"));
    index["manifests"].push_back(entry);
    Write(layout + "/index.json", index.dump());
  }

  // An ECDSA P-256 key pair made by openssl: k.pem and k.pub.
  void MakeKey() {
    auto key = RunProcess({"sh", "-c",
                           "cd \"$1\" && openssl genpkey -algorithm EC -pkeyopt "
                           "ec_paramgen_curve:P-256 -out k.pem 2>/dev/null && "
                           "openssl pkey -in k.pem -pubout -out k.pub",
                           "sh", work_->path()});
    ASSERT_EQ(key.exit_code, 0) << key.err;
  }

  std::optional<TempDir> work_;
};

// `scan` (table): a package's version and maintainer from the image's dpkg database and a VEX
// statement's id and impact statement are shown escaped; the gate's exit code is unchanged.
TEST_F(HostileOutputTest, ScanTableEscapesPackageFieldsAndVexStatements) {
  std::string db = Database();
  std::string image = Rootfs("root", "1.0", "1.0" + kHostileNoNewline);
  json vex = {{"@context", "https://openvex.dev/ns/v0.2.0"},
              {"@id", "https://example.invalid/vex/" + kHostile},
              {"author", "security team"},
              {"timestamp", "2025-01-01T00:00:00Z"},
              {"version", 1},
              {"statements",
               {{{"vulnerability", {{"name", "CVE-2099-0001"}}},
                 {"products", {{{"@id", "pkg:deb/debian/libfoo1@1.0"}}}},
                 {"status", "not_affected"},
                 {"impact_statement", kHostile + kHostileNoNewline}}}}};
  std::string vex_path = Write("vex.json", vex.dump());
  auto before = Snapshot();

  auto r = Hardbase({"scan", image, "--db", db, "--vex", vex_path, "--fail-on", "high"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ExpectNoRawControls(r);
  EXPECT_THAT(r.out, HasSubstr("Suppressed by VEX (1)"));
  EXPECT_THAT(r.out, HasSubstr("x\\x0aFAKE-LINE verified attestation \\x1b[32mOK\\x1b[0m"));
  EXPECT_THAT(r.out, HasSubstr("https://example.invalid/vex/x\\x0aFAKE-LINE"));
  EXPECT_THAT(r.out, HasSubstr("evil 1.0y\\x1b[31m\\x0d\\u009b1m\\u202etxt\\x1b]0;pwned\\x07"));

  // Without the VEX document the gate still fails, on one escaped error line.
  auto gated = Hardbase({"scan", image, "--db", db, "--fail-on", "high"});
  EXPECT_EQ(gated.exit_code, 12) << gated.err;
  ExpectNoRawControls(gated);
  EXPECT_THAT(gated.err, StartsWith("hardbase: error: "));
  EXPECT_EQ(gated.err.find('\n'), gated.err.size() - 1) << gated.err;

  // Machine formats are JSON-escaped; the warnings that go to stderr are escaped there.
  auto json_report = Hardbase({"scan", image, "--db", db, "--format", "json"});
  EXPECT_EQ(json_report.exit_code, 0) << json_report.err;
  ExpectJsonWithoutRawC0(json_report);
  EXPECT_EQ(Snapshot(), before);
}

// `diff`: versions from two images' package databases are escaped, one change per line.
TEST_F(HostileOutputTest, DiffEscapesVersionsFromPackageDatabases) {
  std::string db = Database();
  std::string a = Rootfs("a", "1.0", "1.0" + kHostileNoNewline);
  std::string b = Rootfs("b", "1.2", "2.0\x1b[2K\xe2\x81\xa6");
  auto before = Snapshot();

  auto r = Hardbase({"diff", a, b, "--db", db});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ExpectNoRawControls(r);
  EXPECT_EQ(r.out.find("\xe2\x81\xa6"), std::string::npos) << r.out;
  EXPECT_THAT(r.out, HasSubstr("evil 1.0y\\x1b[31m\\x0d\\u009b1m\\u202etxt\\x1b]0;pwned\\x07 -> "
                               "2.0\\x1b[2K\\u2066\n"));
  EXPECT_THAT(r.out, HasSubstr("libfoo1 1.0 -> 1.2  closes CVE-2099-0001 (high)\n"));

  auto j = Hardbase({"diff", a, b, "--db", db, "--json"});
  EXPECT_EQ(j.exit_code, 0) << j.err;
  ExpectJsonWithoutRawC0(j);
  EXPECT_EQ(Snapshot(), before);
}

// `inspect`: the config's user, environment, entrypoint and command, written by whoever built
// the image, are escaped in the text output; --json stays valid JSON.
TEST_F(HostileOutputTest, InspectEscapesImageConfigValues) {
  json settings = {{"User", "65532" + kHostile},
                   {"Env", {"PATH=/usr/bin", "A=" + kHostileNoNewline}},
                   {"Entrypoint", {"/app" + kHostileNoNewline}},
                   {"Cmd", {kHostile}},
                   {"WorkingDir", "/\xe2\x80\xae"},
                   {"Labels", {{"org.example.note", kHostile}}}};
  Layout("image", settings);
  auto before = Snapshot();

  auto r = Hardbase({"inspect", "oci:" + Path("image") + ":test"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ExpectNoRawControls(r);
  EXPECT_THAT(r.out, HasSubstr("User:       65532x\\x0aFAKE-LINE verified attestation "
                               "\\x1b[32mOK\\x1b[0m\n"));
  EXPECT_THAT(r.out,
              HasSubstr("Env:        A=y\\x1b[31m\\x0d\\u009b1m\\u202etxt\\x1b]0;pwned\\x07\n"));
  // The lists are shown as JSON arrays (C0 controls JSON-escaped), C1 and bidi controls escaped.
  EXPECT_THAT(r.out, HasSubstr("Entrypoint: [\"/appy\\u001b[31m\\r\\u009b1m\\u202etxt"));
  EXPECT_THAT(r.out, HasSubstr("Cmd:        [\"x\\nFAKE-LINE verified attestation"));

  auto j = Hardbase({"inspect", "oci:" + Path("image") + ":test", "--json"});
  EXPECT_EQ(j.exit_code, 0) << j.err;
  ExpectJsonWithoutRawC0(j);
  EXPECT_EQ(json::parse(j.out, nullptr, false)["platforms"][0]["user"], "65532" + kHostile);
  EXPECT_EQ(Snapshot(), before);
}

// `verify` failing: the problem it names quotes a signature manifest's layer media type, which
// the image's publisher chose; the one error line stays one line and exit 10 stays exit 10.
TEST_F(HostileOutputTest, FailingVerifyPrintsOneEscapedErrorLine) {
  json image = Layout("image", json::object());
  AttachSignature("image", image, "text/plain" + kHostile + kHostileNoNewline, "{}", "AAAA");
  MakeKey();
  auto before = Snapshot();

  auto r = Hardbase({"verify", "oci:" + Path("image") + ":test", "--key", Path("k.pub")});
  EXPECT_EQ(r.exit_code, kExitVerification) << r.err;
  ExpectNoRawControls(r);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, StartsWith("hardbase: error: "));
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("text/plainx\\x0aFAKE-LINE verified attestation \\x1b[32mOK"));
  EXPECT_EQ(Snapshot(), before);
}

// `verify` succeeding: a valid signature whose signed payload claims a docker-reference with a
// newline cannot print a "verified attestation" line of its own.
TEST_F(HostileOutputTest, VerifiedSignatureClaimsAreEscaped) {
  json image = Layout("image", json::object());
  MakeKey();
  json payload = {{"critical",
                   {{"identity", {{"docker-reference", "registry.test/app" + kHostile}}},
                    {"image", {{"docker-manifest-digest", image["digest"]}}},
                    {"type", "cosign container image signature"}}},
                  {"optional", nullptr}};
  Write("payload", payload.dump());
  auto sign = RunProcess({"sh", "-c",
                          "cd \"$1\" && openssl dgst -sha256 -sign k.pem -out sig payload && "
                          "base64 -w0 sig",
                          "sh", work_->path()});
  ASSERT_EQ(sign.exit_code, 0) << sign.err;
  AttachSignature("image", image, "application/vnd.dev.cosign.simplesigning.v1+json",
                  payload.dump(), sign.out);
  auto before = Snapshot();

  auto r = Hardbase({"verify", "oci:" + Path("image") + ":test", "--key", Path("k.pub")});
  ExpectNoRawControls(r);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("verified signature ("));
  EXPECT_THAT(r.out, HasSubstr(" for registry.test/appx\\x0aFAKE-LINE verified attestation "
                               "\\x1b[32mOK\\x1b[0m\n"));
  EXPECT_EQ(Snapshot(), before);
}

// A registry's error text (the "message" of its JSON errors) is quoted in the error line,
// escaped; the exit code is the one any refused request gets (network).
TEST_F(HostileOutputTest, RegistryErrorMessagesAreEscaped) {
  HttpServer registry;
  registry.SetHandler(
      [](const HttpServer::Request& request) -> std::optional<HttpServer::Response> {
        HttpServer::Response response;
        if (request.path == "/v2/") return response;  // an OCI registry, without authentication
        // A HEAD that names no digest: the client asks with GET, which gets the error body.
        if (request.method == "HEAD") return response;
        response.status = 400;
        response.headers.push_back({"Content-Type", "application/json"});
        response.body =
            json({{"errors",
                   {{{"code", "MANIFEST_UNKNOWN"}, {"message", kHostile + kHostileNoNewline}}}}})
                .dump();
        return response;
      });
  ASSERT_TRUE(registry.Start().has_value());
  std::string ref = "127.0.0.1:" + std::to_string(registry.port()) + "/app:latest";

  auto r = Hardbase({"inspect", ref, "--plain-http"});
  EXPECT_EQ(r.exit_code, kExitNetwork) << r.err;
  ExpectNoRawControls(r);
  EXPECT_THAT(r.err, StartsWith("hardbase: error: "));
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("\\x0aFAKE-LINE verified attestation \\x1b[32mOK"));
}

// A repository's Packages index whose Depends field carries escape sequences in a version: `lock`
// refuses the index as malformed (exit 3) on one escaped line, and leaves the earlier lock alone.
TEST_F(HostileOutputTest, LockEscapesPackageIndexFields) {
  RepoFixture repo(Path("repo"));
  auto added = repo.AddPackage("stable", "amd64", {.name = "base", .version = "1.0"});
  ASSERT_TRUE(added.has_value()) << added.error().message;
  PublishOptions options;
  options.extra_packages_text =
      "\nPackage: app\nVersion: 1.0\nArchitecture: amd64\nDepends: base (>= 2\x1b[32m\xc2\x9b)\n"
      "Maintainer: m \x1b]0;pwned\x07\nFilename: pool/main/a/app/app_1.0_amd64.deb\nSize: 1\n"
      "SHA256: " +
      std::string(64, '0') + "\nDescription: d\x1b[2J\n";
  auto published = repo.Publish("stable", options);
  ASSERT_TRUE(published.has_value()) << published.error().message;
  HttpServer server(Path("repo"));
  ASSERT_TRUE(server.Start().has_value());
  std::string spec = Write(
      "image.yaml", "name: test\nrepositories:\n  - url: " + server.base_url() +
                        "\n    suites: [stable]\n" + "    keyring: " + RepoFixture::KeyringPath() +
                        "\narchs: [amd64]\npackages: [app]\n");
  std::string old_lock = Write("image.lock.json", "earlier lock\n");
  auto before = Snapshot();

  auto r = Hardbase({"lock", spec});
  EXPECT_EQ(r.exit_code, kExitSpec) << r.err;
  ExpectNoRawControls(r);
  EXPECT_THAT(r.err, HasSubstr("2\\x1b[32m\\u009b"));
  size_t error_line = r.err.find("hardbase: error: ");
  ASSERT_NE(error_line, std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\n', error_line), r.err.size() - 1) << r.err;
  EXPECT_EQ(ReadFile(old_lock).value_or(""), "earlier lock\n");
  EXPECT_EQ(Snapshot(), before);
}

}  // namespace
}  // namespace hardbase::testing
