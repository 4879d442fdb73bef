#include "deb/keyring.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>

#include "base/fs.h"
#include "base/strings.h"
#include "support/repo_fixture.h"
#include "support/result_matchers.h"

namespace hardbase::deb {
namespace {

using ::hardbase::testing::FailsWith;

using hardbase::testing::PublishOptions;
using hardbase::testing::RepoFixture;
using hardbase::testing::TestSigningKeys;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Primary-key fingerprints as gpg itself prints them (`--with-colons`: the fpr record that
// follows each pub record).
std::vector<std::string> GpgPrimaryFingerprints(const std::vector<std::string>& gpg_args) {
  std::vector<std::string> argv = {"gpg", "--batch", "--with-colons"};
  argv.insert(argv.end(), gpg_args.begin(), gpg_args.end());
  auto out = RepoFixture::RunTool(argv);
  EXPECT_TRUE(out) << out.error().message;
  std::vector<std::string> fprs;
  bool after_pub = false;
  std::string text = out ? *out : "";
  for (const Line& row : Lines(text)) {
    std::string_view line = row.text;
    if (line.starts_with("pub:")) after_pub = true;
    if (line.starts_with("sub:")) after_pub = false;
    if (line.starts_with("fpr:") && after_pub) {
      std::vector<std::string> cols;
      std::istringstream fields{std::string(line)};
      for (std::string col; std::getline(fields, col, ':');) cols.push_back(col);
      if (cols.size() > 9) fprs.push_back(cols[9]);
      after_pub = false;
    }
  }
  return fprs;
}

class KeyringTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("keyring-test-");
    ASSERT_TRUE(dir) << dir.error().message;
    dir_.emplace(std::move(*dir));
    auto keys = RepoFixture::Keys();
    ASSERT_TRUE(keys) << keys.error().message;
    keys_ = *keys;
    repo_.emplace(dir_->path() + "/repo");
    hardbase::testing::PackageSpec hello{.name = "hello", .version = "2.10-3"};
    hello.files["usr/bin/hello"] = "#!/bin/sh\necho hello\n";
    auto added = repo_->AddPackage("stable", "amd64", hello);
    ASSERT_TRUE(added) << added.error().message;
  }

  // Publishes "stable" with `options`; returns its InRelease bytes.
  std::string PublishInRelease(const PublishOptions& options) {
    auto r = repo_->Publish("stable", options);
    EXPECT_TRUE(r) << r.error().message;
    auto text = ReadFile(repo_->root() + "/dists/stable/InRelease");
    EXPECT_TRUE(text);
    return text ? *text : "";
  }
  std::string ReleaseText() {
    auto text = ReadFile(repo_->root() + "/dists/stable/Release");
    EXPECT_TRUE(text);
    return text ? *text : "";
  }
  Keyring FixtureKeyring() {
    auto keyring = Keyring::FromFiles({keys_->keyring_path});
    EXPECT_TRUE(keyring) << keyring.error().message;
    return std::move(*keyring);
  }
  // The primary fingerprint gpg lists for a user id in the fixture's GNUPGHOME.
  std::string GpgFingerprintOf(const std::string& uid) {
    auto fprs = GpgPrimaryFingerprints({"--homedir", keys_->gnupg_home, "--fingerprint", uid});
    EXPECT_EQ(fprs.size(), 1u) << uid;
    return fprs.empty() ? "" : fprs[0];
  }

  std::optional<TempDir> dir_;
  const TestSigningKeys* keys_ = nullptr;
  std::optional<RepoFixture> repo_;
};

TEST_F(KeyringTest, GoodSignatureReturnsSignedTextAndSigner) {
  std::string inrelease = PublishInRelease({});
  Keyring keyring = FixtureKeyring();
  auto v = VerifyClearsigned(keyring, inrelease, "InRelease of stable");
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->signed_text, ReleaseText());
  EXPECT_THAT(v->signer_fingerprints, ElementsAre(GpgFingerprintOf("test@invalid")));
}

TEST_F(KeyringTest, PrimaryFingerprintsMatchGpg) {
  Keyring keyring = FixtureKeyring();
  std::vector<std::string> want = GpgPrimaryFingerprints({"--show-keys", keys_->keyring_path});
  std::sort(want.begin(), want.end());
  ASSERT_EQ(want.size(), 2u);
  EXPECT_EQ(keyring.PrimaryFingerprints(), want);
  EXPECT_THAT(keyring.sources(), ElementsAre(keys_->keyring_path));
}

TEST_F(KeyringTest, SubkeySignatureNamesThePrimaryKey) {
  PublishOptions options;
  options.signature = PublishOptions::Signature::kSubkey;
  std::string inrelease = PublishInRelease(options);
  Keyring keyring = FixtureKeyring();
  auto v = VerifyClearsigned(keyring, inrelease, "InRelease of stable");
  ASSERT_TRUE(v) << v.error().message;
  std::string primary = GpgFingerprintOf("subkey@invalid");
  EXPECT_THAT(v->signer_fingerprints, ElementsAre(primary));
  EXPECT_NE(primary, keys_->subkey_fingerprint);
  EXPECT_EQ(v->signed_text, ReleaseText());
}

TEST_F(KeyringTest, TamperedTextFails) {
  PublishOptions options;
  options.signature = PublishOptions::Signature::kTampered;
  std::string inrelease = PublishInRelease(options);
  ASSERT_THAT(inrelease, HasSubstr("Origin: Hardbase-test"));
  Keyring keyring = FixtureKeyring();
  auto v = VerifyClearsigned(keyring, inrelease, "InRelease of stable");
  ASSERT_THAT(v, FailsWith(ErrorCode::kIntegrity));
  EXPECT_THAT(v.error().message, HasSubstr("InRelease of stable: no good signature"));
  EXPECT_THAT(v.error().message, HasSubstr("does not match the text (tampered?)"));
  EXPECT_THAT(v.error().message, HasSubstr(keys_->fingerprint.substr(24)));
}

TEST_F(KeyringTest, UnknownKeyFails) {
  PublishOptions options;
  options.signature = PublishOptions::Signature::kUnknownKey;
  std::string inrelease = PublishInRelease(options);
  Keyring keyring = FixtureKeyring();
  auto v = VerifyClearsigned(keyring, inrelease, "InRelease of stable");
  ASSERT_THAT(v, FailsWith(ErrorCode::kIntegrity));
  EXPECT_THAT(v.error().message,
              HasSubstr("1 signature by unknown key 0x" + keys_->other_fingerprint.substr(24)));
  EXPECT_THAT(v.error().message, HasSubstr(keys_->keyring_path));
}

TEST_F(KeyringTest, UnsignedFails) {
  PublishOptions options;
  options.signature = PublishOptions::Signature::kUnsigned;
  std::string inrelease = PublishInRelease(options);
  Keyring keyring = FixtureKeyring();
  auto v = VerifyClearsigned(keyring, inrelease, "InRelease of stable");
  ASSERT_THAT(v, FailsWith(ErrorCode::kIntegrity));
  EXPECT_THAT(v.error().message,
              HasSubstr("InRelease of stable: not an OpenPGP clear-signed document"));
}

TEST_F(KeyringTest, EmptyKeyringVerifiesNothing) {
  std::string inrelease = PublishInRelease({});
  auto keyring = Keyring::Create();
  ASSERT_TRUE(keyring);
  auto v = VerifyClearsigned(*keyring, inrelease, "InRelease of stable");
  ASSERT_THAT(v, FailsWith(ErrorCode::kIntegrity));
  EXPECT_THAT(v.error().message, HasSubstr("unknown key"));
}

TEST_F(KeyringTest, TextOutsideTheSignedBlockIsNotReturned) {
  std::string inrelease = PublishInRelease({});
  Keyring keyring = FixtureKeyring();
  std::string wrapped = "Origin: evil\nSHA256:\n 00 1 main/binary-amd64/Packages.xz\n\n" +
                        inrelease + "\nOrigin: evil too\n";
  auto v = VerifyClearsigned(keyring, wrapped, "InRelease of stable");
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->signed_text, ReleaseText());
  EXPECT_THAT(v->signed_text, ::testing::Not(HasSubstr("evil")));
}

TEST_F(KeyringTest, HeaderMustStartALine) {
  std::string inrelease = PublishInRelease({});
  Keyring keyring = FixtureKeyring();
  auto v = VerifyClearsigned(keyring, "x" + inrelease, "InRelease of stable");
  ASSERT_FALSE(v);
  EXPECT_THAT(v.error().message, HasSubstr("not an OpenPGP clear-signed document"));
}

TEST_F(KeyringTest, InlineSignedMessageIsNotClearSigned) {
  // An OpenPGP message that gpg signed, but not in the clear-signed form InRelease uses.
  std::string input = dir_->path() + "/msg.txt";
  ASSERT_TRUE(WriteFileAtomic(input, "Origin: x\n"));
  auto signed_msg =
      RepoFixture::RunTool({"gpg", "--homedir", keys_->gnupg_home, "--batch", "--pinentry-mode",
                            "loopback", "--passphrase", "", "--local-user", keys_->fingerprint,
                            "--armor", "--sign", "--output", "-", input});
  ASSERT_TRUE(signed_msg) << signed_msg.error().message;
  Keyring keyring = FixtureKeyring();
  auto v = VerifyClearsigned(keyring, *signed_msg, "InRelease of stable");
  ASSERT_THAT(v, FailsWith(ErrorCode::kIntegrity));
  EXPECT_THAT(v.error().message, HasSubstr("not an OpenPGP clear-signed document"));
}

// gpg dash-escapes lines starting with '-' and the signature covers the text without the
// final line break rule subtleties; the returned text must be the original file exactly.
TEST_F(KeyringTest, DashEscapedLinesComeBackUnescaped) {
  const std::string original =
      "Origin: x\n-----BEGIN PGP SIGNATURE-----\n- not a list\nFrom here\n  indented \n";
  std::string input = dir_->path() + "/dash.txt";
  ASSERT_TRUE(WriteFileAtomic(input, original));
  auto signed_msg =
      RepoFixture::RunTool({"gpg", "--homedir", keys_->gnupg_home, "--batch", "--pinentry-mode",
                            "loopback", "--passphrase", "", "--local-user", keys_->fingerprint,
                            "--clearsign", "--output", "-", input});
  ASSERT_TRUE(signed_msg) << signed_msg.error().message;
  ASSERT_THAT(*signed_msg, HasSubstr("- -----BEGIN PGP SIGNATURE-----"));
  Keyring keyring = FixtureKeyring();
  auto v = VerifyClearsigned(keyring, *signed_msg, "dash.txt");
  ASSERT_TRUE(v) << v.error().message;
  // OpenPGP clear-signing ignores trailing white space on each line.
  EXPECT_EQ(v->signed_text,
            "Origin: x\n-----BEGIN PGP SIGNATURE-----\n- not a list\nFrom here\n  indented\n");
}

TEST_F(KeyringTest, ArmoredKeyText) {
  std::string inrelease = PublishInRelease({});
  auto keyring = Keyring::Create();
  ASSERT_TRUE(keyring);
  auto added = keyring->AddArmored(keys_->armored_public_key, "Signed-By of test.sources");
  ASSERT_TRUE(added) << added.error().message;
  EXPECT_THAT(keyring->PrimaryFingerprints(), ElementsAre(GpgFingerprintOf("test@invalid")));
  auto v = VerifyClearsigned(*keyring, inrelease, "InRelease of stable");
  ASSERT_TRUE(v) << v.error().message;

  auto bad = keyring->AddArmored("hello", "Signed-By of x.sources");
  ASSERT_THAT(bad, FailsWith(ErrorCode::kSpec));
  EXPECT_THAT(bad.error().message, HasSubstr("Signed-By of x.sources"));
}

TEST_F(KeyringTest, ArmoredKeyringFile) {
  std::string asc = dir_->path() + "/key.asc";
  ASSERT_TRUE(WriteFileAtomic(asc, keys_->armored_public_key));
  auto keyring = Keyring::FromFiles({asc});
  ASSERT_TRUE(keyring) << keyring.error().message;
  auto v = VerifyClearsigned(*keyring, PublishInRelease({}), "InRelease of stable");
  ASSERT_TRUE(v) << v.error().message;
}

TEST_F(KeyringTest, BadKeyringFiles) {
  auto missing = Keyring::FromFiles({dir_->path() + "/nope.gpg"});
  ASSERT_THAT(missing, FailsWith(ErrorCode::kIo));

  std::string garbage = dir_->path() + "/garbage.gpg";
  ASSERT_TRUE(WriteFileAtomic(garbage, "this is not a key\n"));
  auto bad = Keyring::FromFiles({garbage});
  ASSERT_THAT(bad, FailsWith(ErrorCode::kSpec));
  EXPECT_THAT(bad.error().message, HasSubstr(garbage));

  std::string empty = dir_->path() + "/empty.gpg";
  ASSERT_TRUE(WriteFileAtomic(empty, ""));
  auto none = Keyring::FromFiles({empty});
  ASSERT_THAT(none, FailsWith(ErrorCode::kSpec));

  // A keybox, as `gpg --keyring new.gpg --import` makes; apt cannot read it either.
  std::string kbx = dir_->path() + "/keybox.gpg";
  auto imported = RepoFixture::RunTool({"gpg", "--homedir", keys_->gnupg_home, "--batch",
                                        "--trust-model", "always", "--no-default-keyring",
                                        "--keyring", kbx, "--import", keys_->keyring_path});
  ASSERT_TRUE(imported) << imported.error().message;
  auto keybox = Keyring::FromFiles({kbx});
  ASSERT_FALSE(keybox);
  EXPECT_THAT(keybox.error().message, HasSubstr("keybox"));
}

// The host's real InRelease and Debian keyring, when present.
struct RealFiles {
  std::string inrelease;
  std::string keyring = "/usr/share/keyrings/debian-archive-keyring.gpg";
};
std::optional<RealFiles> FindRealBookworm() {
  RealFiles f;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/var/lib/apt/lists", ec)) {
    if (e.path().filename().string().ends_with("_dists_bookworm_InRelease")) {
      f.inrelease = e.path().string();
    }
  }
  if (f.inrelease.empty() || !PathExists(f.keyring)) return std::nullopt;
  return f;
}

TEST(RealKeyringTest, VerifiesBookwormInReleaseLikeGpgv) {
  auto real = FindRealBookworm();
  if (!real) GTEST_SKIP() << "no bookworm InRelease or Debian keyring on this host";
  auto data = ReadFile(real->inrelease);
  ASSERT_TRUE(data);

  auto start = std::chrono::steady_clock::now();
  auto keyring = Keyring::FromFiles({real->keyring});
  ASSERT_TRUE(keyring) << keyring.error().message;
  auto v = VerifyClearsigned(*keyring, *data, "InRelease of bookworm");
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_LT(seconds, 2.0);  // about 0.1 s in an optimized build; generous for sanitizers
  EXPECT_EQ(v->signed_text.rfind("Origin: Debian\n", 0), 0u);
  EXPECT_EQ(v->signed_text.find("-----"), std::string::npos);

  // gpgv's VALIDSIG status lines end with the primary key's fingerprint.
  auto gpgv = RepoFixture::RunTool(
      {"gpgv", "--status-fd", "1", "--keyring", real->keyring, real->inrelease});
  ASSERT_TRUE(gpgv) << gpgv.error().message;
  std::set<std::string> want;
  for (const Line& row : Lines(*gpgv)) {
    std::string_view line = row.text;
    if (line.starts_with("[GNUPG:] VALIDSIG ")) want.emplace(line.substr(line.rfind(' ') + 1));
  }
  ASSERT_FALSE(want.empty());
  EXPECT_EQ(std::set<std::string>(v->signer_fingerprints.begin(), v->signer_fingerprints.end()),
            want);

  // One changed byte in the signed text (a SHA256 digit) makes every signature fail.
  std::string edited = *data;
  size_t at = edited.find("\nSHA256:\n ");
  ASSERT_NE(at, std::string::npos);
  char& c = edited[at + 10];
  c = c == '0' ? '1' : '0';
  auto bad = VerifyClearsigned(*keyring, edited, "InRelease of bookworm");
  ASSERT_THAT(bad, FailsWith(ErrorCode::kIntegrity));
  EXPECT_THAT(bad.error().message, HasSubstr("do not match the text (tampered?)"));
}

}  // namespace
}  // namespace hardbase::deb
