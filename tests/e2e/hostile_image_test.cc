// End-to-end tests of `hardbase build` against packages built here to attack the image's final
// tree: a package writing through another package's directory symlink, maintainer-script
// alternatives over the files hardbase generates or at shell paths, and packages overwriting each
// other's files. The packages come from a signed repository served on loopback
// (support/repo_fixture.h: dpkg-deb and gpg); packages dpkg-deb cannot make (a data.tar without
// the directories of its files) are written by python3's tarfile and added to the same signed
// index. Each refusal is checked for its exit code and one-line message, that nothing was written
// beside the output and that the previous output is intact; each accepted image is unpacked by
// umoci to see what a container runtime would.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/fs.h"
#include "base/sha256.h"
#include "support/exit_codes.h"
#include "support/http_server.h"
#include "support/oci_runtime.h"
#include "support/process.h"
#include "support/repo_fixture.h"
#include "support/tree_snapshot.h"

namespace hardbase::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

// Writes a .deb (ar of debian-binary, control.tar.gz, data.tar.gz) whose data.tar holds exactly
// the members given, in order, with no directory added: argv is OUT NAME VERSION then members
// "f:PATH:MODE:CONTENT" (a file), "l:PATH:TARGET" (a symbolic link), "d:PATH:MODE".
constexpr std::string_view kMakeDeb = R"PY(
import io, sys, tarfile

out, name, version = sys.argv[1:4]

def tar_gz(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.GNU_FORMAT) as t:
        for info, data in members:
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            info.mtime = 1700000000
            t.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()

def member(kind, path, mode=0o644, data=None, target=""):
    info = tarfile.TarInfo("./" + path)
    info.mode = mode
    if kind == "f":
        info.size = len(data)
    elif kind == "l":
        info.type = tarfile.SYMTYPE
        info.linkname = target
        info.mode = 0o777
    else:
        info.type = tarfile.DIRTYPE
    return info, data

control = ("Package: %s\nVersion: %s\nArchitecture: amd64\n"
           "Maintainer: Hostile Test <hostile@example.org>\nDescription: crafted\n crafted\n"
           % (name, version)).encode()
data = []
for spec in sys.argv[4:]:
    kind, rest = spec.split(":", 1)
    if kind == "f":
        path, mode, content = rest.split(":", 2)
        data.append(member("f", path, int(mode, 8), content.encode()))
    elif kind == "l":
        path, target = rest.split(":", 1)
        data.append(member("l", path, target=target))
    else:
        path, mode = rest.split(":", 1)
        data.append(member("d", path, int(mode, 8)))

parts = [("debian-binary", b"2.0\n"),
         ("control.tar.gz", tar_gz([member("d", "", 0o755), member("f", "control", 0o644, control)])),
         ("data.tar.gz", tar_gz(data))]
with open(out, "wb") as f:
    f.write(b"!<arch>\n")
    for n, d in parts:
        f.write(("%-16s%-12d%-6d%-6d%-8s%-10d`\n" % (n, 0, 0, 0, "100644", len(d))).encode())
        f.write(d)
        if len(d) % 2:
            f.write(b"\n")
)PY";

class HostileImageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("hardbase-hostile-image-");
    ASSERT_TRUE(dir.has_value());
    work_.emplace(std::move(*dir));
    ASSERT_TRUE(MakeDirs(Tmp()).has_value());
    repo_.emplace(Work() + "/repo");
    server_.emplace(Work() + "/repo");
    ASSERT_TRUE(server_->Start().has_value());
    ASSERT_TRUE(WriteFileAtomic(Work() + "/make_deb.py", kMakeDeb).has_value());
    Add({.name = "good", .version = "1.0", .files = {{"usr/share/good/data", "good\n"}}});
  }

  std::string Work() const { return work_->path(); }
  // hardbase's TMPDIR: checked to be empty after every run.
  std::string Tmp() const { return Work() + "/tmp"; }
  std::string Out() const { return Work() + "/out"; }

  void Add(const PackageSpec& spec) {
    auto p = repo_->AddPackage("stable", "amd64", spec);
    ASSERT_TRUE(p.has_value()) << p.error().message;
  }

  // A package dpkg-deb would not make (see kMakeDeb), added to the index at the next Publish.
  void AddCrafted(const std::string& name, std::vector<std::string> members) {
    std::string filename =
        "pool/main/" + name.substr(0, 1) + "/" + name + "/" + name + "_1.0_amd64.deb";
    std::string path = Work() + "/repo/" + filename;
    ASSERT_TRUE(MakeDirs(DirName(path)).has_value());
    std::vector<std::string> argv = {"python3", Work() + "/make_deb.py", path, name, "1.0"};
    argv.insert(argv.end(), members.begin(), members.end());
    auto r = RunProcess(argv);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto deb = ReadFile(path);
    ASSERT_TRUE(deb.has_value());
    crafted_ += "Package: " + name +
                "\nVersion: 1.0\nArchitecture: amd64\nMaintainer: Hostile Test "
                "<hostile@example.org>\nFilename: " +
                filename + "\nSize: " + std::to_string(deb->size()) +
                "\nSHA256: " + Sha256Hex(*deb) + "\nDescription: crafted\n crafted\n\n";
  }

  void Publish() {
    PublishOptions options;
    options.extra_packages_text = crafted_;
    auto r = repo_->Publish("stable", options);
    ASSERT_TRUE(r.has_value()) << r.error().message;
  }

  // Writes <name>.yaml for `packages` and locks it; returns its path.
  std::string Spec(const std::string& name, const std::vector<std::string>& packages) {
    std::string list;
    for (const auto& p : packages) list += (list.empty() ? "" : ", ") + p;
    std::string path = Work() + "/" + name + ".yaml";
    EXPECT_TRUE(WriteFileAtomic(
                    path, "name: " + name + "\nrepositories:\n  - url: " + server_->base_url() +
                              "\n    suites: [stable]\n    keyring: " + RepoFixture::KeyringPath() +
                              "\narchs: [amd64]\n" + "packages: [" + list + "]\n")
                    .has_value());
    auto r = Hardbase({"lock", path});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return path;
  }

  // hardbase under a time limit, with its own TMPDIR and cache, optionally under `prlimit`
  // bounds ("--as=...").
  ProcessResult Hardbase(std::vector<std::string> args, std::vector<std::string> limits = {}) {
    std::vector<std::string> argv = {HardbaseBinary(), "--cache-dir", Work() + "/cache", "--quiet"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = RunProcess(WithinLimits(argv, 60, std::move(limits)), {{"TMPDIR", Tmp()}});
    EXPECT_TRUE(fs::is_empty(Tmp())) << "hardbase left files in TMPDIR";
    return r;
  }
  ProcessResult Build(const std::string& spec) {
    return Hardbase({"build", spec, "-o", Out(), "--tag", "test"});
  }

  // Every file, directory and link under the work dir but the cache (which a build fills), with
  // the content of each file.
  std::map<std::string, std::string> Snapshot() { return TreeSnapshot(Work(), {"cache"}); }

  // Builds the image of `good` into Out() (the previous output every refusal must leave).
  void BuildPrevious() {
    auto r = Build(Spec("previous", {"good"}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_TRUE(fs::exists(Out() + "/index.json"));
  }

  // Builds `spec`, which must fail with `code` and one line holding `message`, leaving every file
  // outside the cache as it was.
  void ExpectRefused(const std::string& spec, const std::string& message,
                     int code = kExitIntegrity) {
    auto before = Snapshot();
    auto r = Build(spec);
    EXPECT_EQ(r.exit_code, code) << r.err;
    EXPECT_THAT(r.err, MatchesRegex("hardbase: error: [^\n]*\n")) << "one line";
    EXPECT_THAT(r.err, HasSubstr(message));
    EXPECT_EQ(Snapshot(), before) << "a refused build changed files beside the cache";
  }

  // Builds `spec` and unpacks the image with umoci.
  UnpackedImage BuildAndUnpack(const std::string& spec, const std::string& bundle,
                               ProcessResult* run = nullptr) {
    auto r = Build(spec);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    if (run) *run = r;
    auto image = UnpackWithUmoci(Out(), "test", Work() + "/" + bundle);
    EXPECT_TRUE(image.has_value()) << (image ? "" : image.error().message);
    return image.value_or(UnpackedImage{});
  }

  std::optional<TempDir> work_;
  std::optional<RepoFixture> repo_;
  std::optional<HttpServer> server_;
  std::string crafted_;  // index stanzas of the crafted packages
};

bool Exists(const std::string& path) { return fs::exists(fs::symlink_status(path)); }

// Item 1 of the trust boundary: a package's directory symlink and another package's file below
// it. umoci follows the link when it applies the later layer, so /usr/lib/x/sh would have become
// /usr/bin/sh past the no-shell rule, and /usr/lib/y/passwd an /etc/passwd of the package's own.
TEST_F(HostileImageTest, EntriesBelowAnotherPackagesDirectoryLinkAreRefused) {
  Add({.name = "linker",
       .version = "1.0",
       .symlinks = {{"usr/lib/x", "/usr/bin"}, {"usr/lib/y", "../../etc"}}});
  AddCrafted("writer", {"f:usr/lib/x/sh:0755:#!/evil\n"});
  AddCrafted("writer2", {"f:usr/lib/y/passwd:0644:root::0:0::/:/evil\n"});
  Publish();
  BuildPrevious();
  ExpectRefused(Spec("hostile", {"good", "linker", "writer"}),
                "build amd64: package writer ships /usr/lib/x/sh below the symbolic link "
                "/usr/lib/x -> /usr/bin of package linker: a runtime would write it to "
                "/usr/bin/sh: refused");
  ExpectRefused(Spec("hostile2", {"good", "linker", "writer2"}),
                "package writer2 ships /usr/lib/y/passwd below the symbolic link /usr/lib/y -> "
                "../../etc of package linker: a runtime would write it to /etc/passwd: refused");
}

// The same attack from packages dpkg-deb made: their data.tar lists the directory the link
// replaces, which is refused as one package overwriting the other's entry.
TEST_F(HostileImageTest, DirectoryOverAnotherPackagesLinkIsRefused) {
  Add({.name = "linker", .version = "1.0", .symlinks = {{"usr/lib/x", "../bin"}}});
  Add({.name = "writer", .version = "1.0", .files = {{"usr/lib/x/sh", "#!/evil\n"}}});
  Publish();
  BuildPrevious();
  ExpectRefused(Spec("hostile", {"good", "linker", "writer"}),
                "packages linker and writer both ship /usr/lib/x, as a symbolic link to ../bin "
                "and as a directory (mode 0755): refused");
}

// Item 2: update-alternatives lines in a postinst may not put links over what hardbase
// generates, nor links that are not normalised absolute paths.
TEST_F(HostileImageTest, AlternativesOverGeneratedFilesAreRefused) {
  auto evil = [&](const std::string& name, const std::string& link) {
    Add({.name = name,
         .version = "1.0",
         .files = {{"usr/share/" + name + "/file", "root::0:0::/:/evil\n"}},
         .control_files = {{"postinst", "#!/bin/sh\nset -e\nupdate-alternatives --install " + link +
                                            " " + name + " /usr/share/" + name + "/file 100\n"}}});
  };
  evil("evil-passwd", "/etc/passwd");
  evil("evil-group", "/etc/group");
  evil("evil-status", "/var/lib/dpkg/status.d/good");
  evil("evil-dots", "/usr/bin/../../etc/nsswitch.conf");
  Publish();
  BuildPrevious();
  for (const char* target : {"passwd", "group"}) {
    std::string name = std::string("evil-") + target;
    ExpectRefused(Spec(name, {"good", name}),
                  "build amd64: package " + name + ": update-alternatives link /etc/" + target +
                      " (alternative " + name + " -> /usr/share/" + name +
                      "/file): would replace /etc/" + target + ", which hardbase writes");
  }
  ExpectRefused(Spec("evil-status", {"good", "evil-status"}),
                "package evil-status: update-alternatives link /var/lib/dpkg/status.d/good "
                "(alternative evil-status -> /usr/share/evil-status/file): would replace "
                "/var/lib/dpkg/status.d/good, which hardbase writes");
  ExpectRefused(Spec("evil-dots", {"good", "evil-dots"}),
                "package evil-dots: update-alternatives link /usr/bin/../../etc/nsswitch.conf "
                "(alternative evil-dots -> /usr/share/evil-dots/file): not a normalised absolute "
                "path");
}

// Item 2: an alternative at a shell path, through the merged-/usr link or to a target that is a
// shell, is left out with a warning; a harmless one in the same script is made, at the path the
// runtime writes.
TEST_F(HostileImageTest, ShellAlternativesNeverReachTheImage) {
  Add({.name = "shelly",
       .version = "1.0",
       .files = {{"usr/lib/shelly/busybox", "#!/evil\n"}, {"usr/lib/shelly/tool", "tool\n"}},
       .symlinks = {{"usr/lib/shelly/sh", "/usr/bin/sh"}},
       .modes = {{"usr/lib/shelly/busybox", 0755}, {"usr/lib/shelly/tool", 0755}},
       .control_files = {
           {"postinst",
            "#!/bin/sh\nset -e\n"
            "update-alternatives --install /bin/sh sh /usr/lib/shelly/busybox 100\n"
            "update-alternatives --install /usr/bin/bash bash "
            "/usr/lib/shelly/busybox 100\n"
            "update-alternatives --install /usr/bin/dash dash /usr/lib/shelly/sh 1\n"
            "update-alternatives --install /bin/tool tool /usr/lib/shelly/tool 5\n"}}});
  Publish();
  ProcessResult run;
  auto image = BuildAndUnpack(Spec("shelly", {"good", "shelly"}), "bundle", &run);
  EXPECT_THAT(run.err,
              HasSubstr("package shelly: update-alternatives link /bin/sh (alternative "
                        "sh -> /usr/lib/shelly/busybox): left out: an image has no shell"));
  ASSERT_FALSE(image.rootfs.empty());
  for (const char* shell :
       {"/bin/sh", "/usr/bin/sh", "/usr/bin/bash", "/usr/bin/dash", "/etc/alternatives/sh",
        "/etc/alternatives/bash", "/etc/alternatives/dash"}) {
    EXPECT_FALSE(Exists(image.rootfs + shell)) << shell;
  }
  EXPECT_EQ(fs::read_symlink(image.rootfs + "/usr/bin/tool"), "/etc/alternatives/tool");
  EXPECT_EQ(fs::read_symlink(image.rootfs + "/etc/alternatives/tool"), "/usr/lib/shelly/tool");
  EXPECT_TRUE(fs::is_symlink(fs::symlink_status(image.rootfs + "/bin"))) << "merged-/usr kept";
}

// Item 2 through item 1: a package turning /etc/alternatives into a link to /usr/bin, so that the
// managed link of an alternative named "sh" would become /usr/bin/sh.
TEST_F(HostileImageTest, GeneratedEntriesBelowAPackagesDirectoryLinkAreRefused) {
  Add({.name = "altdir",
       .version = "1.0",
       .files = {{"usr/lib/altdir/tool", "#!/evil\n"}},
       .symlinks = {{"etc/alternatives", "/usr/bin"}},
       .modes = {{"usr/lib/altdir/tool", 0755}},
       .control_files = {{"postinst",
                          "#!/bin/sh\nupdate-alternatives --install /usr/bin/tool sh "
                          "/usr/lib/altdir/tool 10\n"}}});
  Publish();
  BuildPrevious();
  ExpectRefused(Spec("altdir", {"good", "altdir"}),
                "build amd64: the image's own /etc/alternatives/sh lies below /etc/alternatives, "
                "which is a symbolic link to /usr/bin in a package layer: a runtime would write it "
                "elsewhere: refused");
}

// Bounds: 40 links that each walk 300 directories down and back up, and 1023 alternatives whose
// targets go through them. Each walk stops at its budget, so the build finishes in seconds under
// a 2 GiB address-space cap, leaving out the alternatives whose targets it could not resolve.
TEST_F(HostileImageTest, ChainsOfLinksUnderAlternativesAreBounded) {
  PackageSpec chain{.name = "chain", .version = "1.0"};
  std::string deep = "usr/lib/d";
  std::string down_up;
  for (int i = 0; i < 300; ++i) {
    deep += "/d";
    down_up += "d/";
  }
  for (int i = 0; i < 300; ++i) down_up += "../";
  chain.files[deep + "/leaf"] = "leaf\n";
  chain.files["usr/lib/l40/tool"] = "tool\n";
  for (int i = 0; i < 40; ++i) {
    chain.symlinks["usr/lib/l" + std::to_string(i)] = down_up + "l" + std::to_string(i + 1);
  }
  std::string postinst = "#!/bin/sh\n";
  for (int i = 0; i < 1023; ++i) {
    std::string n = "t" + std::to_string(i);
    postinst += "update-alternatives --install /usr/bin/" + n + " " + n + " /usr/lib/l0/tool 1\n";
  }
  postinst += "update-alternatives --install /usr/bin/direct direct /usr/lib/l40/tool 1\n";
  chain.control_files["postinst"] = postinst;
  Add(chain);
  Publish();
  std::string spec = Spec("chain", {"good", "chain"});
  auto start = std::chrono::steady_clock::now();
  auto r = Hardbase({"build", spec, "-o", Out(), "--tag", "test"}, {"--as=2147483648"});
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LT(seconds, UnderAddressSanitizer() ? 60 : 20);
  auto image = UnpackWithUmoci(Out(), "test", Work() + "/bundle");
  ASSERT_TRUE(image.has_value()) << image.error().message;
  EXPECT_EQ(fs::read_symlink(image->rootfs + "/usr/bin/direct"), "/etc/alternatives/direct");
  EXPECT_FALSE(Exists(image->rootfs + "/usr/bin/t0")) << "its target did not resolve";
}

// Item 3: one package overwriting another's file, or link, is refused naming both.
TEST_F(HostileImageTest, PackageOverwritingAnothersFileIsRefused) {
  Add({.name = "owner",
       .version = "1.0",
       .files = {{"usr/lib/shared/lib.so", "real\n"}},
       .symlinks = {{"usr/lib/shared/link", "lib.so"}}});
  Add({.name = "thief", .version = "1.0", .files = {{"usr/lib/shared/lib.so", "evil\n"}}});
  Add({.name = "thief2", .version = "1.0", .symlinks = {{"usr/lib/shared/link", "/etc/shadow"}}});
  Publish();
  BuildPrevious();
  ExpectRefused(Spec("thief", {"good", "owner", "thief"}),
                "build amd64: packages owner and thief both ship /usr/lib/shared/lib.so, as a "
                "file (mode 0644, sha256 " +
                    Sha256Hex("real\n").substr(0, 12) + ") and as a file (mode 0644, sha256 " +
                    Sha256Hex("evil\n").substr(0, 12) + "): refused");
  ExpectRefused(Spec("thief2", {"good", "owner", "thief2"}),
                "packages owner and thief2 both ship /usr/lib/shared/link, as a symbolic link to "
                "lib.so and as a symbolic link to /etc/shadow: refused");
}

// Item 3: identical files and links may be shared, as dpkg allows: the image has one, and both
// packages' md5sums list it and check out against what a runtime unpacks.
TEST_F(HostileImageTest, IdenticalSharedFilesAreKeptAndListedByBothPackages) {
  Add({.name = "one",
       .version = "1.0",
       .files = {{"usr/share/common/data", "same\n"}},
       .symlinks = {{"usr/share/common/link", "data"}}});
  Add({.name = "two",
       .version = "1.0",
       .files = {{"usr/share/common/data", "same\n"}},
       .symlinks = {{"usr/share/common/link", "data"}}});
  Publish();
  auto image = BuildAndUnpack(Spec("shared", {"good", "one", "two"}), "bundle");
  ASSERT_FALSE(image.rootfs.empty());
  EXPECT_EQ(ReadFile(image.rootfs + "/usr/share/common/data").value_or(""), "same\n");
  EXPECT_EQ(fs::read_symlink(image.rootfs + "/usr/share/common/link"), "data");
  for (const char* package : {"one", "two"}) {
    std::string md5sums = image.rootfs + "/var/lib/dpkg/status.d/" + package + ".md5sums";
    EXPECT_THAT(ReadFile(md5sums).value_or(""), HasSubstr("  usr/share/common/data\n"));
    auto check = RunProcess(
        {"sh", "-c", "cd '" + image.rootfs + "' && md5sum --quiet -c '" + md5sums + "'"});
    EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  }
}

// A package's own records in the package database would hide it from scanners or claim
// packages the image does not hold: the database is written from what shipped, by hardbase.
TEST_F(HostileImageTest, RecordsShippedIntoThePackageDatabaseAreRefused) {
  Add({.name = "faker",
       .version = "1.0",
       .files = {{"var/lib/dpkg/status.d/openssl",
                  "Package: openssl\nStatus: install ok installed\nVersion: 99\n"}}});
  Publish();
  BuildPrevious();
  ExpectRefused(Spec("faker", {"good", "faker"}),
                "package faker: /var/lib/dpkg/status.d/openssl: the package database is "
                "hardbase's to write: refused");
}

}  // namespace
}  // namespace hardbase::testing
