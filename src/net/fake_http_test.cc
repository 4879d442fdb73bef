// FakeHttp keeps the HttpClient contract that code under test relies on: what reaches a sink,
// what a truncated transfer looks like, how redirects and resumed downloads go.
#include "net/fake_http.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <thread>

#include "base/fs.h"
#include "support/result_matchers.h"

namespace hardbase::net {
namespace {

using ::hardbase::testing::FailsWith;

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// No waits recorded as anything but zero: tests here are about answers, not delays.
RetryOptions Quick(int attempts = 3) {
  return {.max_attempts = attempts,
          .initial_backoff = std::chrono::milliseconds(0),
          .max_backoff = std::chrono::milliseconds(0),
          .max_retry_after = kMaxRetryAfter,
          .jitter = 0};
}

Request Get(std::string url) {
  Request r;
  r.url = std::move(url);
  return r;
}

TEST(FakeHttpTest, RoutesMatchExactlyThenWithoutQueryThenByLongestPrefix) {
  FakeHttp http;
  http.Route("GET", "http://a.test/x?q=1", FakeResponse::Ok("exact"));
  http.Route("GET", "http://a.test/x", FakeResponse::Ok("path"));
  http.Route("GET", "http://a.test/*", FakeResponse::Ok("short prefix"));
  http.Route("GET", "http://a.test/deep/*", FakeResponse::Ok("long prefix"));
  http.Route("*", "http://a.test/any", FakeResponse::Ok("any method"));
  EXPECT_EQ(http.Send(Get("http://a.test/x?q=1"))->body, "exact");
  EXPECT_EQ(http.Send(Get("http://a.test/x?q=2"))->body, "path");
  EXPECT_EQ(http.Send(Get("http://a.test/y"))->body, "short prefix");
  EXPECT_EQ(http.Send(Get("http://a.test/deep/z"))->body, "long prefix");
  Request del = Get("http://a.test/any");
  del.method = "DELETE";
  EXPECT_EQ(http.Send(del)->body, "any method");
  auto unrouted = http.Send(Get("http://b.test/"));
  ASSERT_TRUE(unrouted);
  EXPECT_EQ(unrouted->status, 404);
  EXPECT_EQ(http.Count("GET", "http://a.test/*"), 4);
  EXPECT_EQ(http.Count("*", "*"), 6);
}

TEST(FakeHttpTest, SequencesRepeatTheirLastAnswerAndHandlersSeeTheRequest) {
  FakeHttp http;
  http.RouteSequence("GET", "http://a.test/s",
                     {FakeResponse::Status(503), FakeResponse::Ok("one"), FakeResponse::Ok("two")});
  std::vector<long> statuses;
  std::vector<std::string> bodies;
  for (int i = 0; i < 4; ++i) {
    auto r = http.Send(Get("http://a.test/s"));
    ASSERT_TRUE(r);
    statuses.push_back(r->status);
    bodies.push_back(r->body);
  }
  EXPECT_THAT(statuses, ElementsAre(503, 200, 200, 200));
  EXPECT_THAT(bodies, ElementsAre("", "one", "two", "two"));

  http.RouteHandler("PUT", "http://a.test/echo", [](const RecordedRequest& r) {
    return FakeResponse::Ok(r.Header("x-token").value_or("none") + ":" + r.body);
  });
  Request put = Get("http://a.test/echo");
  put.method = "PUT";
  put.headers = {{"X-Token", "t"}};
  put.body = "payload";
  EXPECT_EQ(http.Send(put)->body, "t:payload");
  const auto sent = http.requests().back();
  EXPECT_EQ(sent.method, "PUT");
  EXPECT_EQ(sent.Header("X-TOKEN"), "t");
  EXPECT_EQ(sent.body, "payload");
}

TEST(FakeHttpTest, SendReadsStreamedBodiesAndFeedsSinks) {
  FakeHttp http;
  std::string big(100000, 'x');
  http.Route("*", "http://a.test/blob", FakeResponse::Ok(big));
  Request upload = Get("http://a.test/blob");
  upload.method = "POST";
  upload.body_size = 5;
  size_t given = 0;
  upload.body_reader = [&](char* buf, size_t n) -> Result<size_t> {
    size_t k = std::min<size_t>(n, 5 - given);
    std::fill(buf, buf + k, 'b');
    given += k;
    return k;
  };
  ASSERT_TRUE(http.Send(upload));
  EXPECT_EQ(http.requests().back().body, "bbbbb");

  // A reader that ends early is the caller's error.
  given = 3;
  auto short_body = http.Send(upload);
  ASSERT_THAT(short_body, FailsWith(ErrorCode::kIo));

  Request download = Get("http://a.test/blob");
  std::string sunk;
  int pieces = 0;
  download.body_sink = [&](const Response& head, std::string_view data) -> Result<void> {
    EXPECT_EQ(head.status, 200);
    sunk.append(data);
    ++pieces;
    return {};
  };
  auto r = http.Send(download);
  ASSERT_TRUE(r);
  EXPECT_EQ(sunk, big);
  EXPECT_GT(pieces, 1);
  EXPECT_TRUE(r->body.empty());

  Request bounded = Get("http://a.test/blob");
  bounded.max_body = 10;
  auto over = http.Send(bounded);
  ASSERT_FALSE(over);
  EXPECT_THAT(over.error().message, HasSubstr("larger than 10 bytes"));
}

TEST(FakeHttpTest, FaultsLookAsTheyDoOverTheWire) {
  FakeHttp http;
  http.Route("GET", "http://a.test/cut", FakeResponse::Truncated("0123456789", 4));
  http.Route("GET", "http://a.test/down", FakeResponse::Dropped("Connection refused", false));
  std::string sunk;
  Request cut = Get("http://a.test/cut");
  cut.body_sink = [&](const Response&, std::string_view data) -> Result<void> {
    sunk.append(data);
    return {};
  };
  auto r = http.Send(cut);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 0);
  EXPECT_TRUE(r->transient);
  EXPECT_THAT(r->transport_error, HasSubstr("6 bytes remaining"));
  EXPECT_EQ(sunk, "0123");
  auto down = http.Send(Get("http://a.test/down"));
  ASSERT_TRUE(down);
  EXPECT_EQ(down->status, 0);
  EXPECT_FALSE(down->transient);
  EXPECT_EQ(down->transport_error, "Connection refused");
}

TEST(FakeHttpTest, RedirectsAreFollowedOnlyWhenAskedAndKeepCredentialsHome) {
  FakeHttp http;
  http.Route("GET", "http://reg.test/blob", FakeResponse::Redirect("http://storage.test/b"));
  http.Route("GET", "http://storage.test/b", FakeResponse::Ok("bytes"));
  Request r = Get("http://reg.test/blob");
  r.headers = {{"Authorization", "Bearer secret"}};
  auto unfollowed = http.Send(r);
  ASSERT_TRUE(unfollowed);
  EXPECT_EQ(unfollowed->status, 307);
  r.follow_redirects = true;
  auto followed = http.Send(r);
  ASSERT_TRUE(followed);
  EXPECT_EQ(followed->body, "bytes");
  EXPECT_EQ(followed->effective_url, "http://storage.test/b");
  EXPECT_EQ(http.requests().back().Header("Authorization"), std::nullopt);
  EXPECT_EQ(http.Get("http://reg.test/blob").value_or(""), "bytes");
}

TEST(FakeHttpTest, GetKeepsTheContract) {
  FakeHttp http(Quick());
  http.Route("GET", "http://a.test/gone", FakeResponse::Status(410));
  http.Route("GET", "http://a.test/denied", FakeResponse::Status(403));
  http.RouteSequence("GET", "http://a.test/flaky",
                     {FakeResponse::Truncated("abcdef", 2), FakeResponse::Ok("abcdef")});
  EXPECT_THAT(http.Get("http://a.test/gone"), FailsWith(ErrorCode::kNotFound));
  EXPECT_THAT(http.Get("http://a.test/nowhere"), FailsWith(ErrorCode::kNotFound));
  auto denied = http.Get("http://a.test/denied");
  ASSERT_THAT(denied, FailsWith(ErrorCode::kNetwork));
  EXPECT_EQ(denied.error().message, "GET http://a.test/denied: HTTP 403");
  EXPECT_EQ(http.Count("GET", "http://a.test/denied"), 1);
  EXPECT_EQ(http.Get("http://a.test/flaky").value_or(""), "abcdef");
}

class FakeDownloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/fake-http-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { (void)RemoveAll(dir_); }
  std::string dir_;
};

TEST_F(FakeDownloadTest, TruncatedTransfersResumeWithRange) {
  FakeHttp http(Quick());
  const std::string url = "http://a.test/pool/p.deb";
  const std::string body = "0123456789abcdef";
  http.RouteSequence(
      "GET", url,
      {FakeResponse::Truncated(body, 5), FakeResponse::Truncated(body, 6), FakeResponse::Ok(body)});
  const std::string dest = dir_ + "/sub/p.deb";
  auto results = http.Download({{url, dest, body.size(), 0}}, nullptr);
  ASSERT_EQ(results.size(), 1u);
  ASSERT_TRUE(results[0]) << results[0].error().message;
  EXPECT_EQ(ReadFile(dest).value_or(""), body);
  EXPECT_FALSE(PathExists(dest + ".part"));
  auto sent = http.requests();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[0].Header("Range"), std::nullopt);
  EXPECT_EQ(sent[1].Header("Range"), "bytes=5-");
  EXPECT_EQ(sent[2].Header("Range"), "bytes=11-");
}

TEST_F(FakeDownloadTest, SizesAreChecked) {
  FakeHttp http(Quick());
  http.Route("GET", "http://a.test/f", FakeResponse::Ok("twelve bytes"));
  auto results = http.Download({{"http://a.test/f", dir_ + "/a", 5, 0},
                                {"http://a.test/f", dir_ + "/b", 0, 4},
                                {"http://a.test/f", dir_ + "/c", 12, 0},
                                {"http://a.test/missing", dir_ + "/d", 0, 0}},
                               nullptr);
  ASSERT_EQ(results.size(), 4u);
  EXPECT_THAT(results[0], FailsWith(ErrorCode::kIntegrity));
  EXPECT_THAT(results[1], FailsWith(ErrorCode::kIntegrity));
  EXPECT_TRUE(results[2]);
  EXPECT_THAT(results[3], FailsWith(ErrorCode::kNotFound));
  EXPECT_FALSE(PathExists(dir_ + "/a") || PathExists(dir_ + "/a.part"));
  EXPECT_FALSE(PathExists(dir_ + "/b") || PathExists(dir_ + "/b.part"));
}

TEST(FakeHttpTest, ConcurrentCallsAreRecordedOnce) {
  FakeHttp http;
  http.Route("GET", "http://a.test/*", FakeResponse::Ok("x"));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&http, t] {
      for (int i = 0; i < 50; ++i) (void)http.Send(Get("http://a.test/" + std::to_string(t)));
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(http.Count("GET", "http://a.test/*"), 200);
  EXPECT_EQ(http.Count("GET", "http://a.test/2"), 50);
}

}  // namespace
}  // namespace hardbase::net
