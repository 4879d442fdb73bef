#include "spec/path_checks.h"

#include <gtest/gtest.h>

#include <string>

#include "support/result_matchers.h"

namespace hardbase::spec {
namespace {

using ::hardbase::testing::FailsWith;

std::string RepositoryPathError(std::string_view filename) {
  auto r = CheckRepositoryPath(filename);
  if (r) return "(accepted)";
  EXPECT_THAT(r, FailsWith(ErrorCode::kSpec));
  return r.error().message;
}

TEST(CheckRepositoryPathTest, AcceptsWhatDebianRepositoriesWrite) {
  for (std::string_view f :
       {"pool/main/h/hello/hello_2.10-3_amd64.deb",
        "pool/main/libx/libxml2/libxml2_2.9.14+dfsg-1.3~deb12u1_amd64.deb",
        "pool/updates/main/o/openssl/libssl3_3.0.15-1~deb12u1_arm64.deb", "x.deb"}) {
    EXPECT_TRUE(CheckRepositoryPath(f)) << f;
  }
}

TEST(CheckRepositoryPathTest, RefusesEveryWayOut) {
  EXPECT_EQ(RepositoryPathError(""), "repository path '' is empty");
  EXPECT_EQ(RepositoryPathError("/etc/passwd"), "repository path '/etc/passwd' is absolute");
  EXPECT_EQ(RepositoryPathError("pool/../../etc/passwd"),
            "repository path 'pool/../../etc/passwd' has a '..' component");
  EXPECT_EQ(RepositoryPathError(".."), "repository path '..' has a '..' component");
  EXPECT_EQ(RepositoryPathError("pool/./x.deb"),
            "repository path 'pool/./x.deb' has a '.' component");
  EXPECT_EQ(RepositoryPathError("pool//x.deb"),
            "repository path 'pool//x.deb' has an empty component");
  EXPECT_EQ(RepositoryPathError("pool/"), "repository path 'pool/' has an empty component");
  EXPECT_EQ(RepositoryPathError("pool/%2e%2e/%2e%2e/etc/passwd"),
            "repository path 'pool/%2e%2e/%2e%2e/etc/passwd' contains the percent-escape '%2e'");
  EXPECT_EQ(RepositoryPathError("%2F"), "repository path '%2F' contains the percent-escape '%2F'");
  EXPECT_EQ(RepositoryPathError("pool\\..\\..\\x"),
            "repository path 'pool\\..\\..\\x' contains '\\'");
  EXPECT_EQ(RepositoryPathError("pool/x.deb?/../../y"),
            "repository path 'pool/x.deb?/../../y' contains '?'");
  EXPECT_EQ(RepositoryPathError("pool/x.deb#"), "repository path 'pool/x.deb#' contains '#'");
  EXPECT_EQ(RepositoryPathError("pool/x\n.deb"),
            "path 'pool/x\\n.deb' contains the control character \\n");
  EXPECT_EQ(RepositoryPathError("http://evil/x.deb"),
            "repository path 'http://evil/x.deb' has an empty component");
}

TEST(CheckPathLimitsTest, ComponentAndTotalLengths) {
  EXPECT_TRUE(CheckPathLimits("/" + std::string(255, 'a')));
  EXPECT_EQ(CheckPathLimits("/" + std::string(256, 'a')).error().message,
            "path component '" + std::string(60, 'a') + "...' is 256 bytes long (at most 255)");
  std::string path;
  while (path.size() + 100 <= 4096) path += "/" + std::string(99, 'p');
  path.resize(4096, 'p');
  EXPECT_TRUE(CheckPathLimits(path));
  EXPECT_EQ(CheckPathLimits(path + "p").error().message, "path is 4097 bytes long (at most 4096)");
  EXPECT_EQ(CheckPathLimits("/a\x7f").error().message,
            "path '/a\\x7f' contains the control character \\x7f");
  EXPECT_TRUE(CheckPathLimits("/usr/share/caf\xc3\xa9 au lait:1"));
}

}  // namespace
}  // namespace hardbase::spec
