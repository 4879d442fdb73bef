#include "dockerfile/base_images.h"

#include <array>

#include "base/strings.h"

namespace hardbase::dockerfile {
namespace {

constexpr std::array kNginxPaths = {PathMove{"/usr/share/nginx/html", "/var/www/html"}};
constexpr std::array kHttpdPaths = {PathMove{"/usr/local/apache2/htdocs", "/var/www/html"},
                                    PathMove{"/usr/local/apache2/conf", "/etc/apache2"}};
constexpr std::array kHaproxyPaths = {
    PathMove{"/usr/local/etc/haproxy/haproxy.cfg", "/etc/haproxy/haproxy.cfg"}};
constexpr std::array kRedisPaths = {PathMove{"/data", "/var/lib/redis"}};
constexpr std::array kWebPorts = {PortMove{"80", "8080"}};

// Ordered: the first match wins, so specific rows (a JRE tag, a distroless name) come before the
// general ones.
constexpr std::array kTable = {
    BaseImageRule{"python", "", "python3", "python3-dev",
                  "Debian 12's Python 3.11 at /usr/bin/python3; pip installs go into a venv "
                  "(Debian's Python refuses system-wide pip installs, PEP 668)"},
    BaseImageRule{"pypy", "", "python3", "python3-dev", "CPython 3.11 instead of PyPy"},
    BaseImageRule{"node", "", "nodejs", "nodejs-dev", "Debian 12's Node.js 18 and npm 9"},
    BaseImageRule{"eclipse-temurin", "8|11|21", "", "", "only Java 17 is in the catalog"},
    BaseImageRule{"eclipse-temurin", "", "java17", "java17-dev",
                  "Debian 12's OpenJDK 17 (headless JRE); JDK tools only in java17-jdk"},
    BaseImageRule{"openjdk", "17", "java17", "java17-dev", "Debian 12's OpenJDK 17 (headless)"},
    BaseImageRule{"amazoncorretto", "17", "java17", "java17-dev", "Debian 12's OpenJDK 17"},
    BaseImageRule{"maven", "", "java17", "java17-dev", "Maven 3.8 and OpenJDK 17 from Debian 12"},
    BaseImageRule{"gradle", "", "java17", "java17-dev", "OpenJDK 17 from Debian 12; no Gradle"},
    BaseImageRule{"tomcat", "", "tomcat10", "tomcat10-dev", "Tomcat 10.1 from Debian 12"},
    BaseImageRule{"golang", "", "static", "go-dev",
                  "Debian 12's Go 1.19; build with CGO_ENABLED=0 for the static image"},
    BaseImageRule{"rust", "", "cc", "cc-dev", "no Rust toolchain in cc-dev: install rustc there"},
    BaseImageRule{"gcc", "", "cc", "cc-dev", "Debian 12's GCC 12"},
    BaseImageRule{"buildpack-deps", "", "cc", "cc-dev", ""},
    BaseImageRule{"ruby", "", "ruby", "ruby-dev", "Debian 12's Ruby 3.1"},
    BaseImageRule{"php", "", "php-fpm", "php-fpm-dev", "PHP 8.2's FPM from Debian 12 on port 9000"},
    BaseImageRule{"nginx", "", "nginx", "nginx-dev",
                  "Debian 12's nginx as www-data on port 8080, documents in /var/www/html",
                  kNginxPaths, kWebPorts},
    BaseImageRule{"nginxinc/nginx-unprivileged", "", "nginx", "nginx-dev",
                  "Debian 12's nginx as www-data on port 8080, documents in /var/www/html",
                  kNginxPaths},
    BaseImageRule{"httpd", "", "httpd", "httpd-dev",
                  "Debian 12's apache2 as www-data on port 8080, documents in /var/www/html",
                  kHttpdPaths, kWebPorts},
    BaseImageRule{"haproxy", "", "haproxy", "haproxy-dev", "", kHaproxyPaths},
    BaseImageRule{"redis", "", "redis", "redis-dev", "data in /var/lib/redis", kRedisPaths},
    BaseImageRule{"memcached", "", "memcached", "memcached-dev", ""},
    BaseImageRule{"postgres", "", "postgresql", "postgresql-dev", "PostgreSQL 15"},
    BaseImageRule{"mariadb", "", "mariadb", "mariadb-dev", "MariaDB 10.11"},
    BaseImageRule{"mysql", "", "mariadb", "mariadb-dev", "MariaDB 10.11 instead of MySQL"},
    BaseImageRule{"rabbitmq", "", "rabbitmq-server", "rabbitmq-server-dev", "RabbitMQ 3.10"},
    BaseImageRule{"eclipse-mosquitto", "", "mosquitto", "mosquitto-dev", ""},
    BaseImageRule{"prom/prometheus", "", "prometheus", "prometheus-dev", ""},
    BaseImageRule{"registry", "", "registry", "registry-dev", ""},
    BaseImageRule{"ubuntu/squid", "", "squid", "squid-dev", ""},
    BaseImageRule{"gcr.io/distroless/static*", "", "static", "cc-dev", ""},
    BaseImageRule{"gcr.io/distroless/base*", "", "cc", "cc-dev", ""},
    BaseImageRule{"gcr.io/distroless/cc*", "", "cc", "cc-dev", ""},
    BaseImageRule{"gcr.io/distroless/python3*", "", "python3", "python3-dev", ""},
    BaseImageRule{"gcr.io/distroless/nodejs*", "", "nodejs", "nodejs-dev", "Node.js 18"},
    BaseImageRule{"gcr.io/distroless/java17*", "", "java17", "java17-dev", ""},
    BaseImageRule{"debian", "trixie|13|forky|14|testing|sid|unstable|bullseye|11|buster|10", "", "",
                  "the catalog is built from Debian 12 (bookworm)"},
    BaseImageRule{"debian", "", "cc", "cc-dev",
                  "the runtime has glibc, libstdc++ and OpenSSL; name other packages with "
                  "apt-get install in the final stage"},
    BaseImageRule{"ubuntu", "", "cc", "cc-dev",
                  "Debian 12's libraries instead of Ubuntu's: rebuild the program in cc-dev"},
    BaseImageRule{"alpine", "", "static", "cc-dev",
                  "programs linked against musl do not run on glibc: rebuild them in cc-dev "
                  "(statically for the static image)"},
    BaseImageRule{"busybox", "", "static", "cc-dev", "no shell and no busybox applets"},
};

// "registry.example:5000/library/node:20@sha256:..." -> {"registry.example:5000/node", "20"}
// without the default registry: {"node", "20"}.
std::pair<std::string, std::string> RepositoryAndTag(std::string_view image) {
  if (size_t at = image.find('@'); at != std::string_view::npos) image = image.substr(0, at);
  std::string_view tag;
  size_t slash = image.rfind('/');
  size_t colon = image.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    tag = image.substr(colon + 1);
    image = image.substr(0, colon);
  }
  std::string repo = AsciiLower(image);
  for (std::string_view prefix : {"docker.io/", "index.docker.io/", "registry-1.docker.io/"}) {
    if (repo.starts_with(prefix)) repo.erase(0, prefix.size());
  }
  if (repo.starts_with("library/")) repo.erase(0, 8);
  return {repo, std::string(tag)};
}

bool RepositoryMatches(std::string_view pattern, std::string_view repo) {
  if (pattern.ends_with('*')) return repo.starts_with(pattern.substr(0, pattern.size() - 1));
  return pattern == repo;
}

bool TagMatches(std::string_view tags, std::string_view tag) {
  if (tags.empty()) return true;
  for (;;) {
    size_t bar = tags.find('|');
    if (tag.starts_with(tags.substr(0, bar))) return true;
    if (bar == std::string_view::npos) return false;
    tags.remove_prefix(bar + 1);
  }
}

}  // namespace

std::span<const BaseImageRule> BaseImageTable() { return kTable; }

Result<BaseImageOverride> ParseBaseImageOverride(std::string_view text) {
  size_t eq = text.find('=');
  BaseImageOverride o;
  if (eq != std::string_view::npos) {
    o.image = std::string(Trim(text.substr(0, eq)));
    std::string_view rest = Trim(text.substr(eq + 1));
    size_t comma = rest.find(',');
    o.runtime = std::string(Trim(rest.substr(0, comma)));
    o.dev = comma == std::string_view::npos ? o.runtime + "-dev"
                                            : std::string(Trim(rest.substr(comma + 1)));
  }
  if (o.image.empty() || o.runtime.empty() || o.dev.empty()) {
    return Fail(ErrorCode::kUsage,
                "--map '" + std::string(text) + "': want IMAGE=RUNTIME[,DEV], e.g. node:20=nodejs");
  }
  return o;
}

std::optional<BaseImageMatch> MatchBaseImage(std::string_view image,
                                             std::span<const BaseImageOverride> overrides) {
  auto [repo, tag] = RepositoryAndTag(image);
  for (const auto& o : overrides) {
    auto [orepo, otag] = RepositoryAndTag(o.image);
    if (orepo == repo && (otag.empty() || otag == tag)) {
      return BaseImageMatch{o.runtime, o.dev, "", {}, {}};
    }
  }
  for (const auto& rule : kTable) {
    if (!RepositoryMatches(rule.repository, repo) || !TagMatches(rule.tags, tag)) continue;
    return BaseImageMatch{std::string(rule.runtime), std::string(rule.dev), std::string(rule.note),
                          std::vector<PathMove>(rule.paths.begin(), rule.paths.end()),
                          std::vector<PortMove>(rule.ports.begin(), rule.ports.end())};
  }
  return std::nullopt;
}

}  // namespace hardbase::dockerfile
