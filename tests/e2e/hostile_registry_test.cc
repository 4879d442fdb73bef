// End-to-end tests of issue 13 for registries, untrusted JSON and vulnerability data: a registry
// that trickles its answers, pages referrers forever, sends oversized manifests, nests indexes
// twenty deep or answers the token request with JSON nested 100,000 levels; signatures and
// attestations nested as deep; and an OSV zip that inflates to hundreds of megabytes.
//
// Every hostile input is built here: the registries are tests/support/http_server.h answering
// from a map of documents this file writes (or a raw socket for the trickle), layouts are
// written file by file, the zip by python3's zipfile. Each refusal is checked for its exit code,
// its one error line, that it came in bounded time, and that nothing in the test's directory
// changed (the earlier output included).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/base64.h"
#include "base/fs.h"
#include "base/sha256.h"
#include "support/exit_codes.h"
#include "support/http_server.h"
#include "support/process.h"
#include "support/tree_snapshot.h"

namespace hardbase::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kManifestType[] = "application/vnd.oci.image.manifest.v1+json";
constexpr char kIndexType[] = "application/vnd.oci.image.index.v1+json";
constexpr char kConfigType[] = "application/vnd.oci.image.config.v1+json";
constexpr char kLayerType[] = "application/vnd.oci.image.layer.v1.tar";
constexpr char kRefName[] = "org.opencontainers.image.ref.name";
constexpr char kRepo[] = "hostile/app";

std::string Deep(size_t levels) { return std::string(levels, '[') + std::string(levels, ']'); }

json Descriptor(const std::string& media_type, const std::string& bytes) {
  return {
      {"mediaType", media_type}, {"digest", "sha256:" + Sha256Hex(bytes)}, {"size", bytes.size()}};
}

// An image's documents: a config, one empty layer and the manifest naming them.
struct Image {
  std::string config, layer, manifest;
};
Image MakeImage(const std::string& label) {
  Image image;
  image.layer = std::string(1024, '\0');
  json config = {
      {"architecture", "amd64"},
      {"os", "linux"},
      {"config", {{"Labels", {{"test", label}}}}},
      {"rootfs", {{"type", "layers"}, {"diff_ids", {"sha256:" + Sha256Hex(image.layer)}}}}};
  image.config = config.dump();
  image.manifest = json({{"schemaVersion", 2},
                         {"mediaType", kManifestType},
                         {"config", Descriptor(kConfigType, image.config)},
                         {"layers", {Descriptor(kLayerType, image.layer)}}})
                       .dump();
  return image;
}
// (A vector: a braced json list of one element would be that element, not an array.)
std::string IndexOf(const std::vector<json>& entries) {
  return json({{"schemaVersion", 2}, {"mediaType", kIndexType}, {"manifests", json(entries)}})
      .dump();
}

// A registry made of a map of documents (manifests by tag and digest, blobs by digest) served by
// HttpServer, plus `extra` for whatever a test answers itself (referrers, tokens).
class FakeRegistry {
 public:
  FakeRegistry() {
    server_.SetHandler([this](const HttpRequest& r) { return Answer(r); });
  }
  bool Start() { return server_.Start().has_value(); }
  std::string Host() const { return "127.0.0.1:" + std::to_string(server_.port()); }
  std::string Url(const std::string& path) const { return server_.Url(path); }

  void AddManifest(const std::string& media_type, const std::string& bytes,
                   const std::string& tag = "") {
    std::lock_guard<std::mutex> lock(mu_);
    std::string digest = "sha256:" + Sha256Hex(bytes);
    manifests_[digest] = {media_type, bytes};
    if (!tag.empty()) manifests_[tag] = {media_type, bytes};
  }
  void AddBlob(const std::string& bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    blobs_["sha256:" + Sha256Hex(bytes)] = bytes;
  }
  void AddImage(const Image& image, const std::string& tag = "") {
    AddBlob(image.config);
    AddBlob(image.layer);
    AddManifest(kManifestType, image.manifest, tag);
  }
  void SetExtra(HttpServer::Handler extra) {
    std::lock_guard<std::mutex> lock(mu_);
    extra_ = std::move(extra);
  }

 private:
  std::optional<HttpResponse> Answer(const HttpRequest& r) {
    std::lock_guard<std::mutex> lock(mu_);
    if (extra_) {
      if (auto answer = extra_(r)) return answer;
    }
    const std::string prefix = "/v2/" + std::string(kRepo) + "/";
    HttpResponse response;
    if (r.path == "/v2/") {
      response.body = "{}";
      return response;
    }
    std::optional<std::pair<std::string, std::string>> found;  // type, bytes
    if (r.path.starts_with(prefix + "manifests/")) {
      auto it = manifests_.find(r.path.substr(prefix.size() + 10));
      if (it != manifests_.end()) found = it->second;
    } else if (r.path.starts_with(prefix + "blobs/")) {
      auto it = blobs_.find(r.path.substr(prefix.size() + 6));
      if (it != blobs_.end())
        found = std::make_pair(std::string("application/octet-stream"), it->second);
    }
    if (!found) {
      response.status = 404;
      response.headers = {{"Content-Type", "application/json"}};
      response.body = R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]})";
      return response;
    }
    response.headers = {{"Content-Type", found->first},
                        {"Docker-Content-Digest", "sha256:" + Sha256Hex(found->second)}};
    if (r.method == "HEAD") {
      response.head_content_length = found->second.size();
    } else {
      response.body = found->second;
    }
    return response;
  }

  HttpServer server_;
  std::mutex mu_;
  std::map<std::string, std::pair<std::string, std::string>> manifests_;  // tag or digest
  std::map<std::string, std::string> blobs_;
  HttpServer::Handler extra_;
};

// A registry that answers /v2/ at once and every other request with the headers of a 1 MiB
// manifest whose bytes (for a GET) then come at 2 KiB/s: above curl's low-speed limit, so only
// the command's deadline stops it.
class TrickleServer {
 public:
  ~TrickleServer() {
    stop_ = true;
    if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);
    if (accept_thread_.joinable()) accept_thread_.join();
    if (listen_fd_ >= 0) ::close(listen_fd_);
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    for (auto& t : threads_) t.join();
    for (int fd : fds_) ::close(fd);
  }
  bool Start() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) ||
        ::listen(listen_fd_, 16) ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len)) {
      return false;
    }
    port_ = ntohs(addr.sin_port);
    accept_thread_ = std::thread([this] { Accept(); });
    return true;
  }
  std::string Host() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  void Accept() {
    while (!stop_) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      std::lock_guard<std::mutex> lock(mu_);
      fds_.push_back(fd);
      threads_.emplace_back([this, fd] { Serve(fd); });
    }
  }
  bool Send(int fd, const std::string& data) {
    return ::send(fd, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
  }
  void Serve(int fd) {
    std::string in;
    char buf[4096];
    while (!stop_) {
      size_t end;
      while ((end = in.find("\r\n\r\n")) == std::string::npos) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return;
        in.append(buf, static_cast<size_t>(n));
      }
      std::string head = in.substr(0, end);
      in.erase(0, end + 4);
      if (head.find(" /v2/ ") != std::string::npos) {
        if (!Send(fd,
                  "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                  "2\r\n\r\n{}")) {
          return;
        }
        continue;
      }
      if (!Send(fd, std::string("HTTP/1.1 200 OK\r\nContent-Type: ") + kManifestType +
                        "\r\nContent-Length: 1048576\r\n\r\n")) {
        return;
      }
      if (head.starts_with("HEAD ")) continue;  // no digest said: the client GETs it next
      while (!stop_) {
        if (!Send(fd, std::string(2048, ' '))) return;
        for (int i = 0; i < 10 && !stop_; ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
      }
    }
  }

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread accept_thread_;
  std::mutex mu_;
  std::vector<int> fds_;
  std::vector<std::thread> threads_;
};

class HostileRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("hardbase-hostile-registry-");
    ASSERT_TRUE(dir.has_value());
    work_.emplace(std::move(*dir));
    ASSERT_TRUE(MakeDirs(Work() + "/home").has_value());
  }

  std::string Work() const { return work_->path(); }
  std::string Path(const std::string& name) const { return Work() + "/" + name; }
  void Write(const std::string& name, const std::string& bytes) {
    ASSERT_TRUE(WriteFileAtomic(Path(name), bytes).has_value()) << name;
  }
  std::string Read(const std::string& name) { return ReadFile(Path(name)).value_or(""); }
  ProcessResult Shell(const std::string& script) {
    auto r = RunProcess({"sh", "-c", "set -e; cd \"$1\"; " + script, "sh", Work()});
    EXPECT_EQ(r.exit_code, 0) << script << "\n" << r.err;
    return r;
  }

  // hardbase with its cache and $HOME inside the test's directory (so that a snapshot of it shows
  // everything written), under prlimit's `limits` (e.g. {"--as=..."}) and a 60 s time limit.
  ProcessResult Hardbase(std::vector<std::string> args, std::vector<std::string> limits = {}) {
    std::vector<std::string> argv = {HardbaseBinary(), "--cache-dir", Path("cache")};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(WithinLimits(argv, 60, std::move(limits)), {{"HOME", Path("home")}});
  }

  std::map<std::string, std::string> Snapshot() { return TreeSnapshot(Work()); }

  // A refusal: the exit code, one error line holding `message`, within `max_seconds`, and
  // nothing written anywhere.
  void ExpectRefused(const std::vector<std::string>& args, int exit_code,
                     const std::string& message, double max_seconds = 20,
                     const std::vector<std::string>& limits = {}) {
    auto before = Snapshot();
    auto start = std::chrono::steady_clock::now();
    auto r = Hardbase(args, limits);
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(r.exit_code, exit_code) << r.err;
    EXPECT_THAT(r.err, StartsWith("hardbase: error: "));
    EXPECT_THAT(r.err, HasSubstr(message));
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
    EXPECT_LT(took, max_seconds) << r.err;
    EXPECT_EQ(Snapshot(), before);
  }

  // Adds `bytes` to the layout's blobs; its descriptor.
  json Blob(const std::string& layout, const std::string& media_type, const std::string& bytes) {
    EXPECT_TRUE(MakeDirs(Path(layout + "/blobs/sha256")).has_value());
    Write(layout + "/blobs/sha256/" + Sha256Hex(bytes), bytes);
    return Descriptor(media_type, bytes);
  }
  // What travels with an image at its cosign tag `suffix` ("sig", "att"): a manifest whose one
  // layer is `payload` (of `media_type`, with `annotations`).
  struct Artifact {
    std::string suffix, media_type, payload;
    json annotations;
  };
  // An OCI layout with one image tagged "test" (`image`) and `artifacts`.
  void LayoutWithArtifacts(const std::string& layout, const Image& image,
                           const std::vector<Artifact>& artifacts) {
    ASSERT_TRUE(MakeDirs(Path(layout)).has_value());
    Write(layout + "/oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
    Blob(layout, kLayerType, image.layer);
    Blob(layout, kConfigType, image.config);
    json entry = Blob(layout, kManifestType, image.manifest);
    entry["annotations"] = {{kRefName, "test"}};
    std::vector<json> entries = {entry};
    for (const Artifact& a : artifacts) entries.push_back(ArtifactEntry(layout, image, a));
    Write(layout + "/index.json", IndexOf(entries));
  }
  json ArtifactEntry(const std::string& layout, const Image& image, const Artifact& a) {
    json layer = Blob(layout, a.media_type, a.payload);
    layer["annotations"] = a.annotations;
    std::string config = json({{"architecture", ""},
                               {"os", ""},
                               {"config", json::object()},
                               {"rootfs", {{"type", "layers"}, {"diff_ids", {layer["digest"]}}}}})
                             .dump();
    std::string manifest = json({{"schemaVersion", 2},
                                 {"mediaType", kManifestType},
                                 {"config", Blob(layout, kConfigType, config)},
                                 {"layers", {layer}}})
                               .dump();
    json artifact = Blob(layout, kManifestType, manifest);
    artifact["annotations"] = {{kRefName, "sha256-" + Sha256Hex(image.manifest) + "." + a.suffix}};
    return artifact;
  }

  // A P-256 key pair made by openssl: k.pem, k.pub.
  void MakeKey() {
    Shell(
        "openssl ecparam -name prime256v1 -genkey -noout -out k.pem && "
        "openssl ec -in k.pem -pubout -out k.pub 2>/dev/null");
  }
  // A cosign signature (simple signing) of `payload` made with k.pem by openssl.
  Artifact Signature(const std::string& payload) {
    Write("payload", payload);
    Shell("openssl dgst -sha256 -sign k.pem -out sig payload");
    Artifact a{"sig",
               "application/vnd.dev.cosign.simplesigning.v1+json",
               payload,
               {{"dev.cosignproject.cosign/signature", Base64Encode(Read("sig"))}}};
    fs::remove(Path("payload"));
    fs::remove(Path("sig"));
    return a;
  }
  // The payload cosign signs for `image`.
  static std::string SimpleSigningPayload(const Image& image) {
    return json({{"critical",
                  {{"identity", {{"docker-reference", "registry.test/app"}}},
                   {"image", {{"docker-manifest-digest", "sha256:" + Sha256Hex(image.manifest)}}},
                   {"type", "cosign container image signature"}}},
                 {"optional", nullptr}})
        .dump();
  }

  std::optional<TempDir> work_;
};

// Issue 13, hole 1: a registry trickling 2 KiB/s held `inspect` for 300 s.
TEST_F(HostileRegistryTest, TricklingRegistryIsCutByTheTimeout) {
  TrickleServer server;
  ASSERT_TRUE(server.Start());
  ExpectRefused(
      {"--timeout", "2", "inspect", "--plain-http", server.Host() + "/hostile/app:v1"},
      kExitNetwork,
      "GET http://" + server.Host() +
          "/v2/hostile/app/manifests/v1: timed out: the command's --timeout of 2 s ran out",
      10);
}

TEST_F(HostileRegistryTest, TimeoutFlagsAreDocumentedAndChecked) {
  auto help = Hardbase({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("--timeout"));
  EXPECT_THAT(help.out, HasSubstr("--low-speed-limit"));
  EXPECT_THAT(help.out, HasSubstr("--low-speed-time"));
  EXPECT_EQ(Hardbase({"--timeout", "-1", "inspect", "oci:x"}).exit_code, 2);
}

// Hole 2: an endless referrers listing grew to 5 GB.
TEST_F(HostileRegistryTest, EndlessReferrersListingIsRefused) {
  FakeRegistry registry;
  ASSERT_TRUE(registry.Start());
  Image image = MakeImage("app");
  registry.AddImage(image, "v1");
  const std::string subject = "sha256:" + Sha256Hex(image.manifest);
  std::atomic<int> pages{0};
  registry.SetExtra([&](const HttpRequest& r) -> std::optional<HttpResponse> {
    if (!r.path.starts_with("/v2/hostile/app/referrers/")) return std::nullopt;
    int page = ++pages;
    HttpResponse response;
    std::string entry = "{\"n\":" + std::to_string(page) + "}";
    json d = Descriptor(kManifestType, entry);
    d["artifactType"] = "application/example";
    response.headers = {{"Content-Type", kIndexType},
                        {"Link", "</v2/hostile/app/referrers/" + subject +
                                     "?page=" + std::to_string(page + 1) + ">; rel=\"next\""}};
    response.body = IndexOf({d});
    return response;
  });
  ExpectRefused(
      {"inspect", "--plain-http", registry.Host() + "/hostile/app:v1"}, kExitSpec,
      "referrers of " + registry.Host() + "/hostile/app@" + subject + ": more than 100 pages");
  EXPECT_EQ(pages.load(), 100);
}

TEST_F(HostileRegistryTest, ReferrersPageWithTooManyEntriesIsRefused) {
  FakeRegistry registry;
  ASSERT_TRUE(registry.Start());
  Image image = MakeImage("app");
  registry.AddImage(image, "v1");
  const std::string subject = "sha256:" + Sha256Hex(image.manifest);
  std::vector<json> entries;
  for (int i = 0; i < 1001; ++i) {
    json d = Descriptor(kManifestType, std::to_string(i));
    d["artifactType"] = "application/example";
    entries.push_back(d);
  }
  std::string page = IndexOf(entries);
  registry.SetExtra([&](const HttpRequest& r) -> std::optional<HttpResponse> {
    if (!r.path.starts_with("/v2/hostile/app/referrers/")) return std::nullopt;
    HttpResponse response;
    response.headers = {{"Content-Type", kIndexType}};
    response.body = page;
    return response;
  });
  ExpectRefused(
      {"inspect", "--plain-http", registry.Host() + "/hostile/app:v1"}, kExitSpec,
      "referrers of " + registry.Host() + "/hostile/app@" + subject + ": more than 1000 entries");
}

TEST_F(HostileRegistryTest, ManifestOverFourMebibytesIsRefused) {
  FakeRegistry registry;
  ASSERT_TRUE(registry.Start());
  Image image = MakeImage("app");
  json manifest = json::parse(image.manifest);
  manifest["annotations"] = {{"padding", std::string(size_t{5} << 20, 'x')}};
  registry.AddBlob(image.config);
  registry.AddBlob(image.layer);
  registry.AddManifest(kManifestType, manifest.dump(), "v1");
  // The tag's HEAD names the digest, which is then fetched.
  ExpectRefused({"inspect", "--plain-http", registry.Host() + "/hostile/app:v1"}, kExitNetwork,
                "GET http://" + registry.Host() + "/v2/hostile/app/manifests/sha256:" +
                    Sha256Hex(manifest.dump()) + ": response body is larger than 4194304 bytes");
}

// Hole 3: a chain of nested indexes crashed copy and push.
TEST_F(HostileRegistryTest, TwentyNestedIndexesAreRefusedByCopyPullPushAndInspect) {
  FakeRegistry registry;
  ASSERT_TRUE(registry.Start());
  Image good = MakeImage("good");
  registry.AddImage(good, "good");
  Image inner = MakeImage("inner");
  registry.AddImage(inner);
  json child = Descriptor(kManifestType, inner.manifest);
  child["platform"] = {{"architecture", "amd64"}, {"os", "linux"}};
  std::string top;
  for (int level = 0; level < 20; ++level) {
    top = IndexOf({child});
    registry.AddManifest(kIndexType, top);
    child = Descriptor(kIndexType, top);
  }
  registry.AddManifest(kIndexType, top, "nested");

  // An earlier pull into the same layout, which the refused one must leave as it was.
  const std::string ref = registry.Host() + "/hostile/app";
  auto pulled = Hardbase({"pull", "--plain-http", ref + ":good", "oci:" + Path("out") + ":good"});
  ASSERT_EQ(pulled.exit_code, 0) << pulled.err;
  ASSERT_TRUE(fs::exists(Path("out/index.json")));

  for (const char* verb : {"copy", "pull"}) {
    SCOPED_TRACE(verb);
    ExpectRefused({verb, "--plain-http", ref + ":nested", "oci:" + Path("out") + ":nested"},
                  kExitSpec, "indexes nested deeper than 8 levels");
  }
  ExpectRefused({"inspect", "--plain-http", ref + ":nested"}, kExitSpec, "nested too deep");

  // The same chain in a local layout, pushed: refused before anything is sent.
  Blob("nested", kLayerType, inner.layer);
  Blob("nested", kConfigType, inner.config);
  json entry = Blob("nested", kManifestType, inner.manifest);
  for (int level = 0; level < 20; ++level) entry = Blob("nested", kIndexType, IndexOf({entry}));
  entry["annotations"] = {{kRefName, "test"}};
  Write("nested/oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  Write("nested/index.json", IndexOf({entry}));
  ExpectRefused({"push", "--plain-http", "oci:" + Path("nested") + ":test", ref + ":pushed"},
                kExitSpec, "indexes nested deeper than 8 levels");
}

// Hole 4: JSON nested 100,000 levels (200 KB) crashed verify, and token parsing likewise.
TEST_F(HostileRegistryTest, DeeplyNestedTokenAnswerIsRefused) {
  FakeRegistry registry;
  ASSERT_TRUE(registry.Start());
  registry.AddImage(MakeImage("app"), "v1");
  const std::string realm = registry.Url("/token");
  registry.SetExtra([&](const HttpRequest& r) -> std::optional<HttpResponse> {
    HttpResponse response;
    if (r.path == "/token") {
      response.headers = {{"Content-Type", "application/json"}};
      response.body = Deep(100000);
      return response;
    }
    if (r.path.starts_with("/v2/") && !r.Header("Authorization")) {
      response.status = 401;
      response.headers = {{"WWW-Authenticate", "Bearer realm=\"" + realm + "\",service=\"fake\""}};
      return response;
    }
    return std::nullopt;
  });
  ExpectRefused({"inspect", "--plain-http", registry.Host() + "/hostile/app:v1"}, kExitSpec,
                "token from " + realm + ": token response: JSON nested deeper than 16 levels");
}

TEST_F(HostileRegistryTest, DeeplyNestedAttestationEnvelopeIsRefusedByVerify) {
  MakeKey();
  Image image = MakeImage("layout");
  // A valid signature, so that verify goes on to the attestation.
  LayoutWithArtifacts("layout", image,
                      {Signature(SimpleSigningPayload(image)),
                       {"att",
                        "application/vnd.dsse.envelope.v1+json",
                        Deep(100000),
                        {{"predicateType", "https://slsa.dev/provenance/v1"}}}});
  auto plain = Hardbase({"verify", "oci:" + Path("layout") + ":test", "--key", Path("k.pub")});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  ExpectRefused(
      {"verify", "oci:" + Path("layout") + ":test", "--key", Path("k.pub"), "--attestations"},
      kExitVerification, ".att layer 0: DSSE envelope: JSON nested deeper than 128 levels");
}

TEST_F(HostileRegistryTest, DeeplyNestedSignaturePayloadIsRefusedByVerify) {
  MakeKey();
  // Validly signed, so that verify gets as far as reading it.
  LayoutWithArtifacts("layout", MakeImage("layout"), {Signature(Deep(100000))});
  ExpectRefused({"verify", "oci:" + Path("layout") + ":test", "--key", Path("k.pub")},
                kExitVerification,
                ".sig layer 0: not a cosign simple signing payload: JSON nested "
                "deeper than 128 levels");
}

// Hole 5: a 2.5 MB OSV zip cost 4.3 GB.
TEST_F(HostileRegistryTest, OsvZipBombIsRefusedUnderAMemoryCap) {
  if (UnderAddressSanitizer()) GTEST_SKIP() << "the memory cap is what this test is about";
  const std::string record =
      R"({"id":"DEBIAN-CVE-2024-0001","modified":"2025-01-01T00:00:00Z","affected":[)"
      R"({"package":{"ecosystem":"Debian:12","name":"glibc"},"ranges":[{"type":"ECOSYSTEM",)"
      R"("events":[{"introduced":"0"},{"fixed":"2.36-9+deb12u6"}]}]}]})";
  Write("record.json", record);
  // A good database first, which the refused update must leave byte for byte.
  Shell(
      "python3 -c 'import sys, zipfile\n"
      "with zipfile.ZipFile(\"good.zip\", \"w\", zipfile.ZIP_DEFLATED) as z:\n"
      "    z.write(\"record.json\", \"DEBIAN-CVE-2024-0001.json\")'");
  auto good = Hardbase({"vuln", "update", "--from", Path("good.zip")});
  ASSERT_EQ(good.exit_code, 0) << good.err;
  ASSERT_TRUE(fs::exists(Path("cache/vuln/vulndb")));

  // A real record, then one of 200 MiB of blanks after a valid start (about 200 KB zipped).
  Shell(
      "python3 -c 'import zipfile\n"
      "with zipfile.ZipFile(\"bomb.zip\", \"w\", zipfile.ZIP_DEFLATED) as z:\n"
      "    z.write(\"record.json\", \"DEBIAN-CVE-2024-0001.json\")\n"
      "    with z.open(\"DEBIAN-CVE-2024-9999.json\", \"w\", force_zip64=True) as f:\n"
      "        f.write(b\"{\\\"id\\\": \\\"DEBIAN-CVE-2024-9999\\\"\")\n"
      "        for _ in range(200): f.write(b\" \" * (1 << 20))\n"
      "        f.write(b\"}\")'");
  ASSERT_LT(fs::file_size(Path("bomb.zip")), 2u << 20);
  ExpectRefused({"vuln", "update", "--from", Path("bomb.zip")}, kExitSpec,
                Path("bomb.zip") +
                    ": entry DEBIAN-CVE-2024-9999.json: larger than 16 MiB once "
                    "decompressed",
                20, {"--as=" + std::to_string(size_t{768} << 20)});
}

}  // namespace
}  // namespace hardbase::testing
