// The record a built layout keeps of its inputs, and what `catalog build --changed-only` reads
// from it: built from the fake repository's packages, then rebuilt after a new lock, a spec
// edit, a changed `files:` source.
#include "pipeline/build_record.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "pipeline/catalog.h"
#include "pipeline/fake_repository_test_support.h"
#include "pipeline/lock_pipeline.h"

namespace hardbase::pipeline {
namespace {

using ::testing::Optional;

class BuildRecordTest : public FakeRepositoryTest {
 protected:
  void SetUp() override {
    FakeRepositoryTest::SetUp();
    if (HasFatalFailure()) return;
    AddFooAndBar();
    Publish("stable");
    ASSERT_TRUE(WriteFileAtomic(Work() + "/motd", "hello\n").has_value());
    WriteSpecAndLock(kBody);
  }

  static constexpr std::string_view kBody =
      "packages: [libfoo1]\nfiles:\n  - {src: motd, dest: /etc/motd}\n";

  void WriteSpecAndLock(std::string_view body) {
    spec_path_ = WriteSpec(body);
    auto lock = LockOrFail(ParseSpec(body));
    ASSERT_FALSE(HasFailure());
    ASSERT_TRUE(WriteLock(lock, Work() + "/image.lock.json").has_value());
  }
  BuildOptions Options(const std::string& output) const {
    BuildOptions options;
    options.spec_path = spec_path_;
    options.locked = true;
    options.output = output;
    options.tag = "test";
    return options;
  }
  // The inputs digest of building `options` now.
  std::string Inputs(const BuildOptions& options) {
    auto prepared = PrepareBuild(options, http_, *store_);
    EXPECT_TRUE(prepared.has_value()) << prepared.error().message;
    if (!prepared) return "";
    auto digest = BuildInputsDigest(options, *prepared);
    EXPECT_TRUE(digest.has_value()) << digest.error().message;
    return digest.value_or("");
  }
  std::string BuildOrFail(const BuildOptions& options) {
    auto built = BuildImage(options, http_, *store_);
    EXPECT_TRUE(built.has_value()) << built.error().message;
    return built ? built->digest : "";
  }
  // The annotation index.json's entry for the image holds.
  static std::string Recorded(const std::string& layout) {
    auto index = nlohmann::json::parse(ReadFile(layout + "/index.json").value_or("{}"));
    return index["manifests"][0]["annotations"].value(std::string(kAnnotationBuildInputs), "");
  }

  std::string spec_path_;
};

TEST_F(BuildRecordTest, ALayoutRecordsItsInputsAndIsFoundUnchanged) {
  BuildOptions options = Options(Work() + "/out");
  EXPECT_EQ(BuiltFromInputs(options, Inputs(options)), std::nullopt) << "nothing built yet";
  std::string digest = BuildOrFail(options);
  ASSERT_FALSE(digest.empty());
  std::string inputs = Inputs(options);
  EXPECT_THAT(inputs, ::testing::StartsWith("sha256:"));
  EXPECT_EQ(Recorded(options.output), inputs);
  EXPECT_THAT(BuiltFromInputs(options, inputs), Optional(digest));

  // The same inputs built elsewhere record the same: nothing of the output path counts.
  BuildOptions elsewhere = Options(Work() + "/elsewhere");
  EXPECT_EQ(BuildOrFail(elsewhere), digest);
  EXPECT_EQ(Recorded(elsewhere.output), inputs);

  // Another tag is another image to write.
  BuildOptions tagged = options;
  tagged.tag = "other";
  EXPECT_EQ(BuiltFromInputs(tagged, Inputs(tagged)), std::nullopt);
}

TEST_F(BuildRecordTest, ANewLockASpecEditOrAChangedFileIsAnotherBuild) {
  BuildOptions options = Options(Work() + "/out");
  ASSERT_FALSE(BuildOrFail(options).empty());
  const std::string built = Inputs(options);

  // A new version of libfoo1 in the repository, locked.
  Add("stable", {.name = "libfoo1",
                 .version = "1.1-1",
                 .fields = {{"Source", "foo (1.1-1)"}, {"Depends", "libbar1 (>= 2.0)"}},
                 .files = {{"usr/lib/libfoo.so.1", "foo 1.1\n"}}});
  Publish("stable");
  WriteSpecAndLock(kBody);
  std::string relocked = Inputs(options);
  EXPECT_NE(relocked, built);
  EXPECT_EQ(BuiltFromInputs(options, relocked), std::nullopt);

  // The spec gives the image a label: the lock stays, the image does not.
  WriteSpecAndLock(std::string(kBody) + "labels:\n  team: a\n");
  std::string edited = Inputs(options);
  EXPECT_NE(edited, relocked);

  // A file the spec copies into the image changed.
  ASSERT_TRUE(WriteFileAtomic(Work() + "/motd", "hello again\n").has_value());
  EXPECT_NE(Inputs(options), edited);

  // Rebuilt, the layout records the new inputs.
  std::string digest = BuildOrFail(options);
  EXPECT_THAT(BuiltFromInputs(options, Inputs(options)), Optional(digest));
}

// A layout without the record (written by an older hardbase, or edited) is rebuilt, as is one
// whose image blob went missing.
TEST_F(BuildRecordTest, NoRecordOrAMissingBlobIsNotUnchanged) {
  BuildOptions options = Options(Work() + "/out");
  std::string digest = BuildOrFail(options);
  std::string inputs = Inputs(options);
  std::string index_path = options.output + "/index.json";
  std::string index = *ReadFile(index_path);
  auto stripped = nlohmann::json::parse(index);
  stripped["manifests"][0]["annotations"].erase(std::string(kAnnotationBuildInputs));
  ASSERT_TRUE(WriteFileAtomic(index_path, stripped.dump()).has_value());
  EXPECT_EQ(BuiltFromInputs(options, inputs), std::nullopt);

  ASSERT_TRUE(WriteFileAtomic(index_path, index).has_value());
  EXPECT_THAT(BuiltFromInputs(options, inputs), Optional(digest));
  ASSERT_EQ(std::remove((options.output + "/blobs/sha256/" + digest.substr(7)).c_str()), 0);
  EXPECT_EQ(BuiltFromInputs(options, inputs), std::nullopt);
}

// `catalog build --changed-only`: the second run leaves both images be, then rebuilds only the
// one whose spec changed; without the flag every image is written anew.
TEST_F(BuildRecordTest, CatalogBuildChangedOnlyRebuildsWhatChanged) {
  const std::string catalog = Work() + "/catalog";
  auto write_entry = [&](const std::string& name, std::string_view body) {
    ASSERT_TRUE(MakeDirs(catalog + "/" + name).has_value());
    ASSERT_TRUE(WriteFileAtomic(catalog + "/" + name + "/image.yaml", SpecText(body)).has_value());
    // Locked here, with the clock the fake repository's releases are valid at.
    auto lock = LockOrFail(ParseSpec(body));
    ASSERT_TRUE(WriteLock(lock, catalog + "/" + name + "/image.lock.json").has_value());
  };
  write_entry("a", "packages: [libfoo1]\n");
  write_entry("b", "packages: [libbar1]\n");
  CatalogOptions options;
  options.dir = catalog;
  options.output_dir = Work() + "/out";
  options.jobs = 1;
  options.build.tag = "test";
  options.build.locked = true;
  auto run = [&](bool changed_only) {
    options.changed_only = changed_only;
    auto report = BuildCatalog(options, http_, *store_);
    EXPECT_TRUE(report.has_value()) << report.error().message;
    std::map<std::string, std::pair<CatalogStatus, std::string>> out;
    if (report) {
      for (const auto& image : report->images) out[image.name] = {image.status, image.digest};
    }
    return out;
  };
  auto first = run(true);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first["a"].first, CatalogStatus::kBuilt);
  EXPECT_EQ(first["b"].first, CatalogStatus::kBuilt);

  auto second = run(true);
  EXPECT_EQ(second["a"], std::pair(CatalogStatus::kUnchanged, first["a"].second));
  EXPECT_EQ(second["b"], std::pair(CatalogStatus::kUnchanged, first["b"].second));

  write_entry("b", "packages: [libbar1]\nlabels:\n  team: b\n");
  auto third = run(true);
  EXPECT_EQ(third["a"].first, CatalogStatus::kUnchanged);
  EXPECT_EQ(third["b"].first, CatalogStatus::kBuilt);
  EXPECT_NE(third["b"].second, first["b"].second);

  auto forced = run(false);
  EXPECT_EQ(forced["a"], std::pair(CatalogStatus::kBuilt, first["a"].second));
  EXPECT_EQ(forced["b"], std::pair(CatalogStatus::kBuilt, third["b"].second));
}

}  // namespace
}  // namespace hardbase::pipeline
