#include "net/retry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "net/fake_http.h"
#include "support/result_matchers.h"

namespace hardbase::net {
namespace {

using ::hardbase::testing::FailsWith;

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Optional;

// 2015-10-21 07:28:00 UTC, the date of RFC 9110's example.
const auto kExampleDate = std::chrono::system_clock::from_time_t(1445412480);

TEST(ParseRetryAfterTest, DeltaSeconds) {
  const auto now = std::chrono::system_clock::now();
  EXPECT_THAT(ParseRetryAfter("0", now), Optional(milliseconds(0)));
  EXPECT_THAT(ParseRetryAfter(" 3 ", now), Optional(milliseconds(3000)));
  EXPECT_THAT(ParseRetryAfter("30", now), Optional(milliseconds(30000)));
  // Capped, however long the number.
  EXPECT_THAT(ParseRetryAfter("31", now), Optional(kMaxRetryAfter));
  EXPECT_THAT(ParseRetryAfter("99999999999999999999999999999999", now), Optional(kMaxRetryAfter));
  EXPECT_THAT(ParseRetryAfter("7", now, milliseconds(5000)), Optional(milliseconds(5000)));
  EXPECT_THAT(ParseRetryAfter("7", now, milliseconds(0)), Optional(milliseconds(0)));
}

TEST(ParseRetryAfterTest, HttpDatesInEveryFormRelativeToNow) {
  const auto now = kExampleDate - seconds(10);
  EXPECT_THAT(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", now), Optional(milliseconds(10000)));
  EXPECT_THAT(ParseRetryAfter("Wednesday, 21-Oct-15 07:28:00 GMT", now),
              Optional(milliseconds(10000)));
  EXPECT_THAT(ParseRetryAfter("Wed Oct 21 07:28:00 2015", now), Optional(milliseconds(10000)));
  // Past dates mean now; far ones are capped (a date centuries ahead does not overflow).
  EXPECT_THAT(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", kExampleDate + seconds(5)),
              Optional(milliseconds(0)));
  EXPECT_THAT(ParseRetryAfter("Wed, 21 Oct 2015 08:28:00 GMT", now), Optional(kMaxRetryAfter));
  EXPECT_THAT(ParseRetryAfter("Fri, 31 Dec 9999 23:59:59 GMT", now), Optional(kMaxRetryAfter));
}

TEST(ParseRetryAfterTest, RejectsWhatIsNeither) {
  const auto now = std::chrono::system_clock::now();
  for (std::string_view bad :
       {"", "  ", "-1", "+5", "1.5", "3s", "0x10", "tomorrow", "Wed", "soon, 21 Oct", "\xff"}) {
    EXPECT_EQ(ParseRetryAfter(bad, now), std::nullopt) << bad;
  }
}

TEST(TransientTest, StatusesAndTransportFailures) {
  for (long status : {408, 429, 500, 502, 503, 504, 599}) EXPECT_TRUE(IsTransientStatus(status));
  for (long status : {200, 206, 301, 400, 401, 403, 404, 410, 416, 501, 505}) {
    EXPECT_FALSE(IsTransientStatus(status)) << status;
  }
  Response reset;
  reset.transport_error = "Connection reset by peer";
  reset.transient = true;
  EXPECT_TRUE(IsTransient(reset));
  Response bad_certificate;
  bad_certificate.transport_error = "SSL certificate problem";
  EXPECT_FALSE(IsTransient(bad_certificate));
  Response busy;
  busy.status = 503;
  EXPECT_TRUE(IsTransient(busy));
}

TEST(RetryPolicyTest, ExponentialBackoffWithCap) {
  RetryPolicy policy({.max_attempts = 4,
                      .initial_backoff = milliseconds(100),
                      .max_backoff = milliseconds(1000),
                      .max_retry_after = seconds(30),
                      .jitter = 0});
  EXPECT_EQ(policy.Delay(1), milliseconds(100));
  EXPECT_EQ(policy.Delay(2), milliseconds(200));
  EXPECT_EQ(policy.Delay(3), milliseconds(400));
  EXPECT_EQ(policy.Delay(4), milliseconds(800));
  EXPECT_EQ(policy.Delay(5), milliseconds(1000));
  EXPECT_EQ(policy.Delay(1000), milliseconds(1000));  // no overflow however many attempts
  EXPECT_TRUE(policy.MayRetry(3));
  EXPECT_FALSE(policy.MayRetry(4));
  EXPECT_FALSE(RetryPolicy({.max_attempts = 0}).MayRetry(1));  // one attempt at least, no more
}

TEST(RetryPolicyTest, JitterOnlyLengthens) {
  RetryPolicy policy({.max_attempts = 5,
                      .initial_backoff = milliseconds(1000),
                      .max_backoff = milliseconds(1000),
                      .max_retry_after = seconds(30),
                      .jitter = 0.25},
                     42);
  bool varied = false;
  milliseconds first = policy.Delay(1);
  for (int i = 0; i < 100; ++i) {
    milliseconds d = policy.Delay(1);
    EXPECT_GE(d, milliseconds(1000));
    EXPECT_LT(d, milliseconds(1250));
    varied = varied || d != first;
  }
  EXPECT_TRUE(varied);
}

TEST(RetryPolicyTest, RetryAfterWinsOverBackoffAndIsCapped) {
  RetryPolicy policy({.max_attempts = 5,
                      .initial_backoff = milliseconds(100),
                      .max_backoff = milliseconds(1000),
                      .max_retry_after = seconds(20),
                      .jitter = 0.25});
  EXPECT_EQ(policy.Delay(3, milliseconds(0)), milliseconds(0));
  EXPECT_EQ(policy.Delay(3, seconds(7)), seconds(7));
  EXPECT_EQ(policy.Delay(3, seconds(60)), seconds(20));

  Response response;
  response.status = 429;
  response.headers = {{"retry-after", "12"}};
  EXPECT_EQ(policy.Delay(1, response), seconds(12));
  response.headers = {{"Retry-After", "later"}};  // unusable: the backoff
  EXPECT_GE(policy.Delay(1, response), milliseconds(100));
  EXPECT_LT(policy.Delay(1, response), milliseconds(125));
}

TEST(PauseWithinTest, StopsAtTheDeadline) {
  NetworkLimits limits;
  limits.deadline = std::chrono::steady_clock::now() + milliseconds(50);
  auto start = std::chrono::steady_clock::now();
  PauseWithin(limits, seconds(20));
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(5));
}

// The policy as a client follows it: FakeHttp's Get waits what the policy says between attempts
// (recorded, not slept) and gives up after max_attempts.
TEST(RetryPolicyTest, FollowedByAClient) {
  FakeHttp http({.max_attempts = 4,
                 .initial_backoff = milliseconds(100),
                 .max_backoff = milliseconds(150),
                 .max_retry_after = seconds(30),
                 .jitter = 0});
  const std::string url = "http://repo.test/Release";
  http.RouteSequence("GET", url,
                     {FakeResponse::Status(503, {{"Retry-After", "7"}}),
                      FakeResponse::Status(429, {{"Retry-After", "Fri, 31 Dec 9999 23:59:59 GMT"}}),
                      FakeResponse::Dropped(), FakeResponse::Ok("release")});
  auto got = http.Get(url);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(*got, "release");
  EXPECT_THAT(http.waits(), ElementsAre(seconds(7), seconds(30), milliseconds(150)));

  http.Route("GET", url, FakeResponse::Status(500));
  auto failed = http.Get(url);
  ASSERT_THAT(failed, FailsWith(ErrorCode::kNetwork));
  EXPECT_THAT(failed.error().message, HasSubstr("HTTP 500 (after 4 attempts)"));
  EXPECT_EQ(http.Count("GET", url), 4 + 4);

  // What no attempt changes is not tried again.
  http.Route("GET", url, FakeResponse::Status(501));
  ASSERT_FALSE(http.Get(url));
  EXPECT_EQ(http.Count("GET", url), 4 + 4 + 1);
}

}  // namespace
}  // namespace hardbase::net
