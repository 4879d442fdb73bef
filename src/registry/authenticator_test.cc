// Registry authentication over a scripted HTTP fake (net::FakeHttp): the token dance, Basic,
// anonymous access, refused tokens, and what the registry client does with each. The same flows
// against Debian's real docker-registry are in client_test.cc; here every request can be seen and
// every answer chosen.
#include "registry/authenticator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

#include "base/base64.h"
#include "base/fs.h"
#include "base/sha256.h"
#include "net/fake_http.h"
#include "registry/client.h"
#include "support/result_matchers.h"

namespace hardbase::registry {
namespace {

using ::hardbase::testing::FailsWith;

using net::FakeHttp;
using net::FakeResponse;
using net::RecordedRequest;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

const char kHost[] = "registry.test";
const char kRegistry[] = "http://registry.test";
const char kRealm[] = "http://auth.test/token";
const char kBearerChallenge[] =
    "Bearer realm=\"http://auth.test/token\",service=\"registry.test\","
    "scope=\"repository:app:pull\"";
const char kManifest[] =
    R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[]})";

const Credentials kAlice{"alice", "s3cret", ""};

net::RetryOptions QuickRetry() {
  return {.max_attempts = 3,
          .initial_backoff = std::chrono::milliseconds(1),
          .max_backoff = std::chrono::milliseconds(1),
          .max_retry_after = std::chrono::milliseconds(10),
          .jitter = 0};
}

RegistryOptions PlainFastRetries() {
  RegistryOptions o;
  o.plain_http = true;
  o.max_attempts = 3;
  o.initial_backoff = std::chrono::milliseconds(1);
  return o;
}

std::string BasicOf(const Credentials& c) {
  return "Basic " + Base64Encode(c.username + ":" + c.password);
}

FakeResponse Unauthorized(std::string challenge = kBearerChallenge) {
  return FakeResponse::Status(
      401, {{"WWW-Authenticate", std::move(challenge)}},
      R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})");
}

FakeResponse ManifestAnswer() {
  return FakeResponse::Ok(kManifest,
                          {{"Content-Type", "application/vnd.oci.image.manifest.v1+json"}});
}

// A token service that hands out "t1", "t2", ... to anyone, or only to `login` when given.
class TokenService {
 public:
  explicit TokenService(FakeHttp& http, std::optional<Credentials> login = std::nullopt) {
    http.RouteHandler("*", kRealm, [this, login](const RecordedRequest& r) {
      if (login && r.Header("Authorization") != BasicOf(*login)) {
        return FakeResponse::Status(401);
      }
      std::lock_guard<std::mutex> lock(mu_);
      asked_.push_back(r);
      return FakeResponse::Ok(R"({"token":"t)" + std::to_string(asked_.size()) +
                              R"(","expires_in":300})");
    });
  }
  int issued() {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int>(asked_.size());
  }
  std::vector<RecordedRequest> asked() {
    std::lock_guard<std::mutex> lock(mu_);
    return asked_;
  }

 private:
  std::mutex mu_;
  std::vector<RecordedRequest> asked_;
};

// A manifest route answering only requests that carry `accepted` (else 401 with the challenge).
void RouteProtectedManifest(FakeHttp& http, std::vector<std::string> accepted,
                            std::string challenge = kBearerChallenge) {
  http.RouteHandler("GET", std::string(kRegistry) + "/v2/app/manifests/v1",
                    [accepted, challenge](const RecordedRequest& r) {
                      auto given = r.Header("Authorization");
                      for (const auto& a : accepted) {
                        if (given == a) return ManifestAnswer();
                      }
                      return Unauthorized(challenge);
                    });
}

struct Client {
  std::shared_ptr<FakeHttp> http = std::make_shared<FakeHttp>(QuickRetry());
  std::unique_ptr<Registry> registry;

  void Open(std::optional<Credentials> credentials, RegistryOptions options = PlainFastRetries()) {
    auto auth = MakeChallengeAuthenticator(kHost, FixedCredentials(credentials),
                                           TokenTransport{http, QuickRetry()});
    auto opened = Registry::Open(kHost, options, http, std::move(auth));
    ASSERT_TRUE(opened) << opened.error().message;
    registry = std::move(*opened);
  }
  // The Authorization header of every request, "-" for none, "METHOD URL -> auth".
  std::vector<std::string> Trace() const {
    std::vector<std::string> out;
    for (const auto& r : http->requests()) {
      out.push_back(r.method + " " + r.url + " -> " + r.Header("Authorization").value_or("-"));
    }
    return out;
  }
};

// --- the token dance through the registry client -------------------------------------------------

TEST(BearerFlowTest, ChallengeThenTokenThenTheRequestAgain) {
  Client c;
  c.http->Route("GET", std::string(kRegistry) + "/v2/", FakeResponse::Ok("{}"));
  TokenService tokens(*c.http, kAlice);
  RouteProtectedManifest(*c.http, {"Bearer t1"});
  c.Open(kAlice);

  auto got = c.registry->GetManifest("app", "v1");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->bytes, kManifest);
  EXPECT_THAT(
      c.Trace(),
      ElementsAre("GET http://registry.test/v2/ -> -",
                  "GET http://registry.test/v2/app/manifests/v1 -> -",
                  "GET http://auth.test/token?service=registry.test&scope=repository%3Aapp%3Apull"
                  " -> " +
                      BasicOf(kAlice),
                  "GET http://registry.test/v2/app/manifests/v1 -> Bearer t1"));

  // The token is cached for its scope: the next call sends it at once.
  ASSERT_TRUE(c.registry->GetManifest("app", "v1"));
  EXPECT_EQ(tokens.issued(), 1);
  EXPECT_EQ(c.http->Count("GET", std::string(kRegistry) + "/v2/app/manifests/v1"), 3);
  EXPECT_EQ(c.registry->stats().tokens_fetched, 1);
}

TEST(BearerFlowTest, ChallengeAtThePingAndATokenPerScope) {
  Client c;
  c.http->Route("GET", std::string(kRegistry) + "/v2/", Unauthorized());
  TokenService tokens(*c.http);
  RouteProtectedManifest(*c.http, {"Bearer t1"});
  c.http->RouteHandler(
      "GET", std::string(kRegistry) + "/v2/other/tags/list", [](const RecordedRequest& r) {
        return r.Header("Authorization") == "Bearer t2" ? FakeResponse::Ok(R"({"tags":["a"]})")
                                                        : Unauthorized();
      });
  c.Open(std::nullopt);  // anonymous: tokens are asked for without credentials

  ASSERT_TRUE(c.registry->GetManifest("app", "v1"));
  auto tags = c.registry->Tags("other");
  ASSERT_TRUE(tags) << tags.error().message;
  EXPECT_THAT(*tags, ElementsAre("a"));
  auto asked = tokens.asked();
  ASSERT_EQ(asked.size(), 2u);
  EXPECT_EQ(asked[0].Header("Authorization"), std::nullopt);
  EXPECT_THAT(asked[0].url, HasSubstr("scope=repository%3Aapp%3Apull"));
  EXPECT_THAT(asked[1].url, HasSubstr("scope=repository%3Aother%3Apull"));
  // Learnt at the ping, the token went with the first request for each scope.
  EXPECT_EQ(c.http->Count("GET", std::string(kRegistry) + "/v2/app/manifests/v1"), 1);
  EXPECT_EQ(c.http->Count("GET", std::string(kRegistry) + "/v2/other/tags/list"), 1);
}

TEST(BearerFlowTest, ARefusedTokenIsReplacedOnce) {
  Client c;
  c.http->Route("GET", std::string(kRegistry) + "/v2/", Unauthorized());
  TokenService tokens(*c.http, kAlice);
  RouteProtectedManifest(*c.http, {"Bearer t2"});  // t1 expired while held, say
  c.Open(kAlice);
  ASSERT_TRUE(c.registry->GetManifest("app", "v1"));
  EXPECT_EQ(tokens.issued(), 2);
  // The fresh token is the one cached.
  ASSERT_TRUE(c.registry->GetManifest("app", "v1"));
  EXPECT_EQ(tokens.issued(), 2);
  EXPECT_EQ(c.http->requests().back().Header("Authorization"), "Bearer t2");
}

TEST(BearerFlowTest, A401AfterTheRefreshedTokenIsAccessDenied) {
  Client c;
  c.http->Route("GET", std::string(kRegistry) + "/v2/", Unauthorized());
  TokenService tokens(*c.http, kAlice);
  RouteProtectedManifest(*c.http, {});  // alice may not pull app
  c.Open(kAlice);
  auto denied = c.registry->GetManifest("app", "v1");
  ASSERT_THAT(denied, FailsWith(ErrorCode::kAuth));
  EXPECT_THAT(denied.error().message, HasSubstr("access denied for user alice"));
  EXPECT_THAT(denied.error().message, HasSubstr("UNAUTHORIZED"));
  EXPECT_THAT(denied.error().message, Not(HasSubstr(kAlice.password)));
  // One token, one refresh, no more.
  EXPECT_EQ(tokens.issued(), 2);
  EXPECT_EQ(c.http->Count("GET", std::string(kRegistry) + "/v2/app/manifests/v1"), 2);
}

TEST(BearerFlowTest, TheTokenServiceRefusingTheLoginIsAnAuthError) {
  Client c;
  c.http->Route("GET", std::string(kRegistry) + "/v2/", Unauthorized());
  TokenService tokens(*c.http, kAlice);
  c.Open(Credentials{"alice", "wrong", ""});
  auto refused = c.registry->GetManifest("app", "v1");
  ASSERT_THAT(refused, FailsWith(ErrorCode::kAuth));
  EXPECT_THAT(refused.error().message, HasSubstr("token from http://auth.test/token"));
  EXPECT_THAT(refused.error().message, HasSubstr("user alice refused"));
  EXPECT_THAT(refused.error().message, Not(HasSubstr("wrong")));
  EXPECT_EQ(c.http->Count("GET", std::string(kRegistry) + "/v2/app/manifests/v1"), 0);
}

// --- Basic and anonymous ------------------------------------------------------------------------

TEST(BasicFlowTest, CredentialsAfterTheChallenge) {
  const std::string basic_challenge = "Basic realm=\"registry\"";
  Client c;
  c.http->Route("GET", std::string(kRegistry) + "/v2/", Unauthorized(basic_challenge));
  RouteProtectedManifest(*c.http, {BasicOf(kAlice)}, basic_challenge);
  c.Open(kAlice);
  ASSERT_TRUE(c.registry->GetManifest("app", "v1"));
  EXPECT_THAT(c.Trace(),
              ElementsAre("GET http://registry.test/v2/ -> -",
                          "GET http://registry.test/v2/app/manifests/v1 -> " + BasicOf(kAlice)));

  Client wrong;
  wrong.http->Route("GET", std::string(kRegistry) + "/v2/", Unauthorized(basic_challenge));
  RouteProtectedManifest(*wrong.http, {BasicOf(kAlice)}, basic_challenge);
  wrong.Open(Credentials{"alice", "nope", ""});
  auto denied = wrong.registry->GetManifest("app", "v1");
  ASSERT_THAT(denied, FailsWith(ErrorCode::kAuth));
  EXPECT_THAT(denied.error().message, HasSubstr("access denied for user alice"));
  EXPECT_THAT(denied.error().message, Not(HasSubstr("nope")));
  EXPECT_EQ(wrong.http->Count("GET", std::string(kRegistry) + "/v2/app/manifests/v1"), 2);
}

TEST(AnonymousFlowTest, NothingIsSentAndALoginIsAskedForWhenNeeded) {
  Client open;
  open.http->Route("GET", std::string(kRegistry) + "/v2/", FakeResponse::Ok("{}"));
  open.http->Route("GET", std::string(kRegistry) + "/v2/app/manifests/v1", ManifestAnswer());
  open.Open(std::nullopt);
  ASSERT_TRUE(open.registry->GetManifest("app", "v1"));
  for (const auto& r : open.http->requests()) EXPECT_EQ(r.Header("Authorization"), std::nullopt);

  Client closed;
  closed.http->Route("GET", std::string(kRegistry) + "/v2/", Unauthorized("Basic realm=\"r\""));
  closed.Open(std::nullopt);
  auto refused = closed.registry->CheckLogin();
  ASSERT_THAT(refused, FailsWith(ErrorCode::kAuth));
  EXPECT_THAT(refused.error().message, HasSubstr("hardbase login registry.test"));
  EXPECT_EQ(closed.http->requests().size(), 1u);
}

TEST(AnonymousFlowTest, TheAnonymousAuthenticatorNeverAuthenticates) {
  auto auth = MakeAnonymousAuthenticator(kHost);
  auto none = auth->Authorization("repository:app:pull", false);
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, std::nullopt);
  net::Response challenge;
  challenge.status = 401;
  challenge.headers = {{"WWW-Authenticate", kBearerChallenge}};
  auto refused = auth->Challenge(challenge);
  ASSERT_THAT(refused, FailsWith(ErrorCode::kAuth));
  EXPECT_EQ(auth->User().value_or("x"), std::nullopt);
}

// --- the authenticators on their own ------------------------------------------------------------

net::Response ChallengeOf(std::string header) {
  net::Response r;
  r.status = 401;
  r.headers = {{"WWW-Authenticate", std::move(header)}};
  return r;
}

TEST(BearerAuthenticatorTest, TokensAreCachedPerScopeUntilShortlyBeforeTheyExpire) {
  auto http = std::make_shared<FakeHttp>(QuickRetry());
  TokenService tokens(*http);
  auto now = std::chrono::steady_clock::now();
  TokenTransport transport{http, QuickRetry()};
  transport.now = [&now] { return now; };
  auto auth = MakeBearerAuthenticator(kHost, kRealm, "registry.test",
                                      FixedCredentials(std::nullopt), transport);
  auto header = [&](const std::string& scope, bool refresh = false) {
    auto h = auth->Authorization(scope, refresh);
    EXPECT_TRUE(h) << h.error().message;
    return h ? h->value_or("-") : "error";
  };
  EXPECT_EQ(header("repository:a:pull"), "Bearer t1");
  EXPECT_EQ(header("repository:a:pull"), "Bearer t1");
  EXPECT_EQ(header("repository:b:pull"), "Bearer t2");
  EXPECT_EQ(header("repository:a:pull", /*refresh=*/true), "Bearer t3");
  EXPECT_EQ(header("repository:a:pull"), "Bearer t3");
  // expires_in is 300 s: kept until 5 s before, then fetched again.
  now += std::chrono::seconds(294);
  EXPECT_EQ(header("repository:a:pull"), "Bearer t3");
  now += std::chrono::seconds(2);
  EXPECT_EQ(header("repository:a:pull"), "Bearer t4");
  auth->Forget("repository:b:pull");
  EXPECT_EQ(header("repository:b:pull"), "Bearer t5");
  EXPECT_EQ(auth->stats().tokens_fetched, 5);
  // Several scopes in one token request; the scope-less one (GET /v2/) asks for none.
  EXPECT_EQ(header("repository:a:pull,push repository:b:pull"), "Bearer t6");
  EXPECT_THAT(
      tokens.asked().back().url,
      ::testing::EndsWith("scope=repository%3Aa%3Apull%2Cpush&scope=repository%3Ab%3Apull"));
  EXPECT_EQ(header(""), "Bearer t7");
  EXPECT_EQ(tokens.asked().back().url, std::string(kRealm) + "?service=registry.test");
}

TEST(BearerAuthenticatorTest, TokenRequestsAreRetriedUnderThePolicy) {
  auto http = std::make_shared<FakeHttp>();
  http->RouteSequence("GET", kRealm,
                      {FakeResponse::Status(503, {{"Retry-After", "0"}}), FakeResponse::Dropped(),
                       FakeResponse::Ok(R"({"token":"abc"})")});
  auto auth = MakeBearerAuthenticator(kHost, kRealm, "", FixedCredentials(kAlice),
                                      TokenTransport{http, QuickRetry()});
  auto h = auth->Authorization("repository:a:pull", false);
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(*h, "Bearer abc");
  EXPECT_EQ(auth->stats().retries, 2);
  EXPECT_EQ(auth->stats().tokens_fetched, 1);

  // A token service that keeps failing is given up on after max_attempts.
  http->Route("GET", kRealm, FakeResponse::Status(500));
  auto failed = auth->Authorization("repository:b:pull", false);
  ASSERT_THAT(failed, FailsWith(ErrorCode::kNetwork));
  EXPECT_THAT(failed.error().message, HasSubstr("HTTP 500"));
  EXPECT_EQ(http->Count("GET", std::string(kRealm) + "*"), 3 + 3);

  // An answer that is no token says so.
  http->Route("GET", kRealm, FakeResponse::Ok("<html>"));
  auto garbage = auth->Authorization("repository:c:pull", false);
  ASSERT_THAT(garbage, FailsWith(ErrorCode::kSpec));
}

TEST(BearerAuthenticatorTest, AnIdentityTokenIsExchangedWithARefreshGrant) {
  auto http = std::make_shared<FakeHttp>(QuickRetry());
  http->Route("POST", kRealm, FakeResponse::Ok(R"({"access_token":"fresh"})"));
  Credentials oauth{"", "", "refresh/token+1"};
  auto auth = MakeBearerAuthenticator(kHost, kRealm, "svc", FixedCredentials(oauth),
                                      TokenTransport{http, QuickRetry()});
  auto h = auth->Authorization("repository:a:pull", false);
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(*h, "Bearer fresh");
  auto sent = http->requests();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].url, kRealm);
  EXPECT_EQ(sent[0].Header("Authorization"), std::nullopt);
  EXPECT_EQ(sent[0].body,
            "service=svc&scope=repository%3Aa%3Apull&grant_type=refresh_token&client_id=hardbase"
            "&refresh_token=refresh%2Ftoken%2B1");
}

TEST(BearerAuthenticatorTest, AChallengeForAnotherRealmStartsOver) {
  auto http = std::make_shared<FakeHttp>(QuickRetry());
  TokenService first(*http);
  http->Route("GET", "http://other.test/token", FakeResponse::Ok(R"({"token":"other"})"));
  auto auth =
      MakeBearerAuthenticator(kHost, kRealm, "registry.test", FixedCredentials(std::nullopt),
                              TokenTransport{http, QuickRetry()});
  EXPECT_EQ(auth->Authorization("s", false).value_or("-"), "Bearer t1");
  ASSERT_TRUE(auth->Challenge(ChallengeOf(kBearerChallenge)));  // the same: the cache stays
  EXPECT_EQ(auth->Authorization("s", false).value_or("-"), "Bearer t1");
  ASSERT_TRUE(auth->Challenge(ChallengeOf("Bearer realm=\"http://other.test/token\"")));
  EXPECT_EQ(auth->Authorization("s", false).value_or("-"), "Bearer other");
  auto basic = auth->Challenge(ChallengeOf("Basic realm=\"r\""));
  ASSERT_THAT(basic, FailsWith(ErrorCode::kAuth));
}

TEST(ChallengeAuthenticatorTest, TheChallengeDecidesTheScheme) {
  auto http = std::make_shared<FakeHttp>(QuickRetry());
  TokenService tokens(*http);
  auto auth = MakeChallengeAuthenticator(kHost, FixedCredentials(kAlice),
                                         TokenTransport{http, QuickRetry()});
  EXPECT_EQ(auth->Authorization("s", false).value_or("x"), std::nullopt);
  ASSERT_TRUE(auth->Challenge(ChallengeOf("Basic realm=\"r\"")));
  EXPECT_EQ(auth->Authorization("s", false).value_or("-"), BasicOf(kAlice));
  // Bearer wins when both are offered, in either order.
  ASSERT_TRUE(auth->Challenge(ChallengeOf(std::string("Basic realm=\"r\", ") + kBearerChallenge)));
  EXPECT_EQ(auth->Authorization("s", false).value_or("-"), "Bearer t1");
  EXPECT_EQ(auth->User().value_or(std::nullopt), "alice");

  net::Response bare;
  bare.status = 401;
  auto no_challenge = auth->Challenge(bare);
  ASSERT_THAT(no_challenge, FailsWith(ErrorCode::kAuth));
  EXPECT_THAT(no_challenge.error().message, HasSubstr("without a WWW-Authenticate"));
  auto unknown = auth->Challenge(ChallengeOf("Negotiate abc=="));
  ASSERT_THAT(unknown, FailsWith(ErrorCode::kAuth));
  EXPECT_THAT(unknown.error().message, HasSubstr("Negotiate"));
  auto malformed = auth->Challenge(ChallengeOf("Bearer realm=\"unterminated"));
  ASSERT_THAT(malformed, FailsWith(ErrorCode::kSpec));
}

TEST(BasicAuthenticatorTest, WithoutCredentialsItAsksForALogin) {
  auto auth = MakeBasicAuthenticator(kHost, FixedCredentials(std::nullopt));
  auto refused = auth->Authorization("", false);
  ASSERT_THAT(refused, FailsWith(ErrorCode::kAuth));
  EXPECT_THAT(refused.error().message, HasSubstr("hardbase login registry.test"));
}

class AuthFileCredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/authenticator-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { (void)RemoveAll(dir_); }
  std::string dir_;
};

TEST_F(AuthFileCredentialsTest, ReadOncePerHostAndMalformedFilesNamed) {
  const std::string file = dir_ + "/auth.json";
  ASSERT_TRUE(WriteFileAtomic(
      file, R"({"auths":{"registry.test":{"auth":")" + Base64Encode("alice:s3cret") + R"("}}})"));
  auto store = AuthFileCredentials(file);
  auto found = store->Find(kHost);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ(**found, kAlice);
  auto other = store->Find("elsewhere.test");
  ASSERT_TRUE(other);
  EXPECT_EQ(*other, std::nullopt);
  // Read once: a later change to the file is not seen by this store.
  ASSERT_TRUE(WriteFileAtomic(file, "{not json"));
  EXPECT_EQ(store->Find(kHost).value_or(std::nullopt), kAlice);
  auto fresh = AuthFileCredentials(file)->Find(kHost);
  ASSERT_THAT(fresh, FailsWith(ErrorCode::kSpec));
  EXPECT_THAT(fresh.error().message, HasSubstr(file));
}

// --- the transport's own retries and resumption with the fake -----------------------------------

TEST(RegistryTransportTest, RetriesFollowThePolicyAndBlobsResumeWithRange) {
  Client c;
  c.http->RouteSequence(
      "GET", std::string(kRegistry) + "/v2/",
      {FakeResponse::Status(503, {{"Retry-After", "0"}}), FakeResponse::Ok("{}")});
  const std::string blob(50000, 'z');
  const std::string digest = "sha256:" + Sha256Hex(blob);
  const std::string url = std::string(kRegistry) + "/v2/app/blobs/" + digest;
  c.http->RouteHandler("GET", url, [&blob, first = true](const RecordedRequest& r) mutable {
    if (first) {  // the connection drops after 20000 bytes
      first = false;
      return FakeResponse::Truncated(blob, 20000);
    }
    EXPECT_EQ(r.Header("Range"), "bytes=20000-");
    return FakeResponse::Status(206, {{"Content-Range", "bytes 20000-49999/50000"}},
                                blob.substr(20000));
  });
  c.Open(std::nullopt);
  std::string got;
  auto fetched = c.registry->GetBlob(
      "app", oci::Descriptor{"application/octet-stream", digest, 50000, std::nullopt, "", {}},
      [&](std::string_view data) -> Result<void> {
        got.append(data);
        return {};
      });
  ASSERT_TRUE(fetched) << fetched.error().message;
  EXPECT_EQ(got, blob);
  EXPECT_EQ(c.registry->stats().retries, 2);  // the ping's 503 and the dropped blob

  // A registry that keeps failing is given up on after max_attempts, with what it said.
  c.http->Route("GET", std::string(kRegistry) + "/v2/app/manifests/v1", FakeResponse::Status(502));
  auto failed = c.registry->GetManifest("app", "v1");
  ASSERT_THAT(failed, FailsWith(ErrorCode::kNetwork));
  EXPECT_THAT(failed.error().message, HasSubstr("HTTP 502"));
  EXPECT_EQ(c.http->Count("GET", std::string(kRegistry) + "/v2/app/manifests/v1"), 3);
}

}  // namespace
}  // namespace hardbase::registry
