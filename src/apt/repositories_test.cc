#include "apt/repositories.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "base/fs.h"
#include "support/http_server.h"
#include "support/repo_fixture.h"
#include "support/result_matchers.h"

namespace hardbase::apt {
namespace {

using ::hardbase::testing::FailsWith;

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Two suites of a repository built with Debian's own tools (dpkg-deb, gpg, xz), served over
// HTTP, read with the real client into a real cache.
class LoadSuitesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("hardbase-apt-suites-");
    ASSERT_TRUE(dir.has_value());
    dir_.emplace(std::move(*dir));
    repo_.emplace(dir_->path() + "/repo");
    for (const auto& [suite, name] : {std::pair{"alpha", "hello"}, std::pair{"beta", "world"}}) {
      auto added = repo_->AddPackage(suite, "amd64", {.name = name, .version = "1.0"});
      ASSERT_TRUE(added.has_value()) << added.error().message;
    }
    server_.emplace(dir_->path() + "/repo");
    ASSERT_TRUE(server_->Start().has_value());
    auto store = cache::BlobStore::Open(dir_->path() + "/cache");
    ASSERT_TRUE(store.has_value()) << store.error().message;
    store_.emplace(std::move(*store));
    http_ = net::MakeCurlClient();
  }

  std::vector<SuiteSource> Sources() const {
    std::vector<SuiteSource> out;
    for (const char* suite : {"alpha", "beta"}) {
      SuiteSource s;
      s.uri = server_->base_url();
      s.suite = suite;
      s.components = {"main"};
      s.keyring_paths = {testing::RepoFixture::KeyringPath()};
      s.where = "test";
      out.push_back(std::move(s));
    }
    return out;
  }

  Result<std::vector<LoadedSuite>> Load() {
    return LoadSuites(Sources(), {"amd64"}, *http_, *store_, {});
  }

  std::optional<TempDir> dir_;
  std::optional<testing::RepoFixture> repo_;
  std::optional<testing::HttpServer> server_;
  std::optional<cache::BlobStore> store_;
  std::unique_ptr<net::HttpClient> http_;
};

// Every suite's InRelease is asked for at once (a slow mirror costs one wait, not one per suite),
// and each suite comes back verified with its own index.
TEST_F(LoadSuitesTest, FetchesTheReleasesTogetherAndVerifiesEach) {
  ASSERT_TRUE(repo_->Publish("alpha").has_value());
  ASSERT_TRUE(repo_->Publish("beta").has_value());
  server_->SetHandler([](const testing::HttpRequest& r) -> std::optional<testing::HttpResponse> {
    if (r.path.ends_with("/InRelease")) std::this_thread::sleep_for(std::chrono::milliseconds(300));
    return std::nullopt;
  });
  auto suites = Load();
  ASSERT_TRUE(suites.has_value()) << suites.error().message;
  EXPECT_GE(server_->MaxConcurrentRequests(), 2);
  ASSERT_EQ(suites->size(), 2u);
  auto keys = testing::RepoFixture::Keys();
  ASSERT_TRUE(keys.has_value());
  for (size_t i = 0; i < 2; ++i) {
    const LoadedSuite& s = (*suites)[i];
    EXPECT_EQ(s.source.suite, i == 0 ? "alpha" : "beta");
    EXPECT_THAT(s.signers, ElementsAre((*keys)->fingerprint));
    ASSERT_EQ(s.packages.size(), 1u);
    EXPECT_EQ(s.packages[0].arch, "amd64");
    EXPECT_THAT(*s.packages[0].text, HasSubstr(i == 0 ? "Package: hello" : "Package: world"));
  }
}

// Fetched together, failures are still reported in the order of the suites: the first suite's
// failure wins even when the second suite failed earlier.
TEST_F(LoadSuitesTest, ReportsTheFirstSuitesFailureWhicheverCameFirst) {
  server_->SetHandler([](const testing::HttpRequest& r) -> std::optional<testing::HttpResponse> {
    testing::HttpResponse missing;
    missing.status = 404;
    if (r.path == "/dists/alpha/InRelease") {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      return missing;
    }
    if (r.path == "/dists/beta/InRelease") return missing;
    return std::nullopt;
  });
  auto suites = Load();
  ASSERT_FALSE(suites.has_value());
  EXPECT_THAT(suites, FailsWith(ErrorCode::kNotFound));
  EXPECT_THAT(suites.error().message, HasSubstr("alpha (" + server_->base_url() + "): InRelease"));
  EXPECT_THAT(suites.error().message, ::testing::Not(HasSubstr("beta")));
}

TEST_F(LoadSuitesTest, RefusesAReleaseSignedByAnotherKey) {
  ASSERT_TRUE(repo_->Publish("alpha").has_value());
  testing::PublishOptions other;
  other.signature = testing::PublishOptions::Signature::kUnknownKey;
  ASSERT_TRUE(repo_->Publish("beta", other).has_value());
  auto suites = Load();
  ASSERT_FALSE(suites.has_value());
  EXPECT_THAT(suites.error().message, HasSubstr("InRelease of beta"));
}

// Without repositories in the spec, the host's apt sources (read under a test root) are used.
TEST(SuiteSourcesForTest, ReadsTheHostsAptSourcesWhenTheSpecNamesNone) {
  auto dir = TempDir::Create("hardbase-apt-root-");
  ASSERT_TRUE(dir.has_value());
  testing::RepoFixture repo(dir->path() + "/repo");
  ASSERT_TRUE(MakeDirs(dir->path() + "/root/etc/apt/sources.list.d").has_value());
  ASSERT_TRUE(repo.WriteDeb822Sources(dir->path() + "/root/etc/apt/sources.list.d/test.sources",
                                      "http://127.0.0.1:9/debian/", {"alpha", "beta"},
                                      /*inline_key=*/true)
                  .has_value());
  spec::ImageSpec spec;
  spec.source_file = "image.yaml";
  auto sources = SuiteSourcesFor(spec, dir->path() + "/root");
  ASSERT_TRUE(sources.has_value()) << sources.error().message;
  ASSERT_EQ(sources->size(), 2u);
  EXPECT_EQ((*sources)[0].uri, "http://127.0.0.1:9/debian");  // no trailing slash
  EXPECT_EQ((*sources)[0].Label(), "alpha (http://127.0.0.1:9/debian)");
  EXPECT_EQ((*sources)[1].suite, "beta");
  EXPECT_THAT((*sources)[1].inline_key, HasSubstr("BEGIN PGP PUBLIC KEY BLOCK"));

  // An empty root lists nothing: the spec must then name its repositories.
  ASSERT_TRUE(MakeDirs(dir->path() + "/empty/etc/apt").has_value());
  auto none = SuiteSourcesFor(spec, dir->path() + "/empty");
  ASSERT_FALSE(none.has_value());
  EXPECT_THAT(none, FailsWith(ErrorCode::kSpec));
  EXPECT_THAT(none.error().message, HasSubstr("image.yaml: names no repositories"));
}

}  // namespace
}  // namespace hardbase::apt
