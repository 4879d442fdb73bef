#include "support/repo_fixture.h"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>

#include "base/fs.h"
#include "base/sha256.h"
#include "support/process.h"

namespace hardbase::testing {
namespace {

constexpr std::string_view kMaintainer = "hardbase tests <test@invalid>";
constexpr const char* kSourceDateEpoch = "1700000000";

Result<void> WriteBytes(const std::string& path, std::string_view data, int mode = 0644) {
  HB_TRY_VOID(MakeDirs(DirName(path)));
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    if (!out) return Fail(ErrorCode::kIo, fmt::format("write {}: {}", path, std::strerror(errno)));
  }
  std::error_code ec;
  std::filesystem::permissions(path, static_cast<std::filesystem::perms>(mode), ec);
  if (ec) return Fail(ErrorCode::kIo, fmt::format("chmod {}: {}", path, ec.message()));
  return {};
}

// "Sat, 11 Jul 2026 10:16:37 UTC", written with the C library (not hardbase's formatter, which
// the tests check against these files).
std::string Rfc2822(int64_t t) {
  static const char* const kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  time_t tt = static_cast<time_t>(t);
  struct tm tm {};
  gmtime_r(&tt, &tm);
  return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} UTC", kDays[tm.tm_wday], tm.tm_mday,
                     kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

bool FieldIs(const std::string& a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

const std::string* FindField(const PackageSpec& spec, std::string_view name) {
  for (const auto& [k, v] : spec.fields) {
    if (FieldIs(k, name)) return &v;
  }
  return nullptr;
}

// Holds the process's keys; stops the gpg-agent and removes GNUPGHOME at exit.
struct KeyStore {
  std::optional<TempDir> dir;
  TestSigningKeys keys;
  std::optional<Error> error;
  ~KeyStore() {
    if (dir) (void)RepoFixture::RunTool({"gpgconf", "--homedir", dir->path(), "--kill", "all"});
  }
};

std::vector<std::string> Gpg(const std::string& home, std::vector<std::string> args) {
  std::vector<std::string> argv = {
      "gpg",   "--homedir",       home,       "--batch",      "--no-tty",
      "--yes", "--pinentry-mode", "loopback", "--passphrase", ""};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

Result<void> MakeKeys(KeyStore& store) {
  HB_TRY(TempDir dir, TempDir::Create("hardbase-gpg-"));
  store.dir.emplace(std::move(dir));
  const std::string& home = store.dir->path();
  TestSigningKeys& k = store.keys;
  k.gnupg_home = home;
  for (const char* uid : {"hardbase test <test@invalid>", "hardbase other <other@invalid>",
                          "hardbase subkey <subkey@invalid>"}) {
    HB_TRY_VOID(
        RepoFixture::RunTool(Gpg(home, {"--quick-gen-key", uid, "ed25519", "sign", "never"})));
  }
  // Fingerprints by user id, from gpg's machine-readable listing.
  auto list = [&]() -> Result<std::map<std::string, std::vector<std::string>>> {
    HB_TRY(std::string out,
           RepoFixture::RunTool(
               Gpg(home, {"--with-colons", "--with-subkey-fingerprints", "--list-keys"})));
    std::map<std::string, std::vector<std::string>> fprs;  // uid -> primary, subkeys...
    std::vector<std::string> current;
    std::string current_uid;
    size_t pos = 0;
    auto flush = [&]() {
      if (!current_uid.empty()) fprs[current_uid] = current;
      current.clear();
      current_uid.clear();
    };
    while (pos < out.size()) {
      size_t eol = out.find('\n', pos);
      if (eol == std::string::npos) eol = out.size();
      std::string line = out.substr(pos, eol - pos);
      pos = eol + 1;
      std::vector<std::string> cols;
      size_t start = 0;
      for (size_t i = 0; i <= line.size(); ++i) {
        if (i == line.size() || line[i] == ':') {
          cols.push_back(line.substr(start, i - start));
          start = i + 1;
        }
      }
      if (cols.empty()) continue;
      if (cols[0] == "pub") flush();
      if (cols[0] == "fpr" && cols.size() > 9) current.push_back(cols[9]);
      if (cols[0] == "uid" && cols.size() > 9 && current_uid.empty()) current_uid = cols[9];
    }
    flush();
    return fprs;
  };
  HB_TRY(auto before, list());
  const std::string sub_primary = before["hardbase subkey <subkey@invalid>"].empty()
                                      ? ""
                                      : before["hardbase subkey <subkey@invalid>"][0];
  if (sub_primary.empty()) return Fail(ErrorCode::kInternal, "gpg: generated key not listed");
  HB_TRY_VOID(RepoFixture::RunTool(
      Gpg(home, {"--quick-add-key", sub_primary, "ed25519", "sign", "never"})));
  HB_TRY(auto fprs, list());
  auto first = [&](const std::string& uid, size_t i) -> std::string {
    auto it = fprs.find(uid);
    return it != fprs.end() && it->second.size() > i ? it->second[i] : "";
  };
  k.fingerprint = first("hardbase test <test@invalid>", 0);
  k.other_fingerprint = first("hardbase other <other@invalid>", 0);
  k.subkey_primary_fingerprint = first("hardbase subkey <subkey@invalid>", 0);
  k.subkey_fingerprint = first("hardbase subkey <subkey@invalid>", 1);
  if (k.fingerprint.empty() || k.other_fingerprint.empty() || k.subkey_fingerprint.empty()) {
    return Fail(ErrorCode::kInternal, "gpg: generated keys not listed");
  }
  k.keyring_path = home + "/export/keyring.gpg";
  HB_TRY_VOID(MakeDirs(home + "/export"));
  HB_TRY_VOID(RepoFixture::RunTool(Gpg(home, {"--output", k.keyring_path, "--export", k.fingerprint,
                                              k.subkey_primary_fingerprint})));
  HB_TRY(k.armored_public_key,
         RepoFixture::RunTool(Gpg(home, {"--armor", "--export", k.fingerprint})));
  return {};
}

Result<std::string> ClearSign(const TestSigningKeys& keys, const std::string& signer,
                              const std::string& input) {
  return RepoFixture::RunTool(
      Gpg(keys.gnupg_home, {"--local-user", signer + "!", "--digest-algo", "SHA256", "--clearsign",
                            "--output", "-", input}));
}

}  // namespace

Result<std::string> RepoFixture::RunTool(const std::vector<std::string>& argv,
                                         const std::map<std::string, std::string>& env) {
  if (argv.empty()) return Fail(ErrorCode::kInternal, "RunTool: empty command");
  ProcessResult r = RunProcess(argv, env);
  if (r.exit_code != 0) {
    std::string cmd;
    for (const std::string& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
    while (!r.err.empty() && (r.err.back() == '\n' || r.err.back() == '\r')) r.err.pop_back();
    return Fail(ErrorCode::kIo,
                fmt::format("`{}` failed (status {}): {}", cmd, r.exit_code, r.err));
  }
  return std::move(r.out);
}

Result<const TestSigningKeys*> RepoFixture::Keys() {
  static std::mutex mu;
  static KeyStore store;
  static bool made = false;
  std::lock_guard<std::mutex> lock(mu);
  if (!made) {
    made = true;
    auto r = MakeKeys(store);
    if (!r) store.error = r.error().Wrap("make test signing keys");
  }
  if (store.error) return Fail(*store.error);
  return &store.keys;
}

std::string RepoFixture::KeyringPath() {
  auto keys = Keys();
  return keys ? (*keys)->keyring_path : "";
}

RepoFixture::RepoFixture(std::string root) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

Result<PublishedPackage> RepoFixture::AddPackage(const std::string& suite, const std::string& arch,
                                                 const PackageSpec& spec) {
  if (spec.name.empty() || spec.version.empty() || spec.architecture.empty()) {
    return Fail(ErrorCode::kInternal, "AddPackage: name, version and architecture are required");
  }
  std::string source = spec.name;
  if (const std::string* s = FindField(spec, "Source")) source = s->substr(0, s->find(' '));
  std::string prefix =
      source.rfind("lib", 0) == 0 && source.size() > 3 ? source.substr(0, 4) : source.substr(0, 1);
  std::string bare_version = spec.version.substr(spec.version.find(':') + 1);
  std::string filename = fmt::format("pool/main/{}/{}/{}_{}_{}.deb", prefix, source, spec.name,
                                     bare_version, spec.architecture);
  std::string key = fmt::format("{} {} {}", spec.name, spec.version, spec.architecture);

  if (!built_.count(filename)) {
    HB_TRY(TempDir staging, TempDir::Create("hardbase-deb-"));
    const std::string tree = staging.path() + "/tree";
    std::string control = fmt::format("Package: {}\nVersion: {}\nArchitecture: {}\n", spec.name,
                                      spec.version, spec.architecture);
    if (!FindField(spec, "Maintainer")) control += fmt::format("Maintainer: {}\n", kMaintainer);
    for (const auto& [k, v] : spec.fields) {
      if (!FieldIs(k, "Description")) control += fmt::format("{}: {}\n", k, v);
    }
    const std::string* desc = FindField(spec, "Description");
    control +=
        fmt::format("Description: {}\n",
                    desc ? *desc : "test package " + spec.name + "\n made by hardbase tests");
    HB_TRY_VOID(MakeDirs(tree + "/DEBIAN"));
    std::filesystem::permissions(tree + "/DEBIAN", std::filesystem::perms(0755));
    HB_TRY_VOID(WriteBytes(tree + "/DEBIAN/control", control));
    for (const auto& [name, content] : spec.control_files) {
      bool script = name == "preinst" || name == "postinst" || name == "prerm" ||
                    name == "postrm" || name == "config";
      HB_TRY_VOID(WriteBytes(tree + "/DEBIAN/" + name, content, script ? 0755 : 0644));
    }
    for (const auto& [path, content] : spec.files) {
      int mode = 0644;
      if (path.find("bin/") != std::string::npos) mode = 0755;
      if (auto m = spec.modes.find(path); m != spec.modes.end()) mode = m->second;
      HB_TRY_VOID(WriteBytes(tree + "/" + path, content, mode));
    }
    for (const auto& [path, target] : spec.symlinks) {
      std::string link = tree + "/" + path;
      HB_TRY_VOID(MakeDirs(DirName(link)));
      std::error_code ec;
      std::filesystem::create_symlink(target, link, ec);
      if (ec) return Fail(ErrorCode::kIo, fmt::format("symlink {}: {}", link, ec.message()));
    }
    // Directories keep the modes dpkg-deb expects regardless of the umask.
    for (auto it = std::filesystem::recursive_directory_iterator(tree);
         it != std::filesystem::recursive_directory_iterator(); ++it) {
      if (it->is_directory() && !it->is_symlink()) {
        std::filesystem::permissions(it->path(), std::filesystem::perms(0755));
      }
    }
    std::string deb_path = root_ + "/" + filename;
    HB_TRY_VOID(MakeDirs(DirName(deb_path)));
    HB_TRY_VOID(
        WithContext(RunTool({"dpkg-deb", "--build", "--root-owner-group", "-Zxz", tree, deb_path},
                            {{"SOURCE_DATE_EPOCH", kSourceDateEpoch}}),
                    "build " + filename));
    HB_TRY(std::string deb, ReadFile(deb_path));
    if (!spec.deb_bytes.empty()) {
      deb = spec.deb_bytes;
      HB_TRY_VOID(WriteBytes(deb_path, deb));
    }
    PublishedPackage p;
    p.name = spec.name;
    p.version = spec.version;
    p.architecture = spec.architecture;
    p.filename = filename;
    p.path = deb_path;
    p.size = deb.size();
    p.sha256 = Sha256Hex(deb);
    if (spec.corrupt_deb) {
      deb.back() = static_cast<char>(deb.back() ^ 0x01);
      HB_TRY_VOID(WriteBytes(deb_path, deb));
    }
    std::string stanza = fmt::format("Package: {}\nVersion: {}\nArchitecture: {}\n", spec.name,
                                     spec.version, spec.architecture);
    if (!FindField(spec, "Maintainer")) stanza += fmt::format("Maintainer: {}\n", kMaintainer);
    for (const auto& [k, v] : spec.fields) {
      if (!FieldIs(k, "Description")) stanza += fmt::format("{}: {}\n", k, v);
    }
    stanza += fmt::format("Filename: {}\nSize: {}\nSHA256: {}\n", filename, p.size, p.sha256);
    stanza += fmt::format("Description: {}",
                          desc ? *desc : "test package " + spec.name + "\n made by hardbase tests");
    p.stanza = std::move(stanza);
    built_.insert(filename);
    by_filename_[filename] = p;
  }
  const PublishedPackage& p = by_filename_[filename];
  indexes_[suite][arch][key] = p.stanza;
  return p;
}

Result<void> RepoFixture::Publish(const std::string& suite, const PublishOptions& options) {
  HB_TRY(const TestSigningKeys* keys, Keys());
  std::vector<std::string> archs = options.architectures;
  if (archs.empty()) {
    for (const auto& [arch, _] : indexes_[suite]) archs.push_back(arch);
  }
  if (archs.empty()) archs.push_back("amd64");

  const std::string dists = root_ + "/dists/" + suite;
  std::string sha256_section;
  for (const std::string& arch : archs) {
    std::string packages;
    for (const auto& [key, stanza] : indexes_[suite][arch]) {
      if (!packages.empty()) packages += "\n";
      packages += stanza + "\n";
    }
    if (!options.extra_packages_text.empty()) packages += "\n" + options.extra_packages_text;
    const std::string rel = "main/binary-" + arch + "/Packages";
    const std::string path = dists + "/" + rel;
    HB_TRY_VOID(WriteBytes(path, packages));
    HB_TRY_VOID(RunTool({"xz", "-T1", "-k", "-f", "--", path}));
    HB_TRY(std::string xz, ReadFile(path + ".xz"));
    sha256_section += fmt::format(" {} {:>8} {}\n", Sha256Hex(packages), packages.size(), rel);
    sha256_section += fmt::format(" {} {:>8} {}.xz\n", Sha256Hex(xz), xz.size(), rel);
    if (options.packages_xz_hash_mismatch) {
      HB_TRY_VOID(WriteBytes(path + ".other", packages + "\nPackage: intruder\n"));
      HB_TRY_VOID(RunTool({"xz", "-T1", "-f", "--", path + ".other"}));
      std::error_code ec;
      std::filesystem::rename(path + ".other.xz", path + ".xz", ec);
      if (ec) return Fail(ErrorCode::kIo, fmt::format("rename: {}", ec.message()));
    }
    if (options.packages_xz_truncated) {
      HB_TRY_VOID(WriteBytes(path + ".xz", std::string_view(xz).substr(0, xz.size() / 2)));
    }
  }

  int64_t now = static_cast<int64_t>(std::time(nullptr));
  int64_t date = options.date != 0 ? options.date : now;
  int64_t valid_until = date + 7 * 86400;
  if (options.expired) {
    date = now - 8 * 86400;
    valid_until = now - 86400;
  }
  std::string archs_joined;
  for (const std::string& a : archs) archs_joined += (archs_joined.empty() ? "" : " ") + a;
  std::string release = fmt::format(
      "Origin: {}\nLabel: {}\nSuite: {}\nVersion: 1.0\nCodename: {}\nDate: {}\n"
      "Valid-Until: {}\nAcquire-By-Hash: no\nArchitectures: {}\nComponents: main\n"
      "Description: hardbase test repository\nSHA256:\n{}",
      options.origin, options.label, suite, options.codename.empty() ? suite : options.codename,
      Rfc2822(date), Rfc2822(valid_until), archs_joined, sha256_section);
  HB_TRY_VOID(WriteBytes(dists + "/Release", release));

  using Sig = PublishOptions::Signature;
  std::string inrelease;
  switch (options.signature) {
    case Sig::kGood:
    case Sig::kTampered: {
      HB_TRY(inrelease, ClearSign(*keys, keys->fingerprint, dists + "/Release"));
      break;
    }
    case Sig::kUnknownKey: {
      HB_TRY(inrelease, ClearSign(*keys, keys->other_fingerprint, dists + "/Release"));
      break;
    }
    case Sig::kSubkey: {
      HB_TRY(inrelease, ClearSign(*keys, keys->subkey_fingerprint, dists + "/Release"));
      break;
    }
    case Sig::kUnsigned:
      inrelease = release;
      break;
  }
  if (options.signature == Sig::kTampered) {
    size_t at = inrelease.find("\nOrigin: ");
    if (at == std::string::npos) return Fail(ErrorCode::kInternal, "tamper: no Origin line");
    char& c = inrelease[at + 9];
    c = static_cast<char>(std::isupper(static_cast<unsigned char>(c)) ? std::tolower(c)
                                                                      : std::toupper(c));
  }
  return WriteBytes(dists + "/InRelease", inrelease);
}

Result<std::string> RepoFixture::Deb822Sources(std::string_view uri,
                                               const std::vector<std::string>& suites,
                                               bool inline_key) const {
  HB_TRY(const TestSigningKeys* keys, Keys());
  std::string suites_joined;
  for (const std::string& s : suites) suites_joined += (suites_joined.empty() ? "" : " ") + s;
  std::string text =
      fmt::format("Types: deb\nURIs: {}\nSuites: {}\nComponents: main\n", uri, suites_joined);
  if (!inline_key) {
    text += fmt::format("Signed-By: {}\n", keys->keyring_path);
    return text;
  }
  text += "Signed-By:\n";
  size_t pos = 0;
  const std::string& key = keys->armored_public_key;
  while (pos < key.size()) {
    size_t eol = key.find('\n', pos);
    if (eol == std::string::npos) eol = key.size();
    std::string_view line = std::string_view(key).substr(pos, eol - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = eol + 1;
    text += line.empty() ? std::string(" .\n") : fmt::format(" {}\n", line);
  }
  return text;
}

Result<void> RepoFixture::WriteDeb822Sources(const std::string& path, std::string_view uri,
                                             const std::vector<std::string>& suites,
                                             bool inline_key) const {
  HB_TRY(std::string text, Deb822Sources(uri, suites, inline_key));
  return WriteBytes(path, text);
}

}  // namespace hardbase::testing
