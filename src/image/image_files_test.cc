#include "image/image_files.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

namespace hardbase::image {
namespace {

using oci::LayerEntryType;
using ::testing::HasSubstr;

ImageView ViewOf(
    std::vector<std::tuple<std::string, LayerEntryType, uint32_t, std::string>> items) {
  ImageView view;
  view.Add(SkeletonEntries("amd64"));
  for (auto& [path, type, mode, link] : items) view.Add(path, {type, mode, link});
  return view;
}

TEST(ImageViewTest, ResolvesLinksThroughTheMergedUsrSkeleton) {
  ImageView view = ViewOf({
      {"/usr/lib/x86_64-linux-gnu", LayerEntryType::kDirectory, 0755, ""},
      {"/usr/lib/x86_64-linux-gnu/ld.so", LayerEntryType::kFile, 0755, ""},
      {"/usr/lib64/ld-linux-x86-64.so.2", LayerEntryType::kSymlink, 0777,
       "/lib/x86_64-linux-gnu/ld.so"},
      {"/usr/bin/rel", LayerEntryType::kSymlink, 0777, "../lib64/ld-linux-x86-64.so.2"},
      {"/usr/bin/loop", LayerEntryType::kSymlink, 0777, "loop"},
  });
  auto r = view.Resolve("/lib64/ld-linux-x86-64.so.2");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->first, "/usr/lib/x86_64-linux-gnu/ld.so");
  auto rel = view.Resolve("/bin/rel");
  ASSERT_TRUE(rel.has_value());
  EXPECT_EQ(rel->first, "/usr/lib/x86_64-linux-gnu/ld.so");
  EXPECT_FALSE(view.Resolve("/usr/bin/loop").has_value());
  EXPECT_FALSE(view.Resolve("/usr/bin/missing").has_value());
  EXPECT_EQ(view.Resolve("/")->first, "/");
  EXPECT_EQ(view.Resolve("/usr/../../etc")->first, "/etc");
}

TEST(SkeletonTest, HasTheMergedUsrLinksAndTmp) {
  std::map<std::string, oci::LayerEntry> by_path;
  for (auto& e : SkeletonEntries("amd64")) by_path[e.path] = e;
  EXPECT_EQ(by_path["/bin"].link_target, "usr/bin");
  EXPECT_EQ(by_path["/lib64"].link_target, "usr/lib64");
  EXPECT_EQ(by_path["/tmp"].mode, 01777u);
  EXPECT_EQ(by_path["/root"].mode, 0700u);
  for (auto& e : SkeletonEntries("arm64")) EXPECT_NE(e.path, "/lib64");
}

spec::ImageSpec DefaultSpec() {
  auto spec =
      spec::ParseImageSpec("name: t\npackages: [base-files]\narchs: [amd64]\n", "image.yaml");
  EXPECT_TRUE(spec.has_value());
  return *spec;
}

TEST(TopLayerTest, WritesAccountsAlternativesAndParents) {
  spec::ImageSpec spec = DefaultSpec();
  ImageView view = ViewOf({
      {"/usr/lib/jvm", LayerEntryType::kDirectory, 0755, ""},
      {"/usr/lib/jvm/bin", LayerEntryType::kDirectory, 0755, ""},
      {"/usr/lib/jvm/bin/java", LayerEntryType::kFile, 0755, ""},
  });
  TopLayerInputs in;
  in.spec = &spec;
  in.epoch = 1234;
  PackageFacts facts;
  facts.alternatives = {{"/usr/bin/java", "java", "/usr/lib/jvm/bin/java", 10},
                        {"/usr/bin/javac", "javac", "/usr/lib/jvm/bin/javac", 10}};
  in.facts = {facts};
  LocalFile app;
  app.path = "/srv/app/run";
  app.executable = true;
  app.content = std::make_shared<const std::string>("x");
  app.user = "nonroot";
  app.group = "";
  in.files = {app};
  auto top = TopLayerEntries(in, view);
  ASSERT_TRUE(top.has_value()) << top.error().message;
  EXPECT_EQ(top->user, "65532:65532");
  std::map<std::string, oci::LayerEntry> by_path;
  for (auto& e : top->entries) by_path[e.path] = e;
  EXPECT_THAT(*by_path["/etc/passwd"].content, HasSubstr("nonroot:x:65532:65532:"));
  EXPECT_EQ(by_path["/home/nonroot"].uid, 65532u);
  EXPECT_EQ(by_path["/home/nonroot"].mode, 0700u);
  EXPECT_EQ(by_path["/usr/bin/java"].link_target, "/etc/alternatives/java");
  EXPECT_EQ(by_path["/etc/alternatives/java"].link_target, "/usr/lib/jvm/bin/java");
  EXPECT_FALSE(by_path.count("/usr/bin/javac")) << "its target is not in the image";
  EXPECT_EQ(by_path["/srv/app/run"].mode, 0755u);
  EXPECT_EQ(by_path["/srv/app/run"].uid, 65532u);
  EXPECT_EQ(by_path["/srv"].type, LayerEntryType::kDirectory);
  EXPECT_EQ(by_path["/srv/app"].mtime, 1234);
  EXPECT_FALSE(by_path.count("/etc")) << "the skeleton has it";
}

TEST(TopLayerTest, AFilesOwnerThatDoesNotExistIsNamed) {
  spec::ImageSpec spec = DefaultSpec();
  ImageView view = ViewOf({});
  TopLayerInputs in;
  in.spec = &spec;
  LocalFile f;
  f.path = "/x";
  f.content = std::make_shared<const std::string>("x");
  f.user = "ghost";
  f.group = "0";
  f.where = "image.yaml:7:5";
  in.files = {f};
  auto top = TopLayerEntries(in, view);
  ASSERT_FALSE(top.has_value());
  EXPECT_EQ(top.error().code, ErrorCode::kSpec);
  EXPECT_THAT(top.error().message, HasSubstr("image.yaml:7:5: files: /x: "));
  EXPECT_THAT(top.error().message, HasSubstr("ghost"));
}

TEST(CheckStartableTest, FindsTheEntrypointOrNamesWhyNot) {
  spec::ImageSpec spec = DefaultSpec();
  ImageView view = ViewOf({
      {"/usr/bin/app", LayerEntryType::kFile, 0755, ""},
      {"/usr/bin/data", LayerEntryType::kFile, 0644, ""},
  });
  EXPECT_TRUE(CheckStartable(spec, view).has_value()) << "no entrypoint, nothing to check";
  spec.entrypoint = {"/bin/app"};
  EXPECT_TRUE(CheckStartable(spec, view).has_value());
  spec.entrypoint = {"app"};
  EXPECT_TRUE(CheckStartable(spec, view).has_value()) << "found on PATH";
  spec.entrypoint = {"/usr/bin/data"};
  auto data = CheckStartable(spec, view);
  ASSERT_FALSE(data.has_value());
  EXPECT_THAT(data.error().message, HasSubstr("is not an executable file"));
  spec.entrypoint = {};
  spec.cmd = {"missing"};
  auto missing = CheckStartable(spec, view);
  ASSERT_FALSE(missing.has_value());
  EXPECT_THAT(missing.error().message, HasSubstr("cmd 'missing' is not on the image's PATH"));
}

}  // namespace
}  // namespace hardbase::image
