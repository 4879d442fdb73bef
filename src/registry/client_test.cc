// The registry client against Debian's real docker-registry (started per test on a loopback
// port), with a fault-injecting proxy in front where a test needs failures. What the registry
// holds afterwards is read back with the fixture's own libcurl requests, not with this client.
#include "registry/client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <random>

#include "base/sha256.h"
#include "oci/image.h"
#include "registry/registry_source.h"
#include "support/http_server.h"
#include "support/registry_fixture.h"
#include "support/result_matchers.h"

namespace hardbase::registry {
namespace {

using ::hardbase::testing::FailsWith;

using testing::FaultProxy;
using ::testing::HasSubstr;
using testing::RegistryServer;
using testing::TokenIssuer;

std::string RandomBytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(rng());
  return out;
}

oci::Descriptor BlobDescriptor(const std::string& bytes) {
  return oci::Descriptor{"application/vnd.oci.image.layer.v1.tar",
                         "sha256:" + Sha256Hex(bytes),
                         static_cast<int64_t>(bytes.size()),
                         std::nullopt,
                         "",
                         {}};
}

ByteOpener OpenBytes(const std::string& bytes) {
  return [&bytes](uint64_t offset) -> Result<ByteReader> {
    auto pos = std::make_shared<size_t>(offset);
    return ByteReader([&bytes, pos](char* buf, size_t n) -> Result<size_t> {
      size_t take = std::min(n, bytes.size() - *pos);
      std::memcpy(buf, bytes.data() + *pos, take);
      *pos += take;
      return take;
    });
  };
}

RegistryOptions Plain() {
  RegistryOptions o;
  o.plain_http = true;
  o.initial_backoff = std::chrono::milliseconds(10);
  return o;
}

// A registry with token auth by `issuer` (started), and a client login the issuer accepts.
Result<std::unique_ptr<RegistryServer>> StartTokenRegistry(const TokenIssuer& issuer) {
  testing::RegistryOptions config;
  config.auth = testing::RegistryOptions::Auth::kToken;
  config.token_issuer = &issuer;
  return RegistryServer::Start(config);
}
RegistryOptions IssuerLogin(const TokenIssuer& issuer) {
  RegistryOptions options = Plain();
  options.credentials = Credentials{issuer.options().user, issuer.options().password, ""};
  return options;
}

// A one-layer image: its config, layer and manifest.
struct TinyImage {
  std::string config =
      R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}})";
  std::string layer;
  std::string manifest;
  explicit TinyImage(size_t layer_size = 1000, unsigned seed = 1)
      : layer(RandomBytes(layer_size, seed)) {
    oci::Descriptor c{std::string(oci::kMediaTypeConfig),
                      "sha256:" + Sha256Hex(config),
                      static_cast<int64_t>(config.size()),
                      std::nullopt,
                      "",
                      {}};
    manifest = oci::ManifestJson(c, {BlobDescriptor(layer)}, {});
  }
  oci::Descriptor config_descriptor() const {
    return {std::string(oci::kMediaTypeConfig),
            "sha256:" + Sha256Hex(config),
            static_cast<int64_t>(config.size()),
            std::nullopt,
            "",
            {}};
  }
  std::string digest() const { return "sha256:" + Sha256Hex(manifest); }

  void Push(Registry& reg, const std::string& repo, const std::string& tag) const {
    ASSERT_TRUE(reg.PutBlob(repo, config_descriptor(), OpenBytes(config), nullptr));
    auto layer_pushed = reg.PutBlob(repo, BlobDescriptor(layer), OpenBytes(layer), nullptr);
    ASSERT_TRUE(layer_pushed) << layer_pushed.error().message;
    auto put = reg.PutManifest(repo, tag, std::string(oci::kMediaTypeManifest), manifest);
    ASSERT_TRUE(put) << put.error().message;
    EXPECT_EQ(put->digest, digest());
  }
};

TEST(RegistryClientTest, PushedBytesAreWhatTheRegistryServes) {
  SKIP_WITHOUT_REGISTRY();
  auto server = RegistryServer::Start();
  ASSERT_TRUE(server) << server.error().message;
  auto reg = Registry::Open((*server)->host(), Plain());
  ASSERT_TRUE(reg);
  TinyImage image(200000);
  image.Push(**reg, "team/app", "1.0");

  // Read back independently: same manifest bytes, digest and layer.
  auto manifest = (*server)->GetManifest("team/app", "1.0");
  ASSERT_TRUE(manifest) << manifest.error().message;
  EXPECT_EQ(manifest->body, image.manifest);
  EXPECT_EQ(manifest->digest, image.digest());
  auto layer = (*server)->GetBlob("team/app", BlobDescriptor(image.layer).digest);
  ASSERT_TRUE(layer);
  EXPECT_EQ(*layer, image.layer);

  // And through the client: by tag, by digest, HEAD, blobs streamed, tags listed.
  auto got = (*reg)->GetManifest("team/app", "1.0");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->bytes, image.manifest);
  EXPECT_EQ(got->descriptor.media_type, oci::kMediaTypeManifest);
  auto head = (*reg)->HeadManifest("team/app", image.digest());
  ASSERT_TRUE(head && *head);
  EXPECT_EQ((*head)->size, static_cast<int64_t>(image.manifest.size()));
  std::string streamed;
  ASSERT_TRUE((*reg)->GetBlob("team/app", BlobDescriptor(image.layer), [&](std::string_view d) {
    streamed.append(d);
    return Result<void>{};
  }));
  EXPECT_EQ(streamed, image.layer);
  auto tags = (*reg)->Tags("team/app");
  ASSERT_TRUE(tags);
  EXPECT_THAT(*tags, ::testing::ElementsAre("1.0"));
  auto has = (*reg)->HasBlob("team/app", BlobDescriptor(image.layer).digest);
  ASSERT_TRUE(has);
  EXPECT_TRUE(*has);
  auto missing = (*reg)->GetManifest("team/app", "2.0");
  ASSERT_THAT(missing, FailsWith(ErrorCode::kNotFound));

  // A blob mounts into another repository of the same registry without an upload.
  auto mounted = (*reg)->MountBlob("other", BlobDescriptor(image.layer).digest, "team/app");
  ASSERT_TRUE(mounted) << mounted.error().message;
  EXPECT_TRUE(*mounted);
  EXPECT_EQ((*server)->GetBlob("other", BlobDescriptor(image.layer).digest).value_or(""),
            image.layer);

  // Debian's registry has no referrers API: the client says so rather than "no referrers".
  auto referrers = (*reg)->Referrers("team/app", image.digest());
  ASSERT_TRUE(referrers);
  EXPECT_FALSE(referrers->has_value());
}

// A registry behind a fault-injecting proxy, and a client (uploading in 64 KiB chunks) that
// speaks to the proxy.
class ProxiedRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_REGISTRY();
    auto server = RegistryServer::Start();
    ASSERT_TRUE(server) << server.error().message;
    server_ = std::move(*server);
    proxy_ = std::make_unique<FaultProxy>(server_->base_url());
    ASSERT_TRUE(proxy_->Start());
    RegistryOptions options = Plain();
    options.chunk_size = 64 * 1024;
    auto reg = Registry::Open(proxy_->host(), options);
    ASSERT_TRUE(reg);
    reg_ = std::move(*reg);
  }

  std::unique_ptr<RegistryServer> server_;
  std::unique_ptr<FaultProxy> proxy_;
  std::unique_ptr<Registry> reg_;
};

TEST_F(ProxiedRegistryTest, ChunkedUploadResumesWhereTheRegistrySaysItStands) {
  std::string blob = RandomBytes(300 * 1024, 7);  // five chunks

  // The connection drops as the first chunk is sent, before any of it reaches the registry.
  proxy_->DropOnce("PATCH", "/blobs/uploads/", 0);
  auto pushed = reg_->PutBlob("app", BlobDescriptor(blob), OpenBytes(blob), nullptr);
  ASSERT_TRUE(pushed) << pushed.error().message;
  EXPECT_EQ(proxy_->PendingFaults(), 0);
  EXPECT_EQ(proxy_->Count("POST", "/blobs/uploads/"), 1) << "resumed, not started again";
  EXPECT_EQ(proxy_->Count("GET", "/blobs/uploads/"), 1) << "asked where the upload stands";
  EXPECT_EQ(proxy_->Count("PATCH", "/blobs/uploads/"), 6);  // 5 chunks + the dropped one
  EXPECT_EQ(server_->GetBlob("app", BlobDescriptor(blob).digest).value_or(""), blob);
}

TEST_F(ProxiedRegistryTest, UploadStartsAgainWhenTheRegistryDroppedIt) {
  // A monolithic upload dropped midway (part of the body reached the registry) starts over.
  std::string small = RandomBytes(10 * 1024, 9);
  proxy_->DropOnce("PUT", "/blobs/uploads/", 5000);
  auto small_pushed = reg_->PutBlob("app", BlobDescriptor(small), OpenBytes(small), nullptr);
  ASSERT_TRUE(small_pushed) << small_pushed.error().message;
  EXPECT_EQ(proxy_->Count("POST", "/blobs/uploads/"), 2);
  // Half a chunk reaches the registry, then the connection drops: docker-registry 2.8.2 then
  // refuses the upload's state, and the client must start over.
  std::string blob = RandomBytes(200 * 1024, 8);
  proxy_->DropOnce("PATCH", "/blobs/uploads/", 30000);
  auto big_pushed = reg_->PutBlob("app", BlobDescriptor(blob), OpenBytes(blob), nullptr);
  ASSERT_TRUE(big_pushed) << big_pushed.error().message;
  EXPECT_EQ(proxy_->PendingFaults(), 0);
  EXPECT_EQ(proxy_->Count("POST", "/blobs/uploads/"), 4);
  EXPECT_EQ(server_->GetBlob("app", BlobDescriptor(blob).digest).value_or(""), blob);
  EXPECT_EQ(server_->GetBlob("app", BlobDescriptor(small).digest).value_or(""), small);
}

TEST_F(ProxiedRegistryTest, RetriesAfter5xxAnd429) {
  proxy_->FailOnce("GET", "/v2/", 503);
  proxy_->FailOnce("HEAD", "/blobs/", 429, {{"Retry-After", "0"}});
  proxy_->FailOnce("POST", "/blobs/uploads/", 500);
  proxy_->FailOnce("PUT", "/blobs/uploads/", 502);
  proxy_->FailOnce("PUT", "/manifests/", 500);
  TinyImage image;
  ASSERT_TRUE(reg_->HasBlob("app", BlobDescriptor(image.layer).digest));
  image.Push(*reg_, "app", "v1");
  EXPECT_EQ(proxy_->PendingFaults(), 0);
  EXPECT_GE(reg_->stats().retries, 5);
  auto manifest = server_->GetManifest("app", "v1");
  ASSERT_TRUE(manifest);
  EXPECT_EQ(manifest->body, image.manifest);

  // A registry that keeps failing is given up on, with what it said.
  for (int i = 0; i < 10; ++i) proxy_->FailOnce("GET", "/manifests/", 500);
  auto failed = reg_->GetManifest("app", "v1");
  ASSERT_THAT(failed, FailsWith(ErrorCode::kNetwork));
  EXPECT_THAT(failed.error().message, HasSubstr("HTTP 500"));
}

TEST(RegistryClientTest, BasicAuth) {
  SKIP_WITHOUT_REGISTRY();
  testing::RegistryOptions config;
  config.auth = testing::RegistryOptions::Auth::kHtpasswd;
  config.user = "alice";
  config.password = "s3cret:with:colons";
  auto server = RegistryServer::Start(config);
  ASSERT_TRUE(server) << server.error().message;

  RegistryOptions anonymous = Plain();
  auto reg = Registry::Open((*server)->host(), anonymous);
  auto refused = (*reg)->CheckLogin();
  ASSERT_THAT(refused, FailsWith(ErrorCode::kAuth));
  EXPECT_THAT(refused.error().message, HasSubstr("hardbase login"));

  RegistryOptions wrong = Plain();
  wrong.credentials = Credentials{"alice", "wrong", ""};
  auto bad = Registry::Open((*server)->host(), wrong);
  auto denied = (*bad)->CheckLogin();
  ASSERT_THAT(denied, FailsWith(ErrorCode::kAuth));
  EXPECT_THAT(denied.error().message, HasSubstr("alice"));
  EXPECT_THAT(denied.error().message, ::testing::Not(HasSubstr("wrong")));

  RegistryOptions right = Plain();
  right.credentials = Credentials{"alice", "s3cret:with:colons", ""};
  auto good = Registry::Open((*server)->host(), right);
  ASSERT_TRUE((*good)->CheckLogin());
  TinyImage image;
  image.Push(**good, "app", "v1");
  EXPECT_EQ((*server)->GetManifest("app", "v1").value_or(testing::FetchedManifest{}).body,
            image.manifest);
}

TEST(RegistryClientTest, TokenAuthFetchesOneTokenPerScopeAndReusesIt) {
  SKIP_WITHOUT_REGISTRY();
  TokenIssuer issuer;
  ASSERT_TRUE(issuer.Start());
  auto server = StartTokenRegistry(issuer);
  ASSERT_TRUE(server) << server.error().message;
  auto reg = Registry::Open((*server)->host(), IssuerLogin(issuer));
  ASSERT_TRUE(reg);
  std::vector<TinyImage> images;
  for (unsigned i = 0; i < 4; ++i) images.emplace_back(1000, i);
  for (size_t i = 0; i < images.size(); ++i)
    images[i].Push(**reg, "team/app", "v" + std::to_string(i));
  // Pull and push scopes for team/app; every further call reuses the token.
  EXPECT_LE(issuer.TokensIssued(), 3);
  EXPECT_THAT(issuer.Scopes(), ::testing::Contains("repository:team/app:pull,push"));
  auto manifest = (*server)->GetManifest("team/app", "v3");
  ASSERT_TRUE(manifest);
  EXPECT_EQ(manifest->body, images[3].manifest);

  // Wrong credentials: the token service refuses, and the error says so without the password.
  RegistryOptions wrong = Plain();
  wrong.credentials = Credentials{issuer.options().user, "nope", ""};
  auto bad = Registry::Open((*server)->host(), wrong);
  auto refused = (*bad)->GetManifest("team/app", "v1");
  ASSERT_THAT(refused, FailsWith(ErrorCode::kAuth));
  EXPECT_THAT(refused.error().message, ::testing::Not(HasSubstr("nope")));
}

// A token the registry refuses (expired while held, or revoked) is replaced by a fresh one.
TEST(RegistryClientTest, RefusedTokenIsFetchedAgain) {
  SKIP_WITHOUT_REGISTRY();
  testing::TokenIssuerOptions issuer_options;
  issuer_options.stale_tokens = 1;
  TokenIssuer issuer(issuer_options);
  ASSERT_TRUE(issuer.Start());
  auto server = StartTokenRegistry(issuer);
  ASSERT_TRUE(server) << server.error().message;
  auto reg = Registry::Open((*server)->host(), IssuerLogin(issuer));
  ASSERT_TRUE(reg);
  TinyImage image;
  image.Push(**reg, "app", "v1");
  EXPECT_EQ(issuer.TokensIssued(), 2);
  EXPECT_EQ((*server)->GetManifest("app", "v1").value_or(testing::FetchedManifest{}).body,
            image.manifest);
}

TEST(RegistryClientTest, TlsIsVerifiedUnlessTurnedOff) {
  SKIP_WITHOUT_REGISTRY();
  testing::RegistryOptions config;
  config.tls = true;
  auto server = RegistryServer::Start(config);
  ASSERT_TRUE(server) << server.error().message;
  TinyImage image;

  RegistryOptions strict;  // https, the system's CAs: a self-signed certificate fails
  strict.max_attempts = 1;
  auto untrusted = Registry::Open((*server)->host(), strict);
  auto failed = (*untrusted)->CheckLogin();
  ASSERT_THAT(failed, FailsWith(ErrorCode::kNetwork));
  EXPECT_THAT(failed.error().message, HasSubstr("https://"));

  RegistryOptions with_ca;
  with_ca.ca_file = (*server)->ca_file();
  auto trusted = Registry::Open((*server)->host(), with_ca);
  image.Push(**trusted, "app", "v1");
  EXPECT_EQ((*trusted)->BaseUrl(), "https://" + (*server)->host());

  RegistryOptions insecure;
  insecure.tls_verify = false;
  auto anything = Registry::Open((*server)->host(), insecure);
  auto got = (*anything)->GetManifest("app", "v1");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->bytes, image.manifest);
  EXPECT_EQ((*anything)->BaseUrl(), "https://" + (*server)->host());
}

TEST(RegistryClientTest, InsecureFallsBackToPlainHttp) {
  SKIP_WITHOUT_REGISTRY();
  auto server = RegistryServer::Start();
  ASSERT_TRUE(server) << server.error().message;
  RegistryOptions insecure;
  insecure.tls_verify = false;
  auto reg = Registry::Open((*server)->host(), insecure);
  ASSERT_TRUE((*reg)->CheckLogin());
  EXPECT_EQ((*reg)->BaseUrl(), "http://" + (*server)->host());
}

TEST(RegistryClientTest, ReferrersComeFromTheFallbackTag) {
  SKIP_WITHOUT_REGISTRY();
  auto server = RegistryServer::Start();
  ASSERT_TRUE(server) << server.error().message;
  auto reg = Registry::Open((*server)->host(), Plain());
  TinyImage image;
  image.Push(**reg, "app", "v1");
  auto none = ListReferrers(**reg, "app", image.digest());
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  // A referrer (an SBOM-like artifact manifest about the image), and the fallback index naming it.
  std::string empty = "{}";
  oci::Descriptor config{
      std::string(oci::kMediaTypeEmpty), "sha256:" + Sha256Hex(empty), 2, std::nullopt, "", {}};
  ASSERT_TRUE((*reg)->PutBlob("app", config, OpenBytes(empty), nullptr));
  oci::Descriptor subject{std::string(oci::kMediaTypeManifest),
                          image.digest(),
                          static_cast<int64_t>(image.manifest.size()),
                          std::nullopt,
                          "",
                          {}};
  std::string artifact =
      oci::ManifestJson(config, {config}, {{"k", "v"}}, subject, "application/spdx+json");
  auto stored = (*reg)->PutManifest("app", "sha256:" + Sha256Hex(artifact),
                                    std::string(oci::kMediaTypeManifest), artifact);
  ASSERT_TRUE(stored) << stored.error().message;
  oci::Descriptor referrer = *stored;
  referrer.artifact_type = "application/spdx+json";
  referrer.annotations = {{"k", "v"}};
  std::string index = oci::IndexJson({referrer});
  auto fallback = (*reg)->PutManifest("app", "sha256-" + image.digest().substr(7),
                                      std::string(oci::kMediaTypeIndex), index);
  ASSERT_TRUE(fallback) << fallback.error().message;
  auto listed = ListReferrers(**reg, "app", image.digest());
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0], referrer);
}

// Registries that misbehave on purpose (a test HTTP server answering as one would), for what a
// real registry never does.
class HostileRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start()); }
  std::unique_ptr<Registry> Client(RegistryOptions options = Plain()) {
    options.max_attempts = 3;
    auto reg = Registry::Open("127.0.0.1:" + std::to_string(server_.port()), options);
    EXPECT_TRUE(reg);
    return std::move(*reg);
  }
  testing::HttpServer server_;
};

TEST_F(HostileRegistryTest, ManifestByDigestMustBeThatDigest) {
  const std::string asked = "sha256:" + std::string(64, 'a');
  server_.SetHandler([](const testing::HttpRequest& r) -> std::optional<testing::HttpResponse> {
    if (r.path == "/v2/") return testing::HttpResponse{200, {}, "{}"};
    testing::HttpResponse out{200,
                              {{"Docker-Content-Digest", "sha256:" + std::string(64, 'b')},
                               {"Content-Type", "application/vnd.oci.image.manifest.v1+json"}},
                              "{}"};
    return out;
  });
  auto reg = Client();
  auto head = reg->HeadManifest("app", asked);
  ASSERT_THAT(head, FailsWith(ErrorCode::kIntegrity));
  auto get = reg->GetManifest("app", asked);
  ASSERT_THAT(get, FailsWith(ErrorCode::kIntegrity));
}

TEST_F(HostileRegistryTest, CredentialsStayWithTheRegistry) {
  // The upload Location names another server: it gets the upload, not the password.
  testing::HttpServer elsewhere;
  ASSERT_TRUE(elsewhere.Start());
  std::atomic<int> with_auth{0};
  elsewhere.SetHandler([&](const testing::HttpRequest& r) -> std::optional<testing::HttpResponse> {
    if (r.Header("Authorization")) ++with_auth;
    return testing::HttpResponse{201, {}, ""};
  });
  std::string other = elsewhere.Url("/upload/1");
  server_.SetHandler(
      [other](const testing::HttpRequest& r) -> std::optional<testing::HttpResponse> {
        if (r.Header("Authorization") != "Basic YWxpY2U6czNjcmV0") {
          return testing::HttpResponse{401, {{"WWW-Authenticate", "Basic realm=\"r\""}}, ""};
        }
        if (r.method == "POST") return testing::HttpResponse{202, {{"Location", other}}, ""};
        return testing::HttpResponse{404, {}, ""};
      });
  RegistryOptions options = Plain();
  options.credentials = Credentials{"alice", "s3cret", ""};
  auto reg = Client(options);
  std::string blob = "layer";
  ASSERT_TRUE(reg->PutBlob("app", BlobDescriptor(blob), OpenBytes(blob), nullptr));
  EXPECT_EQ(elsewhere.RequestCount("/upload/1"), 1);
  EXPECT_EQ(with_auth, 0);
}

TEST_F(HostileRegistryTest, AnUploadThatNeverMovesOnIsGivenUp) {
  server_.SetHandler([](const testing::HttpRequest& r) -> std::optional<testing::HttpResponse> {
    if (r.path == "/v2/") return testing::HttpResponse{200, {}, "{}"};
    if (r.method == "HEAD") return testing::HttpResponse{404, {}, ""};
    // Every chunk "accepted", the upload always at nothing.
    return testing::HttpResponse{
        202, {{"Location", "/v2/app/blobs/uploads/1"}, {"Range", "0-0"}}, ""};
  });
  RegistryOptions options = Plain();
  options.chunk_size = 1024;
  auto reg = Client(options);
  std::string blob = RandomBytes(4096, 5);
  auto pushed = reg->PutBlob("app", BlobDescriptor(blob), OpenBytes(blob), nullptr);
  ASSERT_THAT(pushed, FailsWith(ErrorCode::kNetwork));
  EXPECT_LT(server_.RequestCount("/v2/app/blobs/uploads/1"), 10);
}

}  // namespace
}  // namespace hardbase::registry
