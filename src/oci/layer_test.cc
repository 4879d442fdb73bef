#include "oci/layer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <random>

#include "base/fs.h"
#include "support/process.h"
#include "support/result_matchers.h"

namespace hardbase::oci {
namespace {

using ::hardbase::testing::FailsWith;

using ::hardbase::testing::RunProcess;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using namespace std::string_literals;

LayerEntry File(std::string path, uint32_t mode, std::string content, uint32_t uid = 0,
                uint32_t gid = 0, int64_t mtime = 0) {
  LayerEntry e;
  e.path = std::move(path);
  e.mode = mode;
  e.uid = uid;
  e.gid = gid;
  e.mtime = mtime;
  e.content = std::make_shared<const std::string>(std::move(content));
  return e;
}

LayerEntry Dir(std::string path, uint32_t mode = 0755, int64_t mtime = 0) {
  LayerEntry e;
  e.path = std::move(path);
  e.type = LayerEntryType::kDirectory;
  e.mode = mode;
  e.mtime = mtime;
  return e;
}

LayerEntry Link(LayerEntryType type, std::string path, std::string target) {
  LayerEntry e;
  e.path = std::move(path);
  e.type = type;
  e.mode = 0777;
  e.link_target = std::move(target);
  return e;
}

class LayerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("oci-layer-test-");
    ASSERT_TRUE(dir.has_value());
    dir_.emplace(std::move(*dir));
  }

  // The tar of `entries`, also saved as <tmp>/layer.tar for GNU tar.
  std::string Tar(std::vector<LayerEntry> entries) {
    auto tar = WriteLayerTar(std::move(entries));
    EXPECT_TRUE(tar.has_value()) << tar.error().message;
    if (!tar) return "";
    EXPECT_TRUE(WriteFileAtomic(TarPath(), *tar).has_value());
    return *tar;
  }
  std::string TarPath() const { return dir_->path() + "/layer.tar"; }

  // `tar -tv` lines, with numeric owners and full UTC times.
  std::vector<std::string> GnuTarListing() {
    auto r = RunProcess({"tar", "--numeric-owner", "--full-time", "-tvf", TarPath()},
                        {{"TZ", "UTC"}, {"LC_ALL", "C"}});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<std::string> lines;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);) {
      // Collapse the column padding: "a  b" -> "a b".
      std::string squeezed;
      for (char c : line) {
        if (c != ' ' || squeezed.empty() || squeezed.back() != ' ') squeezed += c;
      }
      lines.push_back(squeezed);
    }
    return lines;
  }

  std::optional<TempDir> dir_;
};

// The header blocks of a tar: (typeflag, name field) in order, skipping data.
std::vector<std::pair<char, std::string>> Headers(const std::string& tar) {
  std::vector<std::pair<char, std::string>> out;
  for (size_t at = 0; at + 512 <= tar.size();) {
    if (tar.compare(at, 512, std::string(512, '\0')) == 0) break;
    std::string name(tar.data() + at, strnlen(tar.data() + at, 100));
    uint64_t size = std::stoull(std::string(tar.data() + at + 124, 11), nullptr, 8);
    out.emplace_back(tar[at + 156], name);
    at += 512 + (size + 511) / 512 * 512;
  }
  return out;
}

TEST_F(LayerTest, GnuTarReadsEntriesBack) {
  std::string block(512, 'b');
  LayerEntry empty = File("/etc/empty", 0444, "");
  empty.content = nullptr;
  Tar({
      empty,
      File("/usr/bin/hello", 04755, "hello\n", 1000, 1001, 1739011441),
      Dir("/usr", 0755, 1739011441),
      Dir("/usr/bin"),
      Dir("/tmp", 01777),
      Link(LayerEntryType::kSymlink, "/usr/bin/sh", "dash"),
      // Sorts before its target: it carries the content and the target links to it.
      Link(LayerEntryType::kHardlink, "/usr/bin/a-link", "/usr/bin/hello"),
      File("/usr/bin/zz", 0644, "", 0, 0, 0),
      Dir("/etc", 0700),
      File("/etc/block", 0640, block, 0, 42),
      File("/etc/block-and-one", 0600, block + "x"),
  });
  EXPECT_THAT(GnuTarListing(),
              ElementsAre("drwx------ 0/0 0 1970-01-01 00:00:00 etc/",
                          "-rw-r----- 0/42 512 1970-01-01 00:00:00 etc/block",
                          "-rw------- 0/0 513 1970-01-01 00:00:00 etc/block-and-one",
                          "-r--r--r-- 0/0 0 1970-01-01 00:00:00 etc/empty",
                          "drwxrwxrwt 0/0 0 1970-01-01 00:00:00 tmp/",
                          "drwxr-xr-x 0/0 0 2025-02-08 10:44:01 usr/",
                          "drwxr-xr-x 0/0 0 1970-01-01 00:00:00 usr/bin/",
                          "-rwsr-xr-x 1000/1001 6 2025-02-08 10:44:01 usr/bin/a-link",
                          "hrwsr-xr-x 1000/1001 0 2025-02-08 10:44:01 usr/bin/hello link to "
                          "usr/bin/a-link",
                          "lrwxrwxrwx 0/0 0 1970-01-01 00:00:00 usr/bin/sh -> dash",
                          "-rw-r--r-- 0/0 0 1970-01-01 00:00:00 usr/bin/zz"));

  // Extracted as root, every attribute lands as written.
  std::string root = dir_->path() + "/root";
  ASSERT_TRUE(MakeDirs(root).has_value());
  auto r = RunProcess({"tar", "--numeric-owner", "-xpf", TarPath(), "-C", root});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  struct stat hello {};
  struct stat link {};
  struct stat tmp {};
  struct stat block_st {};
  ASSERT_EQ(::lstat((root + "/usr/bin/hello").c_str(), &hello), 0);
  ASSERT_EQ(::lstat((root + "/usr/bin/a-link").c_str(), &link), 0);
  ASSERT_EQ(::lstat((root + "/tmp").c_str(), &tmp), 0);
  ASSERT_EQ(::lstat((root + "/etc/block").c_str(), &block_st), 0);
  if (::geteuid() == 0) {
    EXPECT_EQ(hello.st_mode & 07777, 04755u);
    EXPECT_EQ(hello.st_uid, 1000u);
    EXPECT_EQ(hello.st_gid, 1001u);
    EXPECT_EQ(block_st.st_gid, 42u);
  }
  EXPECT_EQ(hello.st_ino, link.st_ino);
  EXPECT_EQ(hello.st_nlink, 2u);
  EXPECT_EQ(hello.st_mtime, 1739011441);
  EXPECT_EQ(tmp.st_mode & 07777, 01777u);
  EXPECT_EQ(*ReadFile(root + "/usr/bin/hello"), "hello\n");
  EXPECT_EQ(*ReadFile(root + "/etc/block"), block);
  EXPECT_EQ(*ReadFile(root + "/etc/block-and-one"), block + "x");
  char target[64] = {};
  ASSERT_EQ(::readlink((root + "/usr/bin/sh").c_str(), target, sizeof target), 4);
  EXPECT_STREQ(target, "dash");
}

TEST_F(LayerTest, HeaderFieldsAreFixed) {
  std::string tar = Tar({File("/f", 0644, "x", 5, 6, 7)});
  ASSERT_EQ(tar.size(), 512u + 512u + 1024u);
  EXPECT_EQ(tar.substr(0, 2), "f\0"s);
  EXPECT_EQ(tar.substr(100, 8), "0000644\0"s);  // permission bits only
  EXPECT_EQ(tar.substr(108, 8), "0000005\0"s);
  EXPECT_EQ(tar.substr(116, 8), "0000006\0"s);
  EXPECT_EQ(tar.substr(124, 12), "00000000001\0"s);
  EXPECT_EQ(tar.substr(136, 12), "00000000007\0"s);
  EXPECT_EQ(tar[156], '0');
  EXPECT_EQ(tar.substr(257, 8), "ustar\x00"s + "00");
  EXPECT_EQ(tar.substr(265, 64), std::string(64, '\0'));    // uname, gname
  EXPECT_EQ(tar.substr(345, 167), std::string(167, '\0'));  // prefix and padding: no atime/ctime
  unsigned sum = 0;
  for (size_t i = 0; i < 512; ++i)
    sum += static_cast<unsigned char>(i >= 148 && i < 156 ? ' ' : tar[i]);
  EXPECT_EQ(std::stoul(tar.substr(148, 6), nullptr, 8), sum);
  EXPECT_EQ(tar.substr(154, 2), "\0 "s);
  EXPECT_EQ(tar[512], 'x');
  EXPECT_EQ(tar.substr(513, 511), std::string(511, '\0'));
  EXPECT_EQ(tar.substr(1024), std::string(1024, '\0'));
}

TEST_F(LayerTest, ParentsComeBeforeChildrenWhateverTheInputOrder) {
  std::vector<LayerEntry> entries = {Dir("/a-b"),
                                     Dir("/a"),
                                     File("/a/b/c", 0644, "c"),
                                     Dir("/a/b"),
                                     File("/a.b", 0644, "d"),
                                     File("/a0", 0644, "")};
  std::string forward = Tar(entries);
  std::reverse(entries.begin(), entries.end());
  EXPECT_EQ(Tar(entries), forward);
  std::mt19937 rng(7);
  std::shuffle(entries.begin(), entries.end(), rng);
  EXPECT_EQ(Tar(entries), forward);
  auto r = RunProcess({"tar", "-tf", TarPath()});
  EXPECT_EQ(r.out, "a/\na/b/\na/b/c\na-b/\na.b\na0\n");
}

TEST_F(LayerTest, PaxHeadersOnlyWhereUstarCannotHoldTheValue) {
  std::string dir150 = "/" + std::string(60, 'd') + "/" + std::string(60, 'e');
  std::string name150 = dir150 + "/" + std::string(25, 'f');  // fits as prefix + name
  std::string name300 = "/" + std::string(200, 'g') + "/" + std::string(99, 'h');  // does not
  std::string target200 = std::string(200, 't');
  LayerEntry big_ids = File("/ids", 0644, "i", 3000000, 4000000);
  LayerEntry future = File("/future", 0644, "", 0, 0, 10413792000);  // 2300-01-01
  LayerEntry past = File("/past", 0644, "", 0, 0, -86400);
  std::string tar =
      Tar({Dir("/" + std::string(60, 'd')), Dir(dir150), File(name150, 0644, "a"),
           Dir("/" + std::string(200, 'g')), File(name300, 0644, "b"),
           Link(LayerEntryType::kSymlink, "/link", target200), big_ids, future, past});
  std::vector<std::string> names, pax_for;
  auto headers = Headers(tar);
  for (size_t i = 0; i < headers.size(); ++i) {
    if (headers[i].first == 'x') pax_for.push_back(headers[i + 1].second.substr(0, 20));
  }
  // The long name, the long directory, the long link target, the ids and both times.
  EXPECT_THAT(pax_for, ElementsAre("future", std::string(20, 'g'), std::string(20, 'g'), "ids",
                                   "link", "past"));
  auto r = RunProcess({"tar", "--numeric-owner", "-tvf", TarPath()}, {{"TZ", "UTC"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");  // no warning about the headers
  EXPECT_NE(r.out.find(name150.substr(1) + "\n"), std::string::npos);
  EXPECT_NE(r.out.find(name300.substr(1) + "\n"), std::string::npos);
  EXPECT_NE(r.out.find("link -> " + target200 + "\n"), std::string::npos);
  EXPECT_NE(r.out.find("3000000/4000000"), std::string::npos);
  EXPECT_NE(r.out.find("2300-01-01 00:00 future"), std::string::npos);
  EXPECT_NE(r.out.find("1969-12-31 00:00 past"), std::string::npos);
}

TEST_F(LayerTest, RejectsInconsistentEntries) {
  auto code = [](std::vector<LayerEntry> entries) {
    auto tar = WriteLayerTar(std::move(entries));
    return tar ? std::optional<ErrorCode>() : tar.error().code;
  };
  EXPECT_EQ(code({File("relative", 0644, "")}), ErrorCode::kSpec);
  EXPECT_EQ(code({File("/a/../b", 0644, "")}), ErrorCode::kSpec);
  EXPECT_EQ(code({File("/a//b", 0644, "")}), ErrorCode::kSpec);
  EXPECT_EQ(code({Dir("/a/")}), ErrorCode::kSpec);
  EXPECT_EQ(code({Dir("/")}), ErrorCode::kSpec);
  EXPECT_EQ(code({File("/a", 0100644, "")}), ErrorCode::kSpec);
  EXPECT_EQ(code({File("/a", 0644, ""), Dir("/a")}), ErrorCode::kSpec);
  EXPECT_EQ(code({Link(LayerEntryType::kHardlink, "/l", "/missing")}), ErrorCode::kSpec);
  EXPECT_EQ(code({Dir("/d"), Link(LayerEntryType::kHardlink, "/l", "/d")}), ErrorCode::kSpec);
  EXPECT_EQ(code({Link(LayerEntryType::kSymlink, "/l", "")}), ErrorCode::kSpec);
  auto dup = WriteLayerTar({File("/etc/x", 0644, "1"), File("/etc/x", 0644, "2")});
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().message, "layer entry /etc/x: duplicate path");
  EXPECT_FALSE(code({Dir("/d"), File("/d/f", 0644, "")}).has_value());
}

// A compressible, multi-chunk tar: random bytes, then text.
std::string BigTar() {
  std::mt19937 rng(42);
  std::string random(6 << 20, '\0');
  for (auto& c : random) c = static_cast<char>(rng());
  std::string text;
  while (text.size() < (15u << 20)) text += "line " + std::to_string(rng() % 1000) + " of text\n";
  auto tar = WriteLayerTar({File("/random", 0644, random), File("/text", 0644, text)});
  EXPECT_TRUE(tar.has_value());
  return *tar;
}

// zlib's view of a gzip stream: the decompressed bytes, and the first ten bytes of every member.
std::pair<std::string, std::vector<std::string>> Inflate(const std::string& gz) {
  std::string out;
  std::vector<std::string> headers;
  size_t at = 0;
  while (at < gz.size()) {
    headers.push_back(gz.substr(at, 10));
    z_stream z{};
    EXPECT_EQ(inflateInit2(&z, 16 + MAX_WBITS), Z_OK);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data() + at));
    z.avail_in = static_cast<uInt>(gz.size() - at);
    char buf[1 << 16];
    int rc = Z_OK;
    while (rc == Z_OK) {
      z.next_out = reinterpret_cast<Bytef*>(buf);
      z.avail_out = sizeof buf;
      rc = inflate(&z, Z_NO_FLUSH);
      out.append(buf, sizeof buf - z.avail_out);
    }
    EXPECT_EQ(rc, Z_STREAM_END);
    at = static_cast<size_t>(reinterpret_cast<const char*>(z.next_in) - gz.data());
    inflateEnd(&z);
    if (rc != Z_STREAM_END) break;
  }
  return {out, headers};
}

TEST_F(LayerTest, GzipIsReproducibleAndReadByGzipAndZlib) {
  std::string tar = BigTar();
  auto one = CompressLayer(tar, Compression::kGzip, 1);
  ASSERT_TRUE(one.has_value()) << one.error().message;
  EXPECT_EQ(*CompressLayer(tar, Compression::kGzip, 2), *one);
  EXPECT_EQ(*CompressLayer(tar, Compression::kGzip, 0), *one);
  EXPECT_LT(one->size(), tar.size() * 2 / 3);

  auto gunzip = RunProcess({"gzip", "-dc"}, {}, *one);
  ASSERT_EQ(gunzip.exit_code, 0) << gunzip.err;
  EXPECT_TRUE(gunzip.out == tar);

  auto [inflated, headers] = Inflate(*one);
  EXPECT_TRUE(inflated == tar);
  // One member per 8 MiB of tar, each with the fixed header: mtime 0, XFL 0, OS 255.
  EXPECT_EQ(headers.size(), (tar.size() + (8 << 20) - 1) / (8 << 20));
  EXPECT_THAT(headers, ::testing::Each("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"s));
}

TEST_F(LayerTest, ZstdIsReproducibleAndReadByZstd) {
  std::string tar = BigTar();
  auto one = CompressLayer(tar, Compression::kZstd, 1);
  ASSERT_TRUE(one.has_value()) << one.error().message;
  EXPECT_EQ(*CompressLayer(tar, Compression::kZstd, 2), *one);
  EXPECT_EQ(*CompressLayer(tar, Compression::kZstd, 3), *one);

  auto unzstd = RunProcess({"zstd", "-dc"}, {}, *one);
  ASSERT_EQ(unzstd.exit_code, 0) << unzstd.err;
  EXPECT_TRUE(unzstd.out == tar);

  // Frames of 8 MiB of content each, with the content size and a checksum.
  std::vector<unsigned long long> sizes;
  for (size_t at = 0; at < one->size();) {
    size_t frame = ZSTD_findFrameCompressedSize(one->data() + at, one->size() - at);
    ASSERT_FALSE(ZSTD_isError(frame));
    // Frame_Header_Descriptor (after the 4-byte magic): bit 2 is Content_Checksum_flag.
    EXPECT_EQ(((*one)[at + 4] >> 2) & 1, 1) << "frame at " << at;
    sizes.push_back(ZSTD_getFrameContentSize(one->data() + at, frame));
    at += frame;
  }
  std::vector<unsigned long long> expected(tar.size() / (8 << 20), 8 << 20);
  expected.push_back(tar.size() % (8 << 20));
  EXPECT_THAT(sizes, ElementsAreArray(expected));
}

TEST_F(LayerTest, EmptyInputIsOneEmptyMemberOrFrame) {
  for (auto compression : {Compression::kGzip, Compression::kZstd}) {
    auto out = CompressLayer("", compression, 0);
    ASSERT_TRUE(out.has_value());
    auto r = RunProcess({compression == Compression::kGzip ? "gzip" : "zstd", "-dc"}, {}, *out);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "");
  }
}

TEST(CompressionTest, NamesAndMediaTypes) {
  for (auto compression : {Compression::kGzip, Compression::kZstd}) {
    EXPECT_EQ(*ParseCompression(CompressionName(compression)), compression);
  }
  EXPECT_THAT(ParseCompression("xz"), FailsWith(ErrorCode::kUsage));
  EXPECT_THAT(CompressionNames(), ElementsAre("gzip", "zstd"));
  for (std::string_view name : CompressionNames()) {
    EXPECT_EQ(CompressionName(*ParseCompression(name)), name);
  }
  EXPECT_EQ(LayerMediaType(Compression::kGzip), "application/vnd.oci.image.layer.v1.tar+gzip");
  EXPECT_EQ(LayerMediaType(Compression::kZstd), "application/vnd.oci.image.layer.v1.tar+zstd");
}

}  // namespace
}  // namespace hardbase::oci
