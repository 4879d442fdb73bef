#include "audit/audit.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "audit/output.h"
#include "audit/ownership.h"

namespace hardbase::audit {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using Type = oci::TreeNode::Type;

// A tree built path by path, as the layers would leave it.
class TreeBuilder {
 public:
  TreeBuilder& Dir(const std::string& path, uint32_t mode = 0755) {
    return Add(path, {Type::kDirectory, mode, 0, 0, 0, "", 0, path});
  }
  TreeBuilder& File(const std::string& path, std::string content = "", uint32_t mode = 0644,
                    size_t layer = 0, bool keep = false) {
    Add(path, {Type::kFile, mode, 0, 0, content.size(), "", layer, path});
    if (keep || IsAuditedFile(path)) tree_.files[path] = std::move(content);
    return *this;
  }
  TreeBuilder& Link(const std::string& path, const std::string& target) {
    return Add(path, {Type::kSymlink, 0777, 0, 0, 0, target, 0, path});
  }
  oci::ImageTree Take() { return std::move(tree_); }

 private:
  TreeBuilder& Add(const std::string& path, oci::TreeNode node) {
    tree_.nodes[path] = std::move(node);
    return *this;
  }
  oci::ImageTree tree_;
};

constexpr std::string_view kOsRelease =
    "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n";

deb::InstalledPackage Package(std::string name) { return {name, "1.0", "amd64", name, "1.0", 100}; }

// A Debian-like image: merged /usr, dpkg's file lists, a shell, apt, a setuid su, root.
ImageFacts DebianLike() {
  ImageFacts f;
  f.reference = "oci:debian";
  f.name = "debian";
  f.has_config = true;
  f.layers = 1;
  f.tree = TreeBuilder()
               .Link("bin", "usr/bin")
               .Link("sbin", "usr/sbin")
               .Dir("usr")
               .Dir("usr/bin")
               .Dir("usr/sbin")
               .Dir("tmp", 01777)
               .Dir("var/tmp", 0777)
               .File("usr/bin/bash", "ELF", 0755)
               .File("usr/bin/dash", "ELF", 0755)
               .Link("usr/bin/sh", "dash")
               .File("usr/bin/apt-get", "ELF", 0755)
               .File("usr/bin/su", "ELF", 04755)
               .File("usr/bin/chage", "ELF", 02755)
               .File("usr/bin/ls", "ELF", 0755)
               .File("usr/bin/curl-config", "", 0644)
               .Link("usr/bin/nc", "/etc/alternatives/nc")
               .Link("etc/alternatives/nc", "/bin/nc.openbsd")
               .File("usr/bin/nc.openbsd", "ELF", 0755)
               .File("usr/bin/gcc-12", "ELF", 0644)  // not executable: not counted
               .File("etc/os-release", std::string(kOsRelease))
               .File("etc/passwd", "root:x:0:0:root:/root:/bin/bash\n")
               .File("etc/hostname", "x")
               .File("usr/share/doc/bash/copyright", "c")
               .Link("usr/share/doc/dash", "bash")
               .File("var/lib/dpkg/status", "Package: bash\nStatus: install ok installed\n")
               .File("var/lib/dpkg/info/bash.list", "/.\n/bin\n/bin/bash\n/usr/share/doc/bash\n")
               .File("var/lib/dpkg/info/dash.list", "/bin/dash\n/bin/sh\n")
               .File("var/lib/dpkg/info/login:amd64.list", "/bin/su\n")
               .File("var/lib/dpkg/info/apt.list", "/usr/bin/apt-get\n")
               .File("var/lib/dpkg/info/netcat-openbsd.list", "/bin/nc.openbsd\n")
               .Take();
  f.package_database = "var/lib/dpkg/status";
  f.packages = {Package("apt"), Package("bash"), Package("dash"), Package("login")};
  return f;
}

const Finding* FindingOf(const Report& r, std::string_view id) {
  for (const auto& f : r.findings) {
    if (f.id == id) return &f;
  }
  return nullptr;
}

const CisCheck& Cis(const Report& r, std::string_view id) {
  for (const auto& c : r.cis) {
    if (c.id == id) return c;
  }
  static CisCheck none;
  ADD_FAILURE() << "no CIS check " << id;
  return none;
}

TEST(OwnershipTest, ResolvesListedPathsThroughTheImagesSymlinks) {
  ImageFacts f = DebianLike();
  FileOwners owners(f.tree);
  EXPECT_TRUE(owners.known());
  EXPECT_EQ(owners.Owner("usr/bin/bash"), "bash");  // listed as /bin/bash
  EXPECT_EQ(owners.Owner("usr/bin/su"), "login");   // "login:amd64.list"
  EXPECT_EQ(owners.Owner("usr/bin/ls"), "");
  EXPECT_EQ(owners.OwnerFollowing(f.tree, "usr/bin/nc"), "netcat-openbsd");
  EXPECT_EQ(ResolveInTree(f.tree, "bin/sh", true), "usr/bin/dash");
  EXPECT_EQ(ResolveInTree(f.tree, "bin/sh", false), "usr/bin/sh");
  EXPECT_EQ(ResolveInTree(f.tree, "usr/bin/../../../etc/passwd", true), "etc/passwd");
  oci::ImageTree loop = TreeBuilder().Link("a", "b").Link("b", "/a/x").Take();
  EXPECT_EQ(ResolveInTree(loop, "a", true), std::nullopt);

  // A distroless database: status.d/<package>.md5sums.
  oci::ImageTree distroless = TreeBuilder()
                                  .Link("lib", "usr/lib")
                                  .File("usr/lib/libc.so.6", "", 0755)
                                  .File("var/lib/dpkg/status.d/libc6", "Package: libc6\n")
                                  .File("var/lib/dpkg/status.d/libc6.md5sums",
                                        "0123456789abcdef0123456789abcdef  lib/libc.so.6\n")
                                  .Take();
  FileOwners md5(distroless);
  EXPECT_TRUE(md5.known());
  EXPECT_EQ(md5.Owner("usr/lib/libc.so.6"), "libc6");
  EXPECT_FALSE(FileOwners(TreeBuilder().File("usr/bin/x").Take()).known());
}

TEST(AuditTest, ADebianLikeImageShowsItsSurfaceAndFailsTheCisChecks) {
  Report r = Audit(DebianLike());
  EXPECT_EQ(r.distro, "Debian GNU/Linux 12 (bookworm)");
  EXPECT_EQ(r.packages, 4);
  EXPECT_THAT(r.surface[0],
              ElementsAre(AllOf(Field(&Tool::path, "/usr/bin/bash"), Field(&Tool::package, "bash")),
                          AllOf(Field(&Tool::path, "/usr/bin/dash"), Field(&Tool::package, "dash")),
                          AllOf(Field(&Tool::path, "/usr/bin/sh"), Field(&Tool::package, "dash"))));
  EXPECT_THAT(r.surface[1], ElementsAre(Field(&Tool::path, "/usr/bin/apt-get")));
  EXPECT_THAT(r.surface[2], IsEmpty());  // gcc-12 is not executable
  EXPECT_THAT(r.surface[4], ElementsAre(AllOf(Field(&Tool::path, "/usr/bin/nc"),
                                              Field(&Tool::package, "netcat-openbsd")),
                                        Field(&Tool::path, "/usr/bin/nc.openbsd")));
  ASSERT_EQ(r.setuid.size(), 2u);
  EXPECT_EQ(r.setuid[0].path, "/usr/bin/chage");
  EXPECT_EQ(r.setuid[0].mode, 02755u);
  EXPECT_EQ(r.setuid[1].package, "login");
  // /tmp is sticky; /var/tmp here is not.
  EXPECT_THAT(r.world_writable, ElementsAre(Field(&ModeFile::path, "/var/tmp")));
  EXPECT_TRUE(r.file_lists);
  EXPECT_THAT(r.unowned_sample, Contains("/etc/hostname"));
  EXPECT_THAT(r.unowned_sample, Not(Contains("/var/lib/dpkg/status")));
  EXPECT_THAT(r.packages_without_copyright, ElementsAre("apt", "login"));  // dash: via a link
  EXPECT_TRUE(r.config.runs_as_root);

  for (std::string_view id : {"runs-as-root", "shell", "package-manager", "network-tool", "setuid",
                              "world-writable", "no-signature", "no-sbom", "no-healthcheck",
                              "no-copyright", "unowned-files", "no-vulnerability-data"}) {
    EXPECT_NE(FindingOf(r, id), nullptr) << id;
  }
  EXPECT_EQ(FindingOf(r, "compiler"), nullptr);
  // Worst first.
  EXPECT_EQ(r.findings.front().severity, Severity::kHigh);
  EXPECT_EQ(r.findings.back().severity, Severity::kInfo);
  // 100 - 15 root - 10 shell - 10 apt - 5 nc - 4 setuid - 2 world-writable - 5 unsigned - 3 SBOM
  // - 2 healthcheck - 2 copyright - 0 unowned (1 file)
  EXPECT_EQ(r.score, 42);
  EXPECT_EQ(r.grade, "F");

  EXPECT_EQ(Cis(r, "4.1").status, CisCheck::Status::kFail);
  EXPECT_THAT(Cis(r, "4.1").evidence, HasSubstr("no User"));
  EXPECT_EQ(Cis(r, "4.3").status, CisCheck::Status::kFail);
  EXPECT_THAT(Cis(r, "4.3").evidence, HasSubstr("shells: /usr/bin/bash"));
  EXPECT_EQ(Cis(r, "4.4").status, CisCheck::Status::kNotApplicable);
  EXPECT_EQ(Cis(r, "4.5").status, CisCheck::Status::kFail);
  EXPECT_EQ(Cis(r, "4.6").status, CisCheck::Status::kFail);
  EXPECT_EQ(Cis(r, "4.7").status, CisCheck::Status::kNotApplicable);
  EXPECT_EQ(Cis(r, "4.8").status, CisCheck::Status::kFail);
  EXPECT_THAT(Cis(r, "4.8").evidence, HasSubstr("4755 /usr/bin/su"));
  EXPECT_EQ(Cis(r, "4.10").status, CisCheck::Status::kPass);
  EXPECT_EQ(Cis(r, "4.11").status, CisCheck::Status::kPass);
}

TEST(AuditTest, AHardenedImagePassesAndScoresHigh) {
  ImageFacts f;
  f.reference = "oci:hardened";
  f.has_config = true;
  f.config.user = "nonroot";
  f.config.healthcheck = {"CMD", "/app", "--check"};
  f.tree = TreeBuilder()
               .Link("bin", "usr/bin")
               .File("usr/bin/app", "ELF", 0755)
               .File("etc/passwd", "root:x:0:0::/root:/sbin/nologin\nnonroot:x:65532:65532::/:\n")
               .File("usr/share/doc/libc6/copyright", "c")
               .File("var/lib/dpkg/status.d/libc6", "Package: libc6\n")
               .File("var/lib/dpkg/status.d/libc6.md5sums", "00  usr/bin/app\n")
               .Take();
  f.package_database = "var/lib/dpkg/status.d";
  f.packages = {Package("libc6")};
  f.provenance = {Provenance::Signature::kVerified, true, "SHA256:abc", true, true, 2, "tag x.sig"};
  f.vulnerabilities.matched = true;
  vuln::Finding unfixed;
  unfixed.severity = vuln::Severity::kHigh;
  unfixed.status = vuln::FixStatus::kUnfixed;
  f.vulnerabilities.findings = {unfixed};
  Report r = Audit(f);
  EXPECT_FALSE(r.config.runs_as_root);
  EXPECT_THAT(r.config.user_evidence, HasSubstr("uid 65532"));
  for (const auto& c : r.cis) {
    EXPECT_NE(c.status, CisCheck::Status::kFail) << c.id << ": " << c.evidence;
  }
  EXPECT_EQ(r.vulnerabilities.high.unfixed, 1);
  EXPECT_EQ(r.score, 100);  // one unfixed high costs nothing yet
  EXPECT_EQ(r.grade, "A");

  // A uid in the config; root by number; a name that is not in /etc/passwd.
  f.config.user = "0:0";
  EXPECT_TRUE(Audit(f).config.runs_as_root);
  f.config.user = "65532";
  EXPECT_THAT(Audit(f).config.user_evidence, HasSubstr(", nonroot in /etc/passwd"));
  f.config.user = "ghost";
  Report ghost = Audit(f);
  EXPECT_FALSE(ghost.config.runs_as_root);
  EXPECT_THAT(ghost.config.user_evidence, HasSubstr("not in /etc/passwd"));
}

TEST(AuditTest, SecretsInLayersAndTheConfig) {
  ImageFacts f = DebianLike();
  // root/.ssh/id_rsa was deleted by layer 1; app/.env is still there; a package's test key.
  f.tree.nodes["app/.env"] = {Type::kFile, 0644, 0, 0, 10, "", 1, "app/.env"};
  f.tree.nodes["usr/lib/python3/dist-packages/x/tests/key.pem"] = {
      Type::kFile, 0644, 0, 0, 10, "", 0, "usr/lib/python3/dist-packages/x/tests/key.pem"};
  f.tree.files["var/lib/dpkg/info/python3-x.list"] =
      "/usr/lib/python3/dist-packages/x/tests/key.pem\n";
  f.secrets = {{0, "root/.ssh/id_rsa", "private-key", 1},
               {1, "app/.env", "password", 3},
               {1, "app/.env", "password", 3},  // the same hit twice counts once
               {0, "usr/lib/python3/dist-packages/x/tests/key.pem", "private-key", 1}};
  f.config.env = {"PATH=/usr/bin", "AWS_SECRET_ACCESS_KEY=abc", "DB_PASSWORD=pw"};
  Report r = Audit(f);
  ASSERT_EQ(r.secrets.size(), 3u);
  EXPECT_EQ(r.secrets[0].path, "/app/.env");
  EXPECT_FALSE(r.secrets[0].removed);
  EXPECT_EQ(r.secrets[1].path, "/root/.ssh/id_rsa");
  EXPECT_TRUE(r.secrets[1].removed);
  EXPECT_EQ(r.secrets[1].layer, 0u);
  EXPECT_EQ(r.secrets[2].package, "python3-x");
  EXPECT_THAT(r.config.env_secrets, ElementsAre("AWS_SECRET_ACCESS_KEY", "DB_PASSWORD"));
  ASSERT_NE(FindingOf(r, "secret"), nullptr);
  EXPECT_EQ(FindingOf(r, "secret")->points, 30);
  EXPECT_THAT(FindingOf(r, "secret")->evidence,
              Contains(HasSubstr("/root/.ssh/id_rsa:1: private-key (layer 0, deleted")));
  ASSERT_NE(FindingOf(r, "package-secret"), nullptr);
  EXPECT_EQ(FindingOf(r, "package-secret")->points, 0);
  EXPECT_EQ(FindingOf(r, "env-secret")->points, 20);
  EXPECT_EQ(Cis(r, "4.10").status, CisCheck::Status::kFail);
  EXPECT_THAT(Cis(r, "4.10").evidence, HasSubstr("config Env"));
}

TEST(AuditTest, DockerfileChecks) {
  ImageFacts f = DebianLike();
  f.dockerfile_path = "Dockerfile";
  dockerfile::Dockerfile d;
  auto add = [&d](std::string keyword, int line, std::string text) {
    dockerfile::Instruction i;
    i.keyword = std::move(keyword);
    i.line = line;
    i.end_line = line;
    i.text = std::move(text);
    d.instructions.push_back(std::move(i));
  };
  add("FROM", 1, "debian:12");
  add("RUN", 2, "apt-get update");
  add("RUN", 3, "apt-get update && apt-get install -y curl");
  add("ADD", 4, "app.tar.gz /app");
  add("COPY", 5, "x /x");
  add("HEALTHCHECK", 6, "CMD /app --check");
  f.dockerfile = d;
  Report r = Audit(f);
  EXPECT_EQ(Cis(r, "4.6").status, CisCheck::Status::kPass);
  EXPECT_EQ(Cis(r, "4.7").status, CisCheck::Status::kFail);
  EXPECT_THAT(Cis(r, "4.7").evidence, HasSubstr("Dockerfile:2: RUN apt-get update"));
  EXPECT_EQ(Cis(r, "4.9").status, CisCheck::Status::kFail);
  EXPECT_THAT(Cis(r, "4.9").evidence, HasSubstr("Dockerfile:4: ADD app.tar.gz /app"));
  EXPECT_NE(FindingOf(r, "dockerfile-add"), nullptr);

  d.instructions.erase(d.instructions.begin() + 1, d.instructions.begin() + 4);
  f.dockerfile = d;
  r = Audit(f);
  EXPECT_EQ(Cis(r, "4.7").status, CisCheck::Status::kPass);
  EXPECT_EQ(Cis(r, "4.9").status, CisCheck::Status::kPass);
}

TEST(AuditTest, CountsVulnerabilitiesBySeverityAndFix) {
  ImageFacts f = DebianLike();
  f.vulnerabilities.matched = true;
  auto finding = [](vuln::Severity s, bool fixable, bool kernel = false) {
    vuln::Finding v;
    v.severity = s;
    v.status = fixable ? vuln::FixStatus::kFixable : vuln::FixStatus::kUnfixed;
    v.kernel_headers = kernel;
    return v;
  };
  f.vulnerabilities.findings = {
      finding(vuln::Severity::kCritical, true), finding(vuln::Severity::kHigh, false),
      finding(vuln::Severity::kHigh, false), finding(vuln::Severity::kNegligible, false),
      finding(vuln::Severity::kCritical, true, true)};
  Report r = Audit(f);
  EXPECT_TRUE(r.vulnerabilities.database);
  EXPECT_EQ(r.vulnerabilities.total, 4);
  EXPECT_EQ(r.vulnerabilities.critical.fixable, 1);
  EXPECT_EQ(r.vulnerabilities.high.unfixed, 2);
  EXPECT_EQ(r.vulnerabilities.negligible.unfixed, 1);
  EXPECT_EQ(FindingOf(r, "fixable-vulnerabilities")->points, 5);
  EXPECT_EQ(FindingOf(r, "unfixed-vulnerabilities")->points, 1);
  EXPECT_EQ(Cis(r, "4.4").status, CisCheck::Status::kFail);
}

TEST(AuditTest, JsonHasTheContractsFieldsAndTextEscapesTheImagesStrings) {
  ImageFacts f = DebianLike();
  f.tree.nodes["usr/bin/\x1b[2Jevil"] = {Type::kFile, 04755, 0, 0, 1, "", 0, "x"};
  Report r = Audit(f);
  nlohmann::json j = nlohmann::json::parse(AuditJson(r));
  EXPECT_EQ(j["schema"], "hardbase.audit/v1");
  for (std::string_view key : {"reference", "name", "digest", "created", "architecture", "distro",
                               "user", "packages", "size_bytes", "files", "layers"}) {
    EXPECT_TRUE(j["image"].contains(key)) << key;
  }
  EXPECT_TRUE(j["score"].is_number_integer());
  EXPECT_EQ(j["grade"], r.grade);
  for (std::string_view key :
       {"shells", "package_managers", "compilers", "debuggers", "network_tools"}) {
    EXPECT_TRUE(j["surface"][key].is_array()) << key;
  }
  EXPECT_EQ(j["surface"]["shells"][0]["path"], "/usr/bin/bash");
  EXPECT_EQ(j["surface"]["shells"][0]["package"], "bash");
  EXPECT_EQ(j["setuid"][1]["path"], "/usr/bin/chage");
  EXPECT_EQ(j["setuid"][1]["mode"], "2755");
  EXPECT_EQ(j["setuid"][2]["package"], "login");
  EXPECT_EQ(j["world_writable"][0]["mode"], "0777");
  EXPECT_TRUE(j["secrets"].is_array());
  EXPECT_TRUE(j["unowned_files"]["count"].is_number_integer());
  EXPECT_TRUE(j["unowned_files"]["sample"].is_array());
  EXPECT_TRUE(j["packages_without_copyright"].is_array());
  for (std::string_view key : {"user", "runs_as_root", "healthcheck", "exposed_ports",
                               "env_secrets", "entrypoint", "cmd"}) {
    EXPECT_TRUE(j["config"].contains(key)) << key;
  }
  EXPECT_EQ(j["vulnerabilities"]["database"], false);
  for (std::string_view key : {"critical", "high", "medium", "low", "unknown"}) {
    EXPECT_TRUE(j["vulnerabilities"]["by_severity"][key]["fixable"].is_number_integer()) << key;
    EXPECT_TRUE(j["vulnerabilities"]["by_severity"][key]["unfixed"].is_number_integer()) << key;
  }
  EXPECT_EQ(j["provenance"]["signature"], "absent");
  EXPECT_EQ(j["provenance"]["sbom"], false);
  EXPECT_TRUE(j["provenance"]["attestations"].is_number_integer());
  ASSERT_EQ(j["cis"].size(), 11u);
  EXPECT_EQ(j["cis"][0]["id"], "4.1");
  EXPECT_EQ(j["cis"][0]["status"], "fail");
  EXPECT_EQ(j["cis"][3]["status"], "n/a");
  EXPECT_TRUE(j["findings"][0]["evidence"].is_array());

  std::string text = AuditText(r);
  EXPECT_THAT(text, HasSubstr("score 40/100 (grade F)"));
  EXPECT_THAT(text, Not(HasSubstr("\x1b")));
  EXPECT_THAT(text, HasSubstr("\\x1b[2Jevil"));

  ImageFacts hardened;
  hardened.reference = "oci:after";
  hardened.has_config = true;
  hardened.config.user = "65532";
  Report after = Audit(hardened);
  nlohmann::json compare = nlohmann::json::parse(CompareJson(r, after));
  EXPECT_EQ(compare["schema"], "hardbase.audit-compare/v1");
  EXPECT_EQ(compare["before"]["schema"], "hardbase.audit/v1");
  EXPECT_EQ(compare["after"]["image"]["reference"], "oci:after");
  std::string side = CompareText(r, after);
  EXPECT_THAT(side, HasSubstr("score"));
  EXPECT_THAT(side, HasSubstr("40/100 (F)"));
  EXPECT_THAT(side, HasSubstr("runs as root"));
  EXPECT_THAT(side, HasSubstr("findings gone (before only)"));
}

}  // namespace
}  // namespace hardbase::audit
