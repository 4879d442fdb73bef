// The catalog's language runtimes, used as their READMEs say (catalog/<name>/README.md):
//
// - each runtime image (static, cc, python3, nodejs, java17, java17-jdk, ruby, php-fpm) runs under
//   podman as its own non-root user and answers something real: an HTTP answer to the host on
//   127.0.0.1 (python3, nodejs, java17-jdk: a one-file server mounted as a volume), a FastCGI
//   answer to Debian's cgi-fcgi (php-fpm), or a program's output;
// - each -dev image (go-dev, cc-dev, python3-dev, nodejs-dev, java17-dev, ruby-dev, php-fpm-dev)
//   is the build stage of a multi-stage `podman build` whose final stage is its runtime image,
//   both pulled from a loopback registry by digest as a Containerfile names them
//   (`FROM 127.0.0.1:PORT/python3-dev@sha256:...`), and the result runs. The build stages do what
//   users do there: compile C, C++ and Go, build a venv with a C extension, `npm install` from
//   the npm registry, javac + jar, a Ruby native extension, composer's autoloader.
//
// The images are built with `hardbase catalog build` and the catalog tests' shared cache; podman
// runs as support/podman.h says. Tests skip when podman cannot run here or a client is missing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <iostream>
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

// How long each step of a test took, printed at its end: the catalog tests have a time budget.
class Stopwatch {
 public:
  void Lap(const std::string& what) {
    auto now = std::chrono::steady_clock::now();
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, " %.1f s; ",
                  std::chrono::duration<double>(now - last_).count());
    laps_ += what + seconds;
    last_ = now;
  }
  ~Stopwatch() {
    if (!laps_.empty()) std::cout << "[ timings  ] " << laps_ << "\n";
  }

 private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
  std::string laps_;
};

class CatalogLanguagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = Podman::Unavailable(); !why.empty()) GTEST_SKIP() << why;
    auto dir = TempDir::Create("hardbase-catalog-languages-");
    ASSERT_TRUE(dir.has_value()) << dir.error().message;
    dir_.emplace(std::move(*dir));
  }

  const std::string& work() const { return dir_->path(); }

  // Builds the entries; their layouts by name.
  void Build(const std::vector<std::string>& names) {
    auto built = BuildCatalogEntries(work(), names);
    ASSERT_TRUE(built.has_value()) << built.error().message;
    layouts_.insert(built->begin(), built->end());
    watch_.Lap("build");
  }

  // A built image in podman's storage: its id.
  std::string Load(const std::string& name) {
    auto id = podman_->Load(layouts_.at(name));
    EXPECT_TRUE(id.has_value()) << id.error().message;
    watch_.Lap("load");
    return id.value_or("");
  }

  // Podman, with the loopback registry when `registry` (started first).
  void StartPodman(bool registry) {
    std::vector<std::string> insecure;
    if (registry) {
      if (FindInPath("docker-registry").empty()) {
        GTEST_SKIP() << "docker-registry is needed (scripts/install-deps.sh --test)";
      }
      auto started = RegistryServer::Start();
      ASSERT_TRUE(started.has_value()) << started.error().message;
      registry_ = std::move(*started);
      insecure.push_back(registry_->host());
    }
    auto podman = Podman::Create(work() + "/podman", insecure);
    ASSERT_TRUE(podman.has_value()) << podman.error().message;
    podman_ = std::move(*podman);
    watch_.Lap("podman");
  }

  void TearDown() override {
    if (!podman_) return;
    podman_.reset();  // its containers removed, its namespace gone
    registry_.reset();
    dir_.reset();
    watch_.Lap("teardown");
  }

  // Pushes a built image to the registry: "127.0.0.1:PORT/NAME@sha256:...", for a FROM line.
  std::string Push(const std::string& name) {
    const std::string ref = registry_->host() + "/" + name + ":latest";
    ProcessResult r = RunProcess(
        {HardbaseBinary(), "push", "oci:" + layouts_.at(name) + ":latest", ref, "--plain-http"});
    EXPECT_EQ(r.exit_code, 0) << "hardbase push " << name << ": " << r.err;
    std::string digest(Trim(r.out));
    if (size_t nl = digest.rfind('\n'); nl != std::string::npos) digest = digest.substr(nl + 1);
    EXPECT_TRUE(digest.starts_with("sha256:")) << r.out;
    return registry_->host() + "/" + name + "@" + digest;
  }

  // Writes `files` (relative path -> content) under WORK/NAME; returns that directory.
  std::string WriteTree(const std::string& name, const std::map<std::string, std::string>& files) {
    const std::string root = work() + "/" + name;
    for (const auto& [path, content] : files) {
      const std::string full = root + "/" + path;
      EXPECT_TRUE(MakeDirs(DirName(full)).has_value());
      EXPECT_TRUE(WriteFileAtomic(full, content, 0644).has_value()) << full;
    }
    return root;
  }

  // A multi-stage build of `containerfile` (with {dev} and {runtime} replaced by the images'
  // pinned references) in a context holding `files`; the tag of the result.
  std::string BuildMultiStage(const std::string& dev, const std::string& runtime,
                              const std::string& containerfile,
                              std::map<std::string, std::string> files) {
    std::string text = ReplaceAll(containerfile, "{dev}", Push(dev));
    text = ReplaceAll(text, "{runtime}", Push(runtime));
    watch_.Lap("push");
    files["Containerfile"] = text;
    const std::string context = WriteTree("context", files);
    const std::string tag = "localhost/app-" + runtime;
    auto built = podman_->Build(context, tag);
    EXPECT_TRUE(built.has_value()) << built.error().message;
    watch_.Lap("podman build");
    return tag;
  }

  // Starts `image` detached with `args` (run options first, then what follows the image), its
  // container port `port` published on a free loopback port; waits until it accepts connections.
  // The host port, or 0 on failure.
  uint16_t Serve(const std::string& image, uint16_t port, const std::vector<std::string>& options,
                 const std::vector<std::string>& command = {}) {
    std::vector<std::string> args = options;
    args.push_back(image);
    args.insert(args.end(), command.begin(), command.end());
    auto serving = podman_->StartServing(port, args);
    EXPECT_TRUE(serving.has_value()) << serving.error().message;
    watch_.Lap("start");
    if (!serving) return 0;
    container_ = serving->id;
    return serving->port;
  }

  // GET http://127.0.0.1:PORT/PATH, retried for a few seconds while the server starts answering.
  CurlReply HttpGet(uint16_t port, const std::string& path) {
    CurlReply reply;
    for (int attempt = 0; attempt < 50; ++attempt) {
      auto r =
          CurlRequest("http://127.0.0.1:" + std::to_string(port) + path, {.timeout_seconds = 10});
      if (r.has_value()) {
        reply = *r;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    EXPECT_EQ(reply.status, 200) << reply.body << "\nthe container's logs:\n" << Logs();
    return reply;
  }

  std::string Logs() const { return container_.empty() ? "" : podman_->Logs(container_); }

  // A JSON answer's body, parsed; a test failure when it is not JSON.
  json Json(const CurlReply& reply) {
    json doc = json::parse(reply.body, nullptr, false);
    EXPECT_FALSE(doc.is_discarded()) << reply.body;
    return doc;
  }

  ProcessResult RunToEnd(const std::vector<std::string>& args) {
    ProcessResult r = podman_->Run(args, 300);
    watch_.Lap("run");
    return r;
  }

  std::optional<TempDir> dir_;
  std::map<std::string, std::string> layouts_;
  std::unique_ptr<RegistryServer> registry_;
  std::unique_ptr<Podman> podman_;  // after the registry: stopped first
  std::string container_;
  Stopwatch watch_;
};

// ---------------------------------------------------------------------------------------------
// static and go-dev: a Go program built with CGO_ENABLED=0 runs on static, with its CA
// certificates and time zones.

TEST_F(CatalogLanguagesTest, StaticRunsAGoProgramBuiltInGoDev) {
  ASSERT_NO_FATAL_FAILURE(Build({"go-dev", "static"}));
  ASSERT_NO_FATAL_FAILURE(StartPodman(true));
  const std::string tag = BuildMultiStage("go-dev", "static", R"(FROM {dev} AS build
WORKDIR /src
COPY main.go .
RUN go mod init example.com/hello && CGO_ENABLED=0 go build -trimpath -o /out/hello . && \
    ! ldd /out/hello
FROM {runtime}
COPY --from=build /out/hello /usr/local/bin/hello
ENTRYPOINT ["/usr/local/bin/hello"]
)",
                                          {{"main.go", R"(package main

import (
	"crypto/x509"
	"fmt"
	"os"
	"time"
)

func main() {
	pool, err := x509.SystemCertPool()
	if err != nil {
		panic(err)
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic(err)
	}
	noon := time.Date(2024, 1, 15, 12, 0, 0, 0, time.UTC).In(paris)
	fmt.Printf("hello from go as uid %d: %d CA certificates, noon UTC is %s in Paris\n",
		os.Getuid(), len(pool.Subjects()), noon.Format("15:04"))
}
)"}});
  ASSERT_FALSE(HasFailure());
  ProcessResult r = RunToEnd({tag});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("hello from go as uid 65532: "));
  EXPECT_THAT(r.out, HasSubstr("noon UTC is 13:00 in Paris"));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr(": 0 CA certificates")));
}

// ---------------------------------------------------------------------------------------------
// cc and cc-dev: a C++ program linked against OpenSSL's libcrypto.

TEST_F(CatalogLanguagesTest, CcRunsACppProgramBuiltInCcDev) {
  ASSERT_NO_FATAL_FAILURE(Build({"cc-dev", "cc"}));
  ASSERT_NO_FATAL_FAILURE(StartPodman(true));
  const std::string tag = BuildMultiStage("cc-dev", "cc", R"(FROM {dev} AS build
WORKDIR /src
COPY hello.cc .
RUN g++ -O2 -Wall -o /out-hello hello.cc -lcrypto
FROM {runtime}
COPY --from=build /out-hello /usr/local/bin/hello
ENTRYPOINT ["/usr/local/bin/hello"]
)",
                                          {{"hello.cc", R"(#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>

int main() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (!EVP_Digest("abc", 3, md, &n, EVP_sha256(), nullptr)) return 1;
  std::string hex;
  char byte[3];
  for (unsigned i = 0; i < n; ++i) {
    std::snprintf(byte, sizeof byte, "%02x", md[i]);
    hex += byte;
  }
  std::cout << "hello from C++ as uid " << getuid() << " with "
            << OpenSSL_version(OPENSSL_VERSION) << ": sha256(abc)=" << hex << "\n";
}
)"}});
  ASSERT_FALSE(HasFailure());
  ProcessResult r = RunToEnd({tag});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("hello from C++ as uid 65532 with OpenSSL 3."));
  EXPECT_THAT(
      r.out,
      HasSubstr("sha256(abc)=ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
}

// ---------------------------------------------------------------------------------------------
// python3: a one-file HTTP server from a volume. python3-dev: a venv with a C extension.

TEST_F(CatalogLanguagesTest, Python3ServesHttpFromAVolume) {
  ASSERT_NO_FATAL_FAILURE(Build({"python3"}));
  ASSERT_NO_FATAL_FAILURE(StartPodman(false));
  const std::string app = WriteTree("app", {{"server.py", R"(import http.server
import json
import os
import sqlite3
import ssl
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({
            "python": sys.version.split()[0],
            "uid": os.getuid(),
            "path": self.path,
            "sqlite": sqlite3.sqlite_version,
            "ssl": ssl.OPENSSL_VERSION,
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


http.server.ThreadingHTTPServer(("", 8080), Handler).serve_forever()
)"}});
  uint16_t port = Serve(Load("python3"), 8080, {"-v", app + ":/app:ro"}, {"/app/server.py"});
  ASSERT_NE(port, 0);
  json doc = Json(HttpGet(port, "/hello?x=1"));
  EXPECT_EQ(doc.value("uid", -1), 65532) << doc;
  EXPECT_THAT(doc.value("python", ""), ::testing::StartsWith("3.11.")) << doc;
  EXPECT_EQ(doc.value("path", ""), "/hello?x=1");
  EXPECT_THAT(doc.value("ssl", ""), HasSubstr("OpenSSL 3.")) << doc;
  EXPECT_FALSE(doc.value("sqlite", "").empty()) << doc;
}

TEST_F(CatalogLanguagesTest, Python3DevBuildsAVenvForPython3) {
  ASSERT_NO_FATAL_FAILURE(Build({"python3-dev", "python3"}));
  ASSERT_NO_FATAL_FAILURE(StartPodman(true));
  // A package with a C extension, installed from its source tree into a venv without PyPI.
  const std::string tag =
      BuildMultiStage("python3-dev", "python3", R"(FROM {dev} AS build
COPY greet /src/greet
RUN python3 -m venv /opt/venv && \
    /opt/venv/bin/pip install --no-index --no-build-isolation /src/greet
FROM {runtime}
COPY --from=build /opt/venv /opt/venv
ENTRYPOINT ["/opt/venv/bin/python3", "-m", "greet"]
)",
                      {{"greet/setup.py", R"(from setuptools import Extension, setup

setup(
    name="greet",
    version="1.0",
    packages=["greet"],
    ext_modules=[Extension("greet._speedups", ["greet/_speedups.c"])],
)
)"},
                       {"greet/greet/__init__.py", ""},
                       {"greet/greet/__main__.py", R"(import os
import sys

from greet import _speedups

print(f"hello from a venv on Python {sys.version.split()[0]} as uid {os.getuid()}: "
      f"2 + 3 = {_speedups.add(2, 3)} in C, from {sys.prefix}")
)"},
                       {"greet/greet/_speedups.c", R"(#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *add(PyObject *self, PyObject *args) {
  long a, b;
  if (!PyArg_ParseTuple(args, "ll", &a, &b)) return NULL;
  return PyLong_FromLong(a + b);
}

static PyMethodDef methods[] = {{"add", add, METH_VARARGS, "a + b"}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_speedups", NULL, -1, methods};

PyMODINIT_FUNC PyInit__speedups(void) { return PyModule_Create(&module); }
)"}});
  ASSERT_FALSE(HasFailure());
  ProcessResult r = RunToEnd({tag});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("hello from a venv on Python 3.11."));
  EXPECT_THAT(r.out, HasSubstr("as uid 65532: 2 + 3 = 5 in C, from /opt/venv"));
}

// ---------------------------------------------------------------------------------------------
// nodejs: a one-file HTTP server from a volume. nodejs-dev: `npm install` from the npm registry.

TEST_F(CatalogLanguagesTest, NodejsServesHttpFromAVolume) {
  ASSERT_NO_FATAL_FAILURE(Build({"nodejs"}));
  ASSERT_NO_FATAL_FAILURE(StartPodman(false));
  const std::string app = WriteTree("app", {{"server.js", R"(const http = require('http');
http.createServer((req, res) => {
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify({
    node: process.version,
    uid: process.getuid(),
    url: req.url,
    openssl: process.versions.openssl,
    env: process.env.NODE_ENV,
  }));
}).listen(8080);
)"}});
  uint16_t port = Serve(Load("nodejs"), 8080, {"-v", app + ":/app:ro"}, {"/app/server.js"});
  ASSERT_NE(port, 0);
  json doc = Json(HttpGet(port, "/hello"));
  EXPECT_EQ(doc.value("uid", -1), 65532) << doc;
  EXPECT_THAT(doc.value("node", ""), ::testing::StartsWith("v18.")) << doc;
  EXPECT_EQ(doc.value("url", ""), "/hello");
  EXPECT_EQ(doc.value("env", ""), "production");
}

TEST_F(CatalogLanguagesTest, NodejsDevInstallsFromNpmForNodejs) {
  ASSERT_NO_FATAL_FAILURE(Build({"nodejs-dev", "nodejs"}));
  ASSERT_NO_FATAL_FAILURE(StartPodman(true));
  // `ms`, a small module without dependencies, fetched from the npm registry at its exact version.
  // The host's CA bundle goes along, for networks where a proxy intercepts TLS (as on the test
  // machines): what users behind one do.
  auto host_ca = ReadFile("/etc/ssl/certs/ca-certificates.crt");
  ASSERT_TRUE(host_ca.has_value()) << host_ca.error().message;
  const std::string tag = BuildMultiStage("nodejs-dev", "nodejs", R"(FROM {dev} AS build
WORKDIR /app
COPY host-ca.crt /tmp/
COPY package.json index.js ./
RUN NODE_EXTRA_CA_CERTS=/tmp/host-ca.crt npm install --omit=dev --no-audit --no-fund && \
    test -f node_modules/ms/package.json
FROM {runtime}
COPY --from=build /app /app
CMD ["/app/index.js"]
)",
                                          {{"host-ca.crt", *host_ca},
                                           {"package.json", R"({
  "name": "hello",
  "version": "1.0.0",
  "private": true,
  "dependencies": {"ms": "2.1.3"}
}
)"},
                                           {"index.js", R"(const ms = require('ms');
const version = require('ms/package.json').version;
console.log(`hello from node ${process.version} as uid ${process.getuid()}: ` +
            `ms ${version} says 2 days = ${ms('2 days')} ms`);
)"}});
  ASSERT_FALSE(HasFailure());
  ProcessResult r = RunToEnd({tag});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("as uid 65532: ms 2.1.3 says 2 days = 172800000 ms"));
}

// ---------------------------------------------------------------------------------------------
// java17 and java17-dev: a jar made with javac and jar. java17-jdk: a source-file program
// compiled when it starts, an HTTP server.

TEST_F(CatalogLanguagesTest, Java17RunsAJarBuiltInJava17Dev) {
  ASSERT_NO_FATAL_FAILURE(Build({"java17-dev", "java17"}));
  ASSERT_NO_FATAL_FAILURE(StartPodman(true));
  const std::string tag = BuildMultiStage("java17-dev", "java17", R"(FROM {dev} AS build
WORKDIR /src
COPY Hello.java .
RUN mvn --version && javac -d classes Hello.java && \
    jar --create --file /hello.jar --main-class Hello -C classes .
FROM {runtime}
COPY --from=build /hello.jar /app/hello.jar
CMD ["-jar", "/app/hello.jar"]
)",
                                          {{"Hello.java", R"(import java.security.KeyStore;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

public class Hello {
  public static void main(String[] args) throws Exception {
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init((KeyStore) null);
    int trusted = ((X509TrustManager) tmf.getTrustManagers()[0]).getAcceptedIssuers().length;
    System.out.println("hello from java " + System.getProperty("java.version") + " as "
        + System.getProperty("user.name") + ": " + trusted + " trusted CAs");
  }
}
)"}});
  ASSERT_FALSE(HasFailure());
  ProcessResult r = RunToEnd({tag});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("hello from java 17."));
  EXPECT_THAT(r.out, HasSubstr(" as nonroot: "));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr(": 0 trusted CAs")));
}

TEST_F(CatalogLanguagesTest, Java17JdkServesHttpFromASourceFile) {
  ASSERT_NO_FATAL_FAILURE(Build({"java17-jdk"}));
  ASSERT_NO_FATAL_FAILURE(StartPodman(false));
  const std::string app =
      WriteTree("app", {{"Server.java", R"(import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

public class Server {
  public static void main(String[] args) throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress(8080), 0);
    server.createContext("/", exchange -> {
      byte[] body = ("hello from java " + System.getProperty("java.version") + " as "
          + System.getProperty("user.name") + ", compiled at start: "
          + exchange.getRequestURI()).getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    server.start();
  }
}
)"}});
  uint16_t port = Serve(Load("java17-jdk"), 8080, {"-v", app + ":/app:ro"}, {"/app/Server.java"});
  ASSERT_NE(port, 0);
  CurlReply reply = HttpGet(port, "/hello");
  EXPECT_THAT(reply.body, HasSubstr("hello from java 17."));
  EXPECT_THAT(reply.body, HasSubstr(" as nonroot, compiled at start: /hello"));
}

// ---------------------------------------------------------------------------------------------
// ruby: a script from a volume. ruby-dev: a native extension built with mkmf, and Bundler.

TEST_F(CatalogLanguagesTest, RubyRunsAScriptFromAVolume) {
  ASSERT_NO_FATAL_FAILURE(Build({"ruby"}));
  ASSERT_NO_FATAL_FAILURE(StartPodman(false));
  const std::string app = WriteTree("app", {{"hello.rb", R"(require 'etc'
require 'json'
require 'openssl'
require 'time'

puts JSON.generate(
  ruby: RUBY_VERSION,
  user: Etc.getpwuid(Process.uid).name,
  sha256: OpenSSL::Digest::SHA256.hexdigest('abc'),
  time: Time.iso8601('2024-01-15T12:00:00Z').getlocal('+01:00').strftime('%H:%M')
)
)"}});
  ProcessResult r = RunToEnd({"-v", app + ":/app:ro", Load("ruby"), "/app/hello.rb"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json doc = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << r.out;
  EXPECT_THAT(doc.value("ruby", ""), ::testing::StartsWith("3.1.")) << doc;
  EXPECT_EQ(doc.value("user", ""), "nonroot") << doc;
  EXPECT_EQ(doc.value("sha256", ""),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(doc.value("time", ""), "13:00");
}

TEST_F(CatalogLanguagesTest, RubyDevBuildsANativeExtensionForRuby) {
  ASSERT_NO_FATAL_FAILURE(Build({"ruby-dev", "ruby"}));
  ASSERT_NO_FATAL_FAILURE(StartPodman(true));
  const std::string tag =
      BuildMultiStage("ruby-dev", "ruby", R"(FROM {dev} AS build
WORKDIR /app
COPY . .
RUN bundle install --local && cd ext && ruby extconf.rb && make && cp greet.so /app/
FROM {runtime}
COPY --from=build /app /app
WORKDIR /app
CMD ["-I/app", "/app/main.rb"]
)",
                      {{"Gemfile", "source 'https://rubygems.org'\n"},
                       {"ext/extconf.rb", "require 'mkmf'\ncreate_makefile('greet')\n"},
                       {"ext/greet.c", R"(#include <ruby.h>

static VALUE greet_add(VALUE self, VALUE a, VALUE b) {
  return LONG2NUM(NUM2LONG(a) + NUM2LONG(b));
}

void Init_greet(void) {
  VALUE m = rb_define_module("Greet");
  rb_define_module_function(m, "add", greet_add, 2);
}
)"},
                       {"main.rb", R"(require 'etc'
require 'greet'

puts "hello from ruby #{RUBY_VERSION} as #{Etc.getpwuid(Process.uid).name}: " \
     "2 + 3 = #{Greet.add(2, 3)} in C"
)"}});
  ASSERT_FALSE(HasFailure());
  ProcessResult r = RunToEnd({tag});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("hello from ruby 3.1."));
  EXPECT_THAT(r.out, HasSubstr(" as nonroot: 2 + 3 = 5 in C"));
}

// ---------------------------------------------------------------------------------------------
// php-fpm: FastCGI on 9000 answering Debian's cgi-fcgi, as www-data. php-fpm-dev: composer's
// autoloader for the application's classes.

// A FastCGI GET of SCRIPT_FILENAME from 127.0.0.1:PORT by cgi-fcgi: its output (the CGI headers
// and body).
ProcessResult FastCgiGet(uint16_t port, const std::string& script) {
  return RunProcess(
      WithinLimits({"cgi-fcgi", "-bind", "-connect", "127.0.0.1:" + std::to_string(port)}, 60),
      {{"SCRIPT_FILENAME", script},
       {"SCRIPT_NAME", "/" + BaseName(script)},
       {"REQUEST_METHOD", "GET"},
       {"QUERY_STRING", "name=catalog"},
       {"SERVER_PROTOCOL", "HTTP/1.1"}});
}

constexpr std::string_view kIndexPhp = R"(<?php
header('Content-Type: text/plain');
printf("hello %s from php %s as %s, opcache %s, ctype %s\n",
       $_GET['name'] ?? '?', PHP_VERSION, posix_getpwuid(posix_geteuid())['name'],
       function_exists('opcache_get_status') ? 'on' : 'off',
       ctype_digit('123') ? 'on' : 'off');
)";

TEST_F(CatalogLanguagesTest, PhpFpmAnswersFastCgi) {
  if (FindInPath("cgi-fcgi").empty()) GTEST_SKIP() << "cgi-fcgi (Debian's libfcgi-bin) is needed";
  ASSERT_NO_FATAL_FAILURE(Build({"php-fpm"}));
  ASSERT_NO_FATAL_FAILURE(StartPodman(false));
  const std::string app = WriteTree("app", {{"index.php", std::string(kIndexPhp)}});
  uint16_t port = Serve(Load("php-fpm"), 9000, {"-v", app + ":/var/www/html:ro"});
  ASSERT_NE(port, 0);
  ProcessResult r = FastCgiGet(port, "/var/www/html/index.php");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Content-type: text/plain"));
  EXPECT_THAT(r.out, HasSubstr("hello catalog from php 8.2."));
  EXPECT_THAT(r.out, HasSubstr(" as www-data, opcache on, ctype on")) << Logs();
  // The access log goes to the container's log.
  EXPECT_THAT(Logs(), HasSubstr("\"GET /index.php")) << Logs();
}

TEST_F(CatalogLanguagesTest, PhpFpmDevMakesComposersAutoloaderForPhpFpm) {
  if (FindInPath("cgi-fcgi").empty()) GTEST_SKIP() << "cgi-fcgi (Debian's libfcgi-bin) is needed";
  ASSERT_NO_FATAL_FAILURE(Build({"php-fpm-dev", "php-fpm"}));
  ASSERT_NO_FATAL_FAILURE(StartPodman(true));
  const std::string tag = BuildMultiStage(
      "php-fpm-dev", "php-fpm", R"(FROM {dev} AS build
WORKDIR /app
COPY . .
RUN composer dump-autoload --optimize --no-interaction && php -l public/index.php
FROM {runtime}
COPY --from=build /app /var/www/app
)",
      {{"composer.json", R"({"name": "example/hello", "autoload": {"psr-4": {"App\\": "src/"}}})"},
       {"src/Greeter.php", R"(<?php
namespace App;

final class Greeter {
    public function greet(string $name): string {
        return sprintf("hello %s from %s, autoloaded as %s", $name, self::class,
                       posix_getpwuid(posix_geteuid())['name']);
    }
}
)"},
       {"public/index.php", R"(<?php
require __DIR__ . '/../vendor/autoload.php';
header('Content-Type: text/plain');
echo (new App\Greeter())->greet($_GET['name'] ?? '?'), "\n";
)"}});
  ASSERT_FALSE(HasFailure());
  uint16_t port = Serve(tag, 9000, {});
  ASSERT_NE(port, 0);
  ProcessResult r = FastCgiGet(port, "/var/www/app/public/index.php");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("hello catalog from App\\Greeter, autoloaded as www-data"))
      << Logs();
}

}  // namespace
}  // namespace hardbase::testing
