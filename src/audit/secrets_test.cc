#include "audit/secrets.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "audit/tools.h"

namespace hardbase::audit {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::string> Kinds(std::string_view path, std::string_view content) {
  std::vector<std::string> out;
  for (const auto& m : FindSecrets(path, content)) out.push_back(m.kind);
  return out;
}

// Tokens are put together here so that this file itself holds none a scanner would report.
std::string Repeat(char c, size_t n) { return std::string(n, c); }

TEST(SecretsTest, FindsPrivateKeysWithKeyMaterialOnly) {
  std::string pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA" + Repeat('x', 40) +
                    "\n-----END RSA PRIVATE KEY-----\n";
  EXPECT_THAT(FindSecrets("root/key.pem", "text\n" + pem),
              ElementsAre(SecretMatch{"private-key", 2}));
  std::string encrypted =
      "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\n" +
      Repeat('A', 64) + "\n";
  EXPECT_THAT(Kinds("k", encrypted), ElementsAre("private-key"));
  std::string openssh =
      "-----BEGIN OPENSSH PRIVATE KEY-----\r\nb3BlbnNzaC1rZXktdjEAAAAA" + Repeat('B', 30) + "\r\n";
  EXPECT_THAT(Kinds("id_ed25519", openssh), ElementsAre("private-key"));
  // In a source file's string literal.
  EXPECT_THAT(
      Kinds("t.py", "KEY = \"-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEF\\n\""),
      ElementsAre("private-key"));
  // Documentation and code that only name the format.
  EXPECT_THAT(Kinds("doc.txt", "a file starting with -----BEGIN RSA PRIVATE KEY----- is a key\n"),
              IsEmpty());
  EXPECT_THAT(Kinds("x.c", "if (strstr(s, \"-----BEGIN PRIVATE KEY-----\")) return 1;\n"),
              IsEmpty());
  EXPECT_THAT(
      Kinds("cert.pem", "-----BEGIN CERTIFICATE-----\nMIIEowIBAAKCAQEA" + Repeat('x', 40) + "\n"),
      IsEmpty());
  // Binary files are not searched.
  EXPECT_THAT(Kinds("lib.so", std::string("\x7f"
                                          "ELF\0",
                                          5) +
                                  pem),
              IsEmpty());
  EXPECT_TRUE(LooksBinary(std::string("a\0b", 3)));
  EXPECT_FALSE(LooksBinary("text"));
}

TEST(SecretsTest, FindsWellKnownTokens) {
  EXPECT_THAT(Kinds("a", "key=AKIA" + Repeat('Q', 16) + "\n"), ElementsAre("aws-access-key"));
  EXPECT_THAT(Kinds("a", "AKIAIOSFODNN7EXAMPLE"), IsEmpty());     // AWS's documentation
  EXPECT_THAT(Kinds("a", "AKIA" + Repeat('Q', 17)), IsEmpty());   // too long
  EXPECT_THAT(Kinds("a", "XAKIA" + Repeat('Q', 16)), IsEmpty());  // inside a word
  EXPECT_THAT(Kinds(".aws/credentials", "aws_secret_access_key = " + Repeat('k', 40) + "\n"),
              ElementsAre("aws-secret-key"));
  EXPECT_THAT(Kinds("a", "token: ghp_" + Repeat('a', 36)), ElementsAre("github-token"));
  EXPECT_THAT(Kinds("a", "ghp_" + Repeat('a', 20)), IsEmpty());
  EXPECT_THAT(Kinds("a", "github_pat_" + Repeat('A', 22) + "_" + Repeat('b', 59)),
              ElementsAre("github-token"));
  EXPECT_THAT(Kinds("a", "glpat-" + Repeat('x', 20)), ElementsAre("gitlab-token"));
  EXPECT_THAT(Kinds("a", "xoxb-1234567890-abcdefghij"), ElementsAre("slack-token"));
  EXPECT_THAT(Kinds("a", "xoxb-abcdefghijkl"), IsEmpty());
  EXPECT_THAT(Kinds("a", "AIza" + Repeat('S', 35)), ElementsAre("google-api-key"));
  EXPECT_THAT(Kinds("a", "npm_" + Repeat('n', 36)), ElementsAre("npm-token"));
  EXPECT_THAT(Kinds("a", "pypi-AgEIcHlwaS5vcmc" + Repeat('p', 60)), ElementsAre("pypi-token"));
  EXPECT_THAT(Kinds("a", "sk_live_" + Repeat('s', 24)), ElementsAre("stripe-key"));
  EXPECT_THAT(Kinds("a", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0." + Repeat('s', 43)),
              ElementsAre("jwt"));
  // One per kind and line; lines counted.
  EXPECT_THAT(FindSecrets("a", "x\nAKIA" + Repeat('Q', 16) + " AKIA" + Repeat('R', 16) +
                                   "\n\nghp_" + Repeat('a', 36)),
              ElementsAre(SecretMatch{"aws-access-key", 2}, SecretMatch{"github-token", 4}));
}

TEST(SecretsTest, ReadsCredentialFilesByName) {
  EXPECT_THAT(FindSecrets("root/.netrc", "machine h login u password hunter2\n"),
              ElementsAre(SecretMatch{"password", 1}));
  EXPECT_THAT(Kinds("root/.netrc", "machine h login u\n"), IsEmpty());
  EXPECT_THAT(Kinds("home/u/.pypirc", "[pypi]\nusername = u\npassword = s3cret\n"),
              ElementsAre("password"));
  EXPECT_THAT(Kinds("app/.env", "# DB_PASSWORD=x\nDEBUG=1\nexport DB_PASSWORD=\"pw\"\n"),
              ElementsAre("password"));
  EXPECT_THAT(Kinds("app/.env", "DB_PASSWORD=\nAPI_TOKEN=${FROM_VAULT}\n"), IsEmpty());
  EXPECT_THAT(Kinds("app/.npmrc", "//registry.example/:_authToken=abc123\n"),
              ElementsAre("npm-credentials"));
  EXPECT_THAT(Kinds("root/.docker/config.json", R"({"auths":{"r":{"auth":"dTpw"}}})"),
              ElementsAre("docker-auth"));
  EXPECT_THAT(Kinds("root/.docker/config.json", R"({"auths":{"r":{"auth":""}}})"), IsEmpty());
  EXPECT_THAT(Kinds("root/.git-credentials", "https://u:tok@git.example\n"),
              ElementsAre("git-credentials"));
  EXPECT_THAT(Kinds("root/.pgpass", "db:5432:*:app:pw\n"), ElementsAre("password"));
  // Not credential files: a password= line elsewhere is not reported.
  EXPECT_THAT(Kinds("etc/app.conf", "password = changeme\n"), IsEmpty());
}

TEST(SecretsTest, NamesSecretVariables) {
  EXPECT_TRUE(IsSecretName("AWS_SECRET_ACCESS_KEY"));
  EXPECT_TRUE(IsSecretName("db_password"));
  EXPECT_TRUE(IsSecretName("NODE_AUTH_TOKEN"));
  EXPECT_FALSE(IsSecretName("POSTGRES_PASSWORD_FILE"));
  EXPECT_FALSE(IsSecretName("GPG_KEY"));
  EXPECT_FALSE(IsSecretName("PATH"));
  EXPECT_THAT(SecretEnvNames({"PATH=/usr/bin", "DB_PASSWORD=hunter2",
                              "EMPTY_TOKEN=", "AWS_SECRET_ACCESS_KEY=" + Repeat('k', 40),
                              "GH=ghp_" + Repeat('a', 36), "DB_PASSWORD=again",
                              "PASSWORD_FILE=/run/secrets/pw"}),
              ElementsAre("DB_PASSWORD", "AWS_SECRET_ACCESS_KEY", "GH"));
}

TEST(ToolsTest, ClassifiesByFileNameWithVersionsAndTargets) {
  EXPECT_EQ(ClassifyTool("bash"), ToolKind::kShell);
  EXPECT_EQ(ClassifyTool("busybox"), ToolKind::kShell);
  EXPECT_EQ(ClassifyTool("apt-get"), ToolKind::kPackageManager);
  EXPECT_EQ(ClassifyTool("npm"), ToolKind::kPackageManager);
  EXPECT_EQ(ClassifyTool("pip3.11"), ToolKind::kPackageManager);
  EXPECT_EQ(ClassifyTool("pip3"), ToolKind::kPackageManager);
  EXPECT_EQ(ClassifyTool("gcc-12"), ToolKind::kCompiler);
  EXPECT_EQ(ClassifyTool("x86_64-linux-gnu-gcc-12"), ToolKind::kCompiler);
  EXPECT_EQ(ClassifyTool("aarch64-linux-gnu-ld.bfd"), ToolKind::kCompiler);
  EXPECT_EQ(ClassifyTool("clang-14"), ToolKind::kCompiler);
  EXPECT_EQ(ClassifyTool("g++"), ToolKind::kCompiler);
  EXPECT_EQ(ClassifyTool("strace"), ToolKind::kDebugger);
  EXPECT_EQ(ClassifyTool("nc.openbsd"), ToolKind::kNetworkTool);
  EXPECT_EQ(ClassifyTool("curl"), ToolKind::kNetworkTool);
  for (std::string_view other : {"ls", "base64", "python3", "python3.11", "sha256sum", "x86_64",
                                 "ssh-keygen", "java", "node", "shred", "i386"}) {
    EXPECT_EQ(ClassifyTool(other), std::nullopt) << other;
  }
  for (ToolKind kind : ToolKinds()) {
    for (std::string_view name : ToolNames(kind)) EXPECT_EQ(ClassifyTool(name), kind) << name;
  }
}

}  // namespace
}  // namespace hardbase::audit
