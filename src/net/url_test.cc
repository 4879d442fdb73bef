#include "net/url.h"

#include <gtest/gtest.h>

namespace hardbase::net {
namespace {

TEST(UrlTest, PercentEncodeKeepsOnlyUnreservedCharacters) {
  EXPECT_EQ(PercentEncode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(PercentEncode("repository:team/app:pull,push"),
            "repository%3Ateam%2Fapp%3Apull%2Cpush");
  EXPECT_EQ(PercentEncode("a b+c&d=e?"), "a%20b%2Bc%26d%3De%3F");
  EXPECT_EQ(PercentEncode(std::string("\0\xff", 2)), "%00%FF");
  EXPECT_EQ(PercentEncode(""), "");
}

TEST(UrlTest, AppendQuery) {
  EXPECT_EQ(AppendQuery("http://a.test/token", "scope=x"), "http://a.test/token?scope=x");
  EXPECT_EQ(AppendQuery("http://a.test/upload?_state=1", "digest=sha256%3Aab"),
            "http://a.test/upload?_state=1&digest=sha256%3Aab");
}

}  // namespace
}  // namespace hardbase::net
