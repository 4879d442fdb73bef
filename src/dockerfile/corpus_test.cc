// Real-world Dockerfiles (src/dockerfile/testdata/corpus/*.Dockerfile, their origins in
// SOURCES.md): each parses, and its canonical text parses back to the same tree.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "base/fs.h"
#include "dockerfile/dockerfile.h"

namespace hardbase::dockerfile {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> CorpusFiles() {
  const fs::path dir = fs::path(HARDBASE_SOURCE_DIR) / "src/dockerfile/testdata/corpus";
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file() && entry.path().filename().string().ends_with(".Dockerfile")) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(Corpus, HasAtLeastFiftyFiles) { EXPECT_GE(CorpusFiles().size(), 50u); }

TEST(Corpus, EachParsesAndRoundTrips) {
  for (const fs::path& path : CorpusFiles()) {
    SCOPED_TRACE(path.filename().string());
    auto text = ReadFile(path.string());
    ASSERT_TRUE(text) << text.error().message;
    auto parsed = Parse(*text);
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_FALSE(parsed->Stages().empty());
    std::string printed = Print(*parsed);
    auto again = Parse(printed);
    ASSERT_TRUE(again) << again.error().message << "\n--- printed:\n" << printed;
    EXPECT_EQ(*again, *parsed) << "--- printed:\n" << printed;
    EXPECT_EQ(Print(*again), printed);
  }
}

}  // namespace
}  // namespace hardbase::dockerfile
