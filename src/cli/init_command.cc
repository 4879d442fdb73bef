// `hardbase init [--runtime R] [--name N] [--force] [DIR]`: a commented starter spec,
// DIR/image.yaml (./image.yaml without DIR), and nothing else.
#include <filesystem>
#include <system_error>

#include "base/fs.h"
#include "base/log.h"
#include "base/strings.h"
#include "cli/command.h"
#include "spec/names.h"
#include "spec/starter.h"

namespace hardbase::cli {
namespace {

struct InitFlags {
  std::string dir;
  std::string runtime = "static";
  std::string name;
  bool force = false;
};

// The last component of `dir` as the user would name it ("." -> the current directory's name).
Result<std::string> DirectoryName(const std::string& dir) {
  std::error_code ec;
  std::filesystem::path path = std::filesystem::absolute(dir, ec);
  if (ec) return Fail(ErrorCode::kIo, "init: " + dir + ": " + ec.message());
  path = path.lexically_normal();
  if (!path.has_filename()) path = path.parent_path();  // "/a/b/" -> "/a/b"
  return path.filename().string();
}

Result<int> RunInit(const InitFlags& flags) {
  HB_TRY(spec::Runtime runtime, spec::ParseRuntime(flags.runtime));
  std::string name = flags.name;
  if (name.empty()) {
    HB_TRY(name, DirectoryName(flags.dir.empty() ? "." : flags.dir));
  }
  if (!spec::IsValidImageName(name)) {
    std::string what = !flags.name.empty() ? "--name"
                       : flags.dir.empty() ? "the current directory's name"
                                           : "the directory's name";
    return Fail(ErrorCode::kUsage,
                "init: '" + name + "' (" + what +
                    ") is not a valid image name: lowercase letters and digits separated by '.', "
                    "'_', '-' or '/'; choose one with --name");
  }

  std::string path = "image.yaml";
  if (!flags.dir.empty()) {
    path = flags.dir + (flags.dir.ends_with('/') ? "" : "/") + path;
  }
  if (!flags.force && PathExists(path)) {
    return Fail(ErrorCode::kUsage,
                "init: " + path + " exists; pass --force to replace it with a starter spec");
  }
  if (!flags.dir.empty()) HB_TRY_VOID(MakeDirs(flags.dir));
  HB_TRY_VOID(WriteFileAtomic(path, spec::StarterSpec(runtime, name)));

  std::string output = "out/" + name.substr(name.rfind('/') + 1);
  LogInfo("wrote {}: a starter spec for the {} runtime, explained in its comments", path,
          spec::RuntimeName(runtime));
  LogInfo("next:");
  LogInfo("  hardbase lock {}", ShellQuote(path));
  LogInfo("  hardbase build {} -o {}", ShellQuote(path), output);
  return 0;
}

}  // namespace

void AddInitCommand(CLI::App& app, CommandRunner& runner) {
  auto flags = std::make_shared<InitFlags>();
  CLI::App* cmd = app.add_subcommand(
      "init", "Write a commented starter spec: DIR/image.yaml, or ./image.yaml without DIR");
  cmd->add_option("DIR", flags->dir,
                  "Directory for the spec (made if missing); its name is the image's name");
  cmd->add_option("--runtime", flags->runtime,
                  "What the image is for: static (statically linked programs), cc (C, C++, Rust, "
                  "Go with cgo), java17, python3 or nodejs")
      ->check(CLI::IsMember(Choices(spec::RuntimeNames())))
      ->capture_default_str();
  cmd->add_option("--name", flags->name, "The image's name (default: the directory's name)");
  cmd->add_flag("-f,--force", flags->force, "Replace an existing image.yaml");
  cmd->callback([&runner, flags] { runner = [flags] { return RunInit(*flags); }; });
}

}  // namespace hardbase::cli
