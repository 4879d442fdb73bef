// End-to-end tests of what hardbase reads from image archives and layouts on disk, and of how it
// writes its outputs, against inputs built here to be hostile: archives with a member twice or
// outside themselves, FIFOs and devices where files belong, decompression bombs, outputs pointed
// at symlinks and FIFOs, and the temporary files of a run killed with SIGKILL. Every input is made
// by python3's tarfile (an independent implementation), never by hardbase itself. Each refusal is
// checked for its exit code, its one-line message, that nothing was written beside the output and
// that the previous output is intact.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/fs.h"
#include "support/exit_codes.h"
#include "support/http_server.h"
#include "support/process.h"
#include "support/repo_fixture.h"
#include "support/tree_snapshot.h"

extern char** environ;

namespace hardbase::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::StartsWith;

// Builds the test inputs: OCI layouts, tar archives of them with extra members, a sparse archive
// with a huge bogus member, a gzip bomb.
constexpr std::string_view kMakeInputs = R"PY(
import gzip, hashlib, io, json, os, sys, tarfile

M = "application/vnd.oci.image.manifest.v1+json"

def put(root, data):
    h = hashlib.sha256(data).hexdigest()
    os.makedirs(root + "/blobs/sha256", exist_ok=True)
    with open(root + "/blobs/sha256/" + h, "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + h, "size": len(data)}

def layout(root, text, zeros=0):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        data = text.encode()
        ti = tarfile.TarInfo("etc/motd")
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    layers = [dict(put(root, buf.getvalue()), mediaType="application/vnd.oci.image.layer.v1.tar")]
    if zeros:  # a layer of zero bytes, as a sparse file
        h = hashlib.sha256()
        chunk = bytes(1 << 20)
        for _ in range(zeros >> 20):
            h.update(chunk)
        path = root + "/blobs/sha256/" + h.hexdigest()
        with open(path, "wb") as f:
            f.truncate(zeros)
        layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar",
                       "digest": "sha256:" + h.hexdigest(), "size": zeros})
    config = dict(put(root, json.dumps({
        "architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": [l["digest"] for l in layers]}}).encode()),
        mediaType="application/vnd.oci.image.config.v1+json")
    manifest = dict(put(root, json.dumps({"schemaVersion": 2, "mediaType": M, "config": config,
                                          "layers": layers}).encode()), mediaType=M)
    manifest["annotations"] = {"org.opencontainers.image.ref.name": "app"}
    with open(root + "/index.json", "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [manifest]}, f)
    with open(root + "/oci-layout", "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    print(manifest["digest"])

def add_layout(t, src):
    for dirpath, dirs, files in os.walk(src):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(dirpath, name)
            t.add(path, arcname=os.path.relpath(path, src), recursive=False)

# Extra members: NAME=FILE (a regular file with FILE's bytes), NAME->TARGET (a symlink),
# NAME=>TARGET (a hard link).
def add_extra(t, spec):
    if "=>" in spec or "->" in spec:
        sep = "=>" if "=>" in spec else "->"
        name, target = spec.split(sep, 1)
        ti = tarfile.TarInfo(name)
        ti.type = tarfile.LNKTYPE if sep == "=>" else tarfile.SYMTYPE
        ti.linkname = target
        t.addfile(ti)
        return
    name, path = spec.split("=", 1)
    data = open(path, "rb").read()
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    t.addfile(ti, io.BytesIO(data))

class Zeros:
    def read(self, n=-1):
        return bytes(n if n >= 0 else 0)

cmd = sys.argv[1]
if cmd == "layout":
    layout(sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 0)
elif cmd == "archive":
    with tarfile.open(sys.argv[2], "w", format=tarfile.PAX_FORMAT) as t:
        add_layout(t, sys.argv[3])
        for spec in sys.argv[4:]:
            add_extra(t, spec)
elif cmd == "sparse":  # a bogus member of SIZE bytes that takes no disk, then the layout
    out, src, size = sys.argv[2], sys.argv[3], int(sys.argv[4])
    with open(out, "wb") as f:
        ti = tarfile.TarInfo("blobs/sha256/" + "b" * 64)
        ti.size = size
        f.write(ti.tobuf(tarfile.PAX_FORMAT))
        f.seek(f.tell() + (size + 511) // 512 * 512)
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as t:
            add_layout(t, src)
        f.write(buf.getvalue())
elif cmd == "bomb":  # the layout and SIZE zero bytes, gzip-compressed
    out, src, size = sys.argv[2], sys.argv[3], int(sys.argv[4])
    with gzip.open(out, "wb", compresslevel=1) as z:
        with tarfile.open(fileobj=z, mode="w") as t:
            add_layout(t, src)
            ti = tarfile.TarInfo("filler")
            ti.size = size
            t.addfile(ti, Zeros())
)PY";

// A process started in the background, killed and reaped when this object dies.
class Background {
 public:
  explicit Background(const std::vector<std::string>& argv) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    if (posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Background() { Kill(); }
  pid_t pid() const { return pid_; }
  void Kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

// The entries of `dir` whose names start with `prefix`.
std::vector<std::string> Matching(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string name = e.path().filename();
    if (name.starts_with(prefix)) out.push_back(name);
  }
  return out;
}

class HostileArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("hardbase-hostile-archive-");
    ASSERT_TRUE(dir.has_value());
    work_.emplace(std::move(*dir));
    ASSERT_TRUE(MakeDirs(Tmp()).has_value());
    ASSERT_TRUE(MakeDirs(Out()).has_value());
    ASSERT_TRUE(WriteFileAtomic(Work() + "/make_inputs.py", kMakeInputs).has_value());
    good_digest_ = Python({"layout", Good(), "good image\n"});
    ASSERT_THAT(good_digest_, StartsWith("sha256:"));
  }

  std::string Work() const { return work_->path(); }
  // hardbase's TMPDIR: checked to be empty after every run.
  std::string Tmp() const { return Work() + "/tmp"; }
  // Where outputs go: checked to hold nothing but what a test expects.
  std::string Out() const { return Work() + "/out"; }
  std::string Good() const { return Work() + "/good"; }

  // Runs make_inputs.py; returns its output without the newline.
  std::string Python(std::vector<std::string> args) {
    args.insert(args.begin(), {"python3", Work() + "/make_inputs.py"});
    auto r = RunProcess(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    while (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
    return r.out;
  }

  // hardbase under a time limit (a FIFO it opens must not hang the test), with its own TMPDIR
  // and cache, optionally under `prlimit` bounds ("--as=...", "--fsize=...").
  ProcessResult Hardbase(std::vector<std::string> args, std::vector<std::string> limits = {}) {
    std::vector<std::string> argv = {HardbaseBinary(), "--cache-dir", Work() + "/cache"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(WithinLimits(argv, 30, std::move(limits)), {{"TMPDIR", Tmp()}});
  }

  // A failed run: its exit code, and one line on stderr holding `message`.
  static void ExpectRefused(const ProcessResult& r, int code, const std::string& message) {
    EXPECT_EQ(r.exit_code, code) << r.err;
    EXPECT_THAT(r.err, MatchesRegex("hardbase: error: [^\n]*\n")) << "one line";
    EXPECT_THAT(r.err, HasSubstr(message));
  }

  void ExpectTmpEmpty() {
    EXPECT_TRUE(TreeSnapshot(Tmp()).empty()) << "hardbase left files in TMPDIR";
  }

  // An earlier output at Out()/name, which failed runs must leave as it is.
  std::string PreviousArchive(const std::string& name = "image.tar") {
    std::string path = Out() + "/" + name;
    EXPECT_TRUE(WriteFileAtomic(path, "previous output\n").has_value());
    return path;
  }

  std::optional<TempDir> work_;
  std::string good_digest_;
};

TEST_F(HostileArchiveTest, ArchiveMembersTwiceOrOutsideAreRefused) {
  std::string evil = Work() + "/evil";
  Python({"layout", evil, "evil image\n"});
  std::string escape = Work() + "/escape.txt";
  ASSERT_TRUE(WriteFileAtomic(escape, "escaped\n").has_value());
  struct Case {
    std::vector<std::string> extra;
    std::string message;
  };
  // hardbase used to read the first index.json of an archive; skopeo and tar take the last.
  std::vector<Case> cases = {
      {{"index.json=" + evil + "/index.json"}, "member 'index.json' appears more than once"},
      {{"./index.json=" + evil + "/index.json"}, "member 'index.json' appears more than once"},
      {{"./oci-layout=" + Good() + "/oci-layout"}, "member 'oci-layout' appears more than once"},
      {{"../escape.txt=" + escape}, "unsafe member '../escape.txt'"},
      {{"/tmp/escape.txt=" + escape}, "unsafe member '/tmp/escape.txt'"},
      {{"blobs/sha256/../../../escape.txt=" + escape}, "unsafe member"},
      {{"hard=>index.json"}, "unsafe member 'hard'"},
      {{"evil->../../etc/passwd"}, "unsafe symlink 'evil' -> '../../etc/passwd'"},
      {{"abs->/etc/passwd"}, "unsafe symlink 'abs' -> '/etc/passwd'"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.extra[0]);
    std::string archive = Work() + "/bad.tar";
    std::vector<std::string> args = {"archive", archive, Good()};
    args.insert(args.end(), c.extra.begin(), c.extra.end());
    Python(args);
    std::string out = PreviousArchive();
    auto before = TreeSnapshot(Work(), {"cache"});
    for (std::string transport : {"oci-archive:", "docker-archive:"}) {
      auto r = Hardbase({"copy", transport + archive, "oci-archive:" + out});
      ExpectRefused(r, kExitSpec, c.message);
      auto inspect = Hardbase({"inspect", transport + archive});
      ExpectRefused(inspect, kExitSpec, c.message);
    }
    EXPECT_EQ(TreeSnapshot(Work(), {"cache"}), before)
        << "nothing written, the previous output intact";
    ExpectTmpEmpty();
  }
  // The same layout without the extra member is read.
  Python({"archive", Work() + "/ok.tar", Good()});
  auto ok = Hardbase({"inspect", "oci-archive:" + Work() + "/ok.tar"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_THAT(ok.out, HasSubstr(good_digest_));
}

TEST_F(HostileArchiveTest, ArchiveOutputReplacesOnlyARegularFile) {
  std::string kept = Work() + "/kept.txt";
  ASSERT_TRUE(WriteFileAtomic(kept, "a file the output links to\n").has_value());
  std::string to_file = Out() + "/link-to-file.tar";
  std::string to_null = Out() + "/link-to-null.tar";
  std::string fifo = Out() + "/fifo.tar";
  std::string dir = Out() + "/dir.tar";
  ASSERT_EQ(::symlink(kept.c_str(), to_file.c_str()), 0);
  ASSERT_EQ(::symlink("/dev/null", to_null.c_str()), 0);
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  ASSERT_TRUE(MakeDirs(dir + "/sub").has_value());
  auto before = TreeSnapshot(Work(), {"cache"});
  for (std::string format : {"oci-archive:", "docker-archive:"}) {
    for (const auto& [target, message] : std::vector<std::pair<std::string, std::string>>{
             {to_file, to_file + " exists and is not a regular file; refusing to replace it"},
             {to_null, to_null + " exists and is not a regular file; refusing to replace it"},
             {fifo, fifo + " exists and is not a regular file; refusing to replace it"},
             {dir, dir + " is a directory"}}) {
      SCOPED_TRACE(format + target);
      auto r = Hardbase({"copy", "oci:" + Good(), format + target});
      ExpectRefused(r, kExitUsage, message);
    }
  }
  EXPECT_EQ(TreeSnapshot(Work(), {"cache"}), before);
  ExpectTmpEmpty();
  // A regular file is replaced, atomically, by the archive.
  std::string out = PreviousArchive();
  auto r = Hardbase({"copy", "oci:" + Good(), "oci-archive:" + out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto inspect = Hardbase({"inspect", "oci-archive:" + out});
  EXPECT_THAT(inspect.out, HasSubstr(good_digest_)) << inspect.err;
  ExpectTmpEmpty();
}

TEST_F(HostileArchiveTest, FifosAndDevicesInALayoutAreRefusedNotRead) {
  auto manifest = [&](const std::string& layout) {
    return layout + "/blobs/sha256/" + good_digest_.substr(7);
  };
  struct Case {
    std::string name;
    std::function<void(const std::string& layout)> spoil;
    std::string message;
  };
  auto fifo_at = [](const std::string& path) {
    ASSERT_EQ(::unlink(path.c_str()), 0);
    ASSERT_EQ(::mkfifo(path.c_str(), 0644), 0);
  };
  auto zero_at = [](const std::string& path) {
    ASSERT_EQ(::unlink(path.c_str()), 0);
    ASSERT_EQ(::symlink("/dev/zero", path.c_str()), 0);
  };
  std::vector<Case> cases = {
      {"index.json FIFO", [&](auto& l) { fifo_at(l + "/index.json"); },
       "index.json: not a regular file (a FIFO)"},
      {"index.json /dev/zero", [&](auto& l) { zero_at(l + "/index.json"); },
       "index.json: not a regular file (a character device)"},
      {"oci-layout FIFO", [&](auto& l) { fifo_at(l + "/oci-layout"); },
       "oci-layout: not a regular file (a FIFO)"},
      {"manifest FIFO", [&](auto& l) { fifo_at(manifest(l)); },
       good_digest_.substr(7) + ": not a regular file (a FIFO)"},
      {"manifest /dev/zero", [&](auto& l) { zero_at(manifest(l)); },
       good_digest_.substr(7) + ": not a regular file (a character device)"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::string layout = Work() + "/spoilt";
    ASSERT_TRUE(RemoveAll(layout).has_value());
    Python({"layout", layout, "good image\n"});
    c.spoil(layout);
    std::string out = PreviousArchive();
    auto before = TreeSnapshot(Work(), {"cache"});
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"inspect", "oci:" + layout}, {"copy", "oci:" + layout, "oci-archive:" + out}}) {
      auto started = std::chrono::steady_clock::now();
      auto r = Hardbase(args, {"--as=2147483648"});
      ExpectRefused(r, kExitIo, c.message);
      EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
    }
    EXPECT_EQ(TreeSnapshot(Work(), {"cache"}), before);
    ExpectTmpEmpty();
  }
  // Key files that are a FIFO or /dev/zero are refused before anything is read from them.
  std::string key_fifo = Work() + "/cosign.key";
  std::string key_zero = Work() + "/cosign.pub";
  ASSERT_EQ(::mkfifo(key_fifo.c_str(), 0600), 0);
  ASSERT_EQ(::symlink("/dev/zero", key_zero.c_str()), 0);
  ExpectRefused(Hardbase({"sign", "--key", key_fifo, "oci:" + Good()}, {"--as=2147483648"}),
                kExitIo, key_fifo + ": not a regular file (a FIFO)");
  ExpectRefused(Hardbase({"verify", "--key", key_zero, "oci:" + Good()}, {"--as=2147483648"}),
                kExitIo, key_zero + ": not a regular file (a character device)");

  // A layer blob that is a FIFO stops a copy, which would otherwise wait for a writer for ever.
  std::string layout = Work() + "/spoilt-layer";
  Python({"layout", layout, "good image\n"});
  std::string layer;
  for (const auto& e : fs::directory_iterator(layout + "/blobs/sha256")) {
    auto text = ReadFile(e.path());
    if (text && text->find("etc/motd") != std::string::npos) layer = e.path();
  }
  ASSERT_FALSE(layer.empty());
  fifo_at(layer);
  std::string out = PreviousArchive();
  auto before = TreeSnapshot(Work(), {"cache"});
  auto r = Hardbase({"copy", "oci:" + layout, "oci-archive:" + out});
  ExpectRefused(r, kExitIo, "not a regular file (a FIFO)");
  EXPECT_EQ(TreeSnapshot(Work(), {"cache"}), before);
  ExpectTmpEmpty();
}

// A scanned root filesystem's package database as FIFOs: `scan` used to wait on
// the open for ever; now they are passed over and the scan says it found no package database.
TEST_F(HostileArchiveTest, FifosInAScannedRootFilesystemAreNotWaitedOn) {
  std::string osv = Work() + "/osv";
  ASSERT_TRUE(MakeDirs(osv).has_value());
  ASSERT_TRUE(
      WriteFileAtomic(
          osv + "/CVE-2099-0001.json",
          R"({"schema_version":"1.6.0","id":"CVE-2099-0001","modified":"2020-01-02T03:04:05Z",)"
          R"("published":"2020-01-01T00:00:00Z","details":"x","affected":[{"package":)"
          R"({"ecosystem":"Debian:12","name":"foo"},"ranges":[{"type":"ECOSYSTEM",)"
          R"("events":[{"introduced":"0"},{"fixed":"1.1"}]}]}]})")
          .has_value());
  std::string db = Work() + "/vuln.db";
  auto imported = Hardbase({"vuln", "update", "--from", osv, "--db", db});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  std::string root = Work() + "/rootfs";
  ASSERT_TRUE(MakeDirs(root + "/var/lib/dpkg/status.d").has_value());
  ASSERT_TRUE(MakeDirs(root + "/etc").has_value());
  ASSERT_TRUE(
      WriteFileAtomic(root + "/etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n").has_value());
  for (const char* fifo : {"/var/lib/dpkg/status", "/var/lib/dpkg/status.d/foo"}) {
    ASSERT_EQ(::mkfifo((root + fifo).c_str(), 0644), 0);
  }
  auto started = std::chrono::steady_clock::now();
  auto r = Hardbase({"scan", "dir:" + root, "--db", db}, {"--as=2147483648"});
  ExpectRefused(r, kExitNotFound, "no package database");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  ExpectTmpEmpty();
}

TEST_F(HostileArchiveTest, AnOversizedIndexIsRefusedUnread) {
  ASSERT_EQ(::truncate((Good() + "/index.json").c_str(), off_t{64} << 20), 0);
  auto r = Hardbase({"inspect", "oci:" + Good()}, {"--as=2147483648"});
  ExpectRefused(r, kExitSpec, "index.json: more than 8388608 bytes");
}

TEST_F(HostileArchiveTest, AHugeArchiveMemberIsNotUnpacked) {
  // 2 GiB that take no disk: hardbase used to unpack every member into TMPDIR before reading.
  std::string archive = Work() + "/sparse.tar";
  Python({"sparse", archive, Good(), std::to_string(int64_t{2} << 30)});
  auto started = std::chrono::steady_clock::now();
  auto r = Hardbase({"inspect", "oci-archive:" + archive},
                    {"--as=2147483648", "--fsize=" + std::to_string(16 << 20)});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(good_digest_));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  ExpectTmpEmpty();
}

TEST_F(HostileArchiveTest, ADecompressionBombIsBounded) {
  std::string archive = Work() + "/bomb.tar.gz";
  Python({"bomb", archive, Good(), std::to_string(int64_t{400} << 20)});
  ASSERT_LT(fs::file_size(archive), uintmax_t{8} << 20);
  std::string out = PreviousArchive();
  auto before = TreeSnapshot(Work(), {"cache"});
  auto r = Hardbase({"copy", "oci-archive:" + archive, "oci-archive:" + out},
                    {"--as=2147483648", "--fsize=" + std::to_string(300 << 20)});
  ExpectRefused(r, kExitSpec, "decompresses to more than 268435456 bytes");
  EXPECT_EQ(TreeSnapshot(Work(), {"cache"}), before);
  ExpectTmpEmpty();
}

TEST_F(HostileArchiveTest, AKilledRunsTemporariesAreRemovedByTheNextButALiveRunsAreNot) {
  std::string big = Work() + "/big";
  Python({"layout", big, "big image\n", std::to_string(256 << 20)});
  std::string out = Out() + "/image.tar";
  ASSERT_TRUE(WriteFileAtomic(out, "previous output\n").has_value());

  // A live run's temporaries, held as hardbase holds its own: named with its pid, flock'ed.
  std::string holder = R"PY(
import fcntl, os, sys, time
out, tmp = sys.argv[1], sys.argv[2]
pid = os.getpid()
f = open("%s/.image.tar.tmp-%d-livexx" % (out, pid), "w")
fcntl.flock(f, fcntl.LOCK_EX)
d = "%s/hardbase-copy-%d-livexx" % (tmp, pid)
os.mkdir(d)
g = os.open(d, os.O_RDONLY)
fcntl.flock(g, fcntl.LOCK_EX)
open(out + "/ready", "w").close()
time.sleep(60)
)PY";
  Background live({"python3", "-c", holder, Out(), Tmp()});
  ASSERT_GT(live.pid(), 0);
  auto wait_for = [](const std::function<bool()>& done) {
    for (int i = 0; i < 30000 && !done(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return done();
  };
  ASSERT_TRUE(wait_for([&] { return PathExists(Out() + "/ready"); }));
  ASSERT_EQ(::unlink((Out() + "/ready").c_str()), 0);
  std::string live_file = ".image.tar.tmp-" + std::to_string(live.pid()) + "-livexx";
  std::string live_dir = "hardbase-copy-" + std::to_string(live.pid()) + "-livexx";

  // A copy killed with SIGKILL while it writes the archive.
  std::string killed_prefix;
  {
    ::setenv("TMPDIR", Tmp().c_str(), 1);
    Background copy({HardbaseBinary(), "--cache-dir", Work() + "/cache", "copy", "oci:" + big,
                     "oci-archive:" + out});
    ::unsetenv("TMPDIR");
    ASSERT_GT(copy.pid(), 0);
    killed_prefix = ".image.tar.tmp-" + std::to_string(copy.pid()) + "-";
    ASSERT_TRUE(wait_for([&] { return !Matching(Out(), killed_prefix).empty(); }))
        << "the copy never started writing";
    copy.Kill();
  }
  ASSERT_EQ(Matching(Out(), killed_prefix).size(), 1u);
  EXPECT_EQ(ReadFile(out).value_or(""), "previous output\n");

  // The next run removes the dead run's temporaries and keeps the live one's.
  auto r = Hardbase({"copy", "oci:" + Good(), "oci-archive:" + out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Matching(Out(), killed_prefix).empty()) << "the killed run's temp file is left";
  EXPECT_TRUE(PathExists(Out() + "/" + live_file)) << "a live run's temp file was removed";
  EXPECT_TRUE(PathExists(Tmp() + "/" + live_dir)) << "a live run's temp dir was removed";
  for (const auto& name : Matching(Tmp(), "hardbase-")) {
    EXPECT_EQ(name, live_dir) << "a dead run's temp dir is left";
  }
  auto inspect = Hardbase({"inspect", "oci-archive:" + out});
  EXPECT_THAT(inspect.out, HasSubstr(good_digest_)) << inspect.err;
  live.Kill();
}

// `build -o` replaced any directory holding an oci-layout file, deleting whatever else was in it,
// and renamed archives over whatever was at the path.
TEST_F(HostileArchiveTest, BuildOutputReplacesOnlyWhatHardbaseWrote) {
  RepoFixture repo(Work() + "/repo");
  HttpServer server(Work() + "/repo");
  ASSERT_TRUE(server.Start().has_value());
  auto p = repo.AddPackage("stable", "amd64",
                           {"hello", "1.0", "amd64", {}, {{"usr/share/hello/greeting", "hi\n"}}});
  ASSERT_TRUE(p.has_value()) << p.error().message;
  ASSERT_TRUE(repo.Publish("stable", {}).has_value());
  std::string spec = Work() + "/image.yaml";
  ASSERT_TRUE(WriteFileAtomic(
                  spec, "name: test\nrepositories:\n  - url: " + server.base_url() +
                            "\n    suites: [stable]\n    keyring: " + RepoFixture::KeyringPath() +
                            "\narchs: [amd64]\npackages: [hello]\n")
                  .has_value());
  auto locked = Hardbase({"lock", spec});
  ASSERT_EQ(locked.exit_code, 0) << locked.err;
  std::string lock = Work() + "/image.lock.json";
  auto build = [&](const std::string& out, const std::string& format) {
    return Hardbase({"--quiet", "build", spec, "--lock", lock, "--format", format, "-o", out});
  };

  // A directory with an oci-layout file and more: a user's, not an image hardbase wrote.
  std::string dir = Out() + "/project";
  ASSERT_TRUE(MakeDirs(dir + "/src").has_value());
  ASSERT_TRUE(
      WriteFileAtomic(dir + "/oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}").has_value());
  ASSERT_TRUE(WriteFileAtomic(dir + "/src/main.c", "int main() {}\n").has_value());
  std::string fifo = Out() + "/fifo.tar";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  std::string link = Out() + "/link.tar";
  ASSERT_EQ(::symlink("/dev/null", link.c_str()), 0);
  auto before = TreeSnapshot(Work(), {"cache"});
  ExpectRefused(build(dir, "oci"), kExitUsage, dir + " exists and is not only an OCI image layout");
  ExpectRefused(build(fifo, "oci-archive"), kExitUsage,
                fifo + " exists and is not a regular file; refusing to replace it");
  ExpectRefused(build(link, "docker-archive"), kExitUsage,
                link + " exists and is not a regular file; refusing to replace it");
  auto after = TreeSnapshot(Work(), {"cache"});
  std::erase_if(after, [](const auto& e) { return !e.first.starts_with("out"); });
  std::erase_if(before, [](const auto& e) { return !e.first.starts_with("out"); });
  EXPECT_EQ(after, before);

  // What hardbase wrote itself it replaces.
  std::string image = Out() + "/image";
  auto first = build(image, "oci");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  auto second = build(image, "oci");
  EXPECT_EQ(second.exit_code, 0) << second.err;
  ExpectTmpEmpty();
}

}  // namespace
}  // namespace hardbase::testing
