#include "audit/tools.h"

#include <algorithm>
#include <array>

namespace hardbase::audit {
namespace {

constexpr std::array<ToolKind, 5> kKinds = {ToolKind::kShell, ToolKind::kPackageManager,
                                            ToolKind::kCompiler, ToolKind::kDebugger,
                                            ToolKind::kNetworkTool};

constexpr std::string_view kShells[] = {
    "sh",   "bash",  "rbash", "dash", "zsh",  "ash",  "ksh",  "ksh93",   "mksh",
    "lksh", "pdksh", "csh",   "tcsh", "fish", "yash", "posh", "busybox", "toybox",
};
constexpr std::string_view kPackageManagers[] = {
    "dpkg",    "dpkg-deb", "apt",      "apt-get", "aptitude",   "rpm",          "yum",
    "dnf",     "microdnf", "tdnf",     "zypper",  "apk",        "pacman",       "opkg",
    "pip",     "pipx",     "conda",    "mamba",   "micromamba", "easy_install", "npm",
    "npx",     "yarn",     "yarnpkg",  "pnpm",    "corepack",   "gem",          "bundle",
    "bundler", "cargo",    "composer", "cpan",    "cpanm",      "nuget",
};
constexpr std::string_view kCompilers[] = {
    "gcc",   "cc",    "c++",     "g++",     "c89",      "c99",  "clang", "clang++", "tcc",
    "as",    "ld",    "ld.bfd",  "ld.gold", "ld.lld",   "nasm", "yasm",  "rustc",   "go",
    "gccgo", "javac", "kotlinc", "scalac",  "gfortran", "gnat", "fpc",   "ghc",     "gdc",
};
constexpr std::string_view kDebuggers[] = {
    "gdb",  "gdbserver", "lldb",   "lldb-server", "strace", "ltrace", "valgrind",
    "perf", "bpftrace",  "sysdig", "eu-stack",    "pstack", "dtrace",
};
constexpr std::string_view kNetworkTools[] = {
    "curl", "wget",  "wget2",  "nc",   "netcat",  "nc.openbsd", "nc.traditional",
    "ncat", "socat", "telnet", "ssh",  "scp",     "sftp",       "ftp",
    "tftp", "lftp",  "rsync",  "nmap", "tcpdump", "tshark",
};

bool Listed(ToolKind kind, std::string_view name) {
  auto names = ToolNames(kind);
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::optional<ToolKind> Lookup(std::string_view name) {
  for (ToolKind kind : kKinds) {
    if (Listed(kind, name)) return kind;
  }
  return std::nullopt;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// `name` without a version at its end: "-12", "3.11", "-14.0" ("pip3.11" -> "pip").
std::string_view WithoutVersion(std::string_view name) {
  size_t end = name.size();
  while (end > 0 && (IsDigit(name[end - 1]) || name[end - 1] == '.')) --end;
  if (end == name.size() || end == 0 || !IsDigit(name[end])) return name;
  if (name[end - 1] == '-') --end;
  return name.substr(0, end);
}

// `name` without a GNU target prefix: "x86_64-linux-gnu-gcc" -> "gcc".
std::string_view WithoutTarget(std::string_view name) {
  for (std::string_view marker : {"-linux-gnu-", "-linux-gnueabihf-", "-linux-gnueabi-",
                                  "-linux-gnux32-", "-linux-musl-", "-w64-mingw32-"}) {
    size_t at = name.find(marker);
    if (at != std::string_view::npos) return name.substr(at + marker.size());
  }
  return name;
}

}  // namespace

std::span<const ToolKind> ToolKinds() { return kKinds; }

std::string_view ToolKindKey(ToolKind kind) {
  switch (kind) {
    case ToolKind::kShell:
      return "shells";
    case ToolKind::kPackageManager:
      return "package_managers";
    case ToolKind::kCompiler:
      return "compilers";
    case ToolKind::kDebugger:
      return "debuggers";
    case ToolKind::kNetworkTool:
      return "network_tools";
  }
  return "";
}

std::string_view ToolKindName(ToolKind kind) {
  switch (kind) {
    case ToolKind::kShell:
      return "shell";
    case ToolKind::kPackageManager:
      return "package manager";
    case ToolKind::kCompiler:
      return "compiler";
    case ToolKind::kDebugger:
      return "debugger";
    case ToolKind::kNetworkTool:
      return "network tool";
  }
  return "";
}

std::span<const std::string_view> ToolNames(ToolKind kind) {
  switch (kind) {
    case ToolKind::kShell:
      return kShells;
    case ToolKind::kPackageManager:
      return kPackageManagers;
    case ToolKind::kCompiler:
      return kCompilers;
    case ToolKind::kDebugger:
      return kDebuggers;
    case ToolKind::kNetworkTool:
      return kNetworkTools;
  }
  return {};
}

std::optional<ToolKind> ClassifyTool(std::string_view file_name) {
  if (auto kind = Lookup(file_name)) return kind;
  std::string_view bare = WithoutVersion(WithoutTarget(file_name));
  if (bare != file_name) {
    if (auto kind = Lookup(bare)) return kind;
  }
  return Lookup(WithoutTarget(WithoutVersion(file_name)));
}

}  // namespace hardbase::audit
