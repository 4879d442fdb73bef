// End-to-end tests of `hardbase push`, `pull`, `copy`, `pin`, `inspect`, `login` and of `sign` /
// `verify` / `sbom` on registry references, against Debian's real docker-registry (no auth,
// htpasswd, token auth; started per test on a loopback port) and skopeo as the independent
// client in both directions. What a registry holds is read back with skopeo or the fixture's own
// libcurl requests, never only with hardbase.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "base/fs.h"
#include "base/sha256.h"
#include "support/examples.h"
#include "support/exit_codes.h"
#include "support/process.h"
#include "support/registry_fixture.h"

namespace hardbase::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::string_view kSpdx = "application/spdx+json";
constexpr std::string_view kBundle = "application/vnd.dev.sigstore.bundle.v0.3+json";
const std::map<std::string, std::string> kPassword = {{"COSIGN_PASSWORD", "pw"}};

class RegistryE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (FindInPath("docker-registry").empty() || FindInPath("skopeo").empty()) {
      GTEST_SKIP() << "docker-registry and skopeo are needed (scripts/install-deps.sh --test)";
    }
    auto dir = TempDir::Create("hardbase-registry-e2e-");
    ASSERT_TRUE(dir.has_value());
    work_.emplace(std::move(*dir));
    ASSERT_TRUE(MakeDirs(ExamplesSuiteDir()).has_value());
  }

  std::string Work() const { return work_->path(); }

  static ProcessResult Hardbase(std::vector<std::string> args,
                                const std::map<std::string, std::string>& env = {}) {
    return HardbaseWithCache(std::move(args), env);
  }

  // The static example (smallest), with `extra` spec lines, built from its suite lock.
  std::string Build(const std::string& name, const std::string& extra,
                    std::vector<std::string> flags = {}) {
    auto text = ReadFile(ExampleSpec("static"));
    EXPECT_TRUE(text.has_value());
    std::string spec = Work() + "/" + name + ".yaml";
    EXPECT_TRUE(WriteFileAtomic(spec, *text + "\n" + extra).has_value());
    std::string out = Work() + "/" + name;
    std::vector<std::string> args = {"build", spec, "--lock", ExampleLock("static"),
                                     "-o",    out,  "--tag",  "test"};
    args.insert(args.end(), flags.begin(), flags.end());
    auto r = Hardbase(args, kPassword);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return out;
  }
  // A signed image: key pair in Work()/cosign.{key,pub}.
  std::string BuildSigned(const std::string& name, const std::string& extra = "") {
    if (!PathExists(Work() + "/cosign.key")) {
      auto k = Hardbase({"keygen", "--output-key-prefix", Work() + "/cosign"}, kPassword);
      EXPECT_EQ(k.exit_code, 0) << k.err;
    }
    return Build(name, extra, {"--sign-key", Work() + "/cosign.key"});
  }
  std::string Pub() const { return Work() + "/cosign.pub"; }

  static std::string Digest(const ProcessResult& r) {
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out.substr(0, r.out.find('\n'));
  }
  // skopeo's view of a registry image: the digest of its manifest bytes.
  static std::string SkopeoDigest(const std::string& ref,
                                  const std::vector<std::string>& flags = {}) {
    std::vector<std::string> args = {"skopeo", "inspect", "--raw", "--tls-verify=false"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.push_back(ref);
    auto r = RunProcess(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return "sha256:" + Sha256Hex(r.out);
  }
  static json IndexOf(const std::string& layout) {
    return json::parse(ReadFile(layout + "/index.json").value_or("{}"));
  }

  std::optional<TempDir> work_;
};

// The whole image with everything that belongs to it: a signed two-platform index goes up with
// its SBOM referrers, bundles and cosign tags, skopeo reads the same digests, and it verifies on
// the registry and again after a pull.
TEST_F(RegistryE2ETest, PushCarriesTheWholeSignedImageAndSkopeoAgrees) {
  auto server = RegistryServer::Start();
  ASSERT_TRUE(server) << server.error().message;
  std::string layout = BuildSigned("multi", "archs: [amd64, arm64]\n");
  std::string ref = (*server)->host() + "/team/static:1";
  std::string digest = Digest(Hardbase({"push", "oci:" + layout + ":test", ref, "--plain-http"}));
  ASSERT_EQ(digest.size(), 71u);

  // skopeo: same index digest, and each platform's manifest is there by digest.
  EXPECT_EQ(SkopeoDigest("docker://" + ref), digest);
  auto index = (*server)->GetManifest("team/static", "1");
  ASSERT_TRUE(index) << index.error().message;
  EXPECT_EQ(index->media_type, "application/vnd.oci.image.index.v1+json");
  EXPECT_EQ(index->body, ReadFile(layout + "/blobs/sha256/" + digest.substr(7)).value_or(""));
  std::vector<std::string> platforms;
  json index_json = json::parse(index->body);  // named: a temporary's member would dangle
  for (const auto& m : index_json["manifests"]) platforms.push_back(m["digest"]);
  ASSERT_EQ(platforms.size(), 2u);
  for (const auto& p : platforms) {
    EXPECT_EQ(SkopeoDigest("docker://" + (*server)->host() + "/team/static@" + p), p);
  }

  // Artifacts: the .sig tag of the index and of each platform, and a fallback referrers index
  // per platform naming its SPDX SBOM and its bundle, with their artifactType.
  auto tags = (*server)->ListTags("team/static");
  ASSERT_TRUE(tags);
  std::set<std::string> tag_set(tags->begin(), tags->end());
  for (const auto& d : std::vector<std::string>{digest, platforms[0], platforms[1]}) {
    EXPECT_TRUE(tag_set.count("sha256-" + d.substr(7) + ".sig")) << d;
  }
  for (const auto& p : platforms) {
    ASSERT_TRUE(tag_set.count("sha256-" + p.substr(7))) << "no referrers tag for " << p;
    auto referrers = (*server)->GetManifest("team/static", "sha256-" + p.substr(7));
    ASSERT_TRUE(referrers);
    std::set<std::string> types;
    json listed = json::parse(referrers->body);
    for (const auto& r : listed["manifests"]) {
      types.insert(r.value("artifactType", ""));
      // Each referrer is there by digest, its subject the platform manifest.
      auto m = (*server)->GetManifest("team/static", r["digest"]);
      ASSERT_TRUE(m) << r.dump();
      EXPECT_EQ(json::parse(m->body)["subject"]["digest"], p);
    }
    EXPECT_TRUE(types.count(std::string(kSpdx))) << referrers->body;
  }
  auto root_referrers = (*server)->GetManifest("team/static", "sha256-" + digest.substr(7));
  ASSERT_TRUE(root_referrers);
  EXPECT_THAT(root_referrers->body, HasSubstr(std::string(kBundle)));

  // Verify on the registry, by tag and by digest; the SBOM comes from the registry too.
  std::string pinned = Digest(Hardbase({"pin", ref, "--plain-http"}));
  EXPECT_EQ(pinned, (*server)->host() + "/team/static@" + digest);
  auto verify = Hardbase({"verify", ref, "--key", Pub(), "--attestations", "--plain-http"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_EQ(Hardbase({"verify", pinned, "--key", Pub(), "--plain-http"}).exit_code, 0);
  auto sbom = Hardbase({"sbom", ref, "--platform", "arm64", "--plain-http"});
  ASSERT_EQ(sbom.exit_code, 0) << sbom.err;
  EXPECT_THAT(sbom.out, HasSubstr("arch=arm64"));
  auto inspect = Hardbase({"inspect", ref, "--json", "--plain-http"});
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  EXPECT_EQ(json::parse(inspect.out)["platforms"].size(), 2u);
  auto raw = Hardbase({"inspect", ref, "--raw", "--plain-http"});
  EXPECT_EQ(raw.out, index->body);

  // Pull into a new layout: same digest, signatures and SBOMs along, verifiable offline.
  std::string pulled = Work() + "/pulled";
  EXPECT_EQ(Digest(Hardbase({"pull", ref, "oci:" + pulled + ":v1", "--plain-http"})), digest);
  EXPECT_EQ(
      Hardbase({"verify", "oci:" + pulled + ":v1", "--key", Pub(), "--attestations"}).exit_code, 0);
  auto skopeo_pulled = RunProcess({"skopeo", "inspect", "--raw", "oci:" + pulled + ":v1"});
  EXPECT_EQ("sha256:" + Sha256Hex(skopeo_pulled.out), digest);

  // A second push finds everything there and sends no blob.
  auto again = Hardbase({"push", "oci:" + layout + ":test", ref, "--plain-http"});
  EXPECT_EQ(Digest(again), digest);
  EXPECT_THAT(again.err, HasSubstr("0 bytes sent"));

  // Copy to another repository of the same registry: blobs are mounted, not uploaded.
  auto copy = Hardbase({"copy", ref, (*server)->host() + "/mirror/static:1", "--plain-http"});
  EXPECT_EQ(Digest(copy), digest);
  EXPECT_THAT(copy.err, Not(HasSubstr(" 0 mounted")));
  EXPECT_EQ(
      Hardbase({"verify", (*server)->host() + "/mirror/static:1", "--key", Pub(), "--plain-http"})
          .exit_code,
      0);
}

// skopeo pushes an image; hardbase pulls it (same digest), reads its SBOM from the dpkg
// database, finds it unsigned, signs it in the registry and verifies it there.
TEST_F(RegistryE2ETest, ImagesPushedBySkopeoPullSignAndVerify) {
  auto server = RegistryServer::Start();
  ASSERT_TRUE(server) << server.error().message;
  std::string layout = Build("plain", "");
  std::string ref = (*server)->host() + "/by-skopeo:1";
  auto pushed = RunProcess(
      {"skopeo", "copy", "--dest-tls-verify=false", "oci:" + layout + ":test", "docker://" + ref});
  ASSERT_EQ(pushed.exit_code, 0) << pushed.err;
  std::string digest = SkopeoDigest("docker://" + ref);

  std::string pulled = Work() + "/pulled.tar";
  EXPECT_EQ(Digest(Hardbase({"pull", ref, "oci-archive:" + pulled, "--tls-verify=false"})), digest);
  auto sbom = Hardbase({"sbom", "oci-archive:" + pulled});
  ASSERT_EQ(sbom.exit_code, 0) << sbom.err;
  EXPECT_THAT(sbom.out, HasSubstr("\"name\": \"tzdata\""));

  ASSERT_EQ(Hardbase({"keygen", "--output-key-prefix", Work() + "/k"}, kPassword).exit_code, 0);
  auto unsigned_image = Hardbase({"verify", ref, "--key", Work() + "/k.pub", "--tls-verify=false"});
  EXPECT_EQ(unsigned_image.exit_code, kExitVerification) << unsigned_image.err;
  auto sign = Hardbase({"sign", ref, "--key", Work() + "/k.key", "--tls-verify=false"}, kPassword);
  ASSERT_EQ(sign.exit_code, 0) << sign.err;
  std::string vex = Work() + "/vex.json";
  ASSERT_TRUE(
      WriteFileAtomic(vex, R"({"@context":"https://openvex.dev/ns/v0.2.0","statements":[]})"));
  auto attest = Hardbase({"attest", ref, "--key", Work() + "/k.key", "--type", "openvex",
                          "--predicate", vex, "--tls-verify=false"},
                         kPassword);
  ASSERT_EQ(attest.exit_code, 0) << attest.err;
  auto verify =
      Hardbase({"verify", ref, "--key", Work() + "/k.pub", "--attestations", "--tls-verify=false"});
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_THAT(verify.out, HasSubstr("https://openvex.dev/ns/v0.2.0"));
  // The signature claims the registry repository it was made for.
  EXPECT_THAT(verify.out, HasSubstr("for " + (*server)->host() + "/by-skopeo"));
  // skopeo still reads the image, unchanged.
  EXPECT_EQ(SkopeoDigest("docker://" + ref), digest);
}

// Signatures stay with digests: after the tag moves to another image, the old digest still
// verifies and the new one does not.
TEST_F(RegistryE2ETest, MovingATagKeepsSignaturesWithTheirDigest) {
  auto server = RegistryServer::Start();
  ASSERT_TRUE(server) << server.error().message;
  std::string signed_layout = BuildSigned("signed");
  std::string other = Build("other", "labels:\n  variant: other\n");
  std::string ref = (*server)->host() + "/app:stable";
  std::string old_digest =
      Digest(Hardbase({"push", "oci:" + signed_layout + ":test", ref, "--plain-http"}));
  ASSERT_EQ(Hardbase({"verify", ref, "--key", Pub(), "--plain-http"}).exit_code, 0);

  std::string new_digest =
      Digest(Hardbase({"push", "oci:" + other + ":test", ref, "--plain-http"}));
  ASSERT_NE(new_digest, old_digest);
  EXPECT_EQ(SkopeoDigest("docker://" + ref), new_digest);
  auto moved = Hardbase({"verify", ref, "--key", Pub(), "--plain-http"});
  EXPECT_EQ(moved.exit_code, kExitVerification);
  EXPECT_THAT(moved.err, HasSubstr(new_digest));
  auto old = Hardbase(
      {"verify", (*server)->host() + "/app@" + old_digest, "--key", Pub(), "--plain-http"});
  EXPECT_EQ(old.exit_code, 0) << old.err;
}

TEST_F(RegistryE2ETest, LoginStoresCredentialsThatPushUses) {
  RegistryOptions config;
  config.auth = RegistryOptions::Auth::kHtpasswd;
  config.user = "ci";
  config.password = "p4ss-w0rd";
  auto server = RegistryServer::Start(config);
  ASSERT_TRUE(server) << server.error().message;
  std::string layout = Build("plain", "");
  std::string ref = (*server)->host() + "/app:1";
  std::string auth_file = Work() + "/auth/config.json";
  std::map<std::string, std::string> env = {{"REGISTRY_AUTH_FILE", auth_file},
                                            {"DOCKER_CONFIG", Work() + "/no-docker"}};

  auto anonymous = Hardbase({"push", "oci:" + layout + ":test", ref, "--plain-http"}, env);
  EXPECT_EQ(anonymous.exit_code, kExitAuth);
  EXPECT_THAT(anonymous.err, HasSubstr("hardbase login"));

  auto wrong = RunProcess({HardbaseBinary(), "login", (*server)->host(), "-u", "ci",
                           "--password-stdin", "--plain-http"},
                          env, "not-it\n");
  EXPECT_EQ(wrong.exit_code, kExitAuth) << wrong.err;
  EXPECT_FALSE(PathExists(auth_file));

  auto login = RunProcess({HardbaseBinary(), "login", (*server)->host(), "-u", "ci",
                           "--password-stdin", "--plain-http"},
                          env, "p4ss-w0rd\n");
  ASSERT_EQ(login.exit_code, 0) << login.err;
  EXPECT_THAT(login.out + login.err, Not(HasSubstr("p4ss-w0rd")));
  struct stat st {};
  ASSERT_EQ(::stat(auth_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto stored = json::parse(ReadFile(auth_file).value_or("{}"));
  EXPECT_EQ(stored["auths"][(*server)->host()]["auth"], "Y2k6cDRzcy13MHJk");  // ci:p4ss-w0rd

  std::string digest =
      Digest(Hardbase({"push", "oci:" + layout + ":test", ref, "--plain-http"}, env));
  EXPECT_EQ(SkopeoDigest("docker://" + ref, {"--creds", "ci:p4ss-w0rd"}), digest);
  // --creds works without any file; a wrong one is refused without echoing it.
  auto creds = Hardbase({"pin", ref, "--plain-http", "--creds", "ci:p4ss-w0rd"});
  EXPECT_EQ(creds.exit_code, 0) << creds.err;
  auto bad = Hardbase({"pin", ref, "--plain-http", "--creds", "ci:guess"});
  EXPECT_EQ(bad.exit_code, kExitAuth);
  EXPECT_THAT(bad.err, Not(HasSubstr("guess")));

  auto logout = Hardbase({"logout", (*server)->host()}, env);
  EXPECT_EQ(logout.exit_code, 0) << logout.err;
  EXPECT_EQ(Hardbase({"pin", ref, "--plain-http"}, env).exit_code, kExitAuth);
}

TEST_F(RegistryE2ETest, TokenAuthRegistry) {
  TokenIssuer issuer;
  ASSERT_TRUE(issuer.Start());
  RegistryOptions config;
  config.auth = RegistryOptions::Auth::kToken;
  config.token_issuer = &issuer;
  auto server = RegistryServer::Start(config);
  ASSERT_TRUE(server) << server.error().message;
  std::string layout = BuildSigned("signed");
  std::string ref = (*server)->host() + "/team/app:1";
  std::string creds = (*server)->creds();
  std::string digest =
      Digest(Hardbase({"push", "oci:" + layout + ":test", ref, "--plain-http", "--creds", creds}));
  EXPECT_EQ(SkopeoDigest("docker://" + ref, {"--creds", creds}), digest);
  auto verify = Hardbase({"verify", ref, "--key", Pub(), "--plain-http", "--creds", creds});
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_THAT(issuer.Scopes(), ::testing::Contains("repository:team/app:pull,push"));
  auto refused = Hardbase({"pin", ref, "--plain-http", "--creds", "user:wrong"});
  EXPECT_EQ(refused.exit_code, kExitAuth) << refused.err;
}

// Faults in the middle of a push: 5xx and 429 answers and a connection dropped in a chunked
// upload. The push completes and the registry holds exactly the image.
TEST_F(RegistryE2ETest, PushSurvivesFaults) {
  auto server = RegistryServer::Start();
  ASSERT_TRUE(server) << server.error().message;
  FaultProxy proxy((*server)->base_url());
  ASSERT_TRUE(proxy.Start());
  std::string layout = BuildSigned("signed");
  proxy.FailOnce("GET", "/v2/", 503);
  proxy.FailOnce("HEAD", "/blobs/", 429, {{"Retry-After", "0"}});
  proxy.DropOnce("PATCH", "/blobs/uploads/", 20000);  // mid-chunk: part of it reaches the registry
  proxy.FailOnce("PUT", "/blobs/uploads/", 500);
  proxy.FailOnce("PUT", "/manifests/", 502);
  std::string ref = proxy.host() + "/app:1";
  auto push =
      Hardbase({"push", "oci:" + layout + ":test", ref, "--plain-http", "--chunk-size", "65536"});
  std::string digest = Digest(push);
  EXPECT_EQ(proxy.PendingFaults(), 0);

  // Straight from the registry (not through the proxy): skopeo copies it out whole and the layout
  // it writes holds the same manifest and every blob intact.
  std::string copy = Work() + "/copy";
  auto out = RunProcess({"skopeo", "copy", "--src-tls-verify=false",
                         "docker://" + (*server)->host() + "/app:1", "oci:" + copy + ":x"});
  ASSERT_EQ(out.exit_code, 0) << out.err;
  EXPECT_EQ(SkopeoDigest("oci:" + copy + ":x"), digest);
  auto check = RunProcess(
      {"sh", "-c",
       "cd " + copy +
           "/blobs/sha256 && for f in *; do echo \"$f  $f\"; done | sha256sum -c --quiet"});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_EQ(
      Hardbase({"verify", (*server)->host() + "/app:1", "--key", Pub(), "--plain-http"}).exit_code,
      0);
}

TEST_F(RegistryE2ETest, BadInputIsNamed) {
  std::string layout = Build("plain", "");
  // Nothing listens on the port: a network error naming the registry, after a few retries.
  auto closed = Hardbase({"push", "oci:" + layout + ":test", "127.0.0.1:1/app:1", "--plain-http"});
  EXPECT_EQ(closed.exit_code, kExitNetwork);
  EXPECT_THAT(closed.err, HasSubstr("127.0.0.1:1"));
  auto missing = Hardbase({"push", "oci:" + Work() + "/none:test", "127.0.0.1:1/app:1"});
  EXPECT_EQ(missing.exit_code, kExitNotFound) << missing.err;
  auto not_registry = Hardbase({"push", "oci:" + layout + ":test", "oci:" + Work() + "/x"});
  EXPECT_EQ(not_registry.exit_code, kExitUsage);
  auto bad_ref = Hardbase({"pull", "app:1", "oci:" + Work() + "/y"});
  EXPECT_EQ(bad_ref.exit_code, kExitUsage);

  auto server = RegistryServer::Start();
  ASSERT_TRUE(server) << server.error().message;
  auto unknown =
      Hardbase({"pull", (*server)->host() + "/nothing:1", "oci:" + Work() + "/z", "--plain-http"});
  EXPECT_EQ(unknown.exit_code, kExitNotFound);
  EXPECT_THAT(unknown.err, HasSubstr("nothing"));
  EXPECT_FALSE(PathExists(Work() + "/z"));
  // A pinned destination must be the image's digest.
  auto wrong_pin =
      Hardbase({"push", "oci:" + layout + ":test",
                (*server)->host() + "/app@sha256:" + std::string(64, '0'), "--plain-http"});
  EXPECT_EQ(wrong_pin.exit_code, kExitUsage);
  // TLS is verified by default: a plain-http registry is not silently spoken to.
  auto tls = Hardbase({"pin", (*server)->host() + "/app:1"});
  EXPECT_EQ(tls.exit_code, kExitNetwork);
}

}  // namespace
}  // namespace hardbase::testing
