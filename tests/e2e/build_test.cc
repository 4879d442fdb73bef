// End-to-end tests of `hardbase build` on the examples, with real Debian packages from the host's
// repositories. Images are read back by independent tools (umoci, skopeo) and run with a real OCI
// runtime (crun) as their own user; the hardening, the package database and reproducibility are
// checked on what those tools see.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "base/fs.h"
#include "support/examples.h"
#include "support/exit_codes.h"
#include "support/oci_runtime.h"
#include "support/process.h"

namespace hardbase::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

// One cache and one lock per example shared by every test (ctest runs each in its own process):
// all tests build from the same verified packages, downloaded once.
class BuildE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("hardbase-build-");
    ASSERT_TRUE(dir.has_value());
    work_.emplace(std::move(*dir));
    ASSERT_TRUE(MakeDirs(SuiteDir()).has_value());
  }

  static std::string SuiteDir() { return ExamplesSuiteDir(); }
  static std::string Cache() { return SuiteDir() + "/cache"; }
  std::string Work() const { return work_->path(); }

  static ProcessResult Hardbase(std::vector<std::string> args,
                                const std::map<std::string, std::string>& env = {},
                                const std::string& cache = "") {
    return HardbaseWithCache(std::move(args), env, cache);
  }
  static std::string LockFor(const std::string& example) { return ExampleLock(example); }

  // A spec in the work dir: the example's text followed by `extra` YAML.
  std::string SpecFrom(const std::string& example, const std::string& extra,
                       const std::string& name = "image.yaml") {
    auto text = ReadFile(ExampleSpec(example));
    EXPECT_TRUE(text.has_value());
    std::string path = Work() + "/" + name;
    EXPECT_TRUE(WriteFileAtomic(path, *text + "\n" + extra).has_value());
    return path;
  }

  // Builds `spec` with the example's lock into `out`; returns the printed digest.
  std::string Build(const std::string& spec, const std::string& example, const std::string& out,
                    std::vector<std::string> extra = {},
                    const std::map<std::string, std::string>& env = {}) {
    std::vector<std::string> args = {"build", spec, "--lock", LockFor(example),
                                     "-o",    out,  "--tag",  "test"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = Hardbase(args, env);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::string digest = r.out.substr(0, r.out.find('\n'));
    EXPECT_THAT(digest, ::testing::StartsWith("sha256:")) << r.out << r.err;
    return digest;
  }

  static json Blob(const std::string& layout, const std::string& digest) {
    auto text = ReadFile(layout + "/blobs/sha256/" + digest.substr(7));
    EXPECT_TRUE(text.has_value()) << digest;
    return json::parse(text.value_or("{}"));
  }
  // index.json's first entry.
  static json IndexEntry(const std::string& layout) {
    auto text = ReadFile(layout + "/index.json");
    EXPECT_TRUE(text.has_value());
    return json::parse(text.value_or("{}"))["manifests"][0];
  }

  // Unpacks with umoci (an independent reader) into the work dir.
  UnpackedImage Unpack(const std::string& layout, const std::string& name = "bundle") {
    auto image = UnpackWithUmoci(layout, "test", Work() + "/" + name);
    EXPECT_TRUE(image.has_value()) << (image ? "" : image.error().message);
    return image.value_or(UnpackedImage{});
  }

  // The hardening every image must show, read from the unpacked root file system.
  void ExpectHardened(const UnpackedImage& image) {
    const std::string& root = image.rootfs;
    for (const char* shell : {"/bin/sh", "/usr/bin/sh", "/bin/bash", "/usr/bin/dash"}) {
      EXPECT_FALSE(fs::exists(fs::symlink_status(root + shell))) << shell << " must not exist";
    }
    for (const char* tool : {"/usr/bin/dpkg", "/usr/bin/apt", "/usr/bin/apt-get"}) {
      EXPECT_FALSE(fs::exists(fs::symlink_status(root + tool))) << tool << " must not exist";
    }
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
         ++it) {
      struct stat st;
      ASSERT_EQ(lstat(it->path().c_str(), &st), 0);
      if (S_ISLNK(st.st_mode)) continue;
      std::string rel = it->path().string().substr(root.size());
      EXPECT_EQ(st.st_mode & (S_ISUID | S_ISGID), 0u) << rel << " has a setuid/setgid bit";
      if (rel != "/tmp" && rel != "/var/tmp" && rel != "/run/lock") {  // 1777, as in Debian
        EXPECT_EQ(st.st_mode & S_IWOTH, 0u) << rel << " is world-writable";
      }
    }
    struct stat tmp;
    ASSERT_EQ(stat((root + "/tmp").c_str(), &tmp), 0);
    EXPECT_EQ(tmp.st_mode & 07777, 01777u);
    EXPECT_EQ(image.config["process"]["user"]["uid"], 65532);
    EXPECT_EQ(image.config["process"]["user"]["gid"], 65532);
    // Documentation is stripped, every licence stays.
    EXPECT_FALSE(fs::exists(root + "/usr/share/man"));
    for (const auto& e : fs::directory_iterator(root + "/usr/share/doc")) {
      if (fs::is_symlink(e.symlink_status())) continue;
      EXPECT_TRUE(fs::exists(e.path() / "copyright")) << e.path();
      for (const auto& f : fs::directory_iterator(e.path())) {
        EXPECT_EQ(f.path().filename(), "copyright") << f.path();
      }
    }
  }

  // status.d lists exactly the lock's packages (but those the hardening leaves out), and each
  // .md5sums file checks out with md5sum(1) against the shipped files.
  void ExpectPackageDatabase(const UnpackedImage& image, const std::string& lock_path,
                             const std::set<std::string>& left_out = {"dpkg", "debconf", "bash",
                                                                      "dash"}) {
    auto lock = json::parse(*ReadFile(lock_path));
    std::set<std::string> expected;
    for (const auto& p : lock["archs"][0]["packages"]) {
      if (!left_out.count(p["name"])) expected.insert(p["name"]);
    }
    std::set<std::string> listed;
    std::string dir = image.rootfs + "/var/lib/dpkg/status.d";
    for (const auto& e : fs::directory_iterator(dir)) {
      std::string name = e.path().filename();
      if (name.ends_with(".md5sums")) {
        auto r = RunProcess(
            {"sh", "-c",
             "cd '" + image.rootfs + "' && md5sum --quiet -c '" + e.path().string() + "'"});
        EXPECT_EQ(r.exit_code, 0) << name << ": " << r.out << r.err;
        continue;
      }
      listed.insert(name);
      auto stanza = ReadFile(e.path());
      EXPECT_THAT(*stanza, HasSubstr("Package: " + name + "\n"));
      EXPECT_THAT(*stanza, HasSubstr("Status: install ok installed\n"));
    }
    EXPECT_EQ(listed, expected);
  }

  // Compiles a C or C++ program on the host.
  std::string Compile(const std::string& source, const std::string& file,
                      std::vector<std::string> flags) {
    std::string src = Work() + "/" + file;
    EXPECT_TRUE(WriteFileAtomic(src, source).has_value());
    std::string bin = Work() + "/prog";
    std::vector<std::string> argv = {file.ends_with(".cc") ? "g++" : "gcc", "-O2", "-o", bin, src};
    argv.insert(argv.end(), flags.begin(), flags.end());
    auto r = RunProcess(argv);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return bin;
  }

  std::optional<TempDir> work_;
};

TEST_F(BuildE2ETest, StaticRunsAStaticProgramAsNonroot) {
  Compile(R"(#include <stdio.h>
#include <unistd.h>
int main(void) {
  FILE* f = fopen("/etc/ssl/certs/ca-certificates.crt", "r");
  printf("static uid=%d gid=%d certs=%s\n", (int)getuid(), (int)getgid(), f ? "yes" : "no");
  return 0;
})",
          "hello.c", {"-static"});
  std::string spec = SpecFrom("static", R"(files:
  - src: prog
    dest: /usr/local/bin/hello
entrypoint: ["/usr/local/bin/hello"]
)");
  std::string out = Work() + "/image";
  Build(spec, "static", out);
  auto image = Unpack(out);
  auto run = RunWithCrun(image.bundle);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "static uid=65532 gid=65532 certs=yes\n");
  ExpectHardened(image);
  ExpectPackageDatabase(image, LockFor("static"));
  EXPECT_FALSE(fs::exists(image.rootfs + "/usr/lib/x86_64-linux-gnu/libc.so.6")) << "no libc";

  // The accounts and trust stores the maintainer scripts would have made.
  EXPECT_THAT(*ReadFile(image.rootfs + "/etc/passwd"),
              HasSubstr("nonroot:x:65532:65532:nonroot:/home/nonroot:/usr/sbin/nologin\n"));
  EXPECT_THAT(*ReadFile(image.rootfs + "/etc/group"), HasSubstr("nonroot:x:65532:"));
  struct stat home;
  ASSERT_EQ(stat((image.rootfs + "/home/nonroot").c_str(), &home), 0);
  EXPECT_EQ(home.st_uid, 65532u);
  auto verify = RunProcess({"openssl", "verify", "-CApath", image.rootfs + "/etc/ssl/certs",
                            "/usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err << " (hash links resolve)";

  // Size goal: at most 2 MiB compressed.
  auto manifest = Blob(out, IndexEntry(out)["digest"]);
  int64_t size = manifest["config"]["size"];
  for (const auto& l : manifest["layers"]) size += l["size"].get<int64_t>();
  EXPECT_LE(size, 2 << 20);
}

TEST_F(BuildE2ETest, CcRunsADynamicCppProgramWithOpenssl) {
  Compile(R"(#include <openssl/ssl.h>
#include <iostream>
#include <unistd.h>
int main() {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  bool paths = SSL_CTX_set_default_verify_paths(ctx) == 1;
  std::cout << OpenSSL_version(OPENSSL_VERSION) << " uid=" << getuid() << " paths=" << paths
            << std::endl;
  SSL_CTX_free(ctx);
})",
          "tls.cc", {"-lssl", "-lcrypto"});
  std::string spec = SpecFrom("cc", R"(files:
  - src: prog
    dest: /usr/local/bin/tls
entrypoint: ["/usr/local/bin/tls"]
)");
  std::string out = Work() + "/image";
  Build(spec, "cc", out);
  auto image = Unpack(out);
  auto run = RunWithCrun(image.bundle);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, ::testing::MatchesRegex("OpenSSL 3\\.0\\.[0-9]+.* uid=65532 paths=1\n"));
  ExpectHardened(image);
  ExpectPackageDatabase(image, LockFor("cc"));
}

TEST_F(BuildE2ETest, Java17RunsAndTrustsTheSystemCertificates) {
  std::string out = Work() + "/image";
  Build(ExampleSpec("java17"), "java17", out);
  auto image = Unpack(out);
  auto version = RunWithCrun(image.bundle, {"/usr/bin/java", "-version"});
  EXPECT_EQ(version.exit_code, 0) << version.err;
  EXPECT_THAT(version.err, HasSubstr("openjdk version \"17."));
  auto keytool =
      RunWithCrun(image.bundle, {"keytool", "-list", "-cacerts", "-storepass", "changeit"});
  EXPECT_EQ(keytool.exit_code, 0) << keytool.out << keytool.err;
  size_t trusted = 0;
  for (size_t pos = 0; (pos = keytool.out.find("trustedCertEntry", pos)) != std::string::npos;
       ++pos) {
    ++trusted;
  }
  EXPECT_GE(trusted, 100u) << keytool.out;
  ExpectHardened(image);
  ExpectPackageDatabase(image, LockFor("java17"));
}

TEST_F(BuildE2ETest, Python3RunsWithSslAndSqlite) {
  std::string out = Work() + "/image";
  Build(ExampleSpec("python3"), "python3", out);
  auto image = Unpack(out);
  auto run = RunWithCrun(
      image.bundle, {"python3", "-c", "import ssl, sqlite3, json; print(ssl.OPENSSL_VERSION)"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, ::testing::StartsWith("OpenSSL 3.0."));
  ExpectHardened(image);
  ExpectPackageDatabase(image, LockFor("python3"));
}

TEST_F(BuildE2ETest, NodejsRunsWithHttpsAndZlib) {
  std::string out = Work() + "/image";
  Build(ExampleSpec("nodejs"), "nodejs", out);
  auto image = Unpack(out);
  auto run = RunWithCrun(image.bundle,
                         {"node", "-e", "require('https'); require('zlib'); console.log('ok')"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "ok\n");
  ExpectHardened(image);
  ExpectPackageDatabase(image, LockFor("nodejs"));
}

// The same lock gives the same digest whatever the cache, umask, time zone, directory or thread
// layout, and with the layer cache bypassed.
TEST_F(BuildE2ETest, SameLockSameDigestUnderDifferentConditions) {
  std::string spec = ExampleSpec("cc");
  std::string first = Build(spec, "cc", Work() + "/a");
  // A cold cache in another directory, another umask and time zone, run from elsewhere.
  std::string cold_cache = Work() + "/cold-cache";
  auto r = RunProcess({"sh", "-c",
                       "umask 077 && cd / && exec \"$0\" --cache-dir \"$1\" build \"$2\" --lock "
                       "\"$3\" -o \"$4\" --tag test",
                       HardbaseBinary(), cold_cache, spec, LockFor("cc"), Work() + "/b/c/image"},
                      {{"TZ", "Pacific/Chatham"}, {"LC_ALL", "C.UTF-8"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')), first);
  EXPECT_EQ(Build(spec, "cc", Work() + "/d", {"--no-layer-cache"}), first);
  // SOURCE_DATE_EPOCH changes the timestamps, hence the digest, and is itself reproducible.
  std::string dated = Build(spec, "cc", Work() + "/e", {}, {{"SOURCE_DATE_EPOCH", "1700000000"}});
  EXPECT_NE(dated, first);
  EXPECT_EQ(Build(spec, "cc", Work() + "/f", {}, {{"SOURCE_DATE_EPOCH", "1700000000"}}), dated);
}

std::map<std::string, std::string> LayersByPackage(const json& config, const json& manifest) {
  std::map<std::string, std::string> out;
  size_t i = 0;
  for (const auto& h : config["history"]) {
    std::string by = h["created_by"];
    if (by.starts_with("hardbase: ")) {
      std::string rest = by.substr(10);
      out[rest.substr(0, rest.find(' '))] = manifest["layers"][i]["digest"];
    }
    ++i;
  }
  return out;
}

TEST_F(BuildE2ETest, PackagesGiveTheSameLayersInEveryImage) {
  std::string cc = Work() + "/cc", py = Work() + "/py";
  Build(ExampleSpec("cc"), "cc", cc);
  Build(ExampleSpec("python3"), "python3", py);
  auto cc_manifest = Blob(cc, IndexEntry(cc)["digest"]);
  auto py_manifest = Blob(py, IndexEntry(py)["digest"]);
  auto cc_layers = LayersByPackage(Blob(cc, cc_manifest["config"]["digest"]), cc_manifest);
  auto py_layers = LayersByPackage(Blob(py, py_manifest["config"]["digest"]), py_manifest);
  ASSERT_TRUE(cc_layers.count("libc6"));
  EXPECT_EQ(cc_layers["libc6"], py_layers["libc6"]);
  EXPECT_EQ(cc_layers["libssl3"], py_layers["libssl3"]);
  EXPECT_EQ(cc_layers["merged-/usr"], py_layers["merged-/usr"]);
  EXPECT_TRUE(py_layers.count("python3.11-minimal"));
}

TEST_F(BuildE2ETest, MultiArchGivesOneIndexWithAManifestPerArch) {
  std::string spec = SpecFrom("cc", "archs: [amd64, arm64]\n");
  std::string lock = Work() + "/multi.lock.json";
  auto r =
      Hardbase({"build", spec, "--lock", lock, "-o", Work() + "/multi", "--tag", "test", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Every ELF file of each platform's image was checked against its machine, and every one of
  // them (glibc, libgcc, libstdc++, OpenSSL: hundreds) is code for it.
  auto result = json::parse(r.out);
  std::map<std::string, json> machines;
  for (const auto& a : result["archs"]) {
    EXPECT_GT(a["elfFiles"].get<size_t>(), 20u) << a.dump();
    machines[a["arch"]] = a["elfMachines"];
  }
  ASSERT_EQ(machines.size(), 2u);
  EXPECT_EQ(machines["amd64"].size(), 1u) << machines["amd64"].dump();
  EXPECT_TRUE(machines["amd64"].contains("x86-64 (64-bit LSB)")) << machines["amd64"].dump();
  EXPECT_EQ(machines["arm64"].size(), 1u) << machines["arm64"].dump();
  EXPECT_TRUE(machines["arm64"].contains("AArch64 (64-bit LSB)")) << machines["arm64"].dump();
  EXPECT_THAT(result["warnings"].dump(), Not(HasSubstr("ELF")));
  auto inspect = RunProcess({"skopeo", "inspect", "--raw", "oci:" + Work() + "/multi:test"});
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  auto index = json::parse(inspect.out);
  EXPECT_EQ(index["mediaType"], "application/vnd.oci.image.index.v1+json");
  ASSERT_EQ(index["manifests"].size(), 2u);
  std::map<std::string, std::map<std::string, std::string>> layers;
  for (const auto& m : index["manifests"]) {
    auto manifest = Blob(Work() + "/multi", m["digest"]);
    auto config = Blob(Work() + "/multi", manifest["config"]["digest"]);
    EXPECT_EQ(config["architecture"], m["platform"]["architecture"]);
    layers[m["platform"]["architecture"]] = LayersByPackage(config, manifest);
  }
  ASSERT_TRUE(layers.count("amd64") && layers.count("arm64"));
  EXPECT_NE(layers["amd64"]["libc6"], layers["arm64"]["libc6"]);
  EXPECT_EQ(layers["amd64"]["tzdata"], layers["arm64"]["tzdata"]) << "arch:all is shared";
  // The arm64 loader is a real aarch64 binary, merged under /usr.
  auto arm = RunProcess({"skopeo", "copy", "--override-arch", "arm64",
                         "oci:" + Work() + "/multi:test", "oci:" + Work() + "/arm:test"});
  EXPECT_EQ(arm.exit_code, 0) << arm.err;

  // Each platform has its own SBOM; signing covers the index and each platform manifest.
  auto arm_sbom = Hardbase({"sbom", "oci:" + Work() + "/multi:test", "--platform", "arm64"});
  ASSERT_EQ(arm_sbom.exit_code, 0) << arm_sbom.err;
  EXPECT_THAT(arm_sbom.out, HasSubstr("pkg:deb/debian/libc6@"));
  EXPECT_THAT(arm_sbom.out, HasSubstr("arch=arm64"));
  EXPECT_THAT(arm_sbom.out, Not(HasSubstr("arch=amd64")));
  std::map<std::string, std::string> password = {{"COSIGN_PASSWORD", ""}};
  ASSERT_EQ(Hardbase({"keygen", "--output-key-prefix", Work() + "/k"}, password).exit_code, 0);
  auto sign =
      Hardbase({"sign", "oci:" + Work() + "/multi:test", "--key", Work() + "/k.key"}, password);
  ASSERT_EQ(sign.exit_code, 0) << sign.err;
  auto verify =
      Hardbase({"verify", "oci:" + Work() + "/multi:test", "--key", Work() + "/k.pub", "--json"});
  ASSERT_EQ(verify.exit_code, 0) << verify.err;
  auto reports = json::parse(verify.out);
  ASSERT_EQ(reports.size(), 3u);
  EXPECT_EQ(reports[0]["digest"], IndexEntry(Work() + "/multi")["digest"]);
  for (const auto& report : reports) EXPECT_TRUE(report["signed"]) << report.dump();

  // The host's own binary copied in by `files:` is code for one of the two machines only: the
  // other platform's image is refused, naming the file, where it comes from and both machines.
  auto host_binary = ReadFile("/usr/bin/true");
  ASSERT_TRUE(host_binary.has_value());
  ASSERT_TRUE(WriteFileAtomic(Work() + "/tool", *host_binary).has_value());
  std::string hostile = SpecFrom(
      "cc", "archs: [amd64, arm64]\nfiles:\n  - src: tool\n    dest: /usr/local/bin/tool\n",
      "hostile.yaml");
  auto refused = Hardbase({"build", hostile, "--lock", lock, "-o", Work() + "/hostile"});
  EXPECT_EQ(refused.exit_code, 7) << refused.err;
  EXPECT_THAT(refused.err, HasSubstr("/usr/local/bin/tool of the files: entry at " + hostile));
  EXPECT_THAT(refused.err, HasSubstr("is ELF code for"));
  EXPECT_FALSE(PathExists(Work() + "/hostile"));
}

TEST_F(BuildE2ETest, ArchivesAreReadableBySkopeo) {
  std::string spec = ExampleSpec("static");
  for (std::string format : {"oci-archive", "docker-archive"}) {
    std::string out = Work() + "/image." + format + ".tar";
    Build(spec, "static", out, {"--format", format});
    // The tag names the image among the SBOM referrers in index.json (skopeo wants one then).
    std::string ref = format + ":" + out + (format == "oci-archive" ? ":test" : "");
    auto r = RunProcess({"skopeo", "inspect", ref});
    EXPECT_EQ(r.exit_code, 0) << format << ": " << r.err;
    EXPECT_THAT(r.out, HasSubstr("\"Architecture\": \"amd64\"")) << format;
    // The SBOMs travel in the archive too.
    auto sbom = Hardbase({"sbom", ref, "--format", "cyclonedx-json"});
    EXPECT_EQ(sbom.exit_code, 0) << format << ": " << sbom.err;
    EXPECT_THAT(sbom.out, HasSubstr("\"bomFormat\""));
  }
}

TEST_F(BuildE2ETest, DebugVariantAddsBusyboxAsItsShellAndNothingElse) {
  std::string spec = SpecFrom("static", "variant: debug\n");
  std::string lock = Work() + "/debug.lock.json";
  auto r = Hardbase({"build", spec, "--lock", lock, "-o", Work() + "/image", "--tag", "test"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto image = Unpack(Work() + "/image");
  auto run = RunWithCrun(image.bundle, {"/usr/bin/sh", "-c", "echo shell works; busybox id -u"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "shell works\n65532\n");
  std::set<std::string> packages;
  for (const auto& e : fs::directory_iterator(image.rootfs + "/var/lib/dpkg/status.d")) {
    if (!e.path().string().ends_with(".md5sums")) packages.insert(e.path().filename());
  }
  // busybox and what it depends on (Debian's is linked against libc), libc-bin for the C.UTF-8
  // locale, nothing else.
  EXPECT_EQ(packages,
            (std::set<std::string>{"base-files", "busybox", "ca-certificates", "gcc-12-base",
                                   "libc-bin", "libc6", "libgcc-s1", "netbase", "tzdata"}));
}

TEST_F(BuildE2ETest, PathsFilterPackageContents) {
  std::string spec = SpecFrom("static", R"(paths:
  exclude: ["/usr/share/zoneinfo/right/**"]
  include: ["/usr/share/doc/tzdata/changelog.Debian.gz"]
)");
  Build(spec, "static", Work() + "/image");
  auto image = Unpack(Work() + "/image");
  EXPECT_FALSE(fs::exists(image.rootfs + "/usr/share/zoneinfo/right"));
  EXPECT_TRUE(fs::exists(image.rootfs + "/usr/share/zoneinfo/Europe/Paris"));
  EXPECT_TRUE(fs::exists(image.rootfs + "/usr/share/doc/tzdata/changelog.Debian.gz"));
  auto md5sums = ReadFile(image.rootfs + "/var/lib/dpkg/status.d/tzdata.md5sums");
  EXPECT_THAT(*md5sums, Not(HasSubstr("zoneinfo/right/")));
  EXPECT_THAT(*md5sums, HasSubstr("usr/share/doc/tzdata/changelog.Debian.gz"));

  std::string unmatched =
      SpecFrom("static", "paths:\n  exclude: [\"/opt/nothing/**\"]\n", "unmatched.yaml");
  auto warn = Hardbase({"build", unmatched, "--lock", LockFor("static"), "-o", Work() + "/u"});
  EXPECT_EQ(warn.exit_code, 0) << warn.err;
  EXPECT_THAT(warn.err, HasSubstr("'/opt/nothing/**' matches no file"));
  auto strict =
      Hardbase({"build", unmatched, "--lock", LockFor("static"), "-o", Work() + "/s", "--strict"});
  EXPECT_EQ(strict.exit_code, kExitSpec);
  EXPECT_FALSE(fs::exists(Work() + "/s"));
}

TEST_F(BuildE2ETest, BadInputIsNamedAndLeavesTheOutputAlone) {
  std::string out = Work() + "/image";
  Build(ExampleSpec("static"), "static", out);
  std::string before = ReadFile(out + "/index.json").value_or("");
  auto build = [&](const std::string& spec, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"build", spec, "--lock", LockFor("static"), "-o", out};
    args.insert(args.end(), extra.begin(), extra.end());
    return Hardbase(args);
  };

  auto missing = build(SpecFrom("static", "files:\n  - {src: nothere, dest: /x}\n", "m.yaml"));
  EXPECT_EQ(missing.exit_code, kExitSpec);
  EXPECT_THAT(missing.err, HasSubstr("nothere does not exist"));

  auto entry = build(SpecFrom("static", "entrypoint: [/usr/bin/java]\n", "e.yaml"));
  EXPECT_EQ(entry.exit_code, kExitSpec);
  EXPECT_THAT(entry.err, HasSubstr("entrypoint /usr/bin/java is not in the image"));

  auto user =
      build(SpecFrom("static", "accounts:\n  users:\n    - {name: nobody, uid: 1000}\n", "u.yaml"));
  EXPECT_EQ(user.exit_code, kExitSpec);
  EXPECT_THAT(user.err, HasSubstr("nobody"));

  auto locked = Hardbase({"build", SpecFrom("static", "", "l.yaml"), "--locked", "-o", out});
  EXPECT_EQ(locked.exit_code, kExitStale);
  EXPECT_THAT(locked.err, HasSubstr("does not exist"));

  auto stale = Hardbase({"build",
                         SpecFrom("static",
                                  "exclude: [debconf, openssl, mawk, tzdata]\n"
                                  "packages: [base-files]\n",
                                  "s.yaml"),
                         "--locked", "--lock", LockFor("static"), "-o", out});
  EXPECT_NE(stale.exit_code, 0);

  EXPECT_EQ(ReadFile(out + "/index.json").value_or(""), before)
      << "failed builds leave the output as it was";
}

TEST_F(BuildE2ETest, AKilledBuildLeavesTheOutputAndTheCacheUsable) {
  std::string out = Work() + "/image";
  std::string spec = ExampleSpec("java17");
  std::string digest = Build(ExampleSpec("static"), "static", out);
  std::string before = ReadFile(out + "/index.json").value_or("");
  // Kill a cold-layer build of the JRE part-way through.
  auto killed =
      RunProcess({"timeout", "-s", "KILL", "1.5", HardbaseBinary(), "--cache-dir", Cache(), "build",
                  spec, "--lock", LockFor("java17"), "-o", out, "--no-layer-cache"});
  EXPECT_EQ(killed.exit_code, 128 + SIGKILL) << killed.err;
  EXPECT_EQ(ReadFile(out + "/index.json").value_or(""), before);
  // The next build completes from the same cache.
  std::string java = Build(spec, "java17", out);
  EXPECT_NE(java, digest);
}

TEST_F(BuildE2ETest, AFullDiskFailsCleanly) {
  std::string dir = Work() + "/small";
  ASSERT_TRUE(MakeDirs(dir).has_value());
  std::string script =
      "mount -t tmpfs -o size=1m tmpfs \"$1\" && mkdir \"$1/image\""
      " && echo '{\"imageLayoutVersion\":\"1.0.0\"}' > \"$1/image/oci-layout\""
      " && echo '{\"schemaVersion\":2,\"manifests\":[]}' > \"$1/image/index.json\""
      " && \"$2\" --cache-dir \"$3\" build \"$4\" --lock \"$5\" -o \"$1/image\"; rc=$?;"
      " cat \"$1/image/index.json\"; exit $rc";
  auto r = RunProcess({"unshare", "-m", "sh", "-c", script, "sh", dir, HardbaseBinary(), Cache(),
                       ExampleSpec("cc"), LockFor("cc")});
  EXPECT_EQ(r.exit_code, kExitIo) << r.err;
  EXPECT_EQ(r.out, "{\"schemaVersion\":2,\"manifests\":[]}\n") << "the old output survives";
  EXPECT_THAT(r.err, HasSubstr("No space left on device"));
}

}  // namespace
}  // namespace hardbase::testing
