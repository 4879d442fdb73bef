// The programs that make an image an attacker's workshop, by kind: shells, package managers,
// compilers, debuggers and network tools. Table-driven and matched on an executable's file name
// only (where it lives -- a bin or sbin directory -- is the caller's test, see audit.h). Pure.
//
// What is in the tables and why:
//  - shells: every POSIX and non-POSIX shell Debian ships, and busybox/toybox (a shell among
//    their applets);
//  - package managers: the system's (dpkg, apt, rpm, apk, ...) and the languages' (pip, npm,
//    gem, cargo, composer, ...): in a runtime image they install code at run time just the same,
//    so npm in a Node.js image counts;
//  - compilers: C/C++ (gcc, cc, clang, tcc), assemblers and linkers (as, ld), and the other
//    languages' (rustc, go, javac, ghc, gfortran, ...);
//  - debuggers and tracers: gdb, strace, ltrace, valgrind, perf, bpftrace, ...;
//  - network tools: clients and listeners an intruder fetches payloads or tunnels with (curl,
//    wget, nc, socat, ssh, scp, ftp, rsync, nmap, tcpdump, ...). Interpreters (python, perl,
//    node) are not listed: an image built for them needs them.
// A name matches as it is, and also without a version suffix ("gcc-12", "pip3.11", "clang-14")
// and a GNU target prefix ("x86_64-linux-gnu-gcc-12").
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace hardbase::audit {

enum class ToolKind { kShell, kPackageManager, kCompiler, kDebugger, kNetworkTool };

// Every kind, in the order above.
std::span<const ToolKind> ToolKinds();
// "shells", "package_managers", "compilers", "debuggers", "network_tools" (the JSON keys).
std::string_view ToolKindKey(ToolKind kind);
// "shell", "package manager", ... (for people).
std::string_view ToolKindName(ToolKind kind);
// The names of a kind's table.
std::span<const std::string_view> ToolNames(ToolKind kind);

// The kind of tool an executable named `file_name` is, if any.
std::optional<ToolKind> ClassifyTool(std::string_view file_name);

}  // namespace hardbase::audit
