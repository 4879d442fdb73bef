// End-to-end tests of `hardbase audit`: a typical Debian image (`mmdebstrap --variant=apt` from
// the host's apt sources, made into an OCI layout by umoci, once a day for every test process), a
// hardbase image built and signed here, and a hostile image assembled layer by layer with tar and
// umoci (a private key a later layer deletes, a setuid file, a world-writable directory, secrets
// in the config's environment, a truncated layer). The JSON output is checked against the
// contract `hardbase report` renders (field by field, type by type).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "base/fs.h"
#include "support/examples.h"
#include "support/exit_codes.h"
#include "support/process.h"
#include "support/registry_fixture.h"  // FindInPath

namespace hardbase::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

const std::map<std::string, std::string> kPassword = {{"COSIGN_PASSWORD", "audit"}};

// Runs a tool that builds the test's input; a failure fails the test.
void Tool(const std::vector<std::string>& argv) {
  ProcessResult r = RunProcess(argv);
  ASSERT_EQ(r.exit_code, 0) << argv[0] << " " << (argv.size() > 1 ? argv[1] : "") << ": " << r.err;
}

// The host's apt sources, as mmdebstrap takes them (files whose contents it pastes).
std::vector<std::string> HostSources() {
  std::vector<std::string> out;
  if (fs::exists("/etc/apt/sources.list")) out.push_back("/etc/apt/sources.list");
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/etc/apt/sources.list.d", ec)) {
    std::string path = e.path().string();
    if (path.ends_with(".sources") || path.ends_with(".list")) out.push_back(path);
  }
  return out;
}

// `mmdebstrap --variant=apt bookworm` as an OCI layout (one layer, as `FROM debian` + nothing
// gives), made into the suite directory once a day under a lock: ctest runs every test in a
// process of its own. "" (and a skip by the caller) when mmdebstrap or umoci is missing.
std::string TypicalImage() {
  if (FindInPath("mmdebstrap").empty() || FindInPath("umoci").empty()) return "";
  std::string dir = ExamplesSuiteDir() + "/audit-typical";
  EXPECT_TRUE(MakeDirs(dir).has_value());
  auto lock = FileLock::Acquire(dir + ".test-lock", FileLock::Mode::kExclusive);
  EXPECT_TRUE(lock.has_value());
  std::string layout = dir + "/layout";
  std::string stamp = layout + "/index.json";
  auto age = fs::exists(stamp) ? fs::file_time_type::clock::now() - fs::last_write_time(stamp)
                               : std::chrono::hours(48);
  if (age > std::chrono::hours(24)) {
    EXPECT_TRUE(RemoveAll(layout).has_value());
    std::string tar = dir + "/rootfs.tar";
    std::vector<std::string> argv = {"mmdebstrap", "--quiet", "--variant=apt", "bookworm", tar};
    for (const auto& s : HostSources()) argv.push_back(s);
    ProcessResult made = RunProcess(argv);
    EXPECT_EQ(made.exit_code, 0) << made.err;
    if (made.exit_code != 0) return "";
    for (const auto& step : std::vector<std::vector<std::string>>{
             {"umoci", "init", "--layout", layout},
             {"umoci", "new", "--image", layout + ":bookworm"},
             {"umoci", "raw", "add-layer", "--image", layout + ":bookworm", tar}}) {
      ProcessResult r = RunProcess(step);
      EXPECT_EQ(r.exit_code, 0) << step[1] << ": " << r.err;
      if (r.exit_code != 0) return "";
    }
    EXPECT_TRUE(RemoveAll(tar).has_value());
  }
  return "oci:" + layout + ":bookworm";
}

// Checks a hardbase.audit/v1 document against the contract (docs: the JSON documents `audit`,
// `diff`, `migrate` and `report` share), independently of the code that writes it.
void ExpectAuditContract(const json& a) {
  ASSERT_TRUE(a.is_object());
  EXPECT_EQ(a.value("schema", ""), "hardbase.audit/v1");
  const json& image = a["image"];
  for (const char* key :
       {"reference", "name", "digest", "created", "architecture", "distro", "user"}) {
    EXPECT_TRUE(image[key].is_string()) << "image." << key;
  }
  for (const char* key : {"packages", "size_bytes", "files", "layers"}) {
    EXPECT_TRUE(image[key].is_number_integer()) << "image." << key;
  }
  ASSERT_TRUE(a["score"].is_number_integer());
  EXPECT_GE(a["score"].get<int>(), 0);
  EXPECT_LE(a["score"].get<int>(), 100);
  EXPECT_THAT((std::set<std::string>{"A", "B", "C", "D", "E", "F"}),
              Contains(a["grade"].get<std::string>()));
  for (const char* kind :
       {"shells", "package_managers", "compilers", "debuggers", "network_tools"}) {
    ASSERT_TRUE(a["surface"][kind].is_array()) << kind;
    for (const auto& t : a["surface"][kind]) {
      EXPECT_TRUE(t["path"].is_string() && t["package"].is_string()) << kind;
    }
  }
  for (const char* list : {"setuid", "world_writable"}) {
    ASSERT_TRUE(a[list].is_array()) << list;
    for (const auto& f : a[list]) {
      EXPECT_TRUE(f["path"].is_string()) << list;
      ASSERT_TRUE(f["mode"].is_string()) << list;
      EXPECT_EQ(f["mode"].get<std::string>().size(), 4u) << list;
    }
  }
  for (const auto& f : a["setuid"]) EXPECT_TRUE(f["package"].is_string());
  ASSERT_TRUE(a["secrets"].is_array());
  for (const auto& s : a["secrets"]) {
    EXPECT_TRUE(s["path"].is_string() && s["kind"].is_string());
    EXPECT_TRUE(s["line"].is_number_integer() && s["layer"].is_number_integer());
    EXPECT_TRUE(s["removed"].is_boolean());
  }
  EXPECT_TRUE(a["unowned_files"]["count"].is_number_integer());
  ASSERT_TRUE(a["unowned_files"]["sample"].is_array());
  EXPECT_LE(a["unowned_files"]["sample"].size(), 20u);
  EXPECT_TRUE(a["packages_without_copyright"].is_array());
  const json& config = a["config"];
  EXPECT_TRUE(config["user"].is_string());
  EXPECT_TRUE(config["runs_as_root"].is_boolean());
  EXPECT_TRUE(config["healthcheck"].is_boolean());
  for (const char* key : {"exposed_ports", "env_secrets", "entrypoint", "cmd"}) {
    EXPECT_TRUE(config[key].is_array()) << "config." << key;
  }
  const json& v = a["vulnerabilities"];
  EXPECT_TRUE(v["database"].is_boolean());
  EXPECT_TRUE(v["total"].is_number_integer());
  for (const char* severity : {"critical", "high", "medium", "low", "unknown"}) {
    EXPECT_TRUE(v["by_severity"][severity]["fixable"].is_number_integer()) << severity;
    EXPECT_TRUE(v["by_severity"][severity]["unfixed"].is_number_integer()) << severity;
  }
  EXPECT_THAT((std::set<std::string>{"verified", "present", "absent", "invalid"}),
              Contains(a["provenance"]["signature"].get<std::string>()));
  EXPECT_TRUE(a["provenance"]["sbom"].is_boolean());
  EXPECT_TRUE(a["provenance"]["attestations"].is_number_integer());
  ASSERT_TRUE(a["cis"].is_array());
  std::vector<std::string> ids;
  for (const auto& c : a["cis"]) {
    ids.push_back(c["id"].get<std::string>());
    EXPECT_TRUE(c["title"].is_string() && c["evidence"].is_string());
    EXPECT_THAT((std::set<std::string>{"pass", "fail", "n/a"}),
                Contains(c["status"].get<std::string>()));
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"4.1", "4.2", "4.3", "4.4", "4.5", "4.6", "4.7", "4.8",
                                           "4.9", "4.10", "4.11"}));
  ASSERT_TRUE(a["findings"].is_array());
  for (const auto& f : a["findings"]) {
    EXPECT_TRUE(f["id"].is_string() && f["title"].is_string());
    EXPECT_THAT((std::set<std::string>{"high", "medium", "low", "info"}),
                Contains(f["severity"].get<std::string>()));
    EXPECT_TRUE(f["evidence"].is_array());
  }
}

std::string Cis(const json& a, const std::string& id) {
  for (const auto& c : a["cis"]) {
    if (c["id"] == id)
      return c["status"].get<std::string>() + ": " + c["evidence"].get<std::string>();
  }
  return "missing";
}

std::set<std::string> Paths(const json& list) {
  std::set<std::string> out;
  for (const auto& e : list) out.insert(e["path"].get<std::string>());
  return out;
}

class AuditE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("hardbase-audit-");
    ASSERT_TRUE(dir.has_value());
    work_.emplace(std::move(*dir));
    ASSERT_TRUE(MakeDirs(ExamplesSuiteDir()).has_value());
  }
  std::string Work() const { return work_->path(); }

  static ProcessResult Hardbase(std::vector<std::string> args,
                                const std::map<std::string, std::string>& env = {}) {
    return HardbaseWithCache(std::move(args), env);
  }
  // `audit ... --json` parsed; a failed run fails the test.
  static json AuditJson(std::vector<std::string> args) {
    args.insert(args.begin(), "audit");
    args.push_back("--json");
    auto r = Hardbase(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.exit_code == 0 ? r.out : "{}", nullptr, false);
  }

  // The example `static` built and signed with a key made here: "oci:DIR:test". The key's public
  // half is Work()/cosign.pub.
  std::string SignedHardbaseImage() {
    std::string prefix = Work() + "/cosign";
    auto keys = Hardbase({"keygen", "--output-key-prefix", prefix}, kPassword);
    EXPECT_EQ(keys.exit_code, 0) << keys.err;
    std::string out = Work() + "/static";
    auto built = Hardbase({"build", ExampleSpec("static"), "--lock", ExampleLock("static"), "-o",
                           out, "--tag", "test", "--sign-key", prefix + ".key"},
                          kPassword);
    EXPECT_EQ(built.exit_code, 0) << built.err;
    return "oci:" + out + ":test";
  }

  std::optional<TempDir> work_;
};

TEST_F(AuditE2ETest, ATypicalDebianImageIsAllAttackSurface) {
  std::string typical = TypicalImage();
  if (typical.empty() && !HasFailure()) GTEST_SKIP() << "mmdebstrap or umoci is not installed";
  ASSERT_FALSE(typical.empty());
  json a = AuditJson({typical, "--db", SharedVulnDb()});
  ExpectAuditContract(a);
  std::set<std::string> shells = Paths(a["surface"]["shells"]);
  EXPECT_THAT(shells, Contains("/usr/bin/bash"));
  EXPECT_THAT(shells, Contains("/usr/bin/sh"));
  std::set<std::string> managers = Paths(a["surface"]["package_managers"]);
  EXPECT_THAT(managers, Contains("/usr/bin/apt-get"));
  EXPECT_THAT(managers, Contains("/usr/bin/dpkg"));
  for (const auto& t : a["surface"]["shells"]) {
    if (t["path"] == "/usr/bin/bash") {
      EXPECT_EQ(t["package"], "bash");
    }
  }
  EXPECT_THAT(Paths(a["setuid"]), Contains("/usr/bin/su"));
  EXPECT_TRUE(a["config"]["runs_as_root"].get<bool>());
  EXPECT_GT(a["image"]["packages"].get<int>(), 60);
  EXPECT_EQ(a["image"]["distro"], "Debian GNU/Linux 12 (bookworm)");
  EXPECT_TRUE(a["vulnerabilities"]["database"].get<bool>());
  EXPECT_GT(a["vulnerabilities"]["total"].get<int>(), 0);
  EXPECT_THAT(Cis(a, "4.1"), HasSubstr("fail"));
  EXPECT_THAT(Cis(a, "4.3"), HasSubstr("fail: shells: /usr/bin/bash"));
  EXPECT_THAT(Cis(a, "4.8"), HasSubstr("fail"));
  EXPECT_EQ(a["provenance"]["signature"], "absent");
  EXPECT_TRUE(a["secrets"].empty()) << a["secrets"].dump();  // no false alarm in Debian's files
  EXPECT_LT(a["score"].get<int>(), 50);
  EXPECT_EQ(a["grade"], "F");

  // The gate: exit 12, one line naming the score.
  auto gated = Hardbase({"audit", typical, "--db", SharedVulnDb(), "--fail-under", "60"});
  EXPECT_EQ(gated.exit_code, kExitVulnerable) << gated.err;
  EXPECT_THAT(gated.out, HasSubstr("score "));
  EXPECT_THAT(gated.err, HasSubstr("is below --fail-under 60"));
  EXPECT_EQ(std::count(gated.err.begin(), gated.err.end(), '\n'), 1) << gated.err;
}

TEST_F(AuditE2ETest, ASignedHardbaseImageIsVerifiedAndScoresHigh) {
  std::string image = SignedHardbaseImage();
  ASSERT_FALSE(HasFailure());
  std::string key = Work() + "/cosign.pub";
  json a = AuditJson({image, "--key", key, "--db", SharedVulnDb()});
  ExpectAuditContract(a);
  for (const char* kind :
       {"shells", "package_managers", "compilers", "debuggers", "network_tools"}) {
    EXPECT_TRUE(a["surface"][kind].empty()) << kind << ": " << a["surface"][kind].dump();
  }
  EXPECT_TRUE(a["setuid"].empty());
  EXPECT_FALSE(a["config"]["runs_as_root"].get<bool>());
  EXPECT_EQ(a["provenance"]["signature"], "verified");
  EXPECT_TRUE(a["provenance"]["sbom"].get<bool>());
  EXPECT_GE(a["provenance"]["attestations"].get<int>(), 1);
  EXPECT_THAT(Cis(a, "4.1"), HasSubstr("pass"));
  EXPECT_THAT(Cis(a, "4.2"), HasSubstr("pass"));
  EXPECT_THAT(Cis(a, "4.5"), HasSubstr("pass"));
  EXPECT_THAT(Cis(a, "4.8"), HasSubstr("pass"));
  EXPECT_GE(a["score"].get<int>(), 85);

  // Another key: the signature is there but does not verify.
  auto other = Hardbase({"keygen", "--output-key-prefix", Work() + "/other"}, kPassword);
  ASSERT_EQ(other.exit_code, 0) << other.err;
  json wrong = AuditJson({image, "--key", Work() + "/other.pub", "--db", SharedVulnDb()});
  EXPECT_EQ(wrong["provenance"]["signature"], "invalid");
  EXPECT_LT(wrong["score"].get<int>(), a["score"].get<int>());
  json unchecked = AuditJson({image, "--db", SharedVulnDb()});
  EXPECT_EQ(unchecked["provenance"]["signature"], "present");

  // Side by side with a typical image: text and JSON.
  std::string typical = TypicalImage();
  if (typical.empty()) return;
  auto text =
      Hardbase({"audit", typical, "--compare", image, "--key", key, "--db", SharedVulnDb()});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("before"));
  EXPECT_THAT(text.out, HasSubstr("runs as root         yes"));
  EXPECT_THAT(text.out, HasSubstr("findings gone (before only)"));
  json both = AuditJson({typical, "--compare", image, "--key", key, "--db", SharedVulnDb()});
  EXPECT_EQ(both["schema"], "hardbase.audit-compare/v1");
  ExpectAuditContract(both["before"]);
  ExpectAuditContract(both["after"]);
  EXPECT_LT(both["before"]["score"].get<int>(), both["after"]["score"].get<int>());
  EXPECT_EQ(both["after"]["provenance"]["signature"], "verified");
  // The gate looks at the image after.
  auto gated = Hardbase({"audit", typical, "--compare", image, "--key", key, "--db", SharedVulnDb(),
                         "--fail-under", "60"});
  EXPECT_EQ(gated.exit_code, 0) << gated.err;
}

// What a careless build leaves, assembled here with tar and umoci: an SSH key copied in and
// deleted by the next layer (still in the first layer's blob), a setuid binary, a world-writable
// directory, secrets in the config's environment; and the Dockerfile that did it.
TEST_F(AuditE2ETest, FindsWhatAHostileImageHides) {
  if (FindInPath("umoci").empty()) GTEST_SKIP() << "umoci is not installed";
  std::string layer0 = Work() + "/layer0", layer1 = Work() + "/layer1";
  for (const auto& dir : {layer0 + "/root/.ssh", layer0 + "/usr/bin", layer0 + "/srv/upload",
                          layer0 + "/etc", layer1 + "/root/.ssh"}) {
    ASSERT_TRUE(MakeDirs(dir).has_value());
  }
  Tool({"openssl", "genpkey", "-algorithm", "ed25519", "-out", layer0 + "/root/.ssh/id_ed25519"});
  ASSERT_TRUE(WriteFileAtomic(layer0 + "/usr/bin/helper", "#!/bin/true\n", 0755).has_value());
  ASSERT_EQ(::chmod((layer0 + "/usr/bin/helper").c_str(), 04755), 0);
  ASSERT_EQ(::chmod((layer0 + "/srv/upload").c_str(), 0777), 0);
  ASSERT_TRUE(
      WriteFileAtomic(layer0 + "/etc/passwd", "root:x:0:0::/root:/bin/false\n").has_value());
  ASSERT_TRUE(WriteFileAtomic(layer1 + "/root/.ssh/.wh.id_ed25519", "").has_value());
  std::string layout = Work() + "/hostile";
  Tool({"umoci", "init", "--layout", layout});
  Tool({"umoci", "new", "--image", layout + ":t"});
  for (const auto& dir : {layer0, layer1}) {
    Tool({"tar", "--numeric-owner", "-C", dir, "-cf", dir + ".tar", "."});
    Tool({"umoci", "raw", "add-layer", "--image", layout + ":t", dir + ".tar"});
  }
  Tool({"umoci", "config", "--image", layout + ":t", "--config.user", "0", "--config.env",
        "AWS_SECRET_ACCESS_KEY=not-a-real-key-made-by-the-test", "--config.env",
        "DB_PASSWORD=hunter2", "--config.exposedports", "8080/tcp"});
  std::string dockerfile = Work() + "/Dockerfile";
  ASSERT_TRUE(WriteFileAtomic(dockerfile,
                              "FROM debian:12\nADD id_ed25519 /root/.ssh/\n"
                              "RUN rm /root/.ssh/id_ed25519\nENV DB_PASSWORD=hunter2\n")
                  .has_value());

  json a = AuditJson({"oci:" + layout + ":t", "--dockerfile", dockerfile});
  ExpectAuditContract(a);
  ASSERT_EQ(a["secrets"].size(), 1u) << a["secrets"].dump();
  EXPECT_EQ(a["secrets"][0]["path"], "/root/.ssh/id_ed25519");
  EXPECT_EQ(a["secrets"][0]["kind"], "private-key");
  EXPECT_EQ(a["secrets"][0]["layer"], 0);
  EXPECT_EQ(a["secrets"][0]["removed"], true);
  EXPECT_EQ(Paths(a["setuid"]), (std::set<std::string>{"/usr/bin/helper"}));
  EXPECT_EQ(a["setuid"][0]["mode"], "4755");
  EXPECT_THAT(Paths(a["world_writable"]), Contains("/srv/upload"));
  EXPECT_EQ(a["config"]["env_secrets"], json({"AWS_SECRET_ACCESS_KEY", "DB_PASSWORD"}));
  EXPECT_EQ(a["config"]["exposed_ports"], json({"8080/tcp"}));
  EXPECT_TRUE(a["config"]["runs_as_root"].get<bool>());
  EXPECT_THAT(Cis(a, "4.8"), HasSubstr("fail: 4755 /usr/bin/helper"));
  EXPECT_THAT(Cis(a, "4.9"), HasSubstr("fail: " + dockerfile + ":2: ADD"));
  EXPECT_THAT(Cis(a, "4.10"), HasSubstr("/root/.ssh/id_ed25519:1: private-key (layer 0, deleted"));
  EXPECT_THAT(Cis(a, "4.10"), HasSubstr("config Env DB_PASSWORD"));
  EXPECT_THAT(Cis(a, "4.10"), HasSubstr(dockerfile + ":4: ENV DB_PASSWORD"));
  // The secrets' values are never shown.
  auto text = Hardbase({"audit", "oci:" + layout + ":t"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, Not(HasSubstr("hunter2")));
  EXPECT_THAT(text.out, Not(HasSubstr("not-a-real-key")));
  EXPECT_THAT(text.out, Not(HasSubstr("PRIVATE KEY-----")));

  // A layer cut short on disk: one line naming the blob, the integrity exit code.
  json index = json::parse(*ReadFile(layout + "/index.json"));
  std::string manifest_hex = index["manifests"][0]["digest"].get<std::string>().substr(7);
  json manifest = json::parse(*ReadFile(layout + "/blobs/sha256/" + manifest_hex));
  std::string layer = manifest["layers"][0]["digest"].get<std::string>();
  std::string blob = layout + "/blobs/sha256/" + layer.substr(7);
  std::string bytes = *ReadFile(blob);
  ASSERT_TRUE(WriteFileAtomic(blob, bytes.substr(0, bytes.size() / 2)).has_value());
  auto cut = Hardbase({"audit", "oci:" + layout + ":t"});
  EXPECT_EQ(cut.exit_code, kExitIntegrity) << cut.err;
  EXPECT_THAT(cut.err, HasSubstr(layer));
  EXPECT_EQ(std::count(cut.err.begin(), cut.err.end(), '\n'), 1) << cut.err;
  EXPECT_TRUE(cut.out.empty());
}

}  // namespace
}  // namespace hardbase::testing
