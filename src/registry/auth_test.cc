#include "registry/auth.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/base64.h"
#include "base/fs.h"
#include "support/result_matchers.h"

namespace hardbase::registry {
namespace {

using ::hardbase::testing::FailsWith;

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using Params = std::map<std::string, std::string>;

// ---- WWW-Authenticate --------------------------------------------------------------------------

std::vector<Challenge> MustParse(std::string_view header) {
  auto parsed = ParseWwwAuthenticate(header);
  EXPECT_TRUE(parsed) << header << ": " << parsed.error().message;
  return parsed ? *parsed : std::vector<Challenge>{};
}

TEST(ParseWwwAuthenticateTest, BearerWithScopeListInQuotes) {
  EXPECT_THAT(MustParse(R"(Bearer realm="https://auth.example/token",service="registry.example",)"
                        R"(scope="repository:a:pull,push")"),
              ElementsAre(Challenge{"bearer",
                                    {{"realm", "https://auth.example/token"},
                                     {"service", "registry.example"},
                                     {"scope", "repository:a:pull,push"}}}));
}

TEST(ParseWwwAuthenticateTest, Basic) {
  EXPECT_THAT(MustParse(R"(Basic realm="Registry Realm")"),
              ElementsAre(Challenge{"basic", {{"realm", "Registry Realm"}}}));
  EXPECT_THAT(MustParse("Basic"), ElementsAre(Challenge{"basic", {}}));
}

TEST(ParseWwwAuthenticateTest, LowercasesSchemeAndNamesNotValues) {
  EXPECT_THAT(
      MustParse(R"(BEARER Realm="HTTPS://Auth/Token", SERVICE=Reg)"),
      ElementsAre(Challenge{"bearer", {{"realm", "HTTPS://Auth/Token"}, {"service", "Reg"}}}));
}

TEST(ParseWwwAuthenticateTest, TokenValuesAndWhitespaceAroundEquals) {
  EXPECT_THAT(
      MustParse("Bearer realm = https , service\t=\t\"x y\"  ,  error=insufficient_scope"),
      ElementsAre(Challenge{
          "bearer", {{"realm", "https"}, {"service", "x y"}, {"error", "insufficient_scope"}}}));
}

TEST(ParseWwwAuthenticateTest, BackslashEscapesAreUndone) {
  EXPECT_THAT(MustParse(R"(Basic realm="a \"quoted\" \\ back\slash")"),
              ElementsAre(Challenge{"basic", {{"realm", R"(a "quoted" \ backslash)"}}}));
}

TEST(ParseWwwAuthenticateTest, EmptyQuotedValue) {
  EXPECT_THAT(MustParse(R"(Bearer realm="")"), ElementsAre(Challenge{"bearer", {{"realm", ""}}}));
}

TEST(ParseWwwAuthenticateTest, SeveralChallenges) {
  EXPECT_THAT(
      MustParse(
          R"(Basic realm="b, with comma", Bearer realm="https://t",scope="repository:x:pull",)"
          R"( Newauth realm="apps", type=1, title="Login to \"apps\"")"),
      ElementsAre(Challenge{"basic", {{"realm", "b, with comma"}}},
                  Challenge{"bearer", {{"realm", "https://t"}, {"scope", "repository:x:pull"}}},
                  Challenge{"newauth",
                            {{"realm", "apps"}, {"type", "1"}, {"title", R"(Login to "apps")"}}}));
}

TEST(ParseWwwAuthenticateTest, SchemesWithoutParametersAndEmptyListElements) {
  EXPECT_THAT(MustParse(" , Negotiate,, Basic realm=x ,"),
              ElementsAre(Challenge{"negotiate", {}}, Challenge{"basic", {{"realm", "x"}}}));
}

TEST(ParseWwwAuthenticateTest, Token68IsAcceptedAndNotKept) {
  EXPECT_THAT(MustParse("Negotiate YII/abc+==, Bearer realm=r"),
              ElementsAre(Challenge{"negotiate", {}}, Challenge{"bearer", {{"realm", "r"}}}));
}

TEST(ParseWwwAuthenticateTest, RepeatedParameterFirstWins) {
  EXPECT_THAT(MustParse("Bearer realm=a, realm=b"),
              ElementsAre(Challenge{"bearer", {{"realm", "a"}}}));
}

TEST(ParseWwwAuthenticateTest, EmptyHeaderHasNoChallenges) {
  EXPECT_THAT(MustParse(""), ElementsAre());
  EXPECT_THAT(MustParse("  "), ElementsAre());
}

TEST(ParseWwwAuthenticateTest, RejectsMalformed) {
  for (std::string_view header : {
           R"(Bearer realm="unterminated)",
           R"(Bearer realm="ends in backslash\)",
           R"(Bearer ="no name")",
           R"(Bearer realm="a", ="no name")",
           R"(="x")",
           R"(realm="before any scheme")",
           R"(Bearer realm=)"
           R"(, service=x)",
           R"(Bearer realm="a" service="b")",
           R"(Bearer realm="a"x)",
           R"(Bearer"x")",
           "Bearer realm=a b",
           "Basic Bearer realm=x",
           "Bearer realm=@",
           "(",
       }) {
    auto parsed = ParseWwwAuthenticate(header);
    ASSERT_THAT(parsed, FailsWith(ErrorCode::kSpec)) << header;
    EXPECT_THAT(parsed.error().message, HasSubstr("WWW-Authenticate")) << header;
  }
}

// ---- token responses ---------------------------------------------------------------------------

TEST(ParseTokenResponseTest, Token) {
  auto token = ParseTokenResponse(R"({"token":"abc","expires_in":300,"issued_at":"2024"})");
  ASSERT_TRUE(token) << token.error().message;
  EXPECT_EQ(token->token, "abc");
  EXPECT_EQ(token->expires_in, std::chrono::seconds(300));
}

TEST(ParseTokenResponseTest, DeepOrHugeAnswerIsRefusedBeforeParsing) {
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  auto token = ParseTokenResponse(deep);
  ASSERT_THAT(token, FailsWith(ErrorCode::kSpec));
  EXPECT_EQ(token.error().message, "token response: JSON nested deeper than 16 levels");
  std::string huge = R"({"token":")" + std::string(kMaxTokenResponseBytes, 'a') + R"("})";
  token = ParseTokenResponse(huge);
  ASSERT_FALSE(token);
  EXPECT_THAT(token.error().message, ::testing::HasSubstr("is larger than"));
  // Brackets inside the token do not count as nesting.
  token = ParseTokenResponse(R"({"token":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[","expires_in":300})");
  ASSERT_TRUE(token) << token.error().message;
}

TEST(ParseTokenResponseTest, AccessToken) {
  auto token = ParseTokenResponse(R"({"access_token":"xyz","expires_in":3600})");
  ASSERT_TRUE(token) << token.error().message;
  EXPECT_EQ(token->token, "xyz");
  EXPECT_EQ(token->expires_in, std::chrono::seconds(3600));
}

TEST(ParseTokenResponseTest, TokenWinsOverAccessToken) {
  auto token = ParseTokenResponse(R"({"access_token":"second","token":"first"})");
  ASSERT_TRUE(token);
  EXPECT_EQ(token->token, "first");
  token = ParseTokenResponse(R"({"token":"","access_token":"second"})");
  ASSERT_TRUE(token);
  EXPECT_EQ(token->token, "second");
}

TEST(ParseTokenResponseTest, ExpiresInDefaultsAndMinimum) {
  for (std::string_view body :
       {R"({"token":"t"})", R"({"token":"t","expires_in":null})", R"({"token":"t","expires_in":0})",
        R"({"token":"t","expires_in":59})", R"({"token":"t","expires_in":-5})",
        R"({"token":"t","expires_in":1.5})"}) {
    auto token = ParseTokenResponse(body);
    ASSERT_TRUE(token) << body;
    EXPECT_EQ(token->expires_in, std::chrono::seconds(60)) << body;
  }
  auto token = ParseTokenResponse(R"({"token":"t","expires_in":61})");
  ASSERT_TRUE(token);
  EXPECT_EQ(token->expires_in, std::chrono::seconds(61));
  token = ParseTokenResponse(R"({"token":"t","expires_in":90.9})");
  ASSERT_TRUE(token);
  EXPECT_EQ(token->expires_in, std::chrono::seconds(90));
}

TEST(ParseTokenResponseTest, HugeExpiresInDoesNotOverflow) {
  for (std::string_view body : {R"({"token":"t","expires_in":18446744073709551615})",
                                R"({"token":"t","expires_in":1e300})"}) {
    auto token = ParseTokenResponse(body);
    ASSERT_TRUE(token) << body;
    EXPECT_GT(token->expires_in, std::chrono::hours(24 * 365 * 1000)) << body;
  }
}

TEST(ParseTokenResponseTest, RejectsBadAnswers) {
  for (std::string_view body :
       {"", "not json", "<html>401</html>", "[]", "\"token\"", "{}", R"({"token":""})",
        R"({"token":null})", R"({"token":5})", R"({"access_token":["a"]})",
        R"({"token":"t","expires_in":"300"})", R"({"token":"secret-value")"}) {
    auto token = ParseTokenResponse(body);
    ASSERT_THAT(token, FailsWith(ErrorCode::kSpec)) << body;
    EXPECT_THAT(token.error().message, HasSubstr("token response")) << body;
    EXPECT_THAT(token.error().message, Not(HasSubstr("secret-value"))) << body;
  }
}

// ---- --creds -----------------------------------------------------------------------------------

TEST(ParseCredsFlagTest, SplitsAtFirstColon) {
  auto creds = ParseCredsFlag("user:pa:ss:");
  ASSERT_TRUE(creds);
  EXPECT_EQ(*creds, (Credentials{"user", "pa:ss:", ""}));
  creds = ParseCredsFlag("user:");
  ASSERT_TRUE(creds);
  EXPECT_EQ(*creds, (Credentials{"user", "", ""}));
}

TEST(ParseCredsFlagTest, RejectsEmptyUserAndMissingColon) {
  for (std::string_view text : {":secret-pw", "secret-pw", ""}) {
    auto creds = ParseCredsFlag(text);
    ASSERT_THAT(creds, FailsWith(ErrorCode::kUsage)) << text;
    EXPECT_THAT(creds.error().message, Not(HasSubstr("secret-pw")));
  }
}

// ---- FindCredentials ---------------------------------------------------------------------------

std::string AuthsWith(std::string_view key, std::string_view entry) {
  return std::string(R"({"auths":{")") + std::string(key) + "\":" + std::string(entry) + "}}";
}

std::optional<Credentials> MustFind(std::string_view config, std::string_view host) {
  auto found = FindCredentials(config, host);
  EXPECT_TRUE(found) << config << ": " << found.error().message;
  return found ? *found : std::nullopt;
}

TEST(FindCredentialsTest, EveryKeySpelling) {
  const std::string auth = R"({"auth":")" + Base64Encode("user:pw") + "\"}";
  for (std::string_view key :
       {"127.0.0.1:5000", "https://127.0.0.1:5000", "http://127.0.0.1:5000/v1/",
        "127.0.0.1:5000/some/path", "HTTPS://127.0.0.1:5000/v2/"}) {
    EXPECT_EQ(MustFind(AuthsWith(key, auth), "127.0.0.1:5000"), (Credentials{"user", "pw", ""}))
        << key;
  }
  for (std::string_view key : {"docker.io", "index.docker.io", "registry-1.docker.io",
                               "https://index.docker.io/v1/", "https://registry-1.docker.io"}) {
    for (std::string_view host : {"docker.io", "index.docker.io", "registry-1.docker.io"}) {
      EXPECT_EQ(MustFind(AuthsWith(key, auth), host), (Credentials{"user", "pw", ""}))
          << key << " " << host;
    }
  }
}

TEST(FindCredentialsTest, OtherHostsDoNotMatch) {
  const std::string auth = R"({"auth":")" + Base64Encode("user:pw") + "\"}";
  for (std::string_view key :
       {"127.0.0.1:5001", "127.0.0.1", "x127.0.0.1:5000", "quay.io", "https://127.0.0.1:50001/"}) {
    EXPECT_EQ(MustFind(AuthsWith(key, auth), "127.0.0.1:5000"), std::nullopt) << key;
  }
  EXPECT_EQ(MustFind(AuthsWith("quay.io", auth), "docker.io"), std::nullopt);
  EXPECT_EQ(MustFind(AuthsWith("docker.io", auth), "ghcr.io"), std::nullopt);
}

TEST(FindCredentialsTest, UsernamePasswordForm) {
  EXPECT_EQ(MustFind(AuthsWith("reg", R"({"username":"u","password":"p:q"})"), "reg"),
            (Credentials{"u", "p:q", ""}));
}

TEST(FindCredentialsTest, AuthWinsOverUsernamePassword) {
  std::string entry = R"({"auth":")" + Base64Encode("a:b") + R"(","username":"u","password":"p"})";
  EXPECT_EQ(MustFind(AuthsWith("reg", entry), "reg"), (Credentials{"a", "b", ""}));
}

TEST(FindCredentialsTest, IdentityToken) {
  std::string entry = R"({"auth":")" + Base64Encode("u:") + R"(","identitytoken":"refresh"})";
  EXPECT_EQ(MustFind(AuthsWith("reg", entry), "reg"), (Credentials{"u", "", "refresh"}));
  EXPECT_EQ(MustFind(AuthsWith("reg", R"({"identitytoken":"only"})"), "reg"),
            (Credentials{"", "", "only"}));
}

TEST(FindCredentialsTest, PasswordWithColons) {
  std::string entry = R"({"auth":")" + Base64Encode("user:pa:ss:word") + "\"}";
  EXPECT_EQ(MustFind(AuthsWith("reg", entry), "reg"), (Credentials{"user", "pa:ss:word", ""}));
}

TEST(FindCredentialsTest, AuthWithoutPadding) {
  // base64("user:p") = "dXNlcjpw" (no padding), base64("user:pw") = "dXNlcjpwdw==".
  EXPECT_EQ(MustFind(AuthsWith("reg", R"({"auth":"dXNlcjpwdw"})"), "reg"),
            (Credentials{"user", "pw", ""}));
  EXPECT_EQ(MustFind(AuthsWith("reg", R"({"auth":"dXNlcjpwdw=="})"), "reg"),
            (Credentials{"user", "pw", ""}));
  EXPECT_EQ(MustFind(AuthsWith("reg", R"({"auth":"dXNlcjpwd3g"})"), "reg"),
            (Credentials{"user", "pwx", ""}));
}

TEST(FindCredentialsTest, EntriesWithoutCredentialsAreNoEntry) {
  // What docker writes when a credsStore holds the secret.
  EXPECT_EQ(MustFind(R"({"auths":{"reg":{}},"credsStore":"desktop"})", "reg"), std::nullopt);
  EXPECT_EQ(MustFind(AuthsWith("reg", R"({"auth":""})"), "reg"), std::nullopt);
  EXPECT_EQ(MustFind(AuthsWith("reg", R"({"email":"a@b"})"), "reg"), std::nullopt);
}

TEST(FindCredentialsTest, ExactKeyPreferredThenAnyOtherSpellingWithCredentials) {
  std::string config = R"({"auths":{"https://reg/v1/":{"auth":")" + Base64Encode("old:1") +
                       R"("},"reg":{"auth":")" + Base64Encode("new:2") + R"("}}})";
  EXPECT_EQ(MustFind(config, "reg"), (Credentials{"new", "2", ""}));
  config = R"({"auths":{"reg":{},"https://reg":{"username":"u","password":"p"}}})";
  EXPECT_EQ(MustFind(config, "reg"), (Credentials{"u", "p", ""}));
}

TEST(FindCredentialsTest, NoEntry) {
  EXPECT_EQ(MustFind("", "reg"), std::nullopt);
  EXPECT_EQ(MustFind("{}", "reg"), std::nullopt);
  EXPECT_EQ(MustFind(R"({"auths":{}})", "reg"), std::nullopt);
  EXPECT_EQ(MustFind(R"({"auths":null,"credHelpers":{"reg":"ecr-login"}})", "reg"), std::nullopt);
}

TEST(FindCredentialsTest, RejectsMalformedFilesWithoutLeakingSecrets) {
  for (std::string config : {
           std::string("not json"),
           std::string("[]"),
           std::string(R"({"auths":[]})"),
           std::string(R"({"auths":{"reg":"c2VjcmV0LXB3"}})"),
           std::string(R"({"auths":{"reg":{"auth":5}}})"),
           std::string(R"({"auths":{"reg":{"username":["u"]}}})"),
           std::string(R"({"auths":{"reg":{"identitytoken":true}}})"),
           AuthsWith("reg", R"({"auth":"!!!not-base64"})"),
           AuthsWith("reg", R"({"auth":"d"})"),  // one character: cannot be base64
           AuthsWith("reg", R"({"auth":")" + Base64Encode("secret-pw-no-colon") + "\"}"),
           std::string(R"({"auths":{"reg":{"auth":"secret-pw)"),
       }) {
    auto found = FindCredentials(config, "reg");
    ASSERT_THAT(found, FailsWith(ErrorCode::kSpec)) << config;
    EXPECT_THAT(found.error().message, Not(HasSubstr("secret-pw"))) << config;
    EXPECT_THAT(found.error().message, Not(HasSubstr("c2VjcmV0LXB3"))) << config;
  }
}

TEST(FindCredentialsTest, MalformedEntriesOfOtherHostsAreIgnored) {
  std::string config =
      R"({"auths":{"other":"junk","reg":{"auth":")" + Base64Encode("u:p") + "\"}}}";
  EXPECT_EQ(MustFind(config, "reg"), (Credentials{"u", "p", ""}));
}

// ---- WithCredentials / WithoutCredentials ------------------------------------------------------

nlohmann::json MustJson(const std::string& text) {
  auto doc = nlohmann::json::parse(text, nullptr, false);
  EXPECT_FALSE(doc.is_discarded()) << text;
  return doc;
}

TEST(WithCredentialsTest, NewFile) {
  auto out = WithCredentials("", "127.0.0.1:5000", Credentials{"user", "pa:ss", ""});
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(MustJson(*out), MustJson(R"({"auths":{"127.0.0.1:5000":{"auth":")" +
                                     Base64Encode("user:pa:ss") + "\"}}}"));
  EXPECT_EQ(MustFind(*out, "127.0.0.1:5000"), (Credentials{"user", "pa:ss", ""}));
}

TEST(WithCredentialsTest, KeepsOtherKeysAndHostsAndReplacesOtherSpellings) {
  std::string config = R"({
    "credsStore": "desktop",
    "credHelpers": {"123.dkr.ecr.us-east-1.amazonaws.com": "ecr-login"},
    "auths": {
      "quay.io": {"auth": "cTp4"},
      "https://reg.example/v1/": {"auth": "b2xkOm9sZA==", "email": "a@b"},
      "reg.example/path": {"username": "old", "password": "old"},
      "REG.EXAMPLE": {}
    },
    "proxies": {"default": {"httpProxy": "http://proxy:3128"}},
    "experimental": "enabled"
  })";
  auto out = WithCredentials(config, "reg.example", Credentials{"new", "pw", "tok"});
  ASSERT_TRUE(out) << out.error().message;
  auto doc = MustJson(*out);
  auto expected = MustJson(config);
  expected["auths"] = MustJson(R"({"quay.io":{"auth":"cTp4"},"reg.example":{"auth":")" +
                               Base64Encode("new:pw") + R"(","identitytoken":"tok"}})");
  EXPECT_EQ(doc, expected);
  EXPECT_EQ(MustFind(*out, "https://reg.example"), (Credentials{"new", "pw", "tok"}));
  // The members keep their order.
  EXPECT_LT(out->find("credsStore"), out->find("credHelpers"));
  EXPECT_LT(out->find("proxies"), out->find("experimental"));
}

TEST(WithCredentialsTest, DockerHubUsesDockersKey) {
  auto out = WithCredentials(R"({"auths":{"docker.io":{"auth":"eDp5"}}})", "registry-1.docker.io",
                             Credentials{"u", "p", ""});
  ASSERT_TRUE(out);
  EXPECT_EQ(MustJson(*out), MustJson(R"({"auths":{"https://index.docker.io/v1/":{"auth":")" +
                                     Base64Encode("u:p") + "\"}}}"));
  EXPECT_EQ(MustFind(*out, "docker.io"), (Credentials{"u", "p", ""}));
}

TEST(WithCredentialsTest, IdentityTokenOnly) {
  auto out = WithCredentials("{}", "reg", Credentials{"", "", "refresh"});
  ASSERT_TRUE(out);
  EXPECT_EQ(MustJson(*out), MustJson(R"({"auths":{"reg":{"identitytoken":"refresh"}}})"));
  EXPECT_EQ(MustFind(*out, "reg"), (Credentials{"", "", "refresh"}));
}

TEST(WithCredentialsTest, RejectsMalformedFiles) {
  for (std::string_view config : {"{", "[1]", R"({"auths":"x"})", R"({"auths":[]})"}) {
    auto out = WithCredentials(config, "reg", Credentials{"u", "secret-pw", ""});
    ASSERT_THAT(out, FailsWith(ErrorCode::kSpec)) << config;
    EXPECT_THAT(out.error().message, Not(HasSubstr("secret-pw")));
  }
}

TEST(WithoutCredentialsTest, RemovesEverySpellingAndKeepsTheRest) {
  std::string config = R"({"credHelpers":{"x":"y"},"auths":{"reg":{"auth":"YTpi"},)"
                       R"("https://reg/v1/":{"auth":"YTpi"},"other":{"auth":"YTpi"}}})";
  bool removed = false;
  auto out = WithoutCredentials(config, "reg", &removed);
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_TRUE(removed);
  EXPECT_EQ(MustJson(*out),
            MustJson(R"({"credHelpers":{"x":"y"},"auths":{"other":{"auth":"YTpi"}}})"));
  EXPECT_EQ(MustFind(*out, "reg"), std::nullopt);
}

TEST(WithoutCredentialsTest, NothingToRemoveLeavesTextUnchanged) {
  for (std::string_view config :
       {"", "{ }", R"({"auths":{"other":{}}})", R"({"credsStore":"x"})"}) {
    bool removed = true;
    auto out = WithoutCredentials(config, "reg", &removed);
    ASSERT_TRUE(out) << config;
    EXPECT_FALSE(removed);
    EXPECT_EQ(*out, config);
  }
  auto out = WithoutCredentials("{}", "reg", nullptr);
  EXPECT_TRUE(out);
}

TEST(WithoutCredentialsTest, RejectsMalformedFiles) {
  bool removed = true;
  auto out = WithoutCredentials(R"({"auths":5})", "reg", &removed);
  ASSERT_THAT(out, FailsWith(ErrorCode::kSpec));
  EXPECT_FALSE(removed);
}

// ---- files -------------------------------------------------------------------------------------

// Sets (or, with nullopt, unsets) an environment variable for the lifetime of the object.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    Set(value);
  }
  ~ScopedEnv() { Set(old_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  void Set(const std::optional<std::string>& value) {
    if (value) {
      ::setenv(name_, value->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  const char* name_;
  std::optional<std::string> old_;
};

int Mode(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return static_cast<int>(st.st_mode & 07777);
}

class AuthFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("auth-test-");
    ASSERT_TRUE(dir);
    dir_.emplace(std::move(*dir));
  }
  std::string Path(const std::string& name) const { return dir_->path() + "/" + name; }

  std::optional<TempDir> dir_;
  // No test may read or write the real ~/.docker/config.json.
  ScopedEnv registry_auth_file_{"REGISTRY_AUTH_FILE", std::nullopt};
  ScopedEnv docker_config_{"DOCKER_CONFIG", "/nonexistent-hardbase-test"};
};

TEST_F(AuthFileTest, Candidates) {
  EXPECT_THAT(AuthFileCandidates("/x/auth.json"), ElementsAre("/x/auth.json"));
  EXPECT_THAT(AuthFileCandidates(""), ElementsAre("/nonexistent-hardbase-test/config.json"));
  EXPECT_EQ(AuthFileForWriting(""), "/nonexistent-hardbase-test/config.json");
  EXPECT_EQ(AuthFileForWriting("/x/auth.json"), "/x/auth.json");
  {
    ScopedEnv env("REGISTRY_AUTH_FILE", "/r/auth.json");
    EXPECT_THAT(AuthFileCandidates(""),
                ElementsAre("/r/auth.json", "/nonexistent-hardbase-test/config.json"));
    EXPECT_THAT(AuthFileCandidates("/x/auth.json"), ElementsAre("/x/auth.json"));
    EXPECT_EQ(AuthFileForWriting(""), "/r/auth.json");
  }
  {
    ScopedEnv docker("DOCKER_CONFIG", std::nullopt);
    ScopedEnv home("HOME", "/home/someone");
    EXPECT_THAT(AuthFileCandidates(""), ElementsAre("/home/someone/.docker/config.json"));
    EXPECT_EQ(AuthFileForWriting(""), "/home/someone/.docker/config.json");
  }
}

TEST_F(AuthFileTest, StoreLoadRemoveWithExplicitFile) {
  std::string file = Path("new/sub/auth.json");
  EXPECT_EQ(LoadCredentials("reg:5000", file).value(), std::nullopt);
  auto stored = StoreCredentials("reg:5000", Credentials{"u", "p:w", ""}, file);
  ASSERT_TRUE(stored) << stored.error().message;
  EXPECT_EQ(*stored, file);
  EXPECT_EQ(Mode(file), 0600);
  EXPECT_EQ(Mode(Path("new/sub")), 0700);
  EXPECT_EQ(Mode(Path("new")), 0700);
  EXPECT_EQ(LoadCredentials("https://reg:5000/", file).value(), (Credentials{"u", "p:w", ""}));

  ASSERT_TRUE(StoreCredentials("other", Credentials{"o", "q", ""}, file));
  ASSERT_TRUE(StoreCredentials("reg:5000", Credentials{"u2", "p2", "tok"}, file));
  EXPECT_EQ(LoadCredentials("reg:5000", file).value(), (Credentials{"u2", "p2", "tok"}));
  EXPECT_EQ(LoadCredentials("other", file).value(), (Credentials{"o", "q", ""}));

  EXPECT_EQ(RemoveCredentials("reg:5000", file).value(), true);
  EXPECT_EQ(RemoveCredentials("reg:5000", file).value(), false);
  EXPECT_EQ(LoadCredentials("reg:5000", file).value(), std::nullopt);
  EXPECT_EQ(LoadCredentials("other", file).value(), (Credentials{"o", "q", ""}));
  EXPECT_EQ(Mode(file), 0600);
  EXPECT_EQ(RemoveCredentials("reg", Path("missing.json")).value(), false);
  EXPECT_FALSE(PathExists(Path("missing.json")));
}

TEST_F(AuthFileTest, StoreKeepsTheRestOfAnExistingFile) {
  std::string file = Path("config.json");
  ASSERT_TRUE(WriteFileAtomic(file, R"({"credHelpers":{"gcr.io":"gcloud"},"auths":{}})", 0644));
  ASSERT_TRUE(StoreCredentials("reg", Credentials{"u", "p", ""}, file));
  auto text = ReadFile(file);
  ASSERT_TRUE(text);
  auto doc = MustJson(*text);
  EXPECT_EQ(doc["credHelpers"], MustJson(R"({"gcr.io":"gcloud"})"));
  EXPECT_EQ(Mode(file), 0600);
}

TEST_F(AuthFileTest, RegistryAuthFileVariable) {
  std::string file = Path("containers/auth.json");
  ScopedEnv env("REGISTRY_AUTH_FILE", file);
  auto stored = StoreCredentials("reg", Credentials{"u", "p", ""}, "");
  ASSERT_TRUE(stored) << stored.error().message;
  EXPECT_EQ(*stored, file);
  EXPECT_EQ(Mode(file), 0600);
  EXPECT_EQ(Mode(Path("containers")), 0700);
  EXPECT_EQ(LoadCredentials("reg", "").value(), (Credentials{"u", "p", ""}));
  EXPECT_EQ(RemoveCredentials("reg", "").value(), true);
  EXPECT_EQ(LoadCredentials("reg", "").value(), std::nullopt);
}

TEST_F(AuthFileTest, DockerConfigVariable) {
  ScopedEnv env("DOCKER_CONFIG", Path("docker"));
  auto stored = StoreCredentials("reg", Credentials{"u", "p", ""}, "");
  ASSERT_TRUE(stored) << stored.error().message;
  EXPECT_EQ(*stored, Path("docker/config.json"));
  EXPECT_EQ(Mode(Path("docker")), 0700);
  EXPECT_EQ(Mode(Path("docker/config.json")), 0600);
  EXPECT_EQ(LoadCredentials("reg", "").value(), (Credentials{"u", "p", ""}));
}

TEST_F(AuthFileTest, LoadSearchesTheCandidatesInOrder) {
  ScopedEnv docker("DOCKER_CONFIG", Path("docker"));
  ScopedEnv env("REGISTRY_AUTH_FILE", Path("auth.json"));
  ASSERT_TRUE(StoreCredentials("both", Credentials{"docker", "1", ""}, Path("docker/config.json")));
  ASSERT_TRUE(
      StoreCredentials("only-docker", Credentials{"d", "2", ""}, Path("docker/config.json")));
  // $REGISTRY_AUTH_FILE does not exist yet: skipped.
  EXPECT_EQ(LoadCredentials("both", "").value(), (Credentials{"docker", "1", ""}));
  ASSERT_TRUE(StoreCredentials("both", Credentials{"podman", "3", ""}, ""));
  EXPECT_EQ(LoadCredentials("both", "").value(), (Credentials{"podman", "3", ""}));
  EXPECT_EQ(LoadCredentials("only-docker", "").value(), (Credentials{"d", "2", ""}));
  EXPECT_EQ(LoadCredentials("nowhere", "").value(), std::nullopt);
  // An explicit file is the only one searched.
  EXPECT_EQ(LoadCredentials("only-docker", Path("auth.json")).value(), std::nullopt);
}

TEST_F(AuthFileTest, MalformedFileIsNamed) {
  std::string file = Path("auth.json");
  ASSERT_TRUE(WriteFileAtomic(file, R"({"auths":{"reg":{"auth":"c2VjcmV0LXB3)", 0600));
  for (auto error : {LoadCredentials("reg", file).error(),
                     StoreCredentials("reg", Credentials{"u", "p", ""}, file).error(),
                     RemoveCredentials("reg", file).error()}) {
    EXPECT_EQ(error.code, ErrorCode::kSpec);
    EXPECT_THAT(error.message, HasSubstr(file));
    EXPECT_THAT(error.message, Not(HasSubstr("c2VjcmV0LXB3")));
  }
  // The malformed file was left alone.
  EXPECT_EQ(ReadFile(file).value(), R"({"auths":{"reg":{"auth":"c2VjcmV0LXB3)");
}

TEST_F(AuthFileTest, MalformedEntryIsNamed) {
  std::string file = Path("auth.json");
  ASSERT_TRUE(WriteFileAtomic(file, R"({"auths":{"reg":{"auth":"bm9jb2xvbg=="}}})", 0600));
  auto loaded = LoadCredentials("reg", file);
  ASSERT_THAT(loaded, FailsWith(ErrorCode::kSpec));
  EXPECT_THAT(loaded.error().message, HasSubstr(file));
  EXPECT_THAT(loaded.error().message, HasSubstr("\"reg\""));
}

}  // namespace
}  // namespace hardbase::registry
