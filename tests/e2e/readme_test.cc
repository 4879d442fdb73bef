// The README's shell examples, kept true. Three checks, from cheap to real:
//
// - every ```sh block of README.md parses (`bash -n`), and the blocks this test must run are
//   still marked (a marker is the line `<!-- readme-test: run -->` right before a ```sh fence);
// - every `hardbase SUBCOMMAND --flag` written in any ```sh block exists: the help of hardbase
//   (or of the command above, for `vuln update`) lists the subcommand, and the subcommand's help
//   lists the flag (or the top-level help does, for global options);
// - the marked blocks run, in the README's order, in one `bash` with `set -euo pipefail`, as a
//   newcomer would type them after scripts/main-job.sh: from a copy of the checkout's examples/,
//   with the freshly built hardbase as `hardbase` on PATH, a real loopback docker-registry in
//   place of `registry.example`, and a real podman (Debian's) as `podman`, and as `docker` the
//   way Debian's podman-docker package provides it.
//
// The README shows the plain user-facing commands. What this machine needs around them is added
// by wrappers on PATH, not by editing the commands: podman gets what it needs on a Debian 12 host
// with a hybrid cgroup layout and no systemd (support/podman.h), and hardbase gets `--plain-http`
// for commands that name the loopback registry (a real registry.example speaks https, the test's
// plain http).
// A hardbase that changes its options or output makes this test fail, as a reader would.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/fs.h"
#include "base/strings.h"
#include "support/command_lines.h"
#include "support/examples.h"
#include "support/podman.h"
#include "support/process.h"
#include "support/registry_fixture.h"

namespace hardbase::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::string_view kRunMarker = "<!-- readme-test: run -->";
// The host the README's registry examples name; the test's registry takes its place.
constexpr std::string_view kExampleRegistry = "registry.example";

// One fenced block of the README.
struct Block {
  int line = 0;         // of the opening fence, 1-based
  std::string section;  // the nearest heading above it ("## Run it")
  std::string lang;     // the fence's info string ("sh", "yaml", ...)
  std::string text;     // the lines between the fences
  bool run = false;     // marked to be run
};

struct Readme {
  std::vector<Block> blocks;
  std::vector<std::string> errors;  // malformed fences or markers, with their line
};

bool IsShell(const Block& b) { return b.lang == "sh" || b.lang == "bash" || b.lang == "shell"; }

// Splits the README into its fenced blocks (``` fences, indented or not), noting the heading
// each falls under and whether the run marker precedes it (blank lines between are allowed).
Readme ParseReadme(const std::string& text) {
  Readme readme;
  std::string section;
  int marker_line = 0;  // a marker waiting for its fence
  std::optional<Block> open;
  size_t indent = 0;
  int number = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    start = end + 1;
    ++number;
    std::string_view trimmed = TrimLeft(line);
    if (open) {
      if (trimmed.starts_with("```")) {
        readme.blocks.push_back(std::move(*open));
        open.reset();
      } else {
        // Lines of an indented block lose the fence's indentation.
        size_t strip = std::min(indent, line.size() - TrimLeft(line).size());
        open->text += std::string(line.substr(strip)) + "\n";
      }
      continue;
    }
    if (trimmed.starts_with("```")) {
      Block block;
      block.line = number;
      block.section = section;
      block.lang = std::string(Trim(trimmed.substr(3)));
      block.run = marker_line != 0;
      if (block.run && !IsShell(block)) {
        readme.errors.push_back("line " + std::to_string(marker_line) +
                                ": the run marker precedes a ```" + block.lang + " block");
      }
      marker_line = 0;
      indent = line.size() - trimmed.size();
      open = std::move(block);
      continue;
    }
    if (Trim(line) == kRunMarker) {
      marker_line = number;
      continue;
    }
    if (Trim(line).empty()) continue;
    if (marker_line != 0) {
      readme.errors.push_back("line " + std::to_string(marker_line) +
                              ": the run marker is not right before a ```sh fence");
      marker_line = 0;
    }
    if (line.starts_with("#")) section = std::string(Trim(line));
  }
  if (open) readme.errors.push_back("line " + std::to_string(open->line) + ": fence never closed");
  if (marker_line != 0) {
    readme.errors.push_back("line " + std::to_string(marker_line) + ": run marker at the end");
  }
  return readme;
}

Readme LoadReadme() {
  auto text = ReadFile(std::string(HARDBASE_SOURCE_DIR) + "/README.md");
  EXPECT_TRUE(text.has_value()) << text.error().message;
  return ParseReadme(text ? *text : "");
}

std::string Where(const Block& b) {
  return "README.md line " + std::to_string(b.line) + " (" + b.section + ")";
}

// The marked blocks of a section, joined.
std::string RunText(const Readme& readme, std::string_view section) {
  std::string out;
  for (const auto& b : readme.blocks) {
    if (b.run && b.section == section) out += b.text;
  }
  return out;
}

size_t Count(std::string_view haystack, std::string_view needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string_view::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

TEST(ReadmeE2ETest, ShellBlocksParseAndTheRunnableOnesAreMarked) {
  Readme readme = LoadReadme();
  EXPECT_THAT(readme.errors, ::testing::IsEmpty());
  int shell = 0;
  for (const auto& b : readme.blocks) {
    if (!IsShell(b)) continue;
    ++shell;
    ProcessResult r = RunProcess({"bash", "-n", "-c", b.text});
    EXPECT_EQ(r.exit_code, 0) << Where(b) << " does not parse:\n" << r.err << b.text;
  }
  EXPECT_GE(shell, 10);
  // What the run below must cover; a marker dropped by an edit fails here, not silently there.
  std::string first_spec = RunText(readme, "## Your first spec");
  EXPECT_THAT(first_spec, HasSubstr("hardbase init"));
  EXPECT_THAT(first_spec, HasSubstr("hardbase lock"));
  EXPECT_THAT(first_spec, HasSubstr("hardbase build"));
  EXPECT_THAT(first_spec, HasSubstr("podman run"));
  std::string run_it = RunText(readme, "## Run it");
  EXPECT_THAT(run_it, HasSubstr("podman run --rm oci:out/java17:java17"));
  EXPECT_THAT(run_it, HasSubstr("docker load"));
  std::string use = RunText(readme, "## Use");
  EXPECT_THAT(use, HasSubstr("hardbase push"));
  EXPECT_THAT(use, HasSubstr("hardbase pin"));
  EXPECT_THAT(use, HasSubstr("hardbase verify \"$(hardbase pin registry.example/"));
  // The project installs no skopeo for its users' path; images are inspected with hardbase.
  for (const auto& b : readme.blocks) {
    EXPECT_THAT(b.text, Not(HasSubstr("skopeo inspect"))) << Where(b);
  }
}

// ---------------------------------------------------------------------------------------------
// Every hardbase command line in the README's shell blocks names a real subcommand and flags.

TEST(ReadmeE2ETest, EveryHardbaseCommandAndFlagExists) {
  Readme readme = LoadReadme();
  CommandLineChecker checker;
  for (const auto& block : readme.blocks) {
    if (!IsShell(block)) continue;
    for (const auto& words : HardbaseInvocations(block.text)) {
      for (const auto& problem : checker.Check(words))
        ADD_FAILURE() << Where(block) << ": " << problem;
    }
  }
  // Guards the parser: the README holds dozens of each.
  EXPECT_GE(checker.commands(), 25);
  EXPECT_GE(checker.flags(), 20);
}

// ---------------------------------------------------------------------------------------------
// The marked blocks, run.

// The wrappers the commands find on PATH, under `work`: podman (support/podman.h) and docker,
// and hardbase. `registry_host` is "127.0.0.1:PORT".
Result<void> PrepareTools(const std::string& work, const std::string& registry_host,
                          const Podman& podman) {
  const std::string hardbase = fs::absolute(HardbaseBinary()).string();
  const std::string bin = work + "/bin";
  for (const auto& d : {bin, work + "/home"}) HB_TRY_VOID(MakeDirs(d));
  HB_TRY_VOID(podman.WriteWrapper(bin + "/podman"));
  // What Debian's podman-docker package does: `docker` is podman.
  std::string docker = "#!/bin/sh\nexec " + ShellQuote(bin + "/podman") + " \"$@\"\n";
  HB_TRY_VOID(WriteFileAtomic(bin + "/docker", docker, 0755));
  // The test's registry speaks plain http, where registry.example would speak https.
  std::string hb = "#!/bin/sh\n";
  hb += "case \" $* \" in *" + ShellQuote(registry_host + "/") + "*) exec " + ShellQuote(hardbase) +
        " \"$@\" --plain-http ;; esac\n";
  hb += "exec " + ShellQuote(hardbase) + " \"$@\"\n";
  HB_TRY_VOID(WriteFileAtomic(bin + "/hardbase", hb, 0755));
  return {};
}

TEST(ReadmeE2ETest, MarkedBlocksRunAsWritten) {
  if (std::string why = Podman::Unavailable(); !why.empty()) GTEST_SKIP() << why;
  if (FindInPath("docker-registry").empty()) {
    GTEST_SKIP() << "docker-registry is needed (scripts/install-deps.sh --test)";
  }
  Readme readme = LoadReadme();
  ASSERT_THAT(readme.errors, ::testing::IsEmpty());

  auto dir = TempDir::Create("hardbase-readme-");
  ASSERT_TRUE(dir.has_value()) << dir.error().message;
  const std::string work = dir->path(), checkout = work + "/checkout";
  auto registry = RegistryServer::Start();
  ASSERT_TRUE(registry.has_value()) << registry.error().message;
  const std::string host = (*registry)->host();
  auto podman = Podman::Create(work + "/podman", {host});
  ASSERT_TRUE(podman.has_value()) << podman.error().message;
  auto prepared = PrepareTools(work, host, **podman);
  ASSERT_TRUE(prepared.has_value()) << prepared.error().message;
  // What the commands read from a checkout: the examples.
  std::error_code ec;
  fs::create_directories(checkout, ec);
  fs::copy(std::string(HARDBASE_SOURCE_DIR) + "/examples", checkout + "/examples",
           fs::copy_options::recursive, ec);
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_TRUE(MakeDirs(ExamplesSuiteDir()).has_value());

  // One bash for all blocks, as a reader's terminal would be; a failure names its block.
  std::string script = "set -Eeuo pipefail\nexec 2>&1\nblock='the set-up'\n";
  script += "trap 'echo \"FAILED in $block: $BASH_COMMAND\"' ERR\n";
  script += "cd " + ShellQuote(checkout) + "\n";
  // What scripts/main-job.sh leaves behind, which "Run it" starts from.
  script += "mkdir -p out\n";
  script += "hardbase lock examples/java17/image.yaml -o out/java17.lock.json\n";
  script +=
      "hardbase build examples/java17/image.yaml --lock out/java17.lock.json -o out/java17 "
      "--tag java17\n";
  int blocks = 0;
  for (const auto& b : readme.blocks) {
    if (!b.run) continue;
    ++blocks;
    script += "block=" + ShellQuote(Where(b)) + "\necho \"=== $block (at ${SECONDS} s)\"\n";
    script += ReplaceAll(b.text, kExampleRegistry, host);
  }
  ASSERT_GE(blocks, 5);
  script += "echo \"=== done (at ${SECONDS} s)\"\n";
  ASSERT_TRUE(WriteFileAtomic(work + "/readme.sh", script).has_value());

  const char* path = std::getenv("PATH");
  ASSERT_NE(path, nullptr);
  // About 40 s on 2 cores, most of it podman copying layers into its storage.
  ProcessResult r = RunProcess(WithinLimits({"bash", work + "/readme.sh"}, 480),
                               {{"PATH", work + "/bin:" + path},
                                {"HOME", work + "/home"},
                                {"HARDBASE_CACHE_DIR", ExamplesSuiteDir() + "/cache"}});
  const std::string& out = r.out;
  ASSERT_EQ(r.exit_code, 0) << "the README's marked blocks failed; the end of their output:\n"
                            << out.substr(out.size() > 12000 ? out.size() - 12000 : 0);

  // What the README says they do.
  EXPECT_THAT(out, HasSubstr("hello from myapp"));  // "Your first spec", run by podman
  EXPECT_TRUE(fs::exists(checkout + "/myapp/image.lock.json"));
  // java -version from the layout, from the registry by digest, and from the docker-archive.
  EXPECT_GE(Count(out, "openjdk version \"17"), 3u) << out;
  // The name the README gives for podman's load of the docker-archive, and docker's.
  EXPECT_THAT(out, HasSubstr("Loaded image: localhost/java17:latest"));
  ProcessResult manifest = RunProcess({"tar", "-xOf", checkout + "/java17.tar", "manifest.json"});
  EXPECT_THAT(manifest.out, HasSubstr(R"("RepoTags":["java17:latest"])"));
  // Pushed, pinned and verified in the registry, which an independent client reads back.
  auto tags = (*registry)->ListTags("team/java17");
  ASSERT_TRUE(tags.has_value()) << tags.error().message;
  EXPECT_THAT(*tags, ::testing::Contains("1"));
  // verify, of the layout and of the pinned reference.
  EXPECT_GE(Count(out, ": verified signature"), 2u) << out;
}

}  // namespace
}  // namespace hardbase::testing
