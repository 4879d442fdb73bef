// A signed Debian repository for the pipeline's unit tests: built on disk with Debian's own tools
// by testing::RepoFixture (dpkg-deb, gpg, xz) and served by net::FakeHttp under a made-up base
// URL, so that lock, build and scan run their whole flow with no socket, no server and no
// network. A test scripts faults on top of it (an exact route wins over the repository's prefix
// route) and reads what was asked from the fake.
//
// Header-only: a .cc beside the module's code would be compiled into hardbase_pipeline itself.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/fs.h"
#include "cache/blob_store.h"
#include "net/fake_http.h"
#include "pipeline/build_pipeline.h"
#include "pipeline/lock_pipeline.h"
#include "spec/image_spec.h"
#include "support/repo_fixture.h"

namespace hardbase::pipeline {

class FakeRepositoryTest : public ::testing::Test {
 protected:
  // Where the fake serves the repository; a host name that resolves nowhere, so a request that
  // escaped the fake would fail instead of reaching a real server.
  static constexpr std::string_view kRepoUrl = "http://deb.test/debian";
  // The Date of every published Release (2023-11-14): the lock's timestamp, fixed so that two
  // builds of the same lock give the same digest whenever they run. Its Valid-Until is a week
  // later, so locking runs with the clock at kNow (LockingOptions()).
  static constexpr int64_t kReleaseDate = 1700000000;
  static constexpr int64_t kNow = kReleaseDate + 3600;

  void SetUp() override {
    auto dir = TempDir::Create("hardbase-pipeline-");
    ASSERT_TRUE(dir.has_value()) << dir.error().message;
    dir_.emplace(std::move(*dir));
    repo_.emplace(Work() + "/repo");
    auto store = cache::BlobStore::Open(CacheDir());
    ASSERT_TRUE(store.has_value()) << store.error().message;
    store_.emplace(std::move(*store));
    ServeRepository();
  }

  const std::string& Work() const { return dir_->path(); }
  std::string CacheDir() const { return Work() + "/cache"; }

  // Builds the package into `suite` (amd64); a failure fails the test.
  testing::PublishedPackage Add(const std::string& suite, const testing::PackageSpec& spec) {
    auto added = repo_->AddPackage(suite, "amd64", spec);
    EXPECT_TRUE(added.has_value()) << added.error().message;
    return added.value_or(testing::PublishedPackage{});
  }
  // The two packages most tests need, in `suite`: libfoo1 (source foo) depends on libbar1 (>= 2.0).
  void AddFooAndBar(const std::string& suite = "stable") {
    bar_ = Add(suite, {.name = "libbar1",
                       .version = "2.0-1",
                       .fields = {{"Source", "bar"}},
                       .files = {{"usr/lib/libbar.so.1", "bar\n"}}});
    foo_ = Add(suite, {.name = "libfoo1",
                       .version = "1.0-1",
                       .fields = {{"Source", "foo (1.0-1)"}, {"Depends", "libbar1 (>= 2.0)"}},
                       .files = {{"usr/lib/libfoo.so.1", "foo\n"}}});
  }
  // AddFooAndBar and base-files whose os-release says Debian 12, published in "stable", locked and
  // built into the layout `output` tagged "test" (signed with `key` when given): the image that
  // scan, audit and inventory read. Its digest; a failure fails the test.
  std::string BuildDebian12Image(const std::string& output, const sign::PrivateKey* key = nullptr) {
    AddFooAndBar();
    Add("stable", {.name = "base-files",
                   .version = "12.4+deb12u9",
                   .files = {{"usr/lib/os-release",
                              "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian "
                              "GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n"
                              "ID=debian\n"}}});
    Publish("stable");
    const char* body = "packages: [libfoo1, base-files]\n";
    BuildOptions options;
    options.spec_path = WriteSpec(body);
    options.lock_path = Work() + "/image.lock.json";
    options.locked = true;
    options.output = output;
    options.tag = "test";
    options.sign_key = key;
    spec::Lock lock = LockOrFail(ParseSpec(body));
    if (::testing::Test::HasFailure()) return "";
    EXPECT_TRUE(WriteLock(lock, options.lock_path).has_value());
    auto built = BuildImage(options, http_, *store_);
    EXPECT_TRUE(built.has_value()) << built.error().message;
    return built ? built->digest : "";
  }
  void Publish(const std::string& suite, testing::PublishOptions options = {}) {
    if (options.date == 0) options.date = kReleaseDate;
    auto published = repo_->Publish(suite, options);
    ASSERT_TRUE(published.has_value()) << published.error().message;
  }

  // LockSpec's options for the fake repository: the clock an hour after its releases.
  static pipeline::LockOptions LockingOptions() {
    pipeline::LockOptions options;
    options.load.now = kNow;
    return options;
  }
  // The spec locked by LockSpec over the fake; a failure fails the test.
  spec::Lock LockOrFail(const spec::ImageSpec& image_spec) {
    auto lock = LockSpec(image_spec, http_, *store_, LockingOptions());
    EXPECT_TRUE(lock.has_value()) << lock.error().message;
    return lock.value_or(spec::Lock{});
  }

  // The URL of a repository-relative path ("dists/stable/InRelease").
  static std::string Url(std::string_view path) {
    return std::string(kRepoUrl) + "/" + std::string(path);
  }
  // What the repository answers for a repository-relative path: the file, or 404.
  net::FakeResponse Serve(std::string_view path) const {
    if (path.find("..") != std::string_view::npos) return net::FakeResponse::Status(404);
    auto bytes = ReadFile(repo_->root() + "/" + std::string(path));
    if (!bytes) return net::FakeResponse::Status(404);
    return net::FakeResponse::Ok(std::move(*bytes));
  }
  // Answers every GET under kRepoUrl from the repository's files.
  void ServeRepository() {
    http_.RouteHandler("GET", Url("*"), [this](const net::RecordedRequest& r) {
      return Serve(std::string_view(r.url).substr(kRepoUrl.size() + 1));
    });
  }
  // The bytes of a repository-relative file, for a test that serves them altered.
  std::string RepoFile(std::string_view path) const {
    auto bytes = ReadFile(repo_->root() + "/" + std::string(path));
    EXPECT_TRUE(bytes.has_value()) << path;
    return bytes.value_or("");
  }
  // How many requests went to URLs under kRepoUrl whose path ends with `suffix`.
  int Requests(std::string_view suffix) const {
    int n = 0;
    for (const net::RecordedRequest& r : http_.requests()) {
      if (r.url.starts_with(kRepoUrl) && r.url.ends_with(suffix)) ++n;
    }
    return n;
  }

  // A spec over the fake repository's `suites`, with the fixture's keyring, for amd64. `body`
  // holds the rest (packages:, paths:, ...).
  static std::string SpecText(std::string_view body, std::string_view suites = "[stable]") {
    return "name: test\nrepositories:\n  - url: " + std::string(kRepoUrl) +
           "\n    suites: " + std::string(suites) +
           "\n    keyring: " + testing::RepoFixture::KeyringPath() + "\narchs: [amd64]\n" +
           std::string(body);
  }
  spec::ImageSpec ParseSpec(std::string_view body, std::string_view suites = "[stable]") const {
    auto parsed = spec::ParseImageSpec(SpecText(body, suites), Work() + "/image.yaml");
    EXPECT_TRUE(parsed.has_value()) << parsed.error().message;
    return parsed.value_or(spec::ImageSpec{});
  }
  // Writes the spec as `name` in the work directory; its path.
  std::string WriteSpec(std::string_view body, const std::string& name = "image.yaml",
                        std::string_view suites = "[stable]") const {
    std::string path = Work() + "/" + name;
    auto written = WriteFileAtomic(path, SpecText(body, suites));
    EXPECT_TRUE(written.has_value()) << written.error().message;
    return path;
  }

  // The files below the cache's blobs/ and meta/, relative to the cache: what downloads and
  // verified releases left in it.
  std::vector<std::string> CachedFiles() const {
    namespace fs = std::filesystem;
    std::vector<std::string> out;
    for (const char* sub : {"blobs", "meta"}) {
      std::error_code ec;
      for (fs::recursive_directory_iterator it(CacheDir() + "/" + sub, ec), end; !ec && it != end;
           it.increment(ec)) {
        if (it->is_regular_file()) {
          out.push_back(fs::relative(it->path(), CacheDir()).string());
        }
      }
    }
    return out;
  }

  std::optional<TempDir> dir_;
  std::optional<testing::RepoFixture> repo_;
  std::optional<cache::BlobStore> store_;
  net::FakeHttp http_;
  testing::PublishedPackage foo_, bar_;  // what AddFooAndBar published
};

}  // namespace hardbase::pipeline
