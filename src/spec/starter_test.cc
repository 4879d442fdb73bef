#include "spec/starter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <set>
#include <sstream>

#include "base/fs.h"
#include "spec/image_spec.h"
#include "support/result_matchers.h"

namespace hardbase::spec {
namespace {

using ::hardbase::testing::FailsWith;

using ::testing::HasSubstr;

std::string SourcePath(const std::string& relative) {
  return std::string(HARDBASE_SOURCE_DIR) + "/" + relative;
}

ImageSpec MustParseStarter(const std::string& yaml) {
  auto spec = ParseImageSpec(yaml, "new/image.yaml");
  EXPECT_TRUE(spec.has_value()) << (spec ? "" : spec.error().message) << "\n" << yaml;
  return spec ? *spec : ImageSpec{};
}

std::vector<std::string> Requests(const ImageSpec& spec) {
  std::vector<std::string> out;
  for (const auto& p : spec.packages) out.push_back(p.ToString());
  return out;
}

// The starter with every commented-out block of one of `keys` ("# key: ..." and the "#   ..."
// lines under it, at any indentation) turned into YAML: what a newcomer gets by deleting the "# ".
std::string Uncommented(const std::string& text, const std::set<std::string>& keys) {
  static const std::regex kKeyLine(R"(^( *)# (([a-z-]+):( .*)?)$)");
  std::istringstream in(text);
  std::string out, line, block_indent;
  bool in_block = false;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, kKeyLine) && keys.count(m[3])) {
      in_block = true;
      block_indent = m[1];
      out += block_indent + std::string(m[2]) + "\n";
    } else if (in_block && line.starts_with(block_indent + "#   ")) {
      out += block_indent + line.substr(block_indent.size() + 2) + "\n";
    } else {
      in_block = false;
      out += line + "\n";
    }
  }
  return out;
}

TEST(StarterTest, RuntimeNamesRoundTrip) {
  ASSERT_EQ(RuntimeNames().size(), 5u);
  for (std::string_view name : RuntimeNames()) {
    auto runtime = ParseRuntime(name);
    ASSERT_TRUE(runtime.has_value()) << name;
    EXPECT_EQ(RuntimeName(*runtime), name);
  }
  auto bad = ParseRuntime("java");
  ASSERT_FALSE(bad.has_value());
  EXPECT_THAT(bad, FailsWith(ErrorCode::kUsage));
  EXPECT_THAT(bad.error().message, HasSubstr("'java'"));
  EXPECT_THAT(bad.error().message, HasSubstr("java17"));
  EXPECT_FALSE(ParseRuntime("").has_value());
  EXPECT_FALSE(ParseRuntime("Static").has_value());
}

// Every example has a runtime and every runtime an example, so init offers exactly the examples.
TEST(StarterTest, RuntimesAreTheExamples) {
  std::set<std::string> examples, runtimes;
  for (const auto& entry : std::filesystem::directory_iterator(SourcePath("examples"))) {
    if (PathExists(entry.path().string() + "/image.yaml")) {
      examples.insert(entry.path().filename().string());
    }
  }
  for (std::string_view name : RuntimeNames()) runtimes.insert(std::string(name));
  EXPECT_EQ(examples, runtimes);
}

// A starter asks for exactly what its example asks for, so `init --runtime X` builds the image
// the README describes for X; the examples are read from the source tree so the two cannot drift.
TEST(StarterTest, EachStarterAsksForWhatItsExampleAsksFor) {
  for (std::string_view name : RuntimeNames()) {
    SCOPED_TRACE(std::string(name));
    std::string path = SourcePath("examples/" + std::string(name) + "/image.yaml");
    auto example = LoadImageSpec(path);
    ASSERT_TRUE(example.has_value()) << example.error().message;
    ImageSpec starter = MustParseStarter(StarterSpec(*ParseRuntime(name), "demo"));

    EXPECT_EQ(starter.name, "demo");
    EXPECT_EQ(Requests(starter), Requests(*example));
    EXPECT_EQ(starter.exclude, example->exclude);
    EXPECT_EQ(starter.paths, example->paths);
    EXPECT_EQ(starter.entrypoint, example->entrypoint);
    EXPECT_EQ(starter.cmd, example->cmd);
    EXPECT_EQ(starter.repositories, example->repositories);
    EXPECT_EQ(starter.archs, example->archs);
    EXPECT_EQ(starter.variant, example->variant);
    EXPECT_EQ(starter.accounts, example->accounts);
    EXPECT_EQ(starter.files, example->files);
    EXPECT_EQ(starter.env, example->env);
    EXPECT_EQ(starter.workdir, example->workdir);
    // Hence the same lock: the committed examples/*/image.lock.json fits the starter too.
    EXPECT_EQ(ResolutionDigest(starter), ResolutionDigest(*example));
  }
}

TEST(StarterTest, RuntimesDiffer) {
  std::set<std::string> digests;
  for (std::string_view name : RuntimeNames()) {
    digests.insert(ResolutionDigest(MustParseStarter(StarterSpec(*ParseRuntime(name), "demo"))));
  }
  EXPECT_EQ(digests.size(), RuntimeNames().size());
}

// Every key docs/spec.md documents is in every starter, set or commented out, and the
// commented-out examples are themselves valid: uncommenting them all gives a spec that parses and
// sets every key.
TEST(StarterTest, StartersShowEveryDocumentedKeyWithValidExamples) {
  auto doc = ReadFile(SourcePath("docs/spec.md"));
  ASSERT_TRUE(doc.has_value());
  std::set<std::string> documented;
  static const std::regex kHeading(R"(^### `([a-z-]+)`(?:, `([a-z-]+)`)?)");
  std::istringstream lines(*doc);
  std::string line;
  while (std::getline(lines, line)) {
    std::smatch m;
    if (!std::regex_search(line, m, kHeading)) continue;
    documented.insert(m[1]);
    if (m[2].matched) documented.insert(m[2]);
  }
  ASSERT_GE(documented.size(), 15u) << "docs/spec.md's headings changed shape";

  for (std::string_view name : RuntimeNames()) {
    SCOPED_TRACE(std::string(name));
    std::string text = StarterSpec(*ParseRuntime(name), "demo");
    for (const auto& key : documented) {
      EXPECT_TRUE(std::regex_search(text, std::regex("(^|\n)(# )?" + key + ":"))) << key;
    }
    EXPECT_THAT(text, HasSubstr("docs/spec.md"));

    std::set<std::string> keys = documented;
    keys.insert({"include", "exclude"});  // `paths:` has commented-out keys of its own
    ImageSpec full = MustParseStarter(Uncommented(text, keys));
    EXPECT_EQ(full.repositories.size(), 2u);
    EXPECT_EQ(full.archs, (std::vector<std::string>{"amd64", "arm64"}));
    EXPECT_FALSE(full.paths.include.empty());
    EXPECT_FALSE(full.paths.exclude.empty());
    ASSERT_EQ(full.files.size(), 1u);
    EXPECT_EQ(full.accounts.run_as, "app");
    EXPECT_FALSE(full.entrypoint.empty());
    EXPECT_EQ(full.env.at("LANG"), "C.UTF-8");
    EXPECT_EQ(full.workdir, "/srv/app");
    EXPECT_FALSE(full.labels.empty());
    EXPECT_FALSE(full.annotations.empty());
    EXPECT_EQ(full.variant, Variant::kDebug);
    // The uncommented spec keeps the starter's packages.
    EXPECT_EQ(Requests(full), Requests(MustParseStarter(text)));
  }
}

// Any valid image name reads back as itself, including ones YAML would take for a number, a
// boolean or null when written bare.
TEST(StarterTest, NamesReadBackAsWritten) {
  for (std::string name : {"app", "team/payments-api", "a__b.c", "null", "true", "no", "y", "123",
                           "1.0", "0x1f", "1e5", "7-up"}) {
    ASSERT_TRUE(IsValidImageName(name)) << name;
    EXPECT_EQ(MustParseStarter(StarterSpec(Runtime::kStatic, name)).name, name);
  }
}

TEST(StarterTest, LinesFitTheDocsWidth) {
  for (std::string_view name : RuntimeNames()) {
    std::istringstream lines(StarterSpec(*ParseRuntime(name), "demo"));
    std::string line;
    while (std::getline(lines, line)) EXPECT_LE(line.size(), 100u) << name << ": " << line;
  }
}

}  // namespace
}  // namespace hardbase::spec
