#include "image/dpkg_database.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <map>

#include "base/fs.h"
#include "support/process.h"
#include "support/registry_fixture.h"  // FindInPath
#include "support/result_matchers.h"

namespace hardbase::image {
namespace {

using ::hardbase::testing::FailsWith;

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;

constexpr std::string_view kMd5A = "0123456789abcdef0123456789abcdef";
constexpr std::string_view kMd5B = "fedcba9876543210fedcba9876543210";

// Facts as PackageLayerFiles records them, for a package named `name`.
PackageFacts Facts(const std::string& name, std::string extra_fields = "",
                   std::vector<std::string> paths = {}, std::string md5sums = "") {
  PackageFacts f;
  f.status = "Package: " + name +
             "\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\n" + extra_fields +
             "Maintainer: A <a@example.org>\nDescription: " + name + "\n long text\n";
  f.dpkg_paths = std::move(paths);
  f.md5sums = std::move(md5sums);
  return f;
}

std::map<std::string, oci::LayerEntry> ByPath(const std::vector<oci::LayerEntry>& entries) {
  std::map<std::string, oci::LayerEntry> out;
  for (const auto& e : entries) out[e.path] = e;
  return out;
}

std::string Content(const std::map<std::string, oci::LayerEntry>& entries,
                    const std::string& path) {
  auto it = entries.find(path);
  if (it == entries.end()) return "(missing " + path + ")";
  return it->second.content ? *it->second.content : "";
}

// The skeleton and a package layer of dpkg's and apt's directories, as the view below the layer.
ImageView BaseView() {
  ImageView view;
  view.Add(SkeletonEntries("amd64"));
  std::vector<oci::LayerEntry> dirs;
  for (const char* d : {"/etc/apt", "/etc/apt/sources.list.d", "/var/lib/dpkg/info", "/usr/share",
                        "/usr/share/keyrings"}) {
    oci::LayerEntry e;
    e.path = d;
    e.type = oci::LayerEntryType::kDirectory;
    e.mode = 0755;
    dirs.push_back(e);
  }
  view.Add(dirs);
  return view;
}

void AddFile(ImageView& view, const std::string& path, const std::string& content) {
  oci::LayerEntry e;
  e.path = path;
  e.mode = 0644;
  e.content = std::make_shared<const std::string>(content);
  view.Add({e});
}

deb::DataEntry DebEntry(std::string path, deb::EntryType type, std::string content = "",
                        std::string target = "") {
  deb::DataEntry e;
  e.path = std::move(path);
  e.type = type;
  e.mode = type == deb::EntryType::kSymlink ? 0777 : 0755;
  e.mtime = 1000;
  e.link_target = std::move(target);
  if (type == deb::EntryType::kFile) e.content = std::make_shared<const std::string>(content);
  return e;
}

// What PackageLayerFiles records for the database: the package's own paths of what shipped, the
// md5sums of what shipped, and the control files dpkg keeps.
TEST(DpkgDatabaseTest, PackageLayerFilesRecordWhatDpkgNeeds) {
  deb::DebContents deb;
  deb.control_files = {
      {"control", "Package: dash\nVersion: 1\nArchitecture: amd64\nDescription: d\n"},
      {"md5sums", "00000000000000000000000000000000  usr/share/man/man1/dash.1.gz\n"},
      {"postinst", "#!/bin/sh\n"},
      {"conffiles", "/etc/dash.conf\n"},
      {"list", "/etc/passwd\n"}};
  using T = deb::EntryType;
  deb.data = {DebEntry("/bin", T::kDirectory),
              DebEntry("/bin/dash", T::kFile, "ELF"),
              DebEntry("/bin/sh", T::kSymlink, "", "dash"),
              DebEntry("/etc", T::kDirectory),
              DebEntry("/etc/dash.conf", T::kFile, "conf"),
              DebEntry("/usr", T::kDirectory),
              DebEntry("/usr/share", T::kDirectory),
              DebEntry("/usr/share/man", T::kDirectory),
              DebEntry("/usr/share/man/man1", T::kDirectory),
              DebEntry("/usr/share/man/man1/dash.1.gz", T::kFile, "man")};
  FilePolicy standard = *MakeFilePolicy({});
  FilePolicy dev = standard;
  dev.dev_variant = true;
  // Standard layers keep their cache keys; a dev layer's differs.
  EXPECT_NE(standard.Digest(), dev.Digest());
  EXPECT_EQ(standard.Digest(), MakeFilePolicy({})->Digest());

  auto files = PackageLayerFiles(deb, "dash", dev, 2000);
  ASSERT_TRUE(files.has_value()) << files.error().message;
  EXPECT_THAT(files->facts.dpkg_paths, ElementsAre("/bin", "/bin/dash", "/bin/sh", "/etc",
                                                   "/etc/dash.conf", "/usr", "/usr/share"));
  bool found = false;
  for (const auto& e : files->entries) {
    if (e.path == "/var/lib/dpkg/status.d/dash.md5sums") {
      found = true;
      EXPECT_EQ(*e.content, files->facts.md5sums);
    }
  }
  EXPECT_TRUE(found);
  // The package's own paths, of what shipped only (the man page was stripped).
  EXPECT_THAT(files->facts.md5sums, HasSubstr("  bin/dash\n"));
  EXPECT_THAT(files->facts.md5sums, HasSubstr("  etc/dash.conf\n"));
  EXPECT_THAT(files->facts.md5sums, Not(HasSubstr("dash.1.gz")));
  EXPECT_THAT(files->facts.dpkg_control,
              ElementsAre(Pair("conffiles", "/etc/dash.conf\n"), Pair("postinst", "#!/bin/sh\n")));
  auto has = [](const PackageFiles& f, const std::string& path) {
    return std::any_of(f.entries.begin(), f.entries.end(),
                       [&](const oci::LayerEntry& e) { return e.path == path; });
  };
  EXPECT_TRUE(has(*files, "/usr/bin/sh"));
  EXPECT_TRUE(has(*files, "/usr/bin/dash"));

  // The standard policy leaves out the shell, and dpkg's list with it.
  auto hardened = PackageLayerFiles(deb, "dash", standard, 2000);
  ASSERT_TRUE(hardened.has_value()) << hardened.error().message;
  EXPECT_FALSE(has(*hardened, "/usr/bin/sh"));
  EXPECT_THAT(hardened->facts.dpkg_paths, Not(::testing::Contains("/bin/sh")));
}

// dpkg needs ldconfig, which other images leave out of libc-bin.
TEST(DpkgDatabaseTest, DevPolicyKeepsPackagesWhole) {
  deb::DebContents deb;
  deb.control_files = {
      {"control", "Package: libc-bin\nVersion: 1\nArchitecture: amd64\nDescription: d\n"}};
  using T = deb::EntryType;
  deb.data = {DebEntry("/sbin", T::kDirectory), DebEntry("/sbin/ldconfig", T::kFile, "ELF")};
  FilePolicy standard = *MakeFilePolicy({});
  FilePolicy dev = standard;
  dev.dev_variant = true;
  auto shipped = [&](const FilePolicy& policy) {
    auto files = PackageLayerFiles(deb, "libc-bin", policy, 2000);
    EXPECT_TRUE(files.has_value()) << files.error().message;
    return files->facts.dpkg_paths;
  };
  EXPECT_THAT(shipped(dev), ElementsAre("/sbin", "/sbin/ldconfig"));
  EXPECT_THAT(shipped(standard), Not(::testing::Contains("/sbin/ldconfig")));
}

TEST(DpkgDatabaseTest, InfoControlFilesAreThoseDpkgKeeps) {
  for (const char* name : {"postinst", "preinst", "prerm", "postrm", "config", "conffiles",
                           "triggers", "shlibs", "symbols", "templates"}) {
    EXPECT_TRUE(IsDpkgInfoControlFile(name)) << name;
  }
  // control is the status stanza; md5sums is computed from what shipped; `list` or `format` from a
  // package would replace the database's own files.
  for (const char* name : {"control", "md5sums", "list", "format", "../x", ""}) {
    EXPECT_FALSE(IsDpkgInfoControlFile(name)) << name;
  }
}

TEST(DpkgDatabaseTest, InfoNameQualifiesMultiArchSame) {
  PackageFacts same = Facts("libc6", "Multi-Arch: same\n");
  PackageFacts foreign = Facts("bash", "Multi-Arch: foreign\n");
  EXPECT_EQ(DpkgInfoName({"libc6", "amd64", &same}), "libc6:amd64");
  EXPECT_EQ(DpkgInfoName({"bash", "amd64", &foreign}), "bash");
}

TEST(DpkgDatabaseTest, StatusStanzaInDpkgsOrderWithConffiles) {
  PackageFacts f;
  f.status =
      "Package: demo\nStatus: install ok installed\nVersion: 1.0\nHomepage: https://example.org\n"
      "Architecture: amd64\nDescription: demo\n long\nMaintainer: A <a@example.org>\n"
      "Protected: yes\nEssential: yes\nInstalled-Size: 3\nDepends: libc6\nX-Custom: y\n"
      "Source: demo-src\nMulti-Arch: foreign\nPriority: optional\nSection: misc\n";
  f.md5sums = std::string(kMd5A) + "  etc/demo.conf\n" + std::string(kMd5B) + "  usr/bin/demo\n";
  // A conffile that did not ship (the path filter left it out) is not recorded.
  f.dpkg_control["conffiles"] = "/etc/demo.conf\n/etc/stripped.conf\n";
  auto stanza = DpkgStatusStanza({"demo", "amd64", &f});
  ASSERT_TRUE(stanza.has_value()) << stanza.error().message;
  EXPECT_EQ(*stanza,
            "Package: demo\nEssential: yes\nProtected: yes\nStatus: install ok installed\n"
            "Priority: optional\nSection: misc\nInstalled-Size: 3\nMaintainer: A <a@example.org>\n"
            "Architecture: amd64\nMulti-Arch: foreign\nSource: demo-src\nVersion: 1.0\n"
            "Depends: libc6\nConffiles:\n /etc/demo.conf " +
                std::string(kMd5A) +
                "\nDescription: demo\n long\nHomepage: https://example.org\nX-Custom: y\n");
}

TEST(DpkgDatabaseTest, StatusStanzaRefusesAnotherPackagesStanza) {
  PackageFacts f = Facts("other");
  auto stanza = DpkgStatusStanza({"demo", "amd64", &f});
  ASSERT_FALSE(stanza.has_value());
  EXPECT_THAT(stanza, FailsWith(ErrorCode::kIntegrity));
}

// dpkg itself, given the status file, writes it back unchanged: the order of packages and fields
// is dpkg's own.
TEST(DpkgDatabaseTest, DpkgRewritesTheStatusFileUnchanged) {
  if (testing::FindInPath("dpkg").empty()) GTEST_SKIP() << "dpkg is needed as the oracle";
  PackageFacts a = Facts("zlib1g", "Multi-Arch: same\nSource: zlib\nPriority: optional\n");
  PackageFacts b = Facts("base-files", "Essential: yes\nProtected: yes\n", {"/etc", "/etc/issue"},
                         std::string(kMd5A) + "  etc/issue\n");
  b.dpkg_control["conffiles"] = "/etc/issue\n";
  PackageFacts c = Facts("apt", "Depends: libc6\nHomepage: https://example.org\n");
  DpkgDatabaseInputs in{
      "amd64", {{"zlib1g", "amd64", &a}, {"base-files", "amd64", &b}, {"apt", "amd64", &c}}, {}, 0};
  auto entries = DpkgDatabaseEntries(in, BaseView());
  ASSERT_TRUE(entries.has_value()) << entries.error().message;
  std::string status = Content(ByPath(*entries), "/var/lib/dpkg/status");
  EXPECT_LT(status.find("Package: apt\n"), status.find("Package: base-files\n"));
  EXPECT_LT(status.find("Package: base-files\n"), status.find("Package: zlib1g\n"));

  auto dir = TempDir::Create("hardbase-dpkg-status-");
  ASSERT_TRUE(dir.has_value());
  const std::string admin = dir->path();
  ASSERT_TRUE(MakeDirs(admin + "/info").has_value());
  ASSERT_TRUE(MakeDirs(admin + "/updates").has_value());
  ASSERT_TRUE(WriteFileAtomic(admin + "/status", status).has_value());
  ASSERT_TRUE(WriteFileAtomic(admin + "/available", "").has_value());
  auto r = testing::RunProcess({"dpkg", "--admindir=" + admin, "--set-selections"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rewritten = ReadFile(admin + "/status");
  ASSERT_TRUE(rewritten.has_value());
  EXPECT_EQ(*rewritten, status);
}

TEST(DpkgDatabaseTest, WritesDpkgsFilesForEachPackage) {
  PackageFacts libc =
      Facts("libc6", "Multi-Arch: same\n", {"/lib", "/lib/x86_64-linux-gnu/libc.so.6"},
            std::string(kMd5A) + "  lib/x86_64-linux-gnu/libc.so.6\n");
  libc.dpkg_control = {{"postinst", "#!/bin/sh\nexit 0\n"},
                       {"shlibs", "libc 6 libc6\n"},
                       {"triggers", "activate-noawait ldconfig\n"}};
  PackageFacts bin = Facts("libc-bin", "", {"/usr", "/usr/sbin", "/usr/sbin/ldconfig"},
                           std::string(kMd5B) + "  usr/sbin/ldconfig\n");
  bin.dpkg_control = {{"triggers",
                       "# a comment\ninterest-noawait ldconfig\ninterest /usr/lib/x\n"
                       "interest-await update-x\n"}};
  DpkgDatabaseInputs in{"amd64", {{"libc6", "amd64", &libc}, {"libc-bin", "amd64", &bin}}, {}, 42};
  auto entries = DpkgDatabaseEntries(in, BaseView());
  ASSERT_TRUE(entries.has_value()) << entries.error().message;
  auto by_path = ByPath(*entries);
  // The package's own paths, as dpkg lists them (the image stores /lib under /usr).
  EXPECT_EQ(Content(by_path, "/var/lib/dpkg/info/libc6:amd64.list"),
            "/.\n/lib\n/lib/x86_64-linux-gnu/libc.so.6\n");
  EXPECT_EQ(Content(by_path, "/var/lib/dpkg/info/libc6:amd64.md5sums"), libc.md5sums);
  EXPECT_EQ(Content(by_path, "/var/lib/dpkg/info/libc-bin.list"),
            "/.\n/usr\n/usr/sbin\n/usr/sbin/ldconfig\n");
  EXPECT_EQ(by_path.at("/var/lib/dpkg/info/libc6:amd64.postinst").mode, 0755u);
  EXPECT_EQ(by_path.at("/var/lib/dpkg/info/libc6:amd64.shlibs").mode, 0644u);
  EXPECT_EQ(Content(by_path, "/var/lib/dpkg/info/libc6:amd64.triggers"),
            "activate-noawait ldconfig\n");
  EXPECT_EQ(Content(by_path, "/var/lib/dpkg/info/format"), "1\n");
  EXPECT_EQ(Content(by_path, "/var/lib/dpkg/arch"), "amd64\n");
  EXPECT_EQ(Content(by_path, "/var/lib/dpkg/available"), "");
  // Interests only, as dpkg records them.
  EXPECT_EQ(Content(by_path, "/var/lib/dpkg/triggers/ldconfig"), "libc-bin/noawait\n");
  EXPECT_EQ(Content(by_path, "/var/lib/dpkg/triggers/update-x"), "libc-bin\n");
  EXPECT_EQ(Content(by_path, "/var/lib/dpkg/triggers/File"), "/usr/lib/x libc-bin\n");
  EXPECT_EQ(Content(by_path, "/var/lib/dpkg/triggers/Unincorp"), "");
  // The distroless records go; dpkg's status is the one database.
  EXPECT_TRUE(by_path.count("/var/lib/dpkg/.wh.status.d"));
  // Directories the view lacks are added, those it has are not repeated.
  EXPECT_EQ(by_path.at("/var/lib/dpkg/triggers").type, oci::LayerEntryType::kDirectory);
  EXPECT_TRUE(by_path.count("/var/lib/apt/lists/partial"));
  EXPECT_TRUE(by_path.count("/var/cache/apt/archives/partial"));
  EXPECT_FALSE(by_path.count("/var/lib/dpkg/info"));
  EXPECT_FALSE(by_path.count("/etc/apt"));
  for (const auto& e : *entries) EXPECT_EQ(e.mtime, 42) << e.path;
}

TEST(DpkgDatabaseTest, SourcesNameTheImagesKeyringOrACopy) {
  const std::string archive_key = "binary keyring bytes";
  const std::string armored =
      "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nabc\n-----END PGP PUBLIC KEY BLOCK-----\n";
  ImageView view = BaseView();
  // debian-archive-keyring's file, of another version than the host's: the image's own is named.
  AddFile(view, "/usr/share/keyrings/debian-archive-keyring.gpg", "the image's version");
  std::vector<AptRepository> repos = {
      {"http://deb.example/debian",
       "bookworm",
       {"main"},
       {},
       {{"/usr/share/keyrings/debian-archive-keyring.gpg", archive_key}},
       "",
       {}},
      {"http://deb.example/debian",
       "bookworm-updates",
       {"main"},
       {},
       {{"/usr/share/keyrings/debian-archive-keyring.gpg", archive_key}},
       "",
       {}},
      {"http://local.example/repo",
       "stable",
       {"main", "extra"},
       {"amd64"},
       {{"/home/me/spec/keys/my repo.asc", armored}},
       "",
       {"0123456789ABCDEF0123456789ABCDEF01234567"}},
      {"http://other.example/flat", "./", {}, {}, {}, armored, {}},
  };
  DpkgDatabaseInputs in{"amd64", {}, repos, 0};
  auto entries = DpkgDatabaseEntries(in, view);
  ASSERT_TRUE(entries.has_value()) << entries.error().message;
  auto by_path = ByPath(*entries);
  EXPECT_EQ(Content(by_path, "/etc/apt/sources.list.d/hardbase.sources"),
            "# Written by hardbase for the dev variant: the repositories this image's packages "
            "were locked from.\n"
            "\nTypes: deb\nURIs: http://deb.example/debian\nSuites: bookworm bookworm-updates\n"
            "Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
            "\nTypes: deb\nURIs: http://local.example/repo\nSuites: stable\n"
            "Components: main extra\nArchitectures: amd64\n"
            "Signed-By: /etc/apt/keyrings/my_repo.asc 0123456789ABCDEF0123456789ABCDEF01234567\n"
            "\nTypes: deb\nURIs: http://other.example/flat\nSuites: ./\n"
            "Signed-By: /etc/apt/keyrings/hardbase-._.asc\n");
  EXPECT_EQ(Content(by_path, "/etc/apt/keyrings/my_repo.asc"), armored);
  EXPECT_EQ(Content(by_path, "/etc/apt/keyrings/hardbase-._.asc"), armored);
  EXPECT_FALSE(by_path.count("/usr/share/keyrings/debian-archive-keyring.gpg"));
  EXPECT_EQ(by_path.at("/etc/apt/keyrings").type, oci::LayerEntryType::kDirectory);

  // Without debian-archive-keyring in the image, the host's keyring is copied, as .gpg.
  auto copied = DpkgDatabaseEntries({"amd64", {}, {repos[0]}, 0}, BaseView());
  ASSERT_TRUE(copied.has_value()) << copied.error().message;
  auto copied_by_path = ByPath(*copied);
  EXPECT_EQ(Content(copied_by_path, "/etc/apt/keyrings/debian-archive-keyring.gpg"), archive_key);
  EXPECT_THAT(Content(copied_by_path, "/etc/apt/sources.list.d/hardbase.sources"),
              HasSubstr("Signed-By: /etc/apt/keyrings/debian-archive-keyring.gpg\n"));
}

TEST(DpkgDatabaseTest, KeyringCopiesOfOneNameDoNotCollide) {
  ImageView view = BaseView();
  AddFile(view, "/etc/apt/keyrings/k.gpg", "a package's own");
  std::vector<AptRepository> repos = {
      {"http://a.example", "s1", {"main"}, {}, {{"/x/k.gpg", "first"}}, "", {}},
      {"http://b.example", "s2", {"main"}, {}, {{"/y/k.gpg", "second"}}, "", {}},
      {"http://c.example", "s3", {"main"}, {}, {{"/z/k.gpg", "first"}}, "", {}},
  };
  auto entries = DpkgDatabaseEntries({"amd64", {}, repos, 0}, view);
  ASSERT_TRUE(entries.has_value()) << entries.error().message;
  auto by_path = ByPath(*entries);
  EXPECT_FALSE(by_path.count("/etc/apt/keyrings/k.gpg"));  // the package's file stays
  EXPECT_EQ(Content(by_path, "/etc/apt/keyrings/k-2.gpg"), "first");
  EXPECT_EQ(Content(by_path, "/etc/apt/keyrings/k-3.gpg"), "second");
  std::string sources = Content(by_path, "/etc/apt/sources.list.d/hardbase.sources");
  // The same keyring twice is one copy.
  EXPECT_THAT(sources, HasSubstr("URIs: http://a.example\nSuites: s1\nComponents: main\n"
                                 "Signed-By: /etc/apt/keyrings/k-2.gpg\n"));
  EXPECT_THAT(sources, HasSubstr("URIs: http://b.example\nSuites: s2\nComponents: main\n"
                                 "Signed-By: /etc/apt/keyrings/k-3.gpg\n"));
  EXPECT_THAT(sources, HasSubstr("URIs: http://c.example\nSuites: s3\nComponents: main\n"
                                 "Signed-By: /etc/apt/keyrings/k-2.gpg\n"));
}

TEST(DpkgDatabaseTest, RefusesWhatCannotBeWrittenSafely) {
  auto error_of = [](const DpkgDatabaseInputs& in, const ImageView& view) {
    auto r = DpkgDatabaseEntries(in, view);
    return r ? std::string("(no error)") : r.error().message;
  };
  // A package's own file where the layer writes one.
  ImageView shipped = BaseView();
  AddFile(shipped, "/etc/apt/sources.list.d/hardbase.sources", "deb http://evil.example x main");
  EXPECT_THAT(error_of({"amd64", {}, {}, 0}, shipped),
              HasSubstr("writes /etc/apt/sources.list.d/hardbase.sources, which a package ships"));
  // A link where it needs a directory: a runtime would write through it.
  ImageView linked;
  linked.Add(SkeletonEntries("amd64"));
  oci::LayerEntry link;
  link.path = "/etc/apt";
  link.type = oci::LayerEntryType::kSymlink;
  link.link_target = "/usr/share/x";
  linked.Add({link});
  EXPECT_THAT(error_of({"amd64", {}, {}, 0}, linked), HasSubstr("/etc/apt"));
  // A path dpkg's .list cannot hold.
  PackageFacts newline = Facts("demo", "", {"/usr/bin/a\nb"});
  EXPECT_THAT(error_of({"amd64", {{"demo", "amd64", &newline}}, {}, 0}, BaseView()),
              HasSubstr("cannot be listed"));
  // A trigger named like dpkg's own files, or outside triggers/.
  for (const char* trigger : {"File", "../../status", "a/b"}) {
    PackageFacts t = Facts("demo");
    t.dpkg_control["triggers"] = std::string("interest ") + trigger + "\n";
    EXPECT_THAT(error_of({"amd64", {{"demo", "amd64", &t}}, {}, 0}, BaseView()),
                HasSubstr("cannot be recorded"))
        << trigger;
  }
  // A name that is not a package name cannot become an info file name.
  PackageFacts bad = Facts("../x");
  EXPECT_THAT(error_of({"amd64", {{"../x", "amd64", &bad}}, {}, 0}, BaseView()),
              HasSubstr("not a name"));
  // A value that would add a line to the sources file.
  AptRepository r{"http://a.example/x\nTrusted: yes", "s", {"main"}, {}, {}, "", {}};
  auto sources = AptSourcesText({r}, {{}});
  ASSERT_FALSE(sources.has_value());
  EXPECT_THAT(sources, FailsWith(ErrorCode::kSpec));
}

// Writes `entries` under `root` as a runtime would unpack the layer (whiteouts aside).
void Unpack(const std::vector<oci::LayerEntry>& entries, const std::string& root) {
  for (const auto& e : entries) {
    std::string path = root + e.path;
    if (e.path.substr(e.path.rfind('/') + 1).starts_with(".wh.")) continue;
    if (e.type == oci::LayerEntryType::kDirectory) {
      ASSERT_TRUE(MakeDirs(path).has_value()) << path;
    } else {
      ASSERT_TRUE(MakeDirs(DirName(path)).has_value()) << path;
      ASSERT_TRUE(WriteFileAtomic(path, e.content ? *e.content : "", e.mode).has_value()) << path;
    }
  }
}

// dpkg and apt themselves read what the layer holds.
TEST(DpkgDatabaseTest, DpkgAndAptReadTheDatabase) {
  if (testing::FindInPath("dpkg").empty() || testing::FindInPath("apt-get").empty()) {
    GTEST_SKIP() << "dpkg and apt-get are needed as oracles";
  }
  const std::string keyring = "/usr/share/keyrings/debian-archive-keyring.gpg";
  auto key = ReadFile(keyring);
  if (!key) GTEST_SKIP() << "the host has no " << keyring;
  PackageFacts demo =
      Facts("demo", "", {"/bin", "/bin/demo", "/etc", "/etc/demo.conf"},
            std::string(kMd5A) + "  bin/demo\n" + std::string(kMd5B) + "  etc/demo.conf\n");
  demo.dpkg_control["conffiles"] = "/etc/demo.conf\n";
  PackageFacts lib =
      Facts("libdemo1", "Multi-Arch: same\n", {"/usr", "/usr/lib", "/usr/lib/libdemo.so.1"},
            std::string(kMd5A) + "  usr/lib/libdemo.so.1\n");
  std::vector<AptRepository> repos = {
      {"http://deb.example/debian", "bookworm", {"main"}, {}, {{keyring, *key}}, "", {}}};
  auto entries = DpkgDatabaseEntries(
      {"amd64", {{"demo", "amd64", &demo}, {"libdemo1", "amd64", &lib}}, repos, 0}, BaseView());
  ASSERT_TRUE(entries.has_value()) << entries.error().message;
  auto dir = TempDir::Create("hardbase-dpkg-db-");
  ASSERT_TRUE(dir.has_value());
  const std::string root = dir->path();
  Unpack(*entries, root);
  const std::string admin = root + "/var/lib/dpkg";

  auto l = testing::RunProcess({"dpkg-query", "--admindir=" + admin, "-W",
                                "-f=${Package}:${Architecture} ${db:Status-Abbrev}\\n"});
  ASSERT_EQ(l.exit_code, 0) << l.err;
  EXPECT_EQ(l.out, "demo:amd64 ii \nlibdemo1:amd64 ii \n");
  auto s = testing::RunProcess({"dpkg-query", "--admindir=" + admin, "-S", "/bin/demo"});
  EXPECT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(s.out, "demo: /bin/demo\n");
  auto lib_s = testing::RunProcess({"dpkg-query", "--admindir=" + admin, "-S", "libdemo.so.1"});
  EXPECT_EQ(lib_s.out, "libdemo1:amd64: /usr/lib/libdemo.so.1\n") << lib_s.err;
  auto c = testing::RunProcess(
      {"dpkg-query", "--admindir=" + admin, "-W", "-f=${Conffiles}\\n", "demo"});
  EXPECT_EQ(c.out, " /etc/demo.conf " + std::string(kMd5B) + "\n") << c.err;
  // dpkg finds nothing broken in its database.
  auto audit = testing::RunProcess({"dpkg", "--admindir=" + admin, "--audit"});
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
  EXPECT_EQ(audit.out, "");

  // apt reads the sources (with their keyring) it would fetch from.
  auto uris = testing::RunProcess({"apt-get", "-o", "Dir=" + root, "-o",
                                   "Dir::State::status=" + admin + "/status", "-o",
                                   "Debug::NoLocking=1", "update", "--print-uris"});
  EXPECT_EQ(uris.exit_code, 0) << uris.err;
  EXPECT_THAT(uris.out, HasSubstr("'http://deb.example/debian/dists/bookworm/InRelease'"));
  EXPECT_THAT(uris.err, Not(HasSubstr("E:")));
}

}  // namespace
}  // namespace hardbase::image
