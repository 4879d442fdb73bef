// `hardbase migrate` as a team adopting hardened images uses it: five real applications of
// different runtimes, each with the Dockerfile such a project ships (`FROM node:20`, `FROM
// python:3.11-slim`, `FROM gcc:12`, `FROM eclipse-temurin:17`, `FROM nginx:1.25`), are
//
// 1. built as they are with `podman build` -- the public base images stood in for by images built
//    here (the catalog's -dev images, tagged with the public names in podman's storage: they have
//    what those images have that matters, a shell, a package manager, the toolchain);
// 2. migrated with `hardbase migrate --registry` against a loopback registry holding the
//    catalog's images (the Python app's apt-get install becomes a spec that is built and pushed);
// 3. built again from the migrated Dockerfile with `podman build`, run, and asked a request,
//    which the application answers as the runtime image's non-root user;
// 4. compared with `hardbase audit BEFORE --compare AFTER`: the shells, package managers and root
//    user are gone and the score goes up; `diff` and `report` make the page that shows it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/fs.h"
#include "base/strings.h"
#include "support/podman.h"
#include "support/process.h"
#include "support/registry_fixture.h"

namespace hardbase::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

class MigrateAppsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = Podman::Unavailable(); !why.empty()) GTEST_SKIP() << why;
    if (FindInPath("docker-registry").empty()) {
      GTEST_SKIP() << "docker-registry is needed (scripts/install-deps.sh --test)";
    }
    auto dir = TempDir::Create("hardbase-migrate-apps-");
    ASSERT_TRUE(dir.has_value()) << dir.error().message;
    work_.emplace(std::move(*dir));
  }

  void TearDown() override {
    podman_.reset();  // its containers removed, its namespace gone
    registry_.reset();
    work_.reset();
  }

  // The catalog's `runtime` and `dev` images built (with the catalog tests' shared cache) and
  // pushed to a loopback registry as NAME:latest, as migrate's --registry finds them; podman
  // started, with `dev` standing in for the public image `stand_in` (podman resolves a short name
  // such as `node:20` in its own storage first, as localhost/node:20; it searches no registry).
  void Prepare(const std::string& runtime, const std::string& dev, const std::string& stand_in) {
    auto built = BuildCatalogEntries(work_->path(), {runtime, dev});
    ASSERT_TRUE(built.has_value()) << built.error().message;
    auto registry = RegistryServer::Start();
    ASSERT_TRUE(registry.has_value()) << registry.error().message;
    registry_ = std::move(*registry);
    auto podman = Podman::Create(work_->path() + "/podman", {registry_->host()});
    ASSERT_TRUE(podman.has_value()) << podman.error().message;
    podman_ = std::move(*podman);
    for (const auto& name : {runtime, dev}) {
      ProcessResult r =
          RunProcess({HardbaseBinary(), "--quiet", "push", "oci:" + built->at(name) + ":latest",
                      registry_->host() + "/" + name + ":latest", "--plain-http"});
      ASSERT_EQ(r.exit_code, 0) << "push " << name << ": " << r.err;
    }
    auto id = podman_->Load(built->at(dev));
    ASSERT_TRUE(id.has_value()) << id.error().message;
    ProcessResult r = podman_->Exec({"tag", *id, "localhost/" + stand_in});
    ASSERT_EQ(r.exit_code, 0) << "podman tag: " << r.err;
  }

  struct App {
    std::string name;        // "node": the context directory and image names
    std::string dockerfile;  // the original
    std::map<std::string, std::string> files;
    uint16_t port = 0;   // where the migrated image's application listens
    std::string answer;  // what its answer to GET / contains
  };

  // The whole path for one application; the migration's JSON.
  json MigrateBuildRunAndCompare(const App& app) {
    const std::string context = work_->path() + "/" + app.name;
    std::map<std::string, std::string> files = app.files;
    files["Dockerfile"] = app.dockerfile;
    for (const auto& [path, content] : files) {
      EXPECT_TRUE(MakeDirs(DirName(context + "/" + path)).has_value());
      EXPECT_TRUE(WriteFileAtomic(context + "/" + path, content).has_value()) << path;
    }
    // 1. The original, on the stand-ins.
    const std::string before = "localhost/before-" + app.name;
    auto built = podman_->Build(context, before);
    EXPECT_TRUE(built.has_value()) << "the original Dockerfile: " << built.error().message;

    // 2. The migration.
    const std::string out = context + "/hardened";
    ProcessResult m =
        RunProcess({HardbaseBinary(), "--cache-dir", CatalogCacheDir(), "migrate",
                    context + "/Dockerfile", "--registry", registry_->host(), "--plain-http",
                    "--catalog", work_->path() + "/catalog", "-o", out});
    EXPECT_EQ(m.exit_code, 0) << m.out << m.err;
    auto migrated = ReadFile(out + "/Dockerfile");
    EXPECT_TRUE(migrated.has_value()) << m.err;
    auto explanation = ReadFile(out + "/migration.json");
    EXPECT_TRUE(explanation.has_value());
    if (!migrated || !explanation) return json();
    json doc = json::parse(*explanation, nullptr, false);
    EXPECT_FALSE(doc.is_discarded());
    EXPECT_THAT(*migrated, HasSubstr("FROM " + registry_->host() + "/"));
    EXPECT_THAT(*migrated, HasSubstr("@sha256:"));
    std::cout << "[ migrated ] " << app.name << ":\n" << *migrated;

    // 3. The migrated Dockerfile, built, run and asked.
    const std::string after = "localhost/after-" + app.name;
    auto rebuilt = podman_->Build(context, after, {"-f", out + "/Dockerfile"});
    EXPECT_TRUE(rebuilt.has_value()) << "the migrated Dockerfile: " << rebuilt.error().message;
    if (!rebuilt) return doc;
    auto serving = podman_->StartServing(app.port, {after});
    EXPECT_TRUE(serving.has_value()) << serving.error().message;
    if (!serving) return doc;
    std::string body;
    for (int attempt = 0; attempt < 50 && body.empty(); ++attempt) {
      auto r = CurlRequest("http://127.0.0.1:" + std::to_string(serving->port) + "/",
                           {.timeout_seconds = 10});
      if (r && r->status == 200) {
        body = r->body;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    }
    EXPECT_THAT(body, HasSubstr(app.answer)) << podman_->Logs(serving->id);
    ProcessResult user = podman_->Exec({"inspect", "--format", "{{.Config.User}}", after});
    EXPECT_THAT(std::string(Trim(user.out)), Not(::testing::AnyOf("", "0", "root")));

    // 4. Before and after, side by side.
    for (const std::string& image : {before, after}) {
      ProcessResult pushed = podman_->Exec(
          {"push", "--tls-verify=false", image,
           "docker://" + registry_->host() + "/" + image.substr(image.find('/') + 1) + ":latest"});
      EXPECT_EQ(pushed.exit_code, 0) << pushed.err;
    }
    ProcessResult audit = RunProcess(
        {HardbaseBinary(), "--cache-dir", CatalogCacheDir(), "audit",
         registry_->host() + "/before-" + app.name + ":latest", "--compare",
         registry_->host() + "/after-" + app.name + ":latest", "--plain-http", "--json"});
    EXPECT_EQ(audit.exit_code, 0) << audit.err;
    json compare = json::parse(audit.out, nullptr, false);
    EXPECT_FALSE(compare.is_discarded()) << audit.out;
    if (!compare.is_discarded()) {
      const json& b = compare["before"];
      const json& a = compare["after"];
      EXPECT_FALSE(b["surface"]["shells"].empty());
      EXPECT_TRUE(a["surface"]["shells"].empty()) << a["surface"].dump();
      EXPECT_TRUE(a["surface"]["package_managers"].empty()) << a["surface"].dump();
      EXPECT_TRUE(b["config"]["runs_as_root"].get<bool>());
      EXPECT_FALSE(a["config"]["runs_as_root"].get<bool>());
      EXPECT_GT(a["score"].get<int>(), b["score"].get<int>());
      EXPECT_LT(a["image"]["packages"].get<int>(), b["image"]["packages"].get<int>());
      std::cout << "[ audit    ] " << app.name << ": score " << b["score"] << " -> " << a["score"]
                << ", packages " << b["image"]["packages"] << " -> " << a["image"]["packages"]
                << "\n";
    }

    // 5. The page a team shows: audit, diff and migration in one report.
    EXPECT_TRUE(WriteFileAtomic(context + "/audit.json", audit.out).has_value());
    ProcessResult diff = RunProcess({HardbaseBinary(), "--cache-dir", CatalogCacheDir(), "diff",
                                     registry_->host() + "/before-" + app.name + ":latest",
                                     registry_->host() + "/after-" + app.name + ":latest",
                                     "--plain-http", "--json"});
    EXPECT_EQ(diff.exit_code, 0) << diff.err;
    EXPECT_TRUE(WriteFileAtomic(context + "/diff.json", diff.out).has_value());
    ProcessResult report =
        RunProcess({HardbaseBinary(), "report", "--audit", context + "/audit.json", "--diff",
                    context + "/diff.json", "--migration", out + "/migration.json", "-o",
                    context + "/report.html"});
    EXPECT_EQ(report.exit_code, 0) << report.err;
    auto page = ReadFile(context + "/report.html");
    EXPECT_TRUE(page.has_value());
    EXPECT_THAT(page.value_or(""), HasSubstr("after-" + app.name));
    return doc;
  }

  std::optional<TempDir> work_;
  std::unique_ptr<RegistryServer> registry_;
  std::unique_ptr<Podman> podman_;  // after the registry: stopped first
};

TEST_F(MigrateAppsTest, NodeAppWithNpmDependencies) {
  ASSERT_NO_FATAL_FAILURE(Prepare("nodejs", "nodejs-dev", "node:20"));
  // The host's CA bundle goes along for npm, for networks whose proxy intercepts TLS.
  auto host_ca = ReadFile("/etc/ssl/certs/ca-certificates.crt");
  ASSERT_TRUE(host_ca.has_value());
  json doc = MigrateBuildRunAndCompare(
      {"node",
       R"(FROM node:20
WORKDIR /usr/src/app
COPY host-ca.crt package.json ./
RUN NODE_EXTRA_CA_CERTS=/usr/src/app/host-ca.crt npm install --omit=dev --no-audit --no-fund
COPY server.js ./
EXPOSE 3000
CMD node server.js
)",
       {{"host-ca.crt", *host_ca},
        {"package.json",
         R"({"name": "hello", "version": "1.0.0", "private": true, "dependencies": {"ms": "2.1.3"}})"},
        {"server.js", R"(const http = require('http');
const ms = require('ms');
http.createServer((req, res) => {
  res.end(`node ${process.version} as uid ${process.getuid()}: 2 days = ${ms('2 days')} ms\n`);
}).listen(3000);
)"}},
       3000,
       "as uid 65532: 2 days = 172800000 ms"});
  ASSERT_FALSE(doc.is_null());
  EXPECT_EQ(doc["runtime"], "nodejs");
}

TEST_F(MigrateAppsTest, PythonAppWithDebiansPython3Packages) {
  ASSERT_NO_FATAL_FAILURE(Prepare("python3", "python3-dev", "python:3.11-slim"));
  json doc = MigrateBuildRunAndCompare({"python",
                                        R"(FROM python:3.11-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3-jinja2 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY app.py .
EXPOSE 8000
CMD ["python3", "app.py"]
)",
                                        {{"app.py", R"(import os
from http.server import BaseHTTPRequestHandler, HTTPServer
import jinja2

PAGE = jinja2.Template("jinja2 {{ version }} as uid {{ uid }}\n")

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = PAGE.render(version=jinja2.__version__, uid=os.getuid()).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

HTTPServer(("", 8000), Handler).serve_forever()
)"}},
                                        8000,
                                        "as uid 65532"});
  ASSERT_FALSE(doc.is_null());
  EXPECT_EQ(doc["runtime"], "python3");
  EXPECT_EQ(doc["packages"], json::array({"python3-jinja2"}));
  EXPECT_THAT(doc["spec"].get<std::string>(), HasSubstr("python3-jinja2"));
}

TEST_F(MigrateAppsTest, CProgramBuiltWithGcc) {
  ASSERT_NO_FATAL_FAILURE(Prepare("cc", "cc-dev", "gcc:12"));
  json doc = MigrateBuildRunAndCompare({"c",
                                        R"(FROM gcc:12
WORKDIR /src
COPY server.c .
RUN gcc -O2 -Wall -o /usr/local/bin/hello-server server.c
EXPOSE 8080
CMD ["hello-server"]
)",
                                        {{"server.c", R"(#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void) {
  signal(SIGPIPE, SIG_IGN); /* a readiness probe closes without asking anything */
  int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(8080)};
  if (bind(s, (struct sockaddr*)&a, sizeof a) != 0 || listen(s, 8) != 0) return 1;
  for (;;) {
    int c = accept(s, NULL, NULL);
    char request[4096], body[128], reply[512];
    if (read(c, request, sizeof request) > 0) {
      int n = snprintf(body, sizeof body, "C as uid %d\n", (int)getuid());
      int m = snprintf(reply, sizeof reply,
                       "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", n,
                       body);
      if (write(c, reply, (size_t)m) != m) perror("write");
    }
    close(c);
  }
}
)"}},
                                        8080,
                                        "C as uid 65532"});
  ASSERT_FALSE(doc.is_null());
  EXPECT_EQ(doc["runtime"], "cc");
}

TEST_F(MigrateAppsTest, JavaProgramBuiltWithTheJdk) {
  ASSERT_NO_FATAL_FAILURE(Prepare("java17", "java17-dev", "eclipse-temurin:17"));
  json doc = MigrateBuildRunAndCompare({"java",
                                        R"(FROM eclipse-temurin:17
WORKDIR /app
COPY Server.java .
RUN javac Server.java && jar --create --file server.jar --main-class Server *.class
EXPOSE 8080
ENTRYPOINT ["java", "-jar", "server.jar"]
)",
                                        {{"Server.java", R"(import java.io.*;
import java.net.*;
import java.nio.charset.StandardCharsets;

public class Server {
  public static void main(String[] args) throws IOException {
    try (ServerSocket server = new ServerSocket(8080)) {
      for (;;) {
        // A connection closed without a request (a readiness probe) is no reason to stop.
        try (Socket c = server.accept()) {
          if (new BufferedReader(new InputStreamReader(c.getInputStream())).readLine() == null) {
            continue;
          }
          byte[] body = ("java " + System.getProperty("java.version") + " as "
              + System.getProperty("user.name") + "\n").getBytes(StandardCharsets.UTF_8);
          OutputStream out = c.getOutputStream();
          out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + body.length
              + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.UTF_8));
          out.write(body);
        } catch (IOException e) {
          System.err.println("connection: " + e);
        }
      }
    }
  }
}
)"}},
                                        8080,
                                        " as nonroot"});
  ASSERT_FALSE(doc.is_null());
  EXPECT_EQ(doc["runtime"], "java17");
}

TEST_F(MigrateAppsTest, StaticSiteOnNginx) {
  ASSERT_NO_FATAL_FAILURE(Prepare("nginx", "nginx-dev", "nginx:1.25"));
  json doc = MigrateBuildRunAndCompare(
      {"site",
       R"(FROM nginx:1.25
COPY site/ /usr/share/nginx/html/
EXPOSE 80
)",
       {{"site/index.html", "<!doctype html><title>hello</title><p>a static site, migrated</p>\n"}},
       8080,
       "a static site, migrated"});
  ASSERT_FALSE(doc.is_null());
  EXPECT_EQ(doc["runtime"], "nginx");
  std::string changes = doc["changes"].dump();
  EXPECT_THAT(changes, HasSubstr("/var/www/html"));
  EXPECT_THAT(changes, HasSubstr("8080"));
}

}  // namespace
}  // namespace hardbase::testing
