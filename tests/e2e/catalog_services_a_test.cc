// The catalog's web servers, caches and databases, run as their READMEs say: nginx, httpd,
// haproxy, redis, memcached, postgresql and mariadb (catalog/<name>/README.md).
//
// Each test builds the entry with `hardbase catalog build --only` and runs it under podman as the
// image's own user with only the ports and volumes its README names (support/catalog_fixture.h),
// then gets a real answer on 127.0.0.1 from a real client: an HTTP page (libcurl), redis-cli
// SET/GET, memcached's `stats` over TCP, psql and mariadb `select 1`. The databases first
// initialise their volume with the entry's debug variant (busybox's sh runs initdb and
// mariadb-install-db), as the READMEs show, then serve it with the shell-less image. Each running
// container is also checked for what a catalog image must be: no shell to exec, every process of
// the service user, and a non-root user in the image's config.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/fs.h"
#include "support/catalog_fixture.h"
#include "support/http_server.h"
#include "support/process.h"
#include "support/registry_fixture.h"

namespace hardbase::testing {
namespace {

using ::testing::HasSubstr;

using CatalogServicesAE2ETest = CatalogServiceTest;

// Sends `request` on a TCP connection to 127.0.0.1:`port` and reads until the reply contains
// `end` or the server closes (10 s at most): a memcached client's exchange.
std::string TcpExchange(uint16_t port, const std::string& request, const std::string& end) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  timeval timeout{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  std::string reply;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(request.size())) {
    char buf[4096];
    ssize_t n;
    while (reply.find(end) == std::string::npos && (n = ::recv(fd, buf, sizeof buf, 0)) > 0) {
      reply.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  return reply;
}

// A static site in a directory of the host, for the web servers' /var/www/html volume.
std::string WriteSite(const std::string& dir, const std::string& marker) {
  EXPECT_TRUE(MakeDirs(dir).has_value());
  std::string page = "<html><body><p>" + marker + "</p></body></html>\n";
  EXPECT_TRUE(WriteFileAtomic(dir + "/index.html", page, 0644).has_value());
  return page;
}

// ---------------------------------------------------------------------------------------------

TEST_F(CatalogServicesAE2ETest, NginxServesTheSiteInItsVolume) {
  const CatalogService nginx{"nginx", "www-data", 8080};
  CopyEntry(nginx.name);
  BuildAndStartPodman(nginx.name);
  if (HasFatalFailure()) return;
  std::string page = WriteSite(Work() + "/site", "served by the catalog's nginx");
  uint16_t port = Start(nginx, {"-v", Work() + "/site:/var/www/html:ro"});
  ASSERT_NE(port, 0);
  auto reply = CurlRequest("http://127.0.0.1:" + std::to_string(port) + "/");
  ASSERT_TRUE(reply.has_value()) << reply.error().message;
  EXPECT_EQ(reply->status, 200) << Logs();
  EXPECT_EQ(reply->body, page);
  // The access log goes to the container's stdout.
  EXPECT_THAT(Logs(), HasSubstr("\"GET / HTTP/1.1\" 200"));
  ExpectHardened(nginx);
}

TEST_F(CatalogServicesAE2ETest, HttpdServesTheSiteInItsVolume) {
  const CatalogService httpd{"httpd", "www-data", 8080};
  CopyEntry(httpd.name);
  BuildAndStartPodman(httpd.name);
  if (HasFatalFailure()) return;
  std::string page = WriteSite(Work() + "/site", "served by the catalog's httpd");
  uint16_t port = Start(httpd, {"-v", Work() + "/site:/var/www/html:ro"});
  ASSERT_NE(port, 0);
  auto reply = CurlRequest("http://127.0.0.1:" + std::to_string(port) + "/");
  ASSERT_TRUE(reply.has_value()) << reply.error().message;
  EXPECT_EQ(reply->status, 200) << Logs();
  EXPECT_EQ(reply->body, page);
  EXPECT_THAT(Logs(), HasSubstr("\"GET / HTTP/1.1\" 200"));
  ExpectHardened(httpd);
}

TEST_F(CatalogServicesAE2ETest, HaproxyProxiesToABackend) {
  const CatalogService haproxy{"haproxy", "haproxy", 8080};
  CopyEntry(haproxy.name);
  BuildAndStartPodman(haproxy.name);
  if (HasFatalFailure()) return;
  // The backend listens where containers on podman's default network reach the host: the
  // network's gateway (the host's loopback is not the container's).
  const std::string gateway = Gateway();
  ASSERT_FALSE(gateway.empty());
  HttpServer backend;
  backend.SetHandler([](const HttpRequest& request) -> std::optional<HttpResponse> {
    HttpResponse response;
    response.headers = {{"Content-Type", "text/plain"}};
    response.body = "backend saw " + request.path + "\n";
    return response;
  });
  ASSERT_TRUE(backend.Start(gateway).has_value());
  // The configuration a user mounts over /etc/haproxy/haproxy.cfg, keeping the image's global
  // section as the README says.
  auto shipped = ReadFile(CatalogSourceDir() + "/haproxy/haproxy.cfg");
  ASSERT_TRUE(shipped.has_value());
  std::string cfg = shipped->substr(0, shipped->find("frontend http"));
  cfg += "frontend http\n\tbind :8080\n\tdefault_backend app\n\n";
  cfg += "backend app\n\tserver app " + gateway + ":" + std::to_string(backend.port()) + "\n";
  ASSERT_TRUE(WriteFileAtomic(Work() + "/haproxy.cfg", cfg, 0644).has_value());

  uint16_t port = Start(haproxy, {"-v", Work() + "/haproxy.cfg:/etc/haproxy/haproxy.cfg:ro"});
  ASSERT_NE(port, 0);
  auto reply = CurlRequest("http://127.0.0.1:" + std::to_string(port) + "/through/haproxy");
  ASSERT_TRUE(reply.has_value()) << reply.error().message;
  EXPECT_EQ(reply->status, 200) << Logs();
  EXPECT_EQ(reply->body, "backend saw /through/haproxy\n");
  EXPECT_EQ(backend.RequestCount("/through/haproxy"), 1);
  // The request log goes to the container's stdout.
  EXPECT_THAT(Logs(), HasSubstr("\"GET /through/haproxy HTTP/1.1\""));
  ExpectHardened(haproxy);
}

TEST_F(CatalogServicesAE2ETest, RedisSetGetAndSnapshotInItsVolume) {
  REQUIRE_CLIENT("redis-cli", "redis-tools");
  const CatalogService redis{"redis", "redis", 6379};
  CopyEntry(redis.name);
  BuildAndStartPodman(redis.name);
  if (HasFatalFailure()) return;
  uint16_t port = Start(redis, {"-v", "redis-data:/var/lib/redis"});
  ASSERT_NE(port, 0);
  auto cli = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"redis-cli", "-h", "127.0.0.1", "-p", std::to_string(port)});
    return RunProcess(WithinLimits(args, 30));
  };
  EXPECT_EQ(cli({"SET", "catalog", "redis works"}).out, "OK\n") << Logs();
  EXPECT_EQ(cli({"GET", "catalog"}).out, "redis works\n");
  // The snapshot lands in the volume, which the redis user can write.
  EXPECT_EQ(cli({"SAVE"}).out, "OK\n") << Logs();
  ExpectHardened(redis);
}

TEST_F(CatalogServicesAE2ETest, MemcachedAnswersStatsOverTcp) {
  const CatalogService memcached{"memcached", "memcache", 11211};
  CopyEntry(memcached.name);
  BuildAndStartPodman(memcached.name);
  if (HasFatalFailure()) return;
  uint16_t port = Start(memcached);
  ASSERT_NE(port, 0);
  std::string stats = TcpExchange(port, "stats\r\n", "END\r\n");
  EXPECT_THAT(stats, HasSubstr("STAT pid 1\r\n")) << stats << Logs();
  EXPECT_THAT(stats, HasSubstr("STAT limit_maxbytes 67108864\r\n"));  // --memory-limit=64
  EXPECT_THAT(stats, HasSubstr("END\r\n"));
  EXPECT_EQ(TcpExchange(port, "set k 0 0 5\r\nhello\r\n", "\r\n"), "STORED\r\n");
  EXPECT_EQ(TcpExchange(port, "get k\r\n", "END\r\n"), "VALUE k 0 5\r\nhello\r\nEND\r\n");
  ExpectHardened(memcached);
}

TEST_F(CatalogServicesAE2ETest, PostgresqlInitialisedByTheDebugVariantServesSelect1) {
  REQUIRE_CLIENT("psql", "postgresql-client");
  const CatalogService postgresql{"postgresql", "postgres", 5432};
  CopyEntry(postgresql.name, /*debug=*/true);
  BuildAndStartPodman("postgresql,postgresql-debug");
  if (HasFatalFailure()) return;
  // The README's initialisation: initdb from the debug variant, the password on its stdin
  // (through the podman command a user types, which Podman::Exec does not feed).
  const std::string password = "catalog-test-password";
  const std::string podman = Work() + "/podman.sh";
  ASSERT_TRUE(podman_->WriteWrapper(podman).has_value());
  ProcessResult init = RunProcess(
      WithinLimits({podman, "run", "--rm", "-i", "-v", "pgdata:/var/lib/postgresql/data",
                    "--entrypoint", "initdb", Image("postgresql-debug"), "--username=postgres",
                    "--pwfile=/dev/stdin", "--auth=scram-sha-256"},
                   300),
      {}, password + "\n");
  ASSERT_EQ(init.exit_code, 0) << init.out << init.err;
  ASSERT_THAT(init.out, HasSubstr("Success."));

  uint16_t port = Start(postgresql, {"-v", "pgdata:/var/lib/postgresql/data"});
  ASSERT_NE(port, 0);
  std::vector<std::string> psql = {"psql", "-h",       "127.0.0.1", "-p", std::to_string(port),
                                   "-U",   "postgres", "-tA",       "-c", "select 1"};
  // The server may accept connections a moment before it accepts logins.
  ProcessResult r;
  for (int i = 0; i < 30; ++i) {
    r = RunProcess(WithinLimits(psql, 30), {{"PGPASSWORD", password}, {"PGCONNECT_TIMEOUT", "5"}});
    if (r.exit_code == 0 || r.err.find("starting up") == std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  EXPECT_EQ(r.exit_code, 0) << r.err << Logs();
  EXPECT_EQ(r.out, "1\n");
  // Password authentication is on: a wrong password is refused.
  ProcessResult wrong = RunProcess(WithinLimits(psql, 30), {{"PGPASSWORD", "wrong"}});
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_THAT(wrong.err, HasSubstr("password authentication failed"));
  ExpectHardened(postgresql);
}

TEST_F(CatalogServicesAE2ETest, MariadbInitialisedByTheDebugVariantServesSelect1) {
  REQUIRE_CLIENT("mariadb", "mariadb-client");
  const CatalogService mariadb{"mariadb", "mysql", 3306};
  CopyEntry(mariadb.name, /*debug=*/true);
  BuildAndStartPodman("mariadb,mariadb-debug");
  if (HasFatalFailure()) return;
  // The README's initialisation: mariadb-install-db from the debug variant, with an SQL file
  // that makes the account clients use over TCP.
  const std::string password = "catalog-test-password";
  ASSERT_TRUE(WriteFileAtomic(Work() + "/init.sql",
                              "FLUSH PRIVILEGES;\n"
                              "CREATE USER 'root'@'%' IDENTIFIED BY '" +
                                  password +
                                  "';\n"
                                  "GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;\n",
                              0644)
                  .has_value());
  ProcessResult init =
      podman_->Run({"-v", "mariadb-data:/var/lib/mysql", "-v", Work() + "/init.sql:/init.sql:ro",
                    "--entrypoint", "mariadb-install-db", Image("mariadb-debug"), "--skip-test-db",
                    "--skip-name-resolve", "--extra-file=/init.sql"},
                   300);
  ASSERT_EQ(init.exit_code, 0) << init.out << init.err;

  uint16_t port = Start(mariadb, {"-v", "mariadb-data:/var/lib/mysql"});
  ASSERT_NE(port, 0);
  std::vector<std::string> client = {"mariadb", "-h",   "127.0.0.1",     "-P", std::to_string(port),
                                     "-u",      "root", "-p" + password, "-N", "-e",
                                     "select 1"};
  ProcessResult r = RunProcess(WithinLimits(client, 30));
  EXPECT_EQ(r.exit_code, 0) << r.err << Logs();
  EXPECT_EQ(r.out, "1\n");
  ExpectHardened(mariadb);
}

}  // namespace
}  // namespace hardbase::testing
