#include "net/http.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <random>

#include "base/fs.h"
#include "support/http_server.h"
#include "support/result_matchers.h"

namespace hardbase::net {
namespace {

using ::hardbase::testing::FailsWith;

using ::hardbase::testing::HttpRequest;
using ::hardbase::testing::HttpResponse;
using ::hardbase::testing::HttpServer;
using ::testing::HasSubstr;
using ::testing::Optional;

std::string RandomBytes(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(gen() & 0xff);
  return out;
}

// A port on 127.0.0.1 where nothing listens: bound to learn a free number, then closed.
uint16_t UnusedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

class HttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("hardbase-net-test-");
    ASSERT_TRUE(dir) << dir.error().message;
    dir_.emplace(std::move(*dir));
    root_ = dir_->path() + "/srv";
    out_ = dir_->path() + "/out";
    ASSERT_TRUE(MakeDirs(root_));
    ASSERT_TRUE(MakeDirs(out_));
    server_ = std::make_unique<HttpServer>(root_);
    auto started = server_->Start();
    ASSERT_TRUE(started) << started.error().message;
    options_.initial_backoff = std::chrono::milliseconds(5);
    options_.max_attempts = 4;
    options_.connect_timeout_seconds = 5;
    options_.limits.low_speed_seconds = 5;
    options_.user_agent = "hardbase-test/1";
    client_ = MakeCurlClient(options_);
  }

  void Serve(const std::string& path, const std::string& content) {
    ASSERT_TRUE(MakeDirs(DirName(root_ + path)));
    ASSERT_TRUE(WriteFileAtomic(root_ + path, content));
  }

  std::string Read(const std::string& path) {
    auto content = ReadFile(path);
    EXPECT_TRUE(content) << content.error().message;
    return content ? *content : "";
  }

  std::optional<TempDir> dir_;
  std::string root_;
  std::string out_;
  std::unique_ptr<HttpServer> server_;
  ClientOptions options_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(HttpTest, GetReturnsBodyAndSendsUserAgent) {
  Serve("/InRelease", "Origin: test\n");
  auto body = client_->Get(server_->Url("/InRelease"));
  ASSERT_TRUE(body) << body.error().message;
  EXPECT_EQ(*body, "Origin: test\n");
  auto last = server_->LastRequest("/InRelease");
  ASSERT_TRUE(last);
  EXPECT_EQ(last->method, "GET");
  EXPECT_THAT(last->Header("User-Agent"), Optional(std::string("hardbase-test/1")));
  EXPECT_EQ(last->Header("Range"), std::nullopt);
}

TEST_F(HttpTest, GetEmptyDocument) {
  Serve("/empty", "");
  auto body = client_->Get(server_->Url("/empty"));
  ASSERT_TRUE(body) << body.error().message;
  EXPECT_EQ(*body, "");
}

TEST_F(HttpTest, GetMissingIsNotFoundWithoutRetry) {
  std::string url = server_->Url("/missing");
  auto body = client_->Get(url);
  ASSERT_THAT(body, FailsWith(ErrorCode::kNotFound));
  EXPECT_EQ(body.error().message, "GET " + url + ": HTTP 404");
  EXPECT_EQ(server_->RequestCount("/missing"), 1);
}

TEST_F(HttpTest, GoneIsNotFound) {
  Serve("/old", "x");
  server_->InjectStatus("/old", 410);
  auto body = client_->Get(server_->Url("/old"));
  ASSERT_THAT(body, FailsWith(ErrorCode::kNotFound));
  EXPECT_EQ(server_->RequestCount("/old"), 1);
}

TEST_F(HttpTest, ServerErrorOnceThenSuccess) {
  Serve("/Release", "content");
  server_->InjectStatus("/Release", 500);
  auto body = client_->Get(server_->Url("/Release"));
  ASSERT_TRUE(body) << body.error().message;
  EXPECT_EQ(*body, "content");
  EXPECT_EQ(server_->RequestCount("/Release"), 2);
}

TEST_F(HttpTest, PersistentServerErrorGivesUpAfterMaxAttempts) {
  Serve("/Release", "content");
  server_->InjectStatus("/Release", 503, 100);
  std::string url = server_->Url("/Release");
  auto body = client_->Get(url);
  ASSERT_THAT(body, FailsWith(ErrorCode::kNetwork));
  EXPECT_THAT(body.error().message, HasSubstr("GET " + url + ": HTTP 503"));
  EXPECT_THAT(body.error().message, HasSubstr("after 4 attempts"));
  EXPECT_EQ(server_->RequestCount("/Release"), 4);
}

TEST_F(HttpTest, ClientErrorIsFinal) {
  Serve("/secret", "content");
  server_->InjectStatus("/secret", 403);
  auto body = client_->Get(server_->Url("/secret"));
  ASSERT_THAT(body, FailsWith(ErrorCode::kNetwork));
  EXPECT_THAT(body.error().message, HasSubstr("HTTP 403"));
  EXPECT_EQ(server_->RequestCount("/secret"), 1);
}

TEST_F(HttpTest, TooManyRequestsHonoursRetryAfter) {
  // A backoff of 20 s would blow the test's time budget: only Retry-After: 0 makes it fast.
  options_.initial_backoff = std::chrono::seconds(20);
  client_ = MakeCurlClient(options_);
  Serve("/Release", "content");
  server_->InjectStatus("/Release", 429, 1, {{"Retry-After", "0"}});
  auto start = std::chrono::steady_clock::now();
  auto body = client_->Get(server_->Url("/Release"));
  ASSERT_TRUE(body) << body.error().message;
  EXPECT_EQ(*body, "content");
  EXPECT_EQ(server_->RequestCount("/Release"), 2);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST_F(HttpTest, UnreachableHostIsNetworkErrorAndFast) {
  std::string url = "http://127.0.0.1:" + std::to_string(UnusedPort()) + "/InRelease";
  auto start = std::chrono::steady_clock::now();
  auto body = client_->Get(url);
  ASSERT_THAT(body, FailsWith(ErrorCode::kNetwork));
  EXPECT_THAT(body.error().message, HasSubstr("GET " + url + ": "));
  EXPECT_THAT(body.error().message, HasSubstr("after 4 attempts"));

  auto results = client_->Download({{url, out_ + "/x", 0}}, nullptr);
  ASSERT_EQ(results.size(), 1u);
  ASSERT_FALSE(results[0]);
  EXPECT_THAT(results[0], FailsWith(ErrorCode::kNetwork));
  EXPECT_FALSE(PathExists(out_ + "/x"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST_F(HttpTest, StalledResponseTimesOutAndIsRetried) {
  options_.limits.low_speed_seconds = 1;
  client_ = MakeCurlClient(options_);
  Serve("/slow", "finally");
  server_->InjectDelay("/slow", std::chrono::seconds(8));
  auto start = std::chrono::steady_clock::now();
  auto body = client_->Get(server_->Url("/slow"));
  ASSERT_TRUE(body) << body.error().message;
  EXPECT_EQ(*body, "finally");
  EXPECT_EQ(server_->RequestCount("/slow"), 2);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
}

// The command's deadline ends a stalled exchange that the low-speed check (5 s here) would still
// wait for, in every kind of call, with one kNetwork message naming the URL, and no retry.
TEST_F(HttpTest, DeadlineEndsStalledGetDownloadAndSend) {
  Serve("/slow", "finally");
  for (int call = 0; call < 3; ++call) {
    SCOPED_TRACE(call);
    server_->ClearFaults();
    server_->InjectDelay("/slow", std::chrono::seconds(8), 5);
    options_.limits.timeout = std::chrono::seconds(1);
    options_.limits.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    client_ = MakeCurlClient(options_);
    auto start = std::chrono::steady_clock::now();
    Result<void> result;
    std::string prefix = "GET " + server_->Url("/slow") + ": ";
    if (call == 0) {
      auto body = client_->Get(server_->Url("/slow"));
      result = body ? Result<void>{} : Fail(body.error());
    } else if (call == 1) {
      result = client_->Download({{server_->Url("/slow"), out_ + "/slow", 0}}, nullptr).at(0);
    } else {
      Request request;
      request.url = server_->Url("/slow");
      auto response = client_->Send(request);
      result = response ? Result<void>{} : Fail(response.error());
    }
    ASSERT_THAT(result, FailsWith(ErrorCode::kNetwork));
    EXPECT_EQ(result.error().message, prefix + "timed out: the command's --timeout of 1 s ran out");
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
    EXPECT_FALSE(PathExists(out_ + "/slow"));
  }
  EXPECT_EQ(server_->RequestCount("/slow"), 3);

  // Once the deadline has passed nothing is sent at all.
  auto late = client_->Get(server_->Url("/slow"));
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().message,
            "GET " + server_->Url("/slow") + ": timed out: the command's --timeout of 1 s ran out");
  EXPECT_EQ(server_->RequestCount("/slow"), 3);
}

TEST_F(HttpTest, RetryThatWouldOutlastTheDeadlineIsNotWaitedFor) {
  options_.limits.timeout = std::chrono::seconds(2);
  options_.limits.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  client_ = MakeCurlClient(options_);
  Serve("/busy", "x");
  server_->InjectStatus("/busy", 503, 1, {{"Retry-After", "20"}});
  auto start = std::chrono::steady_clock::now();
  auto body = client_->Get(server_->Url("/busy"));
  ASSERT_THAT(body, FailsWith(ErrorCode::kNetwork));
  EXPECT_EQ(body.error().message, "GET " + server_->Url("/busy") +
                                      ": HTTP 503 (timed out: the command's --timeout of 2 s "
                                      "ran out before the next attempt)");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST_F(HttpTest, SendRefusesAResponseWithEndlessHeaders) {
  server_->SetHandler([](const HttpServer::Request& r) -> std::optional<HttpServer::Response> {
    if (r.path != "/headers") return std::nullopt;
    HttpServer::Response response;
    for (int i = 0; i < 1500; ++i) response.headers.emplace_back("X-" + std::to_string(i), "y");
    return response;
  });
  Request request;
  request.url = server_->Url("/headers");
  auto answer = client_->Send(request);
  ASSERT_THAT(answer, FailsWith(ErrorCode::kNetwork));
  EXPECT_EQ(answer.error().message,
            "GET " + request.url + ": response has more than 1000 header fields");
}

TEST_F(HttpTest, DownloadWritesFileAndLeavesNoPart) {
  std::string data = RandomBytes(300000, 1);
  Serve("/pool/a.deb", data);
  Progress progress("download", data.size(), Progress::Unit::kBytes);
  auto results = client_->Download(
      {{server_->Url("/pool/a.deb"), out_ + "/sub/a.deb", data.size()}}, &progress);
  ASSERT_EQ(results.size(), 1u);
  ASSERT_TRUE(results[0]) << results[0].error().message;
  EXPECT_EQ(Read(out_ + "/sub/a.deb"), data);
  EXPECT_FALSE(PathExists(out_ + "/sub/a.deb.part"));
}

TEST_F(HttpTest, TruncatedBodyIsResumedWithRange) {
  std::string data = RandomBytes(200000, 2);
  Serve("/pool/b.deb", data);
  server_->InjectTruncation("/pool/b.deb", 120000);
  auto results = client_->Download({{server_->Url("/pool/b.deb"), out_ + "/b.deb", 0}}, nullptr);
  ASSERT_TRUE(results[0]) << results[0].error().message;
  EXPECT_EQ(server_->RequestCount("/pool/b.deb"), 2);
  auto last = server_->LastRequest("/pool/b.deb");
  ASSERT_TRUE(last);
  EXPECT_THAT(last->Header("Range"), Optional(std::string("bytes=120000-")));
  EXPECT_TRUE(Read(out_ + "/b.deb") == data) << "content differs";
  EXPECT_FALSE(PathExists(out_ + "/b.deb.part"));
}

TEST_F(HttpTest, TruncatedGetIsRetriedWhole) {
  std::string data = RandomBytes(50000, 3);
  Serve("/Packages", data);
  server_->InjectTruncation("/Packages", 1000);
  auto body = client_->Get(server_->Url("/Packages"));
  ASSERT_TRUE(body) << body.error().message;
  EXPECT_TRUE(*body == data);
  EXPECT_EQ(server_->LastRequest("/Packages")->Header("Range"), std::nullopt);
}

TEST_F(HttpTest, ExpectedSizeMismatchIsIntegrityErrorAndLeavesNothing) {
  std::string data = RandomBytes(1000, 4);
  Serve("/pool/c.deb", data);
  std::string url = server_->Url("/pool/c.deb");
  for (uint64_t expected : {999u, 1001u}) {
    auto results = client_->Download({{url, out_ + "/c.deb", expected}}, nullptr);
    ASSERT_FALSE(results[0]);
    EXPECT_THAT(results[0], FailsWith(ErrorCode::kIntegrity));
    EXPECT_THAT(results[0].error().message, HasSubstr(url));
    EXPECT_THAT(results[0].error().message, HasSubstr("1000"));
    EXPECT_THAT(results[0].error().message, HasSubstr(std::to_string(expected)));
    EXPECT_FALSE(PathExists(out_ + "/c.deb"));
    EXPECT_FALSE(PathExists(out_ + "/c.deb.part"));
  }
}

TEST_F(HttpTest, BodyShorterThanExpectedWithoutLengthIsIntegrityError) {
  // The server announces no size and closes after 10 bytes: a complete-looking but short body.
  server_->SetHandler([](const HttpRequest& req) -> std::optional<HttpResponse> {
    if (req.path != "/short") return std::nullopt;
    HttpResponse response{200, {}, "0123456789"};
    response.close_delimited = true;
    return response;
  });
  auto results = client_->Download({{server_->Url("/short"), out_ + "/short", 20}}, nullptr);
  ASSERT_FALSE(results[0]);
  EXPECT_THAT(results[0], FailsWith(ErrorCode::kIntegrity));
  EXPECT_THAT(results[0].error().message, HasSubstr("received 10 bytes, expected 20"));
  EXPECT_FALSE(PathExists(out_ + "/short"));
  EXPECT_FALSE(PathExists(out_ + "/short.part"));
}

TEST_F(HttpTest, PartLargerThanExpectedIsIntegrityError) {
  Serve("/pool/d.deb", "0123456789");
  ASSERT_TRUE(WriteFileAtomic(out_ + "/d.deb.part", "012345678901234"));
  auto results = client_->Download({{server_->Url("/pool/d.deb"), out_ + "/d.deb", 10}}, nullptr);
  ASSERT_FALSE(results[0]);
  EXPECT_THAT(results[0], FailsWith(ErrorCode::kIntegrity));
  EXPECT_THAT(results[0].error().message, HasSubstr("15"));
  EXPECT_FALSE(PathExists(out_ + "/d.deb"));
  EXPECT_EQ(server_->RequestCount("/pool/d.deb"), 0);
}

// A bound on a body of unknown size: refused when announced past it, cut when it grows past it
// without an announced size; at the bound itself the download succeeds.
TEST_F(HttpTest, BodyPastMaxSizeIsIntegrityErrorAndLeavesNothing) {
  Serve("/all.zip", std::string(1000, 'z'));
  server_->SetHandler([](const HttpRequest& req) -> std::optional<HttpResponse> {
    if (req.path != "/endless") return std::nullopt;
    HttpResponse response{200, {}, std::string(1000, 'e')};
    response.close_delimited = true;
    return response;
  });
  for (const std::string path : {"/all.zip", "/endless"}) {
    DownloadRequest request{server_->Url(path), out_ + "/data", 0, 999};
    auto results = client_->Download({request}, nullptr);
    ASSERT_FALSE(results[0]) << path;
    EXPECT_THAT(results[0], FailsWith(ErrorCode::kIntegrity)) << path;
    EXPECT_THAT(results[0].error().message, HasSubstr("limit of 999 bytes"));
    EXPECT_FALSE(PathExists(out_ + "/data"));
    EXPECT_FALSE(PathExists(out_ + "/data.part"));
    EXPECT_EQ(server_->RequestCount(path), 1) << "retried";

    request.max_size = 1000;
    results = client_->Download({request}, nullptr);
    ASSERT_TRUE(results[0]) << results[0].error().message;
    EXPECT_EQ(Read(out_ + "/data").size(), 1000u);
    ASSERT_TRUE(RemoveAll(out_ + "/data"));
  }
}

TEST_F(HttpTest, ExistingPartFileIsResumed) {
  std::string data = RandomBytes(100000, 5);
  Serve("/pool/e.deb", data);
  ASSERT_TRUE(WriteFileAtomic(out_ + "/e.deb.part", data.substr(0, 30000)));
  auto results =
      client_->Download({{server_->Url("/pool/e.deb"), out_ + "/e.deb", data.size()}}, nullptr);
  ASSERT_TRUE(results[0]) << results[0].error().message;
  EXPECT_EQ(server_->RequestCount("/pool/e.deb"), 1);
  EXPECT_THAT(server_->LastRequest("/pool/e.deb")->Header("Range"),
              Optional(std::string("bytes=30000-")));
  EXPECT_TRUE(Read(out_ + "/e.deb") == data);
  EXPECT_FALSE(PathExists(out_ + "/e.deb.part"));
}

TEST_F(HttpTest, ServerIgnoringRangeRewritesFromZero) {
  std::string data = RandomBytes(5000, 6);
  server_->SetHandler([&data](const HttpRequest& req) -> std::optional<HttpResponse> {
    if (req.path != "/norange") return std::nullopt;
    return HttpResponse{200, {}, data};
  });
  ASSERT_TRUE(WriteFileAtomic(out_ + "/f.part", "garbage that is not a prefix"));
  auto results = client_->Download({{server_->Url("/norange"), out_ + "/f", 0}}, nullptr);
  ASSERT_TRUE(results[0]) << results[0].error().message;
  EXPECT_TRUE(server_->LastRequest("/norange")->Header("Range"));
  EXPECT_TRUE(Read(out_ + "/f") == data);
}

TEST_F(HttpTest, CompletePartFileRestartsAfter416) {
  std::string data = RandomBytes(4000, 7);
  Serve("/pool/g.deb", data);
  ASSERT_TRUE(WriteFileAtomic(out_ + "/g.deb.part", data));
  auto results = client_->Download({{server_->Url("/pool/g.deb"), out_ + "/g.deb", 0}}, nullptr);
  ASSERT_TRUE(results[0]) << results[0].error().message;
  EXPECT_EQ(server_->RequestCount("/pool/g.deb"), 2);
  EXPECT_EQ(server_->LastRequest("/pool/g.deb")->Header("Range"), std::nullopt);
  EXPECT_TRUE(Read(out_ + "/g.deb") == data);
}

TEST_F(HttpTest, TwentyFilesInParallelWithFaults) {
  options_.max_parallel = 4;
  client_ = MakeCurlClient(options_);
  std::vector<DownloadRequest> requests;
  std::vector<std::string> contents;
  uint64_t total = 0;
  for (int i = 0; i < 20; ++i) {
    std::string path = "/pool/p" + std::to_string(i) + ".deb";
    contents.push_back(RandomBytes(10000 + 7919 * i, 100 + i));
    if (i != 5) Serve(path, contents.back());
    // Faults queue per path: these come first, then a delay on the next request.
    if (i == 3) server_->InjectStatus(path, 500);
    if (i == 8 || i == 9) server_->InjectTruncation(path, 5000);
    server_->InjectDelay(path, std::chrono::milliseconds(30));
    requests.push_back({server_->Url(path), out_ + "/p" + std::to_string(i) + ".deb",
                        i % 2 ? contents.back().size() : 0});
    total += i % 2 ? contents.back().size() : 0;
  }

  Progress progress("parallel", total, Progress::Unit::kBytes);
  auto results = client_->Download(requests, &progress);
  ASSERT_EQ(results.size(), 20u);
  for (int i = 0; i < 20; ++i) {
    if (i == 5) {
      ASSERT_FALSE(results[i]);
      EXPECT_THAT(results[i], FailsWith(ErrorCode::kNotFound));
      EXPECT_THAT(results[i].error().message, HasSubstr("/pool/p5.deb"));
      continue;
    }
    ASSERT_TRUE(results[i]) << i << ": " << results[i].error().message;
    EXPECT_TRUE(Read(requests[i].dest_path) == contents[i]) << "file " << i;
  }
  EXPECT_EQ(server_->RequestCount("/pool/p3.deb"), 2);
  EXPECT_EQ(server_->RequestCount("/pool/p8.deb"), 2);
  EXPECT_EQ(server_->RequestCount("/pool/p9.deb"), 2);
  EXPECT_THAT(server_->LastRequest("/pool/p9.deb")->Header("Range"),
              Optional(std::string("bytes=5000-")));
  EXPECT_LE(server_->MaxConcurrentRequests(), 4);
  EXPECT_GE(server_->MaxConcurrentRequests(), 2);
}

TEST_F(HttpTest, FileUrls) {
  std::string data = RandomBytes(70000, 8);
  Serve("/local.bin", data);
  std::string url = "file://" + root_ + "/local.bin";
  auto body = client_->Get(url);
  ASSERT_TRUE(body) << body.error().message;
  EXPECT_TRUE(*body == data);

  // Resumed from a .part file too.
  ASSERT_TRUE(WriteFileAtomic(out_ + "/local.bin.part", data.substr(0, 1234)));
  auto results = client_->Download({{url, out_ + "/local.bin", data.size()}}, nullptr);
  ASSERT_TRUE(results[0]) << results[0].error().message;
  EXPECT_TRUE(Read(out_ + "/local.bin") == data);

  auto missing = client_->Get("file://" + root_ + "/nope");
  ASSERT_THAT(missing, FailsWith(ErrorCode::kNotFound));
  EXPECT_THAT(missing.error().message, HasSubstr(root_ + "/nope"));
}

TEST_F(HttpTest, RedirectIsFollowed) {
  std::string data = RandomBytes(3000, 9);
  Serve("/new/h.deb", data);
  server_->SetHandler([](const HttpRequest& req) -> std::optional<HttpResponse> {
    if (req.path != "/old/h.deb") return std::nullopt;
    return HttpResponse{302, {{"Location", "/new/h.deb"}}, ""};
  });
  auto body = client_->Get(server_->Url("/old/h.deb"));
  ASSERT_TRUE(body) << body.error().message;
  EXPECT_TRUE(*body == data);
  auto results =
      client_->Download({{server_->Url("/old/h.deb"), out_ + "/h.deb", data.size()}}, nullptr);
  ASSERT_TRUE(results[0]) << results[0].error().message;
  EXPECT_TRUE(Read(out_ + "/h.deb") == data);
  EXPECT_EQ(server_->RequestCount("/old/h.deb"), 2);
  EXPECT_EQ(server_->RequestCount("/new/h.deb"), 2);
}

TEST_F(HttpTest, RedirectToFileUrlIsRefused) {
  server_->SetHandler([this](const HttpRequest&) -> std::optional<HttpResponse> {
    return HttpResponse{302, {{"Location", "file://" + root_ + "/x"}}, ""};
  });
  Serve("/x", "local secret");
  auto body = client_->Get(server_->Url("/anything"));
  ASSERT_THAT(body, FailsWith(ErrorCode::kNetwork));
}

TEST_F(HttpTest, DuplicateDestinationIsRejected) {
  Serve("/a", "a");
  auto results = client_->Download(
      {{server_->Url("/a"), out_ + "/a", 0}, {server_->Url("/a"), out_ + "/a", 0}}, nullptr);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_TRUE(results[0]);
  ASSERT_FALSE(results[1]);
  EXPECT_THAT(results[1], FailsWith(ErrorCode::kInternal));
}

// The test server itself: HEAD, ranges and request bodies, checked with the client above where
// it can and by raw request parsing where it cannot.
TEST(HttpServerTest, ParsesRequestHead) {
  auto req = ::hardbase::testing::ParseHttpRequestHead(
      "PUT /v2/x/blobs/uploads/1?digest=sha256:ab HTTP/1.1\r\nHost: h\r\nContent-Length:  3 ");
  ASSERT_TRUE(req) << req.error().message;
  EXPECT_EQ(req->method, "PUT");
  EXPECT_EQ(req->path, "/v2/x/blobs/uploads/1");
  EXPECT_EQ(req->query, "digest=sha256:ab");
  EXPECT_THAT(req->Header("content-length"), Optional(std::string("3")));
  EXPECT_FALSE(::hardbase::testing::ParseHttpRequestHead("GET\r\n"));
  EXPECT_FALSE(::hardbase::testing::ParseHttpRequestHead("GET / HTTP/1.1\r\nno colon"));
}

TEST_F(HttpTest, ServerAnswersClosedRangeAndReadsBodies) {
  Serve("/r", "0123456789");
  server_->SetHandler([](const HttpRequest& req) -> std::optional<HttpResponse> {
    if (req.path != "/echo") return std::nullopt;
    return HttpResponse{200, {}, req.method + ":" + req.query + ":" + req.body};
  });
  // libcurl as an independent client for what HttpClient does not send.
  CURL* curl = curl_easy_init();
  ASSERT_NE(curl, nullptr);
  std::string body;
  auto write = +[](char* p, size_t s, size_t n, void* out) {
    static_cast<std::string*>(out)->append(p, s * n);
    return s * n;
  };
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  std::string url = server_->Url("/r");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_RANGE, "2-4");
  ASSERT_EQ(curl_easy_perform(curl), CURLE_OK);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  EXPECT_EQ(status, 206);
  EXPECT_EQ(body, "234");

  body.clear();
  std::string echo = server_->Url("/echo?q=1");
  curl_easy_setopt(curl, CURLOPT_RANGE, nullptr);
  curl_easy_setopt(curl, CURLOPT_URL, echo.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "payload");
  ASSERT_EQ(curl_easy_perform(curl), CURLE_OK);
  EXPECT_EQ(body, "POST:q=1:payload");
  EXPECT_EQ(server_->LastRequest("/echo")->body, "payload");
  curl_easy_cleanup(curl);
}

// Send: one exchange, any method; the status is the caller's to judge.
TEST_F(HttpTest, SendCarriesMethodHeadersAndStreamedBody) {
  server_->SetHandler([](const HttpRequest& r) -> std::optional<HttpResponse> {
    HttpResponse out;
    out.status = r.method == "PATCH" ? 202 : 201;
    out.headers = {{"Location", "/next?x=1"}, {"X-Method", r.method}};
    out.body = r.method + " " + r.Header("Content-Type").value_or("") + " " + r.body;
    return out;
  });
  std::string body = RandomBytes(300000, 3);
  size_t offset = 0;
  Request request;
  request.method = "PATCH";
  request.url = server_->Url("/upload");
  request.headers = {{"Content-Type", "application/octet-stream"}};
  request.body_size = body.size();
  request.body_reader = [&](char* buf, size_t n) -> Result<size_t> {
    size_t take = std::min<size_t>({n, body.size() - offset, 1000});  // small pieces
    std::memcpy(buf, body.data() + offset, take);
    offset += take;
    return take;
  };
  auto r = client_->Send(request);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 202);
  EXPECT_THAT(r->Header("location"), Optional(std::string("/next?x=1")));
  EXPECT_EQ(r->body, "PATCH application/octet-stream " + body);

  Request head;
  head.method = "HEAD";
  head.url = server_->Url("/x");
  auto h = client_->Send(head);
  ASSERT_TRUE(h);
  EXPECT_THAT(h->Header("X-Method"), Optional(std::string("HEAD")));
  EXPECT_TRUE(h->body.empty());

  Request empty_post;  // a body-less POST still says Content-Length: 0
  empty_post.method = "POST";
  empty_post.url = server_->Url("/uploads/");
  auto p = client_->Send(empty_post);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->status, 201);
  EXPECT_THAT(server_->LastRequest("/uploads/")->Header("Content-Length"),
              Optional(std::string("0")));
}

TEST_F(HttpTest, SendSinksOnlySuccessfulBodiesAndBoundsTheRest) {
  Serve("/blob", RandomBytes(5000, 4));
  std::string sunk;
  Request get;
  get.url = server_->Url("/blob");
  get.body_sink = [&](const Response& head, std::string_view data) -> Result<void> {
    EXPECT_EQ(head.status, 200);
    sunk.append(data);
    return {};
  };
  auto ok = client_->Send(get);
  ASSERT_TRUE(ok);
  EXPECT_EQ(sunk, Read(root_ + "/blob"));
  EXPECT_TRUE(ok->body.empty());

  sunk.clear();
  get.url = server_->Url("/missing");
  auto missing = client_->Send(get);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_TRUE(sunk.empty()) << "an error page is not blob content";

  Request bounded;
  bounded.url = server_->Url("/blob");
  bounded.max_body = 100;
  auto big = client_->Send(bounded);
  ASSERT_FALSE(big);
  EXPECT_THAT(big.error().message, HasSubstr("larger than 100 bytes"));

  // A failing sink stops the exchange with its own error.
  get.url = server_->Url("/blob");
  get.body_sink = [](const Response&, std::string_view) -> Result<void> {
    return Fail(ErrorCode::kIo, "disk full");
  };
  auto stopped = client_->Send(get);
  ASSERT_THAT(stopped, FailsWith(ErrorCode::kIo));
  EXPECT_THAT(stopped.error().message, HasSubstr("disk full"));
}

TEST_F(HttpTest, SendReportsTransportFailuresAsTransient) {
  Request request;
  request.url = "http://127.0.0.1:" + std::to_string(UnusedPort()) + "/v2/";
  auto r = client_->Send(request);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 0);
  EXPECT_TRUE(r->transient);
  EXPECT_FALSE(r->transport_error.empty());
  // A streamed body that ends early is the caller's error, not the server's.
  request.url = server_->Url("/x");
  request.method = "PUT";
  request.body_size = 10;
  request.body_reader = [](char*, size_t) -> Result<size_t> { return size_t{0}; };
  auto short_body = client_->Send(request);
  ASSERT_THAT(short_body, FailsWith(ErrorCode::kIo));
}

}  // namespace
}  // namespace hardbase::net
