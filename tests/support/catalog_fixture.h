// A catalog entry (catalog/<name>/, see catalog/README.md) run as a test runs it: built from a
// copy of the catalog with `hardbase catalog build --only` (with the cache all catalog tests share,
// so packages and layers are fetched and built once), started under podman (support/podman.h) as
// the image's own user with only the ports and volumes its README names, and checked for what
// every catalog runtime image must be.
//
// For tests/e2e/catalog_*_test.cc:
//
//   TEST_F(CatalogServiceTest, MosquittoPublishesAndSubscribes) {
//     const CatalogService mosquitto{"mosquitto", "mosquitto", 1883};
//     CopyEntry(mosquitto.name);
//     BuildAndStartPodman(mosquitto.name);
//     if (HasFatalFailure()) return;
//     uint16_t port = Start(mosquitto, {"-v", "mosquitto-data:/var/lib/mosquitto"});
//     ASSERT_NE(port, 0);
//     ... a real client on 127.0.0.1:port ...
//     ExpectHardened(mosquitto);
//   }
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/fs.h"
#include "support/podman.h"
#include "support/registry_fixture.h"  // FindInPath

namespace hardbase::testing {

// What a test needs to know of one catalog runtime image: what its README says.
struct CatalogService {
  std::string name;   // the catalog entry, catalog/<name>
  std::string user;   // the service user the image runs as
  uint16_t port = 0;  // the port the service listens on in the container (TCP)
  bool udp = false;   // the service also answers on that port over UDP (DNS)
};

class CatalogServiceTest : public ::testing::Test {
 protected:
  // Skips when podman cannot run here; makes the test's work and output directories.
  void SetUp() override;
  // Removes the containers (and podman's namespace), then the images' layouts.
  void TearDown() override;

  std::string Work() const { return work_->path(); }

  // Copies catalog/<name> (without a lock: locks are not committed) into the test's own catalog;
  // with `debug`, also as <name>-debug with `variant: debug` added, as the READMEs show.
  void CopyEntry(const std::string& name, bool debug = false);

  // `hardbase catalog build` of the copied entries named in `only` (comma-separated) into the
  // output directory, then starts podman. Records the build's duration as the test property
  // `build_seconds`.
  void BuildAndStartPodman(const std::string& only);

  // "oci:OUT/<name>:latest", the built image as podman names it.
  std::string Image(const std::string& name) const;

  // Starts the service's image detached with its port published on a free loopback port
  // (returned; 0 after a failure) over TCP, and over UDP too when `service.udp`, plus `extra` run
  // options (volumes), and waits until the port accepts TCP connections.
  uint16_t Start(const CatalogService& service, const std::vector<std::string>& extra = {});

  // What every catalog runtime image must be, checked on the running container: no shell to
  // exec, every process of the service user, and the config's user not root.
  void ExpectHardened(const CatalogService& service);

  // The gateway of podman's default network: the host's address that containers reach (the
  // host's loopback is not theirs), e.g. for a server the test starts (HttpServer::Start).
  std::string Gateway() const;

  // The started container's output so far, for failure messages.
  std::string Logs() const;

  std::optional<TempDir> work_;
  std::string out_;  // the images' OCI layouts, OUT/<name>
  std::unique_ptr<Podman> podman_;
  std::string id_;  // the container Start started
};

// A host client of the service, or a skip naming the Debian package that has it.
#define REQUIRE_CLIENT(program, package)                                 \
  if (::hardbase::testing::FindInPath(program).empty()) {                \
    GTEST_SKIP() << program " is not installed (Debian package " package \
                            ", scripts/install-deps.sh --test)";         \
  }

}  // namespace hardbase::testing
