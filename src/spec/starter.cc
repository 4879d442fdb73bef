#include "spec/starter.h"

#include <algorithm>
#include <array>
#include <vector>

#include "spec/names.h"

namespace hardbase::spec {
namespace {

constexpr std::array<std::string_view, 5> kRuntimeNames = {"static", "cc", "java17", "python3",
                                                           "nodejs"};

// Lines stay this short, as in the examples and docs.
constexpr size_t kMaxLine = 100;

// A list entry with the comment that explains it ("" for none).
struct Entry {
  std::string_view value;
  std::string_view comment;
};

// What a runtime's starter holds beyond the keys every starter shows. Kept in step with
// examples/<runtime>/image.yaml by starter_test.cc.
struct RuntimeText {
  std::string_view summary;  // comment lines above `packages:` (without "# ")
  std::vector<Entry> packages;
  std::vector<Entry> exclude;
  std::vector<Entry> path_excludes;  // `paths: exclude:` globs; empty: the key stays commented out
  std::string_view entrypoint;       // "" for none: the key stays commented out
  std::string_view program_src;      // the example `files:` entry: your program...
  std::string_view program_dest;     // ...and where it goes
  std::string_view program_entrypoint;  // the commented-out entrypoint when there is none
  std::string_view cmd;                 // the commented-out cmd
};

// The package sets build on each other as the examples do: static, cc = static + C/C++ runtimes,
// and the language runtimes on top of cc.
const std::vector<Entry> kStaticPackages = {
    {"base-files", "/etc/os-release, the directory layout"},
    {"ca-certificates", "the CA bundle, for TLS"},
    {"tzdata", "time zones"},
    {"netbase", "/etc/services and /etc/protocols"},
};
const std::vector<Entry> kCcPackages = {
    {"libc6", "the C library"},
    {"libgcc-s1", "GCC's runtime support (stack unwinding)"},
    {"libstdc++6", "the C++ standard library"},
    {"libssl3", "OpenSSL's libraries"},
};

std::vector<Entry> Concat(const std::vector<Entry>& a, const std::vector<Entry>& b) {
  std::vector<Entry> out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

RuntimeText TextFor(Runtime runtime) {
  const std::vector<Entry> cc_packages = Concat(kStaticPackages, kCcPackages);
  const std::vector<Entry> cc_exclude = {
      {"debconf", "tzdata and ca-certificates ask their install-time questions with it"},
      {"openssl", "the command-line tool (the library is libssl3)"},
      {"mawk", "base-files' postinst runs awk"},
  };
  switch (runtime) {
    case Runtime::kStatic:
      return {.summary =
                  "The smallest useful image: CA certificates, time zones, /etc/services and\n"
                  "/etc/protocols, and the default non-root user; for a statically linked\n"
                  "program, added with `files:`. No libc, no shell, no package manager.",
              .packages = kStaticPackages,
              .exclude = {{"debconf",
                           "tzdata and ca-certificates ask their install-time questions "
                           "with it"},
                          {"openssl", "ca-certificates' postinst runs it to build /etc/ssl/certs"},
                          {"mawk", "base-files' postinst runs awk"}},
              .path_excludes = {},
              .entrypoint = "",
              .program_src = "build/server",
              .program_dest = "/usr/local/bin/server",
              .program_entrypoint = "/usr/local/bin/server",
              .cmd = R"(["--port", "8080"])"};
    case Runtime::kCc:
      return {.summary =
                  "The C and C++ runtimes and OpenSSL, for dynamically linked C, C++, Rust or\n"
                  "Go (cgo) programs: add yours with `files:` and set `entrypoint:`.",
              .packages = cc_packages,
              .exclude = cc_exclude,
              .path_excludes = {},
              .entrypoint = "",
              .program_src = "build/server",
              .program_dest = "/usr/local/bin/server",
              .program_entrypoint = "/usr/local/bin/server",
              .cmd = R"(["--port", "8080"])"};
    case Runtime::kJava17: {
      std::vector<Entry> exclude = cc_exclude;
      exclude.push_back({"util-linux",
                         "and the libraries only it needs: not used by the Java "
                         "runtime"});
      exclude.push_back({"libcups2",
                         "the CUPS client library, loaded by the JRE only to print; it "
                         "brings 25 more packages"});
      return {.summary =
                  "The C and C++ runtimes plus the headless Java 17 runtime. hardbase makes\n"
                  "/usr/bin/java (the update-alternatives link) and the truststore\n"
                  "/etc/ssl/certs/java/cacerts that the packages' scripts would have made.",
              .packages = cc_packages,
              .exclude = exclude,
              .path_excludes = {{"/usr/lib/jvm/*/lib/ct.sym",
                                 "javac's symbol table; the runtime never reads it (5.5 MB)"},
                                {"/usr/lib/jvm/*/lib/server/classes_nocoops.jsa",
                                 "class data for heaps of 32 GiB and more only (3.4 MB)"}},
              .entrypoint = "/usr/bin/java",
              .program_src = "build/app.jar",
              .program_dest = "/srv/app/app.jar",
              .program_entrypoint = "",
              .cmd = R"(["-jar", "/srv/app/app.jar"])"};
    }
    case Runtime::kPython3: {
      std::vector<Entry> exclude = cc_exclude;
      exclude.push_back({"dpkg",
                         "python3-minimal's scripts call it; an image has no package "
                         "manager"});
      return {.summary = "The C and C++ runtimes plus Python 3 and its standard library.",
              .packages = cc_packages,
              .exclude = exclude,
              .path_excludes = {},
              .entrypoint = "/usr/bin/python3",
              .program_src = "app/",
              .program_dest = "/srv/app",
              .program_entrypoint = "",
              .cmd = R"(["/srv/app/main.py"])"};
    }
    case Runtime::kNodejs:
      return {.summary = "The C and C++ runtimes plus Node.js.",
              .packages = cc_packages,
              .exclude = cc_exclude,
              .path_excludes = {},
              .entrypoint = "/usr/bin/node",
              .program_src = "app/",
              .program_dest = "/srv/app",
              .program_entrypoint = "",
              .cmd = R"(["/srv/app/index.js"])"};
  }
  return {};
}

// The language runtime's own package, added to the cc set.
Entry RuntimePackage(Runtime runtime) {
  switch (runtime) {
    case Runtime::kJava17:
      return {"openjdk-17-jre-headless", "Java 17, without the GUI libraries"};
    case Runtime::kPython3:
      return {"python3", "the interpreter and its standard library"};
    case Runtime::kNodejs:
      return {"nodejs", "Node.js"};
    case Runtime::kStatic:
    case Runtime::kCc:
      break;
  }
  return {};
}

// `text` as comment lines: "# " before each line.
std::string Comment(std::string_view text, std::string_view indent = "") {
  std::string out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    out += indent;
    out += line.empty() ? "#" : "# ";
    out += line;
    out += '\n';
    start = end + 1;
  }
  return out;
}

// A YAML block list, one entry a line, comments aligned after the values; `prefix` starts every
// line ("" or "# " to comment the list out).
std::string List(const std::vector<Entry>& entries, std::string_view indent,
                 std::string_view prefix = "") {
  size_t width = 0;
  for (const auto& e : entries) width = std::max(width, e.value.size());
  std::string out;
  for (const auto& e : entries) {
    std::string line = std::string(prefix) + std::string(indent) + "- " + std::string(e.value);
    if (!e.comment.empty()) {
      std::string after =
          std::string(width - e.value.size() + 2, ' ') + "# " + std::string(e.comment);
      if (line.size() + after.size() <= kMaxLine) {
        line += after;
      } else {  // too long for one line: the comment goes above the entry
        out += std::string(prefix) + std::string(indent) + "# " + std::string(e.comment) + '\n';
      }
    }
    out += line + '\n';
  }
  return out;
}

// `name` as a YAML scalar that reads back as that string: plain when YAML cannot take it for a
// number, a boolean or null; double-quoted otherwise (a valid image name needs no escapes).
std::string YamlName(std::string_view name) {
  static constexpr std::string_view kSpecialWords[] = {"null", "true", "false", "yes", "no",
                                                       "on",   "off",  "y",     "n"};
  bool plain = name.front() >= 'a' && name.front() <= 'z' &&
               std::find(std::begin(kSpecialWords), std::end(kSpecialWords), name) ==
                   std::end(kSpecialWords);
  return plain ? std::string(name) : "\"" + std::string(name) + "\"";
}

}  // namespace

std::span<const std::string_view> RuntimeNames() { return kRuntimeNames; }

std::string_view RuntimeName(Runtime runtime) {
  return kRuntimeNames[static_cast<size_t>(runtime)];
}

Result<Runtime> ParseRuntime(std::string_view name) {
  for (size_t i = 0; i < kRuntimeNames.size(); ++i) {
    if (kRuntimeNames[i] == name) return static_cast<Runtime>(i);
  }
  return Fail(ErrorCode::kUsage, "unknown runtime '" + EscapeControlCharacters(name) +
                                     "' (expected static, cc, java17, python3 or nodejs)");
}

std::string StarterSpec(Runtime runtime, std::string_view name) {
  RuntimeText t = TextFor(runtime);
  if (Entry extra = RuntimePackage(runtime); !extra.value.empty()) t.packages.push_back(extra);
  std::string short_name(name.substr(name.rfind('/') + 1));
  std::string out;

  out += Comment(
      "The spec of the image " + std::string(name) +
      ": what goes into it (`hardbase init --runtime " + std::string(RuntimeName(runtime)) +
      "` wrote it).\n"
      "Every key is explained in docs/spec.md (share/doc/hardbase/spec.md where hardbase is\n"
      "installed). Only `name` and `packages` are required; the keys commented out below show\n"
      "the others, and say what you get without them. Unknown keys are errors, so a typo never\n"
      "silently changes an image.\n"
      "\n"
      "Next, in this directory:\n"
      "  hardbase lock image.yaml\n"
      "      resolves the packages into image.lock.json; commit it with this file, and run it\n"
      "      again after editing repositories, archs, packages, exclude or variant\n"
      "  hardbase build image.yaml -o out/" +
      short_name +
      "\n"
      "      builds the image from this spec and its lock");
  out += "\n";

  out += Comment(
      "The image's name, an OCI repository name: lowercase letters and digits separated\n"
      "by '.', '_', '-' or '/'.");
  out += "name: " + YamlName(name) + "\n\n";

  out += Comment(
      "Where packages come from: apt repositories, each InRelease signed by a key of `keyring`.\n"
      "When versions of a package are in several suites, the highest wins. Without this key:\n"
      "the host's apt sources (/etc/apt/sources.list.d/*.sources and *.list, with Signed-By).");
  out +=
      "# repositories:\n"
      "#   - url: https://mirror.example.org/debian\n"
      "#     suites: [bookworm, bookworm-updates]\n"
      "#     components: [main]                                        # the default\n"
      "#     keyring: /usr/share/keyrings/debian-archive-keyring.gpg   # the default\n"
      "#   - url: https://mirror.example.org/debian-security\n"
      "#     suites: [bookworm-security]\n\n";

  out += Comment(
      "Debian architectures to build for; more than one makes a multi-arch image (an OCI\n"
      "index). Without this key: the host's architecture.");
  out += "# archs: [amd64, arm64]\n\n";

  out += Comment(std::string(t.summary) +
                 "\n\n"
                 "Debian package names: the image holds exactly these and what they depend on\n"
                 "(Depends and Pre-Depends; no Recommends). `name=version` pins a version;\n"
                 "otherwise `hardbase lock` records the newest.");
  out += "packages:\n" + List(t.packages, "  ") + "\n";

  out += Comment(
      "Packages left out although something depends on them: you vouch that the image\n"
      "works without them. These are wanted only by the packages' maintainer scripts,\n"
      "which never run in an image (hardbase writes their results, such as the CA\n"
      "bundle and /etc/passwd, itself).");
  out += "exclude:\n" + List(t.exclude, "  ") + "\n";

  out += Comment(
      "Files of the packages to drop (`exclude`), or to keep although the default strip\n"
      "list (documentation, man pages, locales) drops them (`include`). Globs: `*` and\n"
      "`?` within a path component, `**` across components.");
  if (t.path_excludes.empty()) {
    out +=
        "# paths:\n"
        "#   exclude:\n"
        "#     - /usr/share/zoneinfo/right/**\n"
        "#   include:\n"
        "#     - /usr/share/locale/de/**\n\n";
  } else {
    out += "paths:\n  exclude:\n" + List(t.path_excludes, "    ") +
           "  # include:\n"
           "  #   - /usr/share/locale/de/**\n\n";
  }

  out += Comment(
      "Your program and its data: local files or directories copied into the image after\n"
      "the packages. `src` is relative to this file's directory (and must stay inside\n"
      "it); `mode` defaults to 0755 for directories and executables, 0644 otherwise;\n"
      "`owner` (user:group) to 0:0, so the program cannot change its own files.");
  out +=
      "# files:\n"
      "#   - src: " +
      std::string(t.program_src) +
      "\n"
      "#     dest: " +
      std::string(t.program_dest) +
      "\n"
      "#     mode: \"0755\"\n"
      "#     owner: \"0:0\"\n\n";

  out += Comment(
      "Directories with their owner and mode, e.g. a service's data or runtime\n"
      "directory that its package's maintainer scripts would have made (the build warns\n"
      "about what it could not do of those). `owner` may name a package's service user.\n"
      "`mode` defaults to 0755, `owner` to 0:0.");
  out +=
      "# dirs:\n"
      "#   - {path: /var/lib/app, owner: nonroot, mode: \"0750\"}\n\n";

  out += Comment(
      "The image's users and groups, and who it runs as. Without this key: user and\n"
      "group nonroot (65532), home /home/nonroot, shell /usr/sbin/nologin, run as\n"
      "nonroot.");
  out +=
      "# accounts:\n"
      "#   groups:\n"
      "#     - {name: app, gid: 1000}\n"
      "#   users:\n"
      "#     - {name: app, uid: 1000, gid: 1000, home: /srv/app}\n"
      "#   run-as: app\n\n";

  out += Comment(
      "What the container runs: `entrypoint`, then `cmd` as its default arguments. Lists\n"
      "of strings only: the image has no shell. Without them: [] each.");
  if (!t.entrypoint.empty()) {
    out += "entrypoint: [\"" + std::string(t.entrypoint) + "\"]\n";
  } else {
    out += "# entrypoint: [\"" + std::string(t.program_entrypoint) + "\"]\n";
  }
  out += "# cmd: " + std::string(t.cmd) + "\n";
  out += "\n";

  out += Comment("Environment variables. PATH is Debian's standard PATH unless you set it here.");
  out +=
      "# env:\n"
      "#   LANG: C.UTF-8\n\n";

  out += Comment("The working directory. Without this key: /.");
  out += "# workdir: /srv/app\n\n";

  out += Comment("The image config's labels and the manifest's annotations (string to string).");
  out +=
      "# labels:\n"
      "#   org.opencontainers.image.title: " +
      short_name +
      "\n"
      "# annotations:\n"
      "#   org.opencontainers.image.source: https://git.example.org/" +
      short_name + "\n\n";

  out += Comment(
      "`debug` adds busybox (a shell and core utilities) for troubleshooting; leave it out\n"
      "for the standard, shell-less image.");
  out += "# variant: debug\n";
  return out;
}

}  // namespace hardbase::spec
