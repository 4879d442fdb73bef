// Debian's podman, run by tests as a user's docker would be, on a Debian 12 host with a hybrid
// cgroup layout, no systemd and no journald (see ../shared/docs/RUNNING.md):
//
// - as root, in a private mount namespace of the Podman object's own from which the cgroup2 mount
//   /sys/fs/cgroup/unified is gone (the OCI runtime refuses the hybrid layout). Every podman
//   command of one Podman object runs in that one namespace (through nsenter), so a detached
//   container's mounts are where `podman stop`, `logs` and `rm` look for them, as on a host;
// - with a containers.conf of its own (`default_ulimits = []`: podman's defaults exceed the
//   host's hard limits; cgroupfs; the file events logger) and a registries.conf that lets it
//   reach the given loopback registries over plain http;
// - with a storage root (--root, --runroot) of its own, so tests share no images, on the overlay
//   driver when the kernel allows it there (much faster than vfs), else vfs;
// - `run` with `--ulimit host`; `build` without it (buildah refuses it) and with
//   `--isolation chroot`. Containers get podman's default bridge network: publish ports with
//   `-p 127.0.0.1:HOST_PORT:CONTAINER_PORT` (FreeLoopbackPort in support/registry_fixture.h picks
//   HOST_PORT).
//
// Images reach it from an OCI layout (what hardbase builds: Podman::Load) or from a loopback
// registry (support/registry_fixture.h), which is also how a Containerfile's FROM names them: `FROM
// 127.0.0.1:PORT/REPO@sha256:...`.
//
// Tests skip with Podman::Unavailable()'s reason when it is not empty.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/fs.h"
#include "support/process.h"
#include "support/registry_fixture.h"  // FindInPath, FreeLoopbackPort

namespace hardbase::testing {

class Podman {
 public:
  // Empty when podman can run here; otherwise why not, for GTEST_SKIP (podman or nsenter missing,
  // not root).
  static std::string Unavailable();

  // Sets up podman under `dir` (created if missing; it holds the configuration, the storage and
  // podman's state, and must outlive this object; the run root is a short directory of its own
  // in /tmp): writes the configuration, starts the process that holds the private mount
  // namespace and picks the storage driver. `insecure_registries`: "127.0.0.1:PORT" hosts spoken
  // to over plain http.
  // The namespace holder gets SIGKILL when the thread that created this object dies
  // (PR_SET_PDEATHSIG): create it from the test's own thread.
  static Result<std::unique_ptr<Podman>> Create(
      const std::string& dir, const std::vector<std::string>& insecure_registries = {});
  // Removes every container (`podman rm -f -a`) and ends the namespace.
  ~Podman();
  Podman(const Podman&) = delete;
  Podman& operator=(const Podman&) = delete;

  // `podman ARGS...` with the storage and configuration options, killed after `seconds`. Relative
  // paths in ARGS are relative to the caller's current directory, as for a podman on PATH.
  ProcessResult Exec(const std::vector<std::string>& args, int seconds = 300) const;
  // Copies the image tagged `tag` of the OCI layout `layout_dir` into podman's storage; its
  // image id, for Run and StartDetached. (`podman run oci:DIR:TAG` does the same, but names the
  // image after DIR as written and fails when DIR has capitals, as temporary directories do: this
  // names it localhost/BASENAME, from DIR's parent.)
  Result<std::string> Load(const std::string& layout_dir, const std::string& tag = "latest") const;
  // `podman run --rm --ulimit host ARGS...`: ARGS are run's options, the image and the command,
  // e.g. {"-v", dir + ":/app:ro", image_id, "/app/main.py"}.
  ProcessResult Run(const std::vector<std::string>& args, int seconds = 300) const;
  // `podman run -d --ulimit host ARGS...`: the new container's id once podman has started it (the
  // service inside may not be ready yet: see WaitForPort).
  Result<std::string> StartDetached(const std::vector<std::string>& args) const;
  // Waits until a TCP connection to 127.0.0.1:`port` succeeds, for at most `seconds`. Fails at
  // once when container `id` is no longer running, with its logs in the message.
  Result<void> WaitForPort(const std::string& id, uint16_t port, int seconds = 60) const;
  // Starts `run_args` (run's options, the image and the command) detached, with the container's
  // port `port` published on a free loopback port over TCP (and UDP too with `udp`), and waits
  // until that port accepts TCP connections (90 s). The container's id and the host port.
  struct Serving {
    std::string id;
    uint16_t port = 0;
  };
  Result<Serving> StartServing(uint16_t port, const std::vector<std::string>& run_args,
                               bool udp = false) const;
  // The container's stdout and stderr so far (`podman logs`), for failure messages.
  std::string Logs(const std::string& id) const;
  // `podman stop -t TIMEOUT ID` then `podman rm -f ID`.
  Result<void> Stop(const std::string& id, int timeout_seconds = 10) const;
  // `podman build --isolation chroot -t TAG [EXTRA...] CONTEXT_DIR` (the Containerfile or
  // Dockerfile in CONTEXT_DIR unless EXTRA has -f). Returns the build's output (stdout and stderr)
  // when it succeeds; a failure's message ends with that output.
  Result<std::string> Build(const std::string& context_dir, const std::string& tag,
                            const std::vector<std::string>& extra = {}, int seconds = 600) const;

  // Writes an executable shell script at `path` that runs podman as Exec does ("$@" as ARGS, `run`
  // getting --ulimit host), for tools and scripts that call `podman` from PATH.
  Result<void> WriteWrapper(const std::string& path) const;

  // "overlay" or "vfs".
  const std::string& storage_driver() const { return driver_; }
  const std::string& dir() const { return dir_; }

 private:
  Podman(std::string dir, std::string program)
      : dir_(std::move(dir)), program_(std::move(program)) {}
  // nsenter ... env -C WD podman --root ... --runroot ... --storage-driver DRIVER
  std::vector<std::string> Prefix(const std::string& wd) const;
  // Exec in the directory `wd`.
  ProcessResult ExecIn(const std::string& wd, const std::vector<std::string>& args,
                       int seconds) const;
  std::map<std::string, std::string> Environment() const;

  std::string dir_;
  // --runroot: a short path of its own, as podman refuses one longer than 50 characters.
  std::optional<TempDir> runroot_;
  std::string program_;  // podman's absolute path
  std::string driver_ = "overlay";
  pid_t holder_ = -1;  // the process holding the mount namespace
};

// Where the catalog tests (tests/e2e/catalog_*_test.cc) keep hardbase's cache (--cache-dir), so
// that the packages and layers the catalog's images share are downloaded and built once:
// <build dir>/tests/catalog-cache, beside the e2e_test binary.
std::string CatalogCacheDir();

// The source tree's catalog/ directory.
std::string CatalogSourceDir();

// Copies catalog/<name> without its lock (locks are not committed) to WORK/catalog/<name>; with
// `debug`, also to WORK/catalog/<name>-debug with `variant: debug` added, as the READMEs show.
Result<void> CopyCatalogEntry(const std::string& work, const std::string& name, bool debug = false);

// Builds the copied entries `only` (comma-separated) as a user would, with `hardbase catalog build
// WORK/catalog --only ONLY` and CatalogCacheDir(), into OUT/<name> tagged "latest" (see
// Podman::Load). Fails with the end of hardbase's output.
Result<void> BuildCatalog(const std::string& work, const std::string& only, const std::string& out,
                          int seconds = 1800);

// CopyCatalogEntry then BuildCatalog of `names` into WORK/out; each name's layout directory.
Result<std::map<std::string, std::string>> BuildCatalogEntries(
    const std::string& work, const std::vector<std::string>& names, int seconds = 1800);

}  // namespace hardbase::testing
