// Tests of the registry fixtures in tests/support/registry_fixture.h, without hardbase: skopeo (an
// independent registry client) pushes a small umoci-made image to Debian's docker-registry in
// every configuration the fixtures offer and reads it back, which proves that the registries
// really run as configured, that the token issuer's JWTs are accepted by the real registry, and
// that the fault proxy forwards faithfully and injects its faults once.
#include "support/registry_fixture.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "base/sha256.h"
#include "support/process.h"

namespace hardbase::testing {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// skopeo with a private, empty auth file, so credentials of the machine never leak in.
ProcessResult Skopeo(std::vector<std::string> args) {
  args.insert(args.begin(), "skopeo");
  return RunProcess(args, {{"REGISTRY_AUTH_FILE", "/nonexistent/hardbase-test-auth.json"}});
}

// Digest of the manifest that `skopeo inspect` reports for `ref`, or the error output.
std::string InspectDigest(const std::string& ref, const std::vector<std::string>& flags = {}) {
  std::vector<std::string> args = {"inspect"};
  args.insert(args.end(), flags.begin(), flags.end());
  args.push_back(ref);
  ProcessResult r = Skopeo(args);
  if (r.exit_code != 0) return "skopeo inspect failed: " + r.err;
  auto json = nlohmann::json::parse(r.out, nullptr, false);
  if (!json.is_object() || !json.contains("Digest")) return "no Digest in: " + r.out;
  return json["Digest"].get<std::string>();
}

class RegistryFixtureTest : public ::testing::Test {
 protected:
  // One image for the suite: an OCI layout made by umoci with one layer holding /hello.txt,
  // tagged "t".
  static void SetUpTestSuite() {
    // umoci is not a reason to skip: without it the set-up fails loudly.
    for (const char* tool : {"docker-registry", "skopeo"}) {
      if (FindInPath(tool).empty()) {
        missing_ = std::string(tool) + " is not installed";
        return;
      }
    }
    auto dir = TempDir::Create("hardbase-registry-fixture-");
    ASSERT_TRUE(dir.has_value()) << dir.error().message;
    work_ = new TempDir(std::move(*dir));
    const std::string w = work_->path();
    layout_ = w + "/layout";
    ASSERT_TRUE(MakeDirs(w + "/content").has_value());
    ASSERT_TRUE(WriteFileAtomic(w + "/content/hello.txt", "hello from the fixture test\n"));
    const std::vector<std::vector<std::string>> steps = {
        {"umoci", "init", "--layout", layout_},
        {"umoci", "new", "--image", layout_ + ":t"},
        {"umoci", "insert", "--image", layout_ + ":t", w + "/content/hello.txt", "/hello.txt"},
    };
    for (const auto& step : steps) {
      ProcessResult r = RunProcess(step);
      ASSERT_EQ(r.exit_code, 0) << step[0] << " " << step[1] << ": " << r.err;
    }
    digest_ = InspectDigest("oci:" + layout_ + ":t");
    ASSERT_THAT(digest_, StartsWith("sha256:"));
  }
  static void TearDownTestSuite() {
    delete work_;
    work_ = nullptr;
  }

  void SetUp() override {
    if (!missing_.empty()) GTEST_SKIP() << missing_;
    ASSERT_THAT(digest_, StartsWith("sha256:")) << "suite set-up failed";
  }

  // Starts a registry, failing the test with the reason when it cannot.
  static std::unique_ptr<RegistryServer> StartRegistry(RegistryOptions options) {
    auto registry = RegistryServer::Start(std::move(options));
    EXPECT_TRUE(registry.has_value()) << registry.error().message;
    return registry ? std::move(*registry) : nullptr;
  }

  // skopeo copy of the suite's image to docker://HOST/REPO:t with the given extra flags.
  static ProcessResult Push(const std::string& host, const std::string& repo,
                            std::vector<std::string> flags) {
    std::vector<std::string> args = {"copy", "--retry-times", "0", "--preserve-digests",
                                     "--dest-tls-verify=false"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.push_back("oci:" + layout_ + ":t");
    args.push_back("docker://" + host + "/" + repo + ":t");
    return Skopeo(args);
  }

  // What the registry holds for REPO:t must be the suite's image, read with libcurl and skopeo.
  static void ExpectImage(const RegistryServer& registry, const std::string& repo,
                          const std::vector<std::string>& inspect_flags) {
    auto tags = registry.ListTags(repo);
    ASSERT_TRUE(tags.has_value()) << tags.error().message;
    EXPECT_THAT(*tags, ElementsAre("t"));
    auto manifest = registry.GetManifest(repo, "t");
    ASSERT_TRUE(manifest.has_value()) << manifest.error().message;
    EXPECT_EQ(manifest->digest, digest_);
    EXPECT_EQ("sha256:" + Sha256Hex(manifest->body), digest_);
    EXPECT_EQ(manifest->media_type, "application/vnd.oci.image.manifest.v1+json");
    auto json = nlohmann::json::parse(manifest->body);
    const std::string config_digest = json["config"]["digest"];
    auto config = registry.GetBlob(repo, config_digest);
    ASSERT_TRUE(config.has_value()) << config.error().message;
    EXPECT_EQ("sha256:" + Sha256Hex(*config), config_digest);
    std::vector<std::string> flags = {"--tls-verify=false"};
    flags.insert(flags.end(), inspect_flags.begin(), inspect_flags.end());
    EXPECT_EQ(InspectDigest("docker://" + registry.host() + "/" + repo + ":t", flags), digest_);
  }

  static std::string missing_;
  static TempDir* work_;
  static std::string layout_;
  static std::string digest_;
};

std::string RegistryFixtureTest::missing_;
TempDir* RegistryFixtureTest::work_ = nullptr;
std::string RegistryFixtureTest::layout_;
std::string RegistryFixtureTest::digest_;

TEST_F(RegistryFixtureTest, NoAuthRegistryTakesAPushAndServesItBack) {
  auto registry = StartRegistry({});
  ASSERT_TRUE(registry);
  EXPECT_THAT(registry->base_url(), StartsWith("http://127.0.0.1:"));
  EXPECT_EQ(registry->creds(), "");
  auto v2 = CurlRequest(registry->base_url() + "/v2/");
  ASSERT_TRUE(v2.has_value()) << v2.error().message;
  EXPECT_EQ(v2->status, 200);
  EXPECT_FALSE(registry->ListTags("fixture/plain").has_value());

  ProcessResult push = Push(registry->host(), "fixture/plain", {});
  ASSERT_EQ(push.exit_code, 0) << push.err << "\nregistry log:\n" << registry->log();
  ExpectImage(*registry, "fixture/plain", {});
  EXPECT_TRUE(
      PathExists(registry->storage_dir() + "/docker/registry/v2/repositories/fixture/plain"));

  const std::string dir = registry->dir();
  registry.reset();
  EXPECT_FALSE(PathExists(dir));
}

TEST_F(RegistryFixtureTest, HtpasswdRegistryWantsTheRightPassword) {
  auto registry = StartRegistry(
      {.auth = RegistryOptions::Auth::kHtpasswd, .user = "alice", .password = "s3cret"});
  ASSERT_TRUE(registry);
  EXPECT_EQ(registry->creds(), "alice:s3cret");
  auto v2 = CurlRequest(registry->base_url() + "/v2/");
  ASSERT_TRUE(v2.has_value()) << v2.error().message;
  EXPECT_EQ(v2->status, 401);
  EXPECT_THAT(v2->Header("WWW-Authenticate").value_or(""), StartsWith("Basic "));

  ProcessResult anonymous = Push(registry->host(), "fixture/basic", {});
  EXPECT_NE(anonymous.exit_code, 0);
  ProcessResult wrong = Push(registry->host(), "fixture/basic", {"--dest-creds", "alice:wrong"});
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_THAT(wrong.err, HasSubstr("unauthorized"));
  EXPECT_FALSE(registry->ListTags("fixture/basic").has_value());

  ProcessResult push = Push(registry->host(), "fixture/basic", {"--dest-creds", registry->creds()});
  ASSERT_EQ(push.exit_code, 0) << push.err << "\nregistry log:\n" << registry->log();
  ExpectImage(*registry, "fixture/basic", {"--creds", registry->creds()});
}

TEST_F(RegistryFixtureTest, TokenRegistryAcceptsTheIssuersTokens) {
  TokenIssuer issuer({.user = "bob", .password = "hunter2"});
  ASSERT_TRUE(issuer.Start().has_value());
  auto registry = StartRegistry({.auth = RegistryOptions::Auth::kToken, .token_issuer = &issuer});
  ASSERT_TRUE(registry);
  EXPECT_EQ(registry->creds(), "bob:hunter2");

  auto v2 = CurlRequest(registry->base_url() + "/v2/");
  ASSERT_TRUE(v2.has_value()) << v2.error().message;
  EXPECT_EQ(v2->status, 401);
  EXPECT_EQ(v2->Header("WWW-Authenticate").value_or(""),
            "Bearer realm=\"" + issuer.realm() + "\",service=\"test-registry\"");

  // The issuer refuses anonymous and wrong credentials itself.
  auto anonymous = CurlRequest(issuer.realm() + "?service=test-registry&scope=repository:x:pull");
  ASSERT_TRUE(anonymous.has_value());
  EXPECT_EQ(anonymous->status, 401);
  ProcessResult wrong = Push(registry->host(), "fixture/token", {"--dest-creds", "bob:wrong"});
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_EQ(issuer.TokensIssued(), 0);

  ProcessResult push = Push(registry->host(), "fixture/token", {"--dest-creds", registry->creds()});
  ASSERT_EQ(push.exit_code, 0) << push.err << "\nregistry log:\n" << registry->log();
  EXPECT_GE(issuer.TokensIssued(), 1);
  EXPECT_THAT(issuer.Scopes(), Contains(HasSubstr("repository:fixture/token:")));
  bool asked_push = false;
  for (const TokenRequest& r : issuer.Requests()) {
    if (r.status != 200) continue;
    EXPECT_EQ(r.account, "bob");
    EXPECT_EQ(r.service, "test-registry");
    for (const std::string& s : r.scopes) asked_push |= s.find("push") != std::string::npos;
  }
  EXPECT_TRUE(asked_push);
  ExpectImage(*registry, "fixture/token", {"--creds", registry->creds()});

  // The registry checks what the token grants and its signature.
  auto granted = issuer.MakeToken("bob", {"repository:fixture/token:pull"});
  ASSERT_TRUE(granted.has_value()) << granted.error().message;
  auto with_token = [&](const std::string& token, const std::string& repo) {
    CurlOptions options;
    options.headers = {{"Authorization", "Bearer " + token}};
    auto reply = CurlRequest(registry->base_url() + "/v2/" + repo + "/tags/list", options);
    return reply ? reply->status : -1;
  };
  EXPECT_EQ(with_token(*granted, "fixture/token"), 200);
  EXPECT_EQ(with_token(*granted, "fixture/other"), 401);
  std::string tampered = *granted;
  tampered[tampered.size() - 5] = tampered[tampered.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(with_token(tampered, "fixture/token"), 401);
}

TEST_F(RegistryFixtureTest, TokenIssuerGrantsOnlyPullToAnonymousUsers) {
  TokenIssuer issuer({.allow_anonymous_pull = true, .expires_in = 2});
  ASSERT_TRUE(issuer.Start().has_value());
  auto reply = CurlRequest(issuer.realm() +
                           "?service=test-registry&scope=repository%3Aa%2Fb%3Apull%2Cpush"
                           "&scope=repository:c:push");
  ASSERT_TRUE(reply.has_value()) << reply.error().message;
  ASSERT_EQ(reply->status, 200) << reply->body;
  auto json = nlohmann::json::parse(reply->body);
  EXPECT_EQ(json["expires_in"], 2);
  EXPECT_EQ(json["token"], json["access_token"]);
  EXPECT_THAT(json["issued_at"].get<std::string>(), HasSubstr("T"));
  // The claims: the middle part of the JWT, base64url without padding.
  std::string claims_b64 = json["token"].get<std::string>();
  claims_b64 = claims_b64.substr(claims_b64.find('.') + 1);
  claims_b64.resize(claims_b64.find('.'));
  for (char& c : claims_b64) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (claims_b64.size() % 4) claims_b64 += '=';
  ProcessResult decoded = RunProcess({"base64", "-d"}, {}, claims_b64);
  ASSERT_EQ(decoded.exit_code, 0) << decoded.err;
  auto claims = nlohmann::json::parse(decoded.out);
  EXPECT_EQ(claims["iss"], "test-issuer");
  EXPECT_EQ(claims["aud"], "test-registry");
  EXPECT_EQ(claims["sub"], "");
  EXPECT_EQ(claims["exp"].get<int64_t>() - claims["iat"].get<int64_t>(), 2);
  EXPECT_EQ(claims["access"],
            nlohmann::json::parse(R"([{"type":"repository","name":"a/b","actions":["pull"]}])"));
  ASSERT_EQ(issuer.Requests().size(), 1u);
  EXPECT_THAT(issuer.Scopes(), ElementsAre("repository:a/b:pull,push", "repository:c:push"));
}

TEST_F(RegistryFixtureTest, TlsRegistryServesHttpsWithItsOwnCertificate) {
  auto registry = StartRegistry({.tls = true});
  ASSERT_TRUE(registry);
  EXPECT_THAT(registry->base_url(), StartsWith("https://127.0.0.1:"));
  ASSERT_FALSE(registry->ca_file().empty());

  // Trusted with the fixture's certificate, refused without it.
  CurlOptions trusted;
  trusted.ca_file = registry->ca_file();
  auto v2 = CurlRequest(registry->base_url() + "/v2/", trusted);
  ASSERT_TRUE(v2.has_value()) << v2.error().message;
  EXPECT_EQ(v2->status, 200);
  CurlOptions system_roots;
  system_roots.ca_file = "/etc/ssl/certs/ca-certificates.crt";
  if (PathExists(system_roots.ca_file)) {
    EXPECT_FALSE(CurlRequest(registry->base_url() + "/v2/", system_roots).has_value());
  }

  ProcessResult push = Push(registry->host(), "fixture/tls", {});
  ASSERT_EQ(push.exit_code, 0) << push.err << "\nregistry log:\n" << registry->log();
  ExpectImage(*registry, "fixture/tls", {});
  // skopeo verifying the certificate: fails without it, works with --cert-dir.
  EXPECT_THAT(InspectDigest("docker://" + registry->host() + "/fixture/tls:t"),
              HasSubstr("failed"));
  EXPECT_EQ(InspectDigest("docker://" + registry->host() + "/fixture/tls:t",
                          {"--cert-dir", registry->cert_dir()}),
            digest_);
}

TEST_F(RegistryFixtureTest, ProxyForwardsAPushAndPointsLocationsAtItself) {
  auto registry = StartRegistry({});
  ASSERT_TRUE(registry);
  FaultProxy proxy(registry->base_url());
  ASSERT_TRUE(proxy.Start().has_value());

  auto started = CurlRequest(proxy.base_url() + "/v2/fixture/proxied/blobs/uploads/",
                             {.method = "POST", .body = ""});
  ASSERT_TRUE(started.has_value()) << started.error().message;
  EXPECT_EQ(started->status, 202);
  EXPECT_THAT(started->Header("Location").value_or(""),
              StartsWith(proxy.base_url() + "/v2/fixture/proxied/blobs/uploads/"));

  ProcessResult push = Push(proxy.host(), "fixture/proxied", {});
  ASSERT_EQ(push.exit_code, 0) << push.err << "\nregistry log:\n" << registry->log();
  ExpectImage(*registry, "fixture/proxied", {});
  EXPECT_GE(proxy.Count("POST", "/blobs/uploads/"), 2);
  EXPECT_GE(proxy.Count("PUT", "/blobs/uploads/"), 1);
  EXPECT_EQ(proxy.Count("PUT", "/manifests/t"), 1);
  for (const ProxyLogEntry& e : proxy.Log()) {
    EXPECT_FALSE(e.faulted);
    EXPECT_GT(e.status, 0) << e.method << " " << e.path;
  }
  // A HEAD of a blob keeps its Content-Length through the proxy.
  auto manifest = registry->GetManifest("fixture/proxied", "t");
  ASSERT_TRUE(manifest.has_value());
  const std::string config_digest = nlohmann::json::parse(manifest->body)["config"]["digest"];
  auto config = registry->GetBlob("fixture/proxied", config_digest);
  ASSERT_TRUE(config.has_value());
  auto head = CurlRequest(proxy.base_url() + "/v2/fixture/proxied/blobs/" + config_digest,
                          {.method = "HEAD"});
  ASSERT_TRUE(head.has_value()) << head.error().message;
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->Header("Content-Length"), std::to_string(config->size()));
  EXPECT_EQ(head->Header("Docker-Content-Digest"), config_digest);
}

TEST_F(RegistryFixtureTest, ProxyFailOnceAnswersOnceThenForwards) {
  auto registry = StartRegistry({});
  ASSERT_TRUE(registry);
  FaultProxy proxy(registry->base_url());
  ASSERT_TRUE(proxy.Start().has_value());
  proxy.FailOnce("GET", "/v2/", 500);
  proxy.FailOnce("POST", "/blobs/uploads/", 429, {{"Retry-After", "0"}});
  EXPECT_EQ(proxy.PendingFaults(), 2);

  auto first = CurlRequest(proxy.base_url() + "/v2/");
  ASSERT_TRUE(first.has_value()) << first.error().message;
  EXPECT_EQ(first->status, 500);
  auto second = CurlRequest(proxy.base_url() + "/v2/");
  ASSERT_TRUE(second.has_value()) << second.error().message;
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(second->body, "{}");

  const std::string uploads = proxy.base_url() + "/v2/fixture/faults/blobs/uploads/";
  auto limited = CurlRequest(uploads, {.method = "POST", .body = ""});
  ASSERT_TRUE(limited.has_value());
  EXPECT_EQ(limited->status, 429);
  EXPECT_EQ(limited->Header("Retry-After"), "0");
  auto accepted = CurlRequest(uploads, {.method = "POST", .body = ""});
  ASSERT_TRUE(accepted.has_value());
  EXPECT_EQ(accepted->status, 202);
  EXPECT_EQ(proxy.PendingFaults(), 0);

  auto log = proxy.Log();
  ASSERT_EQ(log.size(), 4u);
  EXPECT_TRUE(log[0].faulted);
  EXPECT_EQ(log[0].status, 500);
  EXPECT_FALSE(log[1].faulted);
  EXPECT_EQ(log[1].status, 200);
  EXPECT_TRUE(log[2].faulted);
  EXPECT_EQ(log[2].status, 429);
  EXPECT_EQ(log[3].status, 202);
  EXPECT_EQ(proxy.Count("POST", "/blobs/uploads/"), 2);
}

TEST_F(RegistryFixtureTest, ProxyDropOnceLeavesAPartialUploadInTheRegistry) {
  auto registry = StartRegistry({});
  ASSERT_TRUE(registry);
  FaultProxy proxy(registry->base_url());
  ASSERT_TRUE(proxy.Start().has_value());
  const std::string blob(1000, 'x');

  auto started = CurlRequest(proxy.base_url() + "/v2/fixture/drop/blobs/uploads/",
                             {.method = "POST", .body = ""});
  ASSERT_TRUE(started.has_value()) << started.error().message;
  ASSERT_EQ(started->status, 202);
  const std::string location = started->Header("Location").value_or("");
  ASSERT_THAT(location, StartsWith(proxy.base_url()));

  proxy.DropOnce("PATCH", "/blobs/uploads/", 400);
  auto dropped = CurlRequest(location, {.method = "PATCH",
                                        .headers = {{"Content-Type", "application/octet-stream"},
                                                    {"Content-Range", "0-999"}},
                                        .body = blob});
  ASSERT_FALSE(dropped.has_value()) << "status " << dropped->status;

  // The registry holds exactly the forwarded prefix of the upload.
  const std::string uuid =
      location.substr(location.rfind('/') + 1, location.find('?') - location.rfind('/') - 1);
  const std::string data = registry->storage_dir() +
                           "/docker/registry/v2/repositories/fixture/drop/_uploads/" + uuid +
                           "/data";
  auto partial = ReadFile(data);
  ASSERT_TRUE(partial.has_value()) << partial.error().message;
  EXPECT_EQ(*partial, blob.substr(0, 400));

  // docker-registry 2.8.2 does not let the upload resume: the Location the client still has
  // carries offset 0 in its _state, and the registry refuses it.
  auto status = CurlRequest(location);
  ASSERT_TRUE(status.has_value()) << status.error().message;
  EXPECT_EQ(status->status, 404);
  EXPECT_THAT(status->body, HasSubstr("BLOB_UPLOAD_INVALID"));
  EXPECT_THAT(registry->log(), HasSubstr("upload resumed at wrong offest: 400 != 0"));

  // A new upload of the whole blob, monolithic, works.
  auto again = CurlRequest(proxy.base_url() + "/v2/fixture/drop/blobs/uploads/",
                           {.method = "POST", .body = ""});
  ASSERT_TRUE(again.has_value()) << again.error().message;
  ASSERT_EQ(again->status, 202);
  const std::string digest = "sha256:" + Sha256Hex(blob);
  std::string finish = again->Header("Location").value_or("");
  finish += (finish.find('?') == std::string::npos ? "?" : "&") + std::string("digest=") + digest;
  auto done = CurlRequest(
      finish,
      {.method = "PUT", .headers = {{"Content-Type", "application/octet-stream"}}, .body = blob});
  ASSERT_TRUE(done.has_value()) << done.error().message;
  EXPECT_EQ(done->status, 201) << done->body;
  auto stored = registry->GetBlob("fixture/drop", digest);
  ASSERT_TRUE(stored.has_value()) << stored.error().message;
  EXPECT_EQ(*stored, blob);

  auto log = proxy.Log();
  ASSERT_GE(log.size(), 2u);
  EXPECT_EQ(log[1].method, "PATCH");
  EXPECT_TRUE(log[1].faulted);
  EXPECT_EQ(log[1].status, 0);
  EXPECT_EQ(log[1].request_body_bytes, 1000u);
}

}  // namespace
}  // namespace hardbase::testing
