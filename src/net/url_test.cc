#include "net/url.h"

#include <gtest/gtest.h>

namespace hardbase::net {
namespace {

TEST(UrlTest, AppendQuery) {
  EXPECT_EQ(AppendQuery("http://a.test/token", "scope=x"), "http://a.test/token?scope=x");
  EXPECT_EQ(AppendQuery("http://a.test/upload?_state=1", "digest=sha256%3Aab"),
            "http://a.test/upload?_state=1&digest=sha256%3Aab");
}

}  // namespace
}  // namespace hardbase::net
