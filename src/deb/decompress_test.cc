#include "deb/decompress.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "support/process.h"
#include "support/result_matchers.h"

namespace hardbase::deb {
namespace {

using ::hardbase::testing::FailsWith;

using ::hardbase::testing::RunProcess;
using ::testing::HasSubstr;

std::string Compressed(const std::vector<std::string>& argv, const std::string& data) {
  auto r = RunProcess(argv, {}, data);
  EXPECT_EQ(r.exit_code, 0) << argv[0] << ": " << r.err;
  return r.out;
}

// Text-like bytes: compressible, but not trivially.
std::string Sample(size_t n) {
  std::mt19937 gen(7);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>('a' + gen() % 8);
  return s;
}

// A zstd frame of one raw block holding `data`, its window descriptor asking for 2^window_log.
std::string ZstdRawFrame(const std::string& data, int window_log) {
  std::string out("\x28\xb5\x2f\xfd", 4);
  out += '\0';  // frame header: no content size, no checksum, not single-segment
  out += static_cast<char>((window_log - 10) << 3);
  uint32_t header = 1 | static_cast<uint32_t>(data.size()) << 3;  // last block, raw
  out.append(
      {static_cast<char>(header), static_cast<char>(header >> 8), static_cast<char>(header >> 16)});
  return out + data;
}

TEST(DecompressTest, RoundTripsWhatTheDebianToolsWrite) {
  const std::string data = Sample(600 << 10);
  for (const auto& argv :
       std::vector<std::vector<std::string>>{{"xz", "-c"},
                                             {"xz", "-c", "-T2", "--block-size=65536"},
                                             {"gzip", "-c"},
                                             {"zstd", "-c", "-q"}}) {
    SCOPED_TRACE(argv[0]);
    std::string packed = Compressed(argv, data);
    auto r = Decompress(packed, "Packages", data.size());
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(*r == data);
    // One byte short of the output is a bomb.
    r = Decompress(packed, "Packages", data.size() - 1);
    ASSERT_THAT(r, FailsWith(ErrorCode::kIntegrity));
    EXPECT_THAT(r.error().message,
                HasSubstr("decompress Packages: unpacks to more than the limit of " +
                          std::to_string(data.size() - 1) + " bytes"));
    // Every truncation is an error, never a short result.
    for (size_t cut : {packed.size() / 2, packed.size() - 1}) {
      auto t = Decompress(packed.substr(0, cut), "Packages", data.size());
      ASSERT_THAT(t, FailsWith(ErrorCode::kIntegrity)) << cut;
    }
  }
  // Concatenated gzip members and zstd frames read as one stream, like gzip -d and zstd -d do.
  std::string gz = Compressed({"gzip", "-c"}, "ab") + Compressed({"gzip", "-c"}, "cd");
  EXPECT_EQ(Decompress(gz, "x", 10).value_or("?"), "abcd");
  std::string zst = ZstdRawFrame("ab", 20) + ZstdRawFrame("cd", 20);
  EXPECT_EQ(Decompress(zst, "x", 10).value_or("?"), "abcd");
  EXPECT_EQ(Decompress("plain text", "x", 10).value_or("?"), "plain text");
  EXPECT_EQ(Decompress("", "x", 10).value_or("?"), "");
}

TEST(DecompressTest, RefusesStreamsAskingForTooMuchMemory) {
  EXPECT_EQ(Decompress(ZstdRawFrame("hi", kMaxZstdWindowLog), "x", 10).value_or("?"), "hi");
  auto r = Decompress(ZstdRawFrame("hi", 31), "Packages.zst", 10);
  ASSERT_THAT(r, FailsWith(ErrorCode::kIntegrity));
  EXPECT_EQ(r.error().message,
            "decompress Packages.zst: zstd: the stream's window is larger than the limit of "
            "128 MiB");
}

TEST(DecompressTest, ChecksTheMagicAgainstTheNamedCompression) {
  std::string gz = Compressed({"gzip", "-c"}, "abc");
  auto d = OpenDecoder(Compression::kXz, gz, 10);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().message, "compressed differently than its name says");
  EXPECT_EQ(DetectCompression(gz), Compression::kGzip);
}

}  // namespace
}  // namespace hardbase::deb
