// The catalog's brokers, monitoring, application server, registry, proxy and resolver, run as
// their READMEs say: mosquitto, prometheus, tomcat10, registry, squid, unbound and
// rabbitmq-server (catalog/<name>/README.md).
//
// Each test builds the entry with `hardbase catalog build --only` and runs it under podman as the
// image's own user with only the ports and volumes its README names (support/catalog_fixture.h),
// then gets a real answer on 127.0.0.1 from a real client: an MQTT publish and subscribe
// (mosquitto_pub/mosquitto_sub) that survives a restart on the volume, Prometheus's readiness and
// a PromQL query of what it scraped into its volume, Tomcat's default page, the registry's /v2/
// and a push with skopeo, a request proxied by squid to a server the test runs, a DNS answer from
// unbound (dig, UDP and TCP) for a name of a configuration file mounted as the README says, and
// an AMQP 0-9-1 publish and get with RabbitMQ (amqp-tools). Each running container is also checked
// for what a catalog image must be: no shell to exec, every process of the service user, and a
// non-root user in the image's config.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
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

using nlohmann::json;
using ::testing::HasSubstr;

using CatalogServicesBE2ETest = CatalogServiceTest;

// Calls `attempt` every 200 ms until it returns true or `seconds` have passed; whether it did.
template <typename F>
bool Eventually(int seconds, F attempt) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (!attempt()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return true;
}

std::string Url(uint16_t port, const std::string& path) {
  return "http://127.0.0.1:" + std::to_string(port) + path;
}

// ---------------------------------------------------------------------------------------------

TEST_F(CatalogServicesBE2ETest, MosquittoPublishesAndKeepsARetainedMessageInItsVolume) {
  REQUIRE_CLIENT("mosquitto_pub", "mosquitto-clients");
  const CatalogService mosquitto{"mosquitto", "mosquitto", 1883};
  CopyEntry(mosquitto.name);
  BuildAndStartPodman(mosquitto.name);
  if (HasFatalFailure()) return;
  const std::vector<std::string> volume = {"-v", "mosquitto-data:/var/lib/mosquitto"};
  uint16_t port = Start(mosquitto, volume);
  ASSERT_NE(port, 0);
  auto sub = [&](uint16_t p) {
    return RunProcess(WithinLimits({"mosquitto_sub", "-h", "127.0.0.1", "-p", std::to_string(p),
                                    "-t", "catalog/test", "-C", "1", "-W", "10"},
                                   30));
  };
  // A retained message: a subscriber that comes later gets it from the broker.
  ProcessResult pub =
      RunProcess(WithinLimits({"mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(port), "-t",
                               "catalog/test", "-m", "mqtt works", "-r", "-q", "1"},
                              30));
  ASSERT_EQ(pub.exit_code, 0) << pub.err << Logs();
  ProcessResult got = sub(port);
  EXPECT_EQ(got.exit_code, 0) << got.err << Logs();
  EXPECT_EQ(got.out, "mqtt works\n");
  ExpectHardened(mosquitto);
  // Mosquitto saves its database to the volume when it stops; a new container on the same volume
  // still has the message.
  ASSERT_TRUE(podman_->Stop(id_).has_value()) << Logs();
  port = Start(mosquitto, volume);
  ASSERT_NE(port, 0);
  got = sub(port);
  EXPECT_EQ(got.exit_code, 0) << got.err << Logs();
  EXPECT_EQ(got.out, "mqtt works\n");
}

TEST_F(CatalogServicesBE2ETest, PrometheusIsReadyAndAnswersAQueryOnWhatItScraped) {
  const CatalogService prometheus{"prometheus", "prometheus", 9090};
  CopyEntry(prometheus.name);
  BuildAndStartPodman(prometheus.name);
  if (HasFatalFailure()) return;
  uint16_t port = Start(prometheus, {"-v", "prometheus-data:/var/lib/prometheus/metrics2"});
  ASSERT_NE(port, 0);
  std::optional<CurlReply> ready;
  EXPECT_TRUE(Eventually(30, [&] {
    auto r = CurlRequest(Url(port, "/-/ready"));
    if (r) ready = *r;
    return r && r->status == 200;
  })) << Logs();
  ASSERT_TRUE(ready.has_value());
  EXPECT_THAT(ready->body, HasSubstr("Ready"));
  // Debian's configuration scrapes Prometheus itself every 5 s into the volume: the query
  // finds that target up once the first scrape is stored.
  json result;
  EXPECT_TRUE(Eventually(30,
                         [&] {
                           auto r = CurlRequest(
                               Url(port, "/api/v1/query?query=up%7Bjob%3D%22prometheus%22%7D"));
                           if (!r || r->status != 200) return false;
                           result = json::parse(r->body, nullptr, /*allow_exceptions=*/false);
                           return result.is_object() && result["data"]["result"].size() == 1;
                         }))
      << result.dump() << Logs();
  EXPECT_EQ(result["status"], "success");
  EXPECT_EQ(result["data"]["result"][0]["value"][1], "1") << result.dump();
  ExpectHardened(prometheus);
}

TEST_F(CatalogServicesBE2ETest, Tomcat10ServesItsDefaultPage) {
  const CatalogService tomcat{"tomcat10", "tomcat", 8080};
  CopyEntry(tomcat.name);
  BuildAndStartPodman(tomcat.name);
  if (HasFatalFailure()) return;
  uint16_t port = Start(tomcat, {"-v", "tomcat-webapps:/var/lib/tomcat10/webapps"});
  ASSERT_NE(port, 0);
  // The connector opens once the applications are deployed: the ROOT application that the
  // package's setup copies into webapps answers at once.
  auto reply = CurlRequest(Url(port, "/"));
  ASSERT_TRUE(reply.has_value()) << reply.error().message << Logs();
  EXPECT_EQ(reply->status, 200) << Logs();
  EXPECT_THAT(reply->body, HasSubstr("<h1>It works !</h1>"));
  // The access log goes to the container's stdout.
  EXPECT_TRUE(Eventually(10, [&] {
    return Logs().find("\"GET / HTTP/1.1\" 200") != std::string::npos;
  })) << Logs();
  ExpectHardened(tomcat);
}

TEST_F(CatalogServicesBE2ETest, RegistryAnswersV2AndStoresAPushInItsVolume) {
  const CatalogService registry{"registry", "docker-registry", 5000};
  CopyEntry(registry.name);
  BuildAndStartPodman(registry.name);
  if (HasFatalFailure()) return;
  uint16_t port = Start(registry, {"-v", "registry-data:/var/lib/docker-registry"});
  ASSERT_NE(port, 0);
  auto v2 = CurlRequest(Url(port, "/v2/"));
  ASSERT_TRUE(v2.has_value()) << v2.error().message << Logs();
  EXPECT_EQ(v2->status, 200) << Logs();
  EXPECT_EQ(v2->body, "{}");
  EXPECT_EQ(v2->Header("Docker-Distribution-API-Version"), "registry/2.0");
  ExpectHardened(registry);

  // A push by an independent client: the registry's own image, into its own volume.
  if (FindInPath("skopeo").empty()) {
    GTEST_SKIP() << "skopeo is not installed: the push is not tried";
  }
  const std::string reference = "127.0.0.1:" + std::to_string(port) + "/catalog/registry:pushed";
  ProcessResult push = RunProcess(
      WithinLimits({"skopeo", "copy", "--quiet", "--dest-tls-verify=false",
                    "oci:" + out_ + "/" + registry.name + ":latest", "docker://" + reference},
                   120));
  ASSERT_EQ(push.exit_code, 0) << push.err << Logs();
  auto tags = CurlRequest(Url(port, "/v2/catalog/registry/tags/list"));
  ASSERT_TRUE(tags.has_value()) << tags.error().message;
  EXPECT_EQ(json::parse(tags->body, nullptr, /*allow_exceptions=*/false),
            json::parse(R"({"name":"catalog/registry","tags":["pushed"]})"))
      << tags->body << Logs();
  // The manifest comes back with the digest the layout holds.
  auto index = ReadFile(out_ + "/" + registry.name + "/index.json");
  ASSERT_TRUE(index.has_value());
  std::string digest = json::parse(*index)["manifests"][0]["digest"];
  CurlOptions accept;
  accept.method = "HEAD";
  accept.headers = {{"Accept", "application/vnd.oci.image.manifest.v1+json"}};
  auto manifest = CurlRequest(Url(port, "/v2/catalog/registry/manifests/pushed"), accept);
  ASSERT_TRUE(manifest.has_value()) << manifest.error().message;
  EXPECT_EQ(manifest->status, 200);
  EXPECT_EQ(manifest->Header("Docker-Content-Digest"), digest);
}

TEST_F(CatalogServicesBE2ETest, SquidProxiesARequestToAServerOfTheHost) {
  REQUIRE_CLIENT("curl", "curl");
  const CatalogService squid{"squid", "proxy", 3128};
  CopyEntry(squid.name);
  BuildAndStartPodman(squid.name);
  if (HasFatalFailure()) return;
  // The origin server listens where containers reach the host.
  const std::string gateway = Gateway();
  ASSERT_FALSE(gateway.empty());
  HttpServer origin;
  origin.SetHandler([](const HttpRequest& request) -> std::optional<HttpResponse> {
    HttpResponse response;
    response.headers = {{"Content-Type", "text/plain"}};
    response.body =
        "origin saw " + request.path + " via " + request.Header("Via").value_or("-") + "\n";
    return response;
  });
  ASSERT_TRUE(origin.Start(gateway).has_value());
  uint16_t port = Start(squid);
  ASSERT_NE(port, 0);
  ProcessResult r = RunProcess(
      WithinLimits({"curl", "--silent", "--show-error", "--max-time", "20", "--proxy",
                    "http://127.0.0.1:" + std::to_string(port), origin.Url("/through/squid")},
                   30));
  EXPECT_EQ(r.exit_code, 0) << r.err << Logs();
  EXPECT_THAT(r.out, ::testing::MatchesRegex(
                         "origin saw /through/squid via 1\\.1 .* \\(squid/[0-9.]+\\)\n"))
      << Logs();
  EXPECT_EQ(origin.RequestCount("/through/squid"), 1);
  // The access log goes to the container's stdout.
  EXPECT_TRUE(Eventually(10, [&] { return Logs().find("TCP_MISS/200") != std::string::npos; }))
      << Logs();
  ExpectHardened(squid);
}

TEST_F(CatalogServicesBE2ETest, UnboundAnswersForALocalZoneOfAMountedConfiguration) {
  REQUIRE_CLIENT("dig", "bind9-dnsutils");
  const CatalogService unbound{"unbound", "unbound", 5053, /*udp=*/true};
  CopyEntry(unbound.name);
  BuildAndStartPodman(unbound.name);
  if (HasFatalFailure()) return;
  // The README's way to add configuration: files in /etc/unbound/unbound.conf.d.
  const std::string conf = Work() + "/unbound.conf.d";
  ASSERT_TRUE(MakeDirs(conf).has_value());
  ASSERT_TRUE(WriteFileAtomic(conf + "/catalog-test.conf",
                              "server:\n"
                              "    local-zone: \"catalog.test.\" static\n"
                              "    local-data: \"hello.catalog.test. 300 IN A 192.0.2.53\"\n",
                              0644)
                  .has_value());
  uint16_t port = Start(unbound, {"-v", conf + ":/etc/unbound/unbound.conf.d:ro"});
  ASSERT_NE(port, 0);
  for (const char* transport : {"+notcp", "+tcp"}) {
    ProcessResult r =
        RunProcess(WithinLimits({"dig", "@127.0.0.1", "-p", std::to_string(port), transport,
                                 "+time=5", "+tries=2", "+short", "hello.catalog.test", "A"},
                                30));
    EXPECT_EQ(r.exit_code, 0) << transport << ": " << r.out << r.err << Logs();
    EXPECT_EQ(r.out, "192.0.2.53\n") << transport << Logs();
  }
  // The static local zone answers NXDOMAIN for any other name in it.
  ProcessResult other = RunProcess(WithinLimits(
      {"dig", "@127.0.0.1", "-p", std::to_string(port), "+time=5", "other.catalog.test", "A"}, 30));
  EXPECT_THAT(other.out, HasSubstr("status: NXDOMAIN")) << other.out;
  ExpectHardened(unbound);
}

TEST_F(CatalogServicesBE2ETest, RabbitmqPublishesAndDeliversOverAmqp) {
  REQUIRE_CLIENT("amqp-publish", "amqp-tools");
  const CatalogService rabbitmq{"rabbitmq-server", "rabbitmq", 5672};
  CopyEntry(rabbitmq.name);
  BuildAndStartPodman(rabbitmq.name);
  if (HasFatalFailure()) return;
  uint16_t port = Start(rabbitmq, {"-v", "rabbitmq-data:/var/lib/rabbitmq"});
  ASSERT_NE(port, 0);
  // The default user guest, which the image's rabbitmq.conf lets in from the container network.
  const std::string url = "amqp://guest:guest@127.0.0.1:" + std::to_string(port);
  auto amqp = [&](std::vector<std::string> args) {
    args.insert(args.begin() + 1, {"--url", url});
    return RunProcess(WithinLimits(args, 30));
  };
  ProcessResult declare = amqp({"amqp-declare-queue", "--queue", "catalog-test"});
  ASSERT_EQ(declare.exit_code, 0) << declare.err << Logs();
  EXPECT_EQ(declare.out, "catalog-test\n");
  ProcessResult publish =
      amqp({"amqp-publish", "--routing-key", "catalog-test", "--body", "amqp works"});
  ASSERT_EQ(publish.exit_code, 0) << publish.err << Logs();
  ProcessResult get = amqp({"amqp-get", "--queue", "catalog-test"});
  EXPECT_EQ(get.exit_code, 0) << get.err << Logs();
  EXPECT_EQ(get.out, "amqp works");
  // The broker's log goes to the container's stdout.
  EXPECT_THAT(Logs(), HasSubstr("Server startup complete"));
  ExpectHardened(rabbitmq);
}

}  // namespace
}  // namespace hardbase::testing
