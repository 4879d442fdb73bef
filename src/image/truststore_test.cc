#include "image/truststore.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "base/fs.h"
#include "base/sha256.h"
#include "support/process.h"
#include "support/result_matchers.h"

// Oracles: the CA set Debian's ca-certificates package installed on this machine, and what its
// own tools made from it (update-ca-certificates' bundle, `openssl rehash` links, and
// ca-certificates-java's keystore), plus openssl and keytool reading our output.

namespace hardbase::image {
namespace {

using ::hardbase::testing::FailsWith;

namespace fs = std::filesystem;
using hardbase::testing::RunProcess;
using ::testing::HasSubstr;

constexpr char kCertsDir[] = "/usr/share/ca-certificates";
constexpr char kEtcCerts[] = "/etc/ssl/certs";
constexpr int64_t kCreated = 1700000000000;  // 2023-11-14T22:13:20Z

// Every *.crt under `dir` (following links, as update-ca-certificates' `find -L`), named
// relative to `dir`.
std::vector<CaCertificateFile> CertificateFiles(const std::string& dir) {
  std::vector<CaCertificateFile> files;
  if (!fs::exists(dir)) return files;
  for (const auto& entry :
       fs::recursive_directory_iterator(dir, fs::directory_options::follow_directory_symlink)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".crt") continue;
    auto pem = ReadFile(entry.path());
    EXPECT_TRUE(pem) << pem.error().message;
    files.push_back({fs::relative(entry.path(), dir).string(), pem ? *pem : ""});
  }
  return files;
}

std::vector<CaCertificate> ParsedOrEmpty(const std::vector<CaCertificateFile>& files) {
  auto certs = ParseCertificates(files);
  EXPECT_TRUE(certs) << certs.error().message;
  return certs ? *certs : std::vector<CaCertificate>{};
}

// The PEM blocks of a bundle, each from its BEGIN line to its END line with the newline.
std::vector<std::string> PemBlocks(const std::string& text) {
  std::vector<std::string> blocks;
  std::istringstream in(text);
  std::string block;
  for (std::string line; std::getline(in, line);) {
    if (line == "-----BEGIN CERTIFICATE-----") block.clear();
    block += line + "\n";
    if (line == "-----END CERTIFICATE-----") blocks.push_back(block);
  }
  return blocks;
}

// "<8 hex digits>.<n>", the names `openssl rehash` gives its links.
bool IsHashLinkName(std::string_view name) {
  auto is_hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); };
  return name.size() > 9 && std::all_of(name.begin(), name.begin() + 8, is_hex) && name[8] == '.' &&
         std::all_of(name.begin() + 9, name.end(), ::isdigit);
}

std::vector<std::string> SplitAt(const std::string& s, std::string_view sep) {
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    size_t end = s.find(sep, start);
    parts.push_back(s.substr(start, end - start));
    if (end == std::string::npos) return parts;
    start = end + sep.size();
  }
}

class SystemCaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    files_ = CertificateFiles(kCertsDir);
    ASSERT_GT(files_.size(), 100u) << "package ca-certificates is not installed";
    auto conf = ReadFile("/etc/ca-certificates.conf");
    ASSERT_TRUE(conf) << conf.error().message;
    enabled_ = ParsedOrEmpty(EnabledCertificates(files_, *conf));
    ASSERT_GT(enabled_.size(), 100u);
  }

  std::vector<CaCertificateFile> files_;
  std::vector<CaCertificate> enabled_;
};

TEST_F(SystemCaTest, SubjectHashesMatchOpensslX509Hash) {
  std::vector<CaCertificate> all = ParsedOrEmpty(files_);
  ASSERT_EQ(all.size(), files_.size());
  for (const CaCertificate& cert : all) {
    auto r = RunProcess(
        {"openssl", "x509", "-hash", "-noout", "-in", std::string(kCertsDir) + "/" + cert.name});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(cert.subject_hash + "\n", r.out) << cert.name;
    EXPECT_THAT(cert.subject_hash, ::testing::MatchesRegex("[0-9a-f]{8}"));
  }
}

TEST_F(SystemCaTest, BundleMatchesUpdateCaCertificates) {
  auto system = ReadFile(std::string(kEtcCerts) + "/ca-certificates.crt");
  ASSERT_TRUE(system) << system.error().message;
  std::vector<std::string> system_blocks = PemBlocks(*system);
  std::vector<std::string> ours = PemBlocks(CaBundle(enabled_));
  ASSERT_EQ(ours.size(), enabled_.size());
  // update-ca-certificates appends the administrator's own certificates after the conf's.
  size_t local = CertificateFiles("/usr/local/share/ca-certificates").size();
  ASSERT_EQ(system_blocks.size(), ours.size() + local);
  system_blocks.resize(ours.size());
  EXPECT_EQ(ours, system_blocks);
  // Each certificate's PEM is one block, exactly as the bundle holds it.
  for (size_t i = 0; i < enabled_.size(); ++i) EXPECT_EQ(enabled_[i].pem, ours[i]);
}

TEST_F(SystemCaTest, CapathLinksMatchOpensslRehash) {
  // /etc/ssl/certs/<hash>.<n> -> X.pem -> /usr/share/ca-certificates/.../X.crt
  std::map<std::string, std::string> system;
  for (const auto& entry : fs::directory_iterator(kEtcCerts)) {
    std::string name = entry.path().filename().string();
    if (!entry.is_symlink() || !IsHashLinkName(name)) continue;
    std::string target = fs::canonical(entry.path()).string();
    if (target.starts_with(std::string(kCertsDir) + "/")) system[name] = target;
  }
  std::map<std::string, std::string> ours;
  for (const HashLink& link : CapathLinks(enabled_)) ours[link.name] = link.target;
  EXPECT_EQ(ours.size(), enabled_.size());
  EXPECT_EQ(ours, system);
}

TEST(CapathLinksTest, NumbersSameHashAndSkipsRepeatedCertificate) {
  auto pem = ReadFile(std::string(kCertsDir) + "/mozilla/ISRG_Root_X1.crt");
  ASSERT_TRUE(pem) << pem.error().message;
  std::vector<CaCertificate> certs = ParsedOrEmpty({{"a/one.crt", *pem}, {"b/two.crt", *pem}});
  ASSERT_EQ(certs.size(), 2u);
  certs[1].der += "x";  // a different certificate with the same subject
  certs.push_back(certs[0]);
  certs.back().name = "c/again.crt";
  std::vector<HashLink> links = CapathLinks(certs);
  ASSERT_EQ(links.size(), 2u);
  EXPECT_EQ(links[0].name, certs[0].subject_hash + ".0");
  EXPECT_EQ(links[0].target, "/usr/share/ca-certificates/a/one.crt");
  EXPECT_EQ(links[1].name, certs[0].subject_hash + ".1");
  EXPECT_EQ(links[1].target, "/usr/share/ca-certificates/b/two.crt");
}

struct KeytoolEntry {
  std::string type;
  std::string sha256;  // lowercase hex without colons
  bool operator==(const KeytoolEntry&) const = default;
};

// alias -> entry, from `keytool -list`; fails the test if keytool does.
std::map<std::string, KeytoolEntry> KeytoolList(const std::string& path,
                                                const std::string& password) {
  auto r = RunProcess({"keytool", "-list", "-keystore", path, "-storepass", password},
                      {{"LC_ALL", "C.UTF-8"}, {"TZ", "UTC"}});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  std::map<std::string, KeytoolEntry> entries;
  std::istringstream in(r.out);
  std::string alias;
  size_t count = 0;
  constexpr std::string_view kCount = "Your keystore contains ";
  constexpr std::string_view kFingerprint = "Certificate fingerprint (SHA-256): ";
  for (std::string line; std::getline(in, line);) {
    // An entry is "alias, Mon D, YYYY, type, " and then its fingerprint line.
    std::vector<std::string> fields = SplitAt(line, ", ");
    if (line.starts_with(kCount)) {
      count = std::stoul(line.substr(kCount.size()));
    } else if (line.starts_with(kFingerprint)) {
      std::string hex = line.substr(kFingerprint.size());
      hex.erase(std::remove(hex.begin(), hex.end(), ':'), hex.end());
      std::transform(hex.begin(), hex.end(), hex.begin(), ::tolower);
      entries[alias].sha256 = hex;
    } else if (fields.size() == 5 && fields[4].empty()) {
      alias = fields[0];
      entries[alias].type = fields[3];
    }
  }
  EXPECT_EQ(entries.size(), count) << r.out;
  return entries;
}

class KeystoreTest : public SystemCaTest {
 protected:
  void SetUp() override {
    SystemCaTest::SetUp();
    auto dir = TempDir::Create("truststore-test-");
    ASSERT_TRUE(dir) << dir.error().message;
    dir_.emplace(std::move(*dir));
  }

  std::string Write(const std::string& name, const std::string& data) {
    std::string path = dir_->path() + "/" + name;
    auto w = WriteFileAtomic(path, data);
    EXPECT_TRUE(w) << w.error().message;
    return path;
  }

  std::optional<TempDir> dir_;
};

TEST_F(KeystoreTest, KeytoolReadsEveryCertificate) {
  std::string path = Write("cacerts", JavaKeystore(enabled_, kCreated));
  std::map<std::string, KeytoolEntry> listed = KeytoolList(path, "changeit");
  ASSERT_EQ(listed.size(), enabled_.size());
  std::multiset<std::string> want_sha, got_sha;
  for (const CaCertificate& cert : enabled_) want_sha.insert(Sha256Hex(cert.der));
  for (const auto& [alias, entry] : listed) {
    EXPECT_EQ(entry.type, "trustedCertEntry") << alias;
    got_sha.insert(entry.sha256);
  }
  EXPECT_EQ(got_sha, want_sha);

  auto verbose = RunProcess({"keytool", "-list", "-v", "-keystore", path, "-storepass", "changeit"},
                            {{"LC_ALL", "C.UTF-8"}, {"TZ", "UTC"}});
  ASSERT_EQ(verbose.exit_code, 0) << verbose.err;
  EXPECT_THAT(verbose.out, HasSubstr("Keystore type: JKS"));
  EXPECT_THAT(verbose.out, HasSubstr("Creation date: Nov 14, 2023"));
}

TEST_F(KeystoreTest, AliasesMatchCaCertificatesJava) {
  std::string path = Write("cacerts", JavaKeystore(enabled_, kCreated));
  std::map<std::string, KeytoolEntry> ours = KeytoolList(path, "changeit");
  std::map<std::string, KeytoolEntry> system =
      KeytoolList("/etc/ssl/certs/java/cacerts", "changeit");
  ASSERT_EQ(ours.size(), enabled_.size());
  for (const auto& [alias, entry] : ours) {
    auto it = system.find(alias);
    ASSERT_NE(it, system.end()) << alias << " is not in ca-certificates-java's keystore";
    EXPECT_EQ(entry, it->second) << alias;
  }
}

TEST_F(KeystoreTest, PasswordKeysTheIntegrityCheck) {
  std::string path = Write("cacerts", JavaKeystore(enabled_, kCreated));
  auto r = RunProcess({"keytool", "-list", "-keystore", path, "-storepass", "wrongpass"},
                      {{"LC_ALL", "C.UTF-8"}});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.out + r.err, HasSubstr("password was incorrect"));

  std::string other = Write("other", JavaKeystore(enabled_, kCreated, "s3cr\xc3\xa9t"));
  EXPECT_EQ(KeytoolList(other, "s3cr\xc3\xa9t").size(), enabled_.size());
}

TEST_F(KeystoreTest, AliasesAreMangledAndLowercasedLikeJava) {
  auto pem = ReadFile(std::string(kCertsDir) + "/mozilla/ISRG_Root_X1.crt");
  ASSERT_TRUE(pem) << pem.error().message;
  std::vector<CaCertificate> certs =
      ParsedOrEmpty({{"local/My CA (Test),X.crt", *pem}, {"x/\xc3\x96rt_\xc3\x89G.crt", *pem}});
  std::string path = Write("odd", JavaKeystore(certs, kCreated));
  std::map<std::string, KeytoolEntry> listed = KeytoolList(path, "changeit");
  std::set<std::string> aliases;
  for (const auto& [alias, entry] : listed) aliases.insert(alias);
  EXPECT_EQ(aliases, (std::set<std::string>{"debian:my_ca_=test=_x.pem",
                                            "debian:\xc3\xb6rt_\xc3\xa9g.pem"}));
}

TEST_F(KeystoreTest, OutputIsDeterministic) {
  std::string first = JavaKeystore(enabled_, kCreated);
  std::vector<CaCertificate> reversed(enabled_.rbegin(), enabled_.rend());
  EXPECT_EQ(JavaKeystore(reversed, kCreated), first);
  EXPECT_EQ(JavaKeystore(enabled_, kCreated), first);
  EXPECT_NE(JavaKeystore(enabled_, kCreated + 1), first);
  EXPECT_EQ(first.substr(0, 8), std::string("\xfe\xed\xfe\xed\0\0\0\2", 8));

  std::vector<CaCertificateFile> shuffled = files_;
  std::reverse(shuffled.begin(), shuffled.end());
  auto conf = ReadFile("/etc/ca-certificates.conf");
  ASSERT_TRUE(conf);
  std::vector<CaCertificate> again = ParsedOrEmpty(EnabledCertificates(shuffled, *conf));
  EXPECT_EQ(CaBundle(again), CaBundle(enabled_));
  EXPECT_EQ(JavaKeystore(again, kCreated), first);
}

TEST(EnabledCertificatesTest, FollowsConfLinesCommentsAndExclamations) {
  std::vector<CaCertificateFile> files = {{"mozilla/C.crt", "c"},
                                          {"mozilla/A.crt", "a"},
                                          {"mozilla/B.crt", "b"},
                                          {"other/D.crt", "d"},
                                          {"mozilla/E.crt", "e"}};
  std::string conf =
      "# mozilla/E.crt is mentioned in a comment only\n"
      "mozilla/C.crt\n"
      "!mozilla/B.crt\n"
      "\n"
      "  other/D.crt  \n"
      "mozilla/A.crt\n"
      "mozilla/Missing.crt\n"
      "#mozilla/E.crt";
  std::vector<std::string> names;
  for (const auto& f : EnabledCertificates(files, conf)) names.push_back(f.name);
  EXPECT_EQ(names, (std::vector<std::string>{"mozilla/A.crt", "mozilla/C.crt", "other/D.crt"}));

  names.clear();
  for (const auto& f : EnabledCertificates(files, "")) names.push_back(f.name);
  EXPECT_EQ(names, (std::vector<std::string>{"mozilla/A.crt", "mozilla/B.crt", "mozilla/C.crt",
                                             "mozilla/E.crt", "other/D.crt"}));

  EXPECT_TRUE(EnabledCertificates(files, "# nothing enabled\n!mozilla/A.crt\n").empty());
}

TEST(ParseCertificatesTest, FileWithoutCertificateIsNamed) {
  auto r = ParseCertificates({{"mozilla/Broken.crt",
                               "-----BEGIN CERTIFICATE-----\nnot base64!\n"
                               "-----END CERTIFICATE-----\n"}});
  ASSERT_THAT(r, FailsWith(ErrorCode::kSpec));
  EXPECT_THAT(r.error().message, HasSubstr("mozilla/Broken.crt"));
  auto empty = ParseCertificates({{"x/Empty.crt", "just text\n"}});
  ASSERT_FALSE(empty);
  EXPECT_THAT(empty.error().message, HasSubstr("x/Empty.crt"));
}

}  // namespace
}  // namespace hardbase::image
