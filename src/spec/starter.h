// Starter specs: the commented image.yaml that `hardbase init` writes for a newcomer.
//
// Each runtime asks for the same packages, exclusions, path filters and entrypoint as the
// matching examples/<runtime>/image.yaml (a test holds them together), and shows every other key
// of docs/spec.md commented out, so the file doubles as a short reference. Pure text: the CLI
// decides where it goes.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "base/error.h"

namespace hardbase::spec {

// What the image is for; each is one of the examples.
enum class Runtime {
  kStatic,  // statically linked programs: CA certificates, time zones, no libc
  kCc,  // dynamically linked C, C++, Rust or Go (cgo) programs: static + libc, libstdc++, OpenSSL
  kJava17,   // cc + the headless OpenJDK 17 runtime
  kPython3,  // cc + Python 3
  kNodejs,   // cc + Node.js
};

// The runtimes' names, in the order above: "static", "cc", "java17", "python3", "nodejs".
std::span<const std::string_view> RuntimeNames();
std::string_view RuntimeName(Runtime runtime);
// kUsage error naming the choices for anything else.
Result<Runtime> ParseRuntime(std::string_view name);

// The starter spec for `runtime`, named `name`, which must be a valid image name
// (IsValidImageName); the text always parses with ParseImageSpec.
std::string StarterSpec(Runtime runtime, std::string_view name);

}  // namespace hardbase::spec
