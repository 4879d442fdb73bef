#include "support/podman.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "base/fs.h"
#include "base/strings.h"
#include "support/registry_fixture.h"

namespace hardbase::testing {
namespace {

namespace fs = std::filesystem;

std::string Describe(const ProcessResult& r) {
  return "exit " + std::to_string(r.exit_code) + ": " + OneLine(r.err.empty() ? r.out : r.err);
}

// Forks the process that holds the private mount namespace: it unshares its mount namespace,
// makes every mount private (so nothing leaks back to the host), unmounts the hybrid layout's
// cgroup2 mount, reports on a pipe and sleeps until killed. It dies with the calling thread.
Result<pid_t> StartNamespaceHolder() {
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) {
    return Fail(ErrorCode::kIo, std::string("pipe: ") + std::strerror(errno));
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    ::close(ready[0]);
    ::close(ready[1]);
    return Fail(ErrorCode::kIo, std::string("fork: ") + std::strerror(err));
  }
  if (pid == 0) {
    // Only async-signal-safe calls from here on: the test process may have other threads.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    char status = 'u';
    if (::getppid() == parent && ::unshare(CLONE_NEWNS) == 0) {
      status = 'm';
      if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0) {
        // Absent on a host with a pure cgroup2 (or cgroup1) layout: nothing to remove then.
        ::umount2("/sys/fs/cgroup/unified", MNT_DETACH);
        status = 'k';
      }
    }
    ssize_t ignored = ::write(ready[1], &status, 1);
    (void)ignored;
    // Holds nothing of the test's: no pipe of another thread's child stays open through it.
    ::close_range(0, ~0U, 0);
    while (true) ::pause();
  }
  ::close(ready[1]);
  char status = 0;
  ssize_t n;
  while ((n = ::read(ready[0], &status, 1)) < 0 && errno == EINTR) {
  }
  ::close(ready[0]);
  if (n == 1 && status == 'k') return pid;
  ::kill(pid, SIGKILL);
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  return Fail(ErrorCode::kIo, status == 'u'   ? "unshare(CLONE_NEWNS) failed"
                              : status == 'm' ? "making the mounts private failed"
                                              : "the namespace holder died");
}

// Whether a TCP connection to 127.0.0.1:port succeeds now.
bool CanConnect(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

std::string Podman::Unavailable() {
  if (FindInPath("podman").empty())
    return "podman is not installed (scripts/install-deps.sh --test)";
  if (FindInPath("nsenter").empty()) return "nsenter (util-linux) is not installed";
  if (::geteuid() != 0) return "podman runs here as root, in a private mount namespace";
  return "";
}

Result<std::unique_ptr<Podman>> Podman::Create(
    const std::string& dir, const std::vector<std::string>& insecure_registries) {
  std::string reason = Unavailable();
  if (!reason.empty()) return Fail(ErrorCode::kIo, reason);
  std::string abs = fs::absolute(dir).lexically_normal().string();
  for (const char* sub : {"/root", "/tmp"}) HB_TRY_VOID(MakeDirs(abs + sub));
  std::unique_ptr<Podman> podman(new Podman(abs, FindInPath("podman")));
  HB_TRY(TempDir runroot, TempDir::Create("hb-podman-", "/tmp"));
  podman->runroot_.emplace(std::move(runroot));

  // podman's default ulimits exceed the host's hard limits, the hybrid cgroup layout needs
  // cgroupfs, and there is no journald. tmp_dir: podman's state, apart from other podmans'.
  std::string conf = "[containers]\ndefault_ulimits = []\n";
  conf += "[engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n";
  conf += "tmp_dir = \"" + abs + "/tmp\"\n";
  HB_TRY_VOID(WriteFileAtomic(abs + "/containers.conf", conf));
  std::string registries = "unqualified-search-registries = []\n";
  for (const auto& host : insecure_registries) {
    registries += "[[registry]]\nlocation = \"" + host + "\"\ninsecure = true\n";
  }
  HB_TRY_VOID(WriteFileAtomic(abs + "/registries.conf", registries));

  HB_TRY(podman->holder_, StartNamespaceHolder());
  // overlay when the kernel mounts it on this file system (the driver test-mounts at start-up).
  ProcessResult probe = podman->Exec({"info", "--format", "{{.Store.GraphDriverName}}"}, 60);
  if (probe.exit_code != 0 || OneLine(probe.out) != "overlay") {
    podman->driver_ = "vfs";
    HB_TRY_VOID(RemoveAll(abs + "/root"));
    HB_TRY_VOID(MakeDirs(abs + "/root"));
    probe = podman->Exec({"info", "--format", "{{.Store.GraphDriverName}}"}, 60);
    if (probe.exit_code != 0) return Fail(ErrorCode::kIo, "podman info: " + Describe(probe));
  }
  return podman;
}

Podman::~Podman() {
  if (holder_ <= 0) return;
  Exec({"rm", "--force", "--all", "--time", "0"}, 60);
  ::kill(holder_, SIGKILL);
  while (::waitpid(holder_, nullptr, 0) < 0 && errno == EINTR) {
  }
}

std::vector<std::string> Podman::Prefix(const std::string& wd) const {
  // nsenter starts in the namespace's root directory. (Its --wd keeps a directory opened outside
  // the namespace, whose path podman's getwd then cannot find; `env -C` changes to it inside.)
  return {"nsenter",
          "-t",
          std::to_string(holder_),
          "-m",
          "env",
          "-C",
          wd,
          program_,
          "--root",
          dir_ + "/root",
          "--runroot",
          runroot_->path(),
          "--storage-driver",
          driver_};
}

std::map<std::string, std::string> Podman::Environment() const {
  return {{"CONTAINERS_CONF", dir_ + "/containers.conf"},
          {"CONTAINERS_REGISTRIES_CONF", dir_ + "/registries.conf"}};
}

ProcessResult Podman::ExecIn(const std::string& wd, const std::vector<std::string>& args,
                             int seconds) const {
  std::vector<std::string> argv = Prefix(wd);
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(WithinLimits(argv, seconds), Environment());
}

ProcessResult Podman::Exec(const std::vector<std::string>& args, int seconds) const {
  std::error_code ec;
  return ExecIn(fs::current_path(ec).string(), args, seconds);
}

Result<std::string> Podman::Load(const std::string& layout_dir, const std::string& tag) const {
  fs::path layout = fs::absolute(layout_dir).lexically_normal();
  if (!layout.has_filename()) layout = layout.parent_path();
  ProcessResult r =
      ExecIn(layout.parent_path().string(),
             {"pull", "--quiet", "oci:" + layout.filename().string() + ":" + tag}, 600);
  if (r.exit_code != 0)
    return Fail(ErrorCode::kIo,
                "podman pull oci:" + layout.string() + ":" + tag + ": " + Describe(r));
  std::string id = OneLine(r.out);
  if (size_t space = id.rfind(' '); space != std::string::npos) id = id.substr(space + 1);
  return id;
}

ProcessResult Podman::Run(const std::vector<std::string>& args, int seconds) const {
  std::vector<std::string> argv = {"run", "--rm", "--ulimit", "host"};
  argv.insert(argv.end(), args.begin(), args.end());
  return Exec(argv, seconds);
}

Result<std::string> Podman::StartDetached(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {"run", "--detach", "--ulimit", "host"};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessResult r = Exec(argv, 300);
  if (r.exit_code != 0) return Fail(ErrorCode::kIo, "podman run --detach: " + Describe(r));
  std::string id = OneLine(r.out);
  // The id is the last line; image pulls may print progress before it.
  if (size_t space = id.rfind(' '); space != std::string::npos) id = id.substr(space + 1);
  return id;
}

Result<void> Podman::WaitForPort(const std::string& id, uint16_t port, int seconds) const {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  for (int attempt = 0;; ++attempt) {
    if (CanConnect(port)) return {};
    if (attempt % 5 == 0) {
      ProcessResult state = Exec({"inspect", "--format", "{{.State.Running}}", id}, 30);
      if (OneLine(state.out) != "true") {
        return Fail(ErrorCode::kIo, "container " + id.substr(0, 12) + " is not running (" +
                                        Describe(state) + "); its logs:\n" + Logs(id));
      }
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return Fail(ErrorCode::kIo,
                  "nothing accepts connections on 127.0.0.1:" + std::to_string(port) + " after " +
                      std::to_string(seconds) + " s; the container's logs:\n" + Logs(id));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

Result<Podman::Serving> Podman::StartServing(uint16_t port,
                                             const std::vector<std::string>& run_args,
                                             bool udp) const {
  HB_TRY(uint16_t host_port, FreeLoopbackPort());
  const std::string publish = "127.0.0.1:" + std::to_string(host_port) + ":" + std::to_string(port);
  std::vector<std::string> args = {"-p", publish + "/tcp"};
  if (udp) args.insert(args.end(), {"-p", publish + "/udp"});
  args.insert(args.end(), run_args.begin(), run_args.end());
  HB_TRY(std::string id, StartDetached(args));
  HB_TRY_VOID(WaitForPort(id, host_port, 90));
  return Serving{id, host_port};
}

std::string Podman::Logs(const std::string& id) const {
  ProcessResult r = Exec({"logs", id}, 30);
  return r.out + r.err;
}

Result<void> Podman::Stop(const std::string& id, int timeout_seconds) const {
  ProcessResult stop =
      Exec({"stop", "--time", std::to_string(timeout_seconds), id}, timeout_seconds + 60);
  ProcessResult rm = Exec({"rm", "--force", id}, 60);
  if (stop.exit_code != 0) return Fail(ErrorCode::kIo, "podman stop: " + Describe(stop));
  if (rm.exit_code != 0) return Fail(ErrorCode::kIo, "podman rm: " + Describe(rm));
  return {};
}

Result<std::string> Podman::Build(const std::string& context_dir, const std::string& tag,
                                  const std::vector<std::string>& extra, int seconds) const {
  std::vector<std::string> argv = {"build", "--isolation", "chroot", "-t", tag};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back(context_dir);
  ProcessResult r = Exec(argv, seconds);
  std::string output = r.out + r.err;
  if (r.exit_code != 0) {
    return Fail(ErrorCode::kIo,
                "podman build: exit " + std::to_string(r.exit_code) + "; its output:\n" + output);
  }
  return output;
}

Result<void> Podman::WriteWrapper(const std::string& path) const {
  std::string script = "#!/bin/sh\n";
  for (const auto& [name, value] : Environment()) {
    script += "export " + name + "=" + ShellQuote(value) + "\n";
  }
  script += "if [ \"${1-}\" = run ]; then shift; set -- run --ulimit host \"$@\"; fi\n";
  script += "exec";
  for (const auto& arg : Prefix("\x01")) {
    // The caller's directory at each call.
    script += " " + (arg == "\x01" ? std::string("\"$PWD\"") : ShellQuote(arg));
  }
  script += " \"$@\"\n";
  return WriteFileAtomic(path, script, 0755);
}

std::string CatalogCacheDir() { return std::string(HARDBASE_BINARY_DIR) + "/tests/catalog-cache"; }

std::string CatalogSourceDir() { return std::string(HARDBASE_SOURCE_DIR) + "/catalog"; }

Result<void> CopyCatalogEntry(const std::string& work, const std::string& name, bool debug) {
  const std::string src = CatalogSourceDir() + "/" + name;
  std::vector<std::string> dests = {work + "/catalog/" + name};
  if (debug) dests.push_back(work + "/catalog/" + name + "-debug");
  for (const std::string& dest : dests) {
    HB_TRY_VOID(MakeDirs(dest));
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(src, ec)) {
      if (entry.path().filename().string().ends_with(".lock.json")) continue;
      fs::copy(entry.path(), dest + "/" + entry.path().filename().string(),
               fs::copy_options::recursive | fs::copy_options::copy_symlinks |
                   fs::copy_options::overwrite_existing,
               ec);
      if (ec) break;
    }
    if (ec) return Fail(ErrorCode::kIo, "copy catalog/" + name + ": " + ec.message());
  }
  if (!debug) return {};
  HB_TRY(std::string spec, ReadFile(dests[1] + "/image.yaml"));
  return WriteFileAtomic(dests[1] + "/image.yaml", spec + "variant: debug\n");
}

Result<void> BuildCatalog(const std::string& work, const std::string& only, const std::string& out,
                          int seconds) {
  ProcessResult r = RunProcess(
      WithinLimits({HardbaseBinary(), "--quiet", "--cache-dir", CatalogCacheDir(), "catalog",
                    "build", work + "/catalog", "--only", only, "--output-dir", out},
                   seconds));
  if (r.exit_code == 0) return {};
  std::string output = r.out + r.err;
  if (output.size() > 8000) output = "..." + output.substr(output.size() - 8000);
  return Fail(ErrorCode::kIo, "hardbase catalog build --only " + only + ": exit " +
                                  std::to_string(r.exit_code) + "\n" + output);
}

Result<std::map<std::string, std::string>> BuildCatalogEntries(
    const std::string& work, const std::vector<std::string>& names, int seconds) {
  std::string only;
  for (const auto& name : names) {
    HB_TRY_VOID(CopyCatalogEntry(work, name));
    only += (only.empty() ? "" : ",") + name;
  }
  HB_TRY_VOID(BuildCatalog(work, only, work + "/out", seconds));
  std::map<std::string, std::string> images;
  for (const auto& name : names) images[name] = work + "/out/" + name;
  return images;
}

}  // namespace hardbase::testing
