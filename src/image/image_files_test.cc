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

TEST(ImageViewTest, WritePathFollowsDirectoryLinksButNotTheLastComponent) {
  ImageView view = ViewOf({
      {"/usr/lib/x", LayerEntryType::kSymlink, 0777, "/usr/bin"},
      {"/usr/lib/rel", LayerEntryType::kSymlink, 0777, "../bin"},
      {"/usr/lib/loop", LayerEntryType::kSymlink, 0777, "loop"},
      {"/usr/bin/link", LayerEntryType::kSymlink, 0777, "/etc"},
  });
  EXPECT_EQ(view.WritePath("/usr/lib/x/sh"), "/usr/bin/sh");
  EXPECT_EQ(view.WritePath("/usr/lib/rel/sh"), "/usr/bin/sh");
  EXPECT_EQ(view.WritePath("/bin/sh"), "/usr/bin/sh");
  EXPECT_EQ(view.WritePath("/usr/bin/link"), "/usr/bin/link") << "the last component is kept";
  EXPECT_EQ(view.WritePath("/bin/link/passwd"), "/etc/passwd");
  EXPECT_EQ(view.WritePath("/opt/new/x/y"), "/opt/new/x/y") << "missing directories are made";
  EXPECT_EQ(view.WritePath("/usr/lib/x/../../etc/x"), "/etc/x");
  EXPECT_FALSE(view.WritePath("/usr/lib/loop/x").has_value());
  EXPECT_EQ(view.WritePath("/"), "/");
}

TEST(ImageViewTest, HostileChainsOfLinksAreCutShort) {
  // A directory 200 levels deep, and links that each walk down it and back up to the next.
  std::vector<std::tuple<std::string, LayerEntryType, uint32_t, std::string>> items;
  std::string deep = "/usr/lib/d";
  std::string down_up;
  for (int i = 0; i < 200; ++i) {
    items.push_back({deep, LayerEntryType::kDirectory, 0755, ""});
    deep += "/d";
    down_up += "d/";
  }
  for (int i = 0; i < 200; ++i) down_up += "../";
  for (int i = 0; i < 40; ++i) {
    items.push_back({"/usr/lib/l" + std::to_string(i), LayerEntryType::kSymlink, 0777,
                     down_up + "l" + std::to_string(i + 1)});
  }
  items.push_back({"/usr/lib/l40", LayerEntryType::kFile, 0644, ""});
  ImageView view = ViewOf(items);
  EXPECT_FALSE(view.Resolve("/usr/lib/l0").has_value());
  EXPECT_FALSE(view.WritePath("/usr/lib/l0/x").has_value());
  auto one = view.Resolve("/usr/lib/l39");
  ASSERT_TRUE(one.has_value()) << "one such link is fine";
  EXPECT_EQ(one->first, "/usr/lib/l40");
  EXPECT_TRUE(view.Resolve(deep.substr(0, deep.size() - 2)).has_value()) << "so is a deep path";
  EXPECT_EQ(view.WritePath(deep + "/x"), deep + "/x");
}

using Entries = std::vector<std::pair<std::string, ViewEntry>>;

ViewEntry FileView(std::string sha256, uint32_t mode = 0644) {
  return {LayerEntryType::kFile, mode, "", std::move(sha256)};
}
ViewEntry DirView() { return {LayerEntryType::kDirectory, 0755, ""}; }
ViewEntry LinkView(std::string target) { return {LayerEntryType::kSymlink, 0777, target}; }

Result<void> Stack(const std::vector<std::pair<std::string, Entries>>& packages,
                   ImageView* out = nullptr) {
  ImageView view;
  view.Add(SkeletonEntries("amd64"));
  std::vector<StackedPackage> stacked;
  for (const auto& [name, entries] : packages) stacked.push_back({name, &entries});
  auto r = StackPackages(stacked, view);
  if (out) *out = view;
  return r;
}

TEST(StackPackagesTest, RefusesAnEntryBelowAnotherPackagesDirectoryLink) {
  Entries a = {{"/usr/lib", DirView()}, {"/usr/lib/x", LinkView("/usr/bin")}};
  Entries b = {{"/usr/lib", DirView()}, {"/usr/lib/x/sh", FileView("ab", 0755)}};
  auto r = Stack({{"a", a}, {"b", b}});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kIntegrity);
  EXPECT_EQ(r.error().message,
            "package b ships /usr/lib/x/sh below the symbolic link /usr/lib/x -> /usr/bin of "
            "package a: a runtime would write it to /usr/bin/sh: refused");
  // The order of the layers does not matter: the final tree has the link.
  auto reversed = Stack({{"b", b}, {"a", a}});
  ASSERT_FALSE(reversed.has_value());
  EXPECT_THAT(reversed.error().message, HasSubstr("package b ships /usr/lib/x/sh below"));
}

TEST(StackPackagesTest, RefusesAnEntryBelowItsOwnRelativeDirectoryLink) {
  Entries a = {{"/usr/lib/x", LinkView("../bin")}, {"/usr/lib/x/y/sh", FileView("ab", 0755)}};
  auto r = Stack({{"a", a}});
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message,
              HasSubstr("/usr/lib/x -> ../bin of package a: a runtime would write it to "
                        "/usr/bin/y/sh"));
}

TEST(StackPackagesTest, RefusesAnEntryBelowAFile) {
  Entries a = {{"/usr/lib/x", FileView("aa")}};
  Entries b = {{"/usr/lib/x/y", FileView("bb")}};
  auto r = Stack({{"a", a}, {"b", b}});
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message, HasSubstr("package b ships /usr/lib/x/y below /usr/lib/x, which "
                                           "is a file (mode 0644, sha256 aa) of package a"));
}

TEST(StackPackagesTest, RefusesTwoPackagesShippingOnePathDifferently) {
  Entries a = {{"/usr/share/x", FileView("aa")}};
  for (const auto& [b, why] : std::vector<std::pair<Entries, std::string>>{
           {{{"/usr/share/x", FileView("bb")}}, "sha256 bb"},
           {{{"/usr/share/x", FileView("aa", 0755)}}, "mode 0755"},
           {{{"/usr/share/x", LinkView("y")}}, "a symbolic link to y"},
           {{{"/usr/share/x", DirView()}}, "a directory"}}) {
    auto r = Stack({{"a", a}, {"b", b}});
    ASSERT_FALSE(r.has_value()) << why;
    EXPECT_EQ(r.error().code, ErrorCode::kIntegrity);
    EXPECT_THAT(r.error().message,
                HasSubstr("packages a and b both ship /usr/share/x, as a file (mode 0644, "
                          "sha256 aa) and as "));
    EXPECT_THAT(r.error().message, HasSubstr(why));
  }
}

TEST(StackPackagesTest, SharesIdenticalFilesLinksAndDirectories) {
  Entries a = {
      {"/usr/share", DirView()}, {"/usr/share/x", FileView("aa")}, {"/usr/share/l", LinkView("x")}};
  Entries b = {{"/usr/share", {LayerEntryType::kDirectory, 0775, ""}},
               {"/usr/share/x", FileView("aa")},
               {"/usr/share/l", LinkView("x")},
               {"/usr/bin", DirView()}};
  ImageView view;
  auto r = Stack({{"a", a}, {"b", b}}, &view);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(view.Find("/usr/share/x")->sha256, "aa");
  EXPECT_EQ(view.Find("/usr/share")->mode, 0775u) << "the later layer's directory wins";
}

TEST(StackPackagesTest, RefusesReplacingTheSkeleton) {
  Entries a = {{"/usr/bin", LinkView("/tmp")}};
  auto r = Stack({{"a", a}});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message,
            "package a ships /usr/bin as a symbolic link to /tmp, where the image skeleton has a "
            "directory (mode 0755): refused");
}

TopLayerInputs AlternativesInputs(const spec::ImageSpec& spec, std::vector<Alternative> alts) {
  TopLayerInputs in;
  in.spec = &spec;
  in.epoch = 1;
  in.packages = {"good", "evil"};
  PackageFacts good, evil;
  evil.alternatives = std::move(alts);
  in.facts = {good, evil};
  return in;
}

TEST(TopLayerTest, AlternativesNeverReplaceWhatHardbaseWrites) {
  spec::ImageSpec spec = DefaultSpec();
  ImageView view = ViewOf({{"/usr/share", LayerEntryType::kDirectory, 0755, ""},
                           {"/usr/share/evil", LayerEntryType::kFile, 0644, ""}});
  for (std::string link : {"/etc/passwd", "/etc/group", "/etc/nsswitch.conf", "/etc/os-release",
                           "/etc/ssl/certs/java/cacerts", "/var/lib/dpkg/status.d/libc6",
                           "/etc/alternatives/x", "/home/nonroot"}) {
    auto top = TopLayerEntries(AlternativesInputs(spec, {{link, "x", "/usr/share/evil", 1}}), view);
    ASSERT_FALSE(top.has_value()) << link;
    EXPECT_EQ(top.error().code, ErrorCode::kIntegrity);
    EXPECT_EQ(top.error().message, "package evil: update-alternatives link " + link +
                                       " (alternative x -> /usr/share/evil): would replace " +
                                       link + ", which hardbase writes");
  }
}

TEST(TopLayerTest, AlternativeLinksMustBeNormalisedAbsolutePaths) {
  spec::ImageSpec spec = DefaultSpec();
  ImageView view = ViewOf({{"/usr/share", LayerEntryType::kDirectory, 0755, ""},
                           {"/usr/share/evil", LayerEntryType::kFile, 0644, ""}});
  for (std::string link : {"/usr/bin/../../etc/passwd", "/usr//bin/x", "/usr/bin/./x", "/usr/bin/",
                           "usr/bin/x", "/"}) {
    auto top = TopLayerEntries(AlternativesInputs(spec, {{link, "x", "/usr/share/evil", 1}}), view);
    ASSERT_FALSE(top.has_value()) << link;
    EXPECT_THAT(top.error().message, HasSubstr("not a normalised absolute path")) << link;
  }
}

TEST(TopLayerTest, AlternativesNeverWriteWhiteouts) {
  spec::ImageSpec spec = DefaultSpec();
  ImageView view = ViewOf({{"/usr/share", LayerEntryType::kDirectory, 0755, ""},
                           {"/usr/share/evil", LayerEntryType::kFile, 0644, ""}});
  for (auto [link, name] :
       {std::pair{"/usr/bin/.wh.python3", "x"}, std::pair{"/usr/bin/x", ".wh..wh..opq"}}) {
    auto top =
        TopLayerEntries(AlternativesInputs(spec, {{link, name, "/usr/share/evil", 1}}), view);
    ASSERT_FALSE(top.has_value()) << link;
    EXPECT_EQ(top.error().code, ErrorCode::kIntegrity);
    EXPECT_THAT(top.error().message, HasSubstr("names starting with '.wh.' are OCI whiteouts"));
  }
}

TEST(TopLayerTest, ShellAlternativesAreLeftOutAndLinksGoWhereARuntimePutsThem) {
  spec::ImageSpec spec = DefaultSpec();
  ImageView view = ViewOf({
      {"/usr/share", LayerEntryType::kDirectory, 0755, ""},
      {"/usr/share/evil", LayerEntryType::kFile, 0755, ""},
      {"/usr/lib/busybox", LayerEntryType::kFile, 0755, ""},
      {"/usr/lib/sh", LayerEntryType::kSymlink, 0777, "/usr/bin/sh"},
      {"/usr/bin/sh", LayerEntryType::kFile, 0755, ""},  // as if a package had one
      {"/opt", LayerEntryType::kSymlink, 0777, "usr/bin"},
  });
  auto top =
      TopLayerEntries(AlternativesInputs(spec, {{"/bin/sh", "sh", "/usr/lib/busybox", 1},
                                                {"/usr/bin/bash", "bash", "/usr/lib/busybox", 1},
                                                {"/usr/bin/tool", "tool", "/usr/lib/sh", 1},
                                                {"/bin/evil", "evil", "/usr/share/evil", 1}}),
                      view);
  ASSERT_TRUE(top.has_value()) << top.error().message;
  std::map<std::string, oci::LayerEntry> by_path;
  for (auto& e : top->entries) by_path[e.path] = e;
  for (const char* gone : {"/bin/sh", "/usr/bin/sh", "/usr/bin/bash", "/usr/bin/tool",
                           "/etc/alternatives/sh", "/etc/alternatives/tool", "/bin/evil"}) {
    EXPECT_FALSE(by_path.count(gone)) << gone;
  }
  EXPECT_EQ(by_path["/usr/bin/evil"].link_target, "/etc/alternatives/evil");
}

TEST(TopLayerTest, AnAlternativeNeverReplacesAPackagesFileUnderEtcAlternatives) {
  spec::ImageSpec spec = DefaultSpec();
  ImageView view = ViewOf({{"/usr/share", LayerEntryType::kDirectory, 0755, ""},
                           {"/usr/share/evil", LayerEntryType::kFile, 0644, ""},
                           {"/etc/alternatives", LayerEntryType::kDirectory, 0755, ""},
                           {"/etc/alternatives/README", LayerEntryType::kFile, 0644, ""}});
  auto top = TopLayerEntries(
      AlternativesInputs(spec, {{"/usr/bin/readme", "README", "/usr/share/evil", 1}}), view);
  ASSERT_FALSE(top.has_value());
  EXPECT_THAT(top.error().message, HasSubstr("would replace /etc/alternatives/README"));
}

TEST(TopLayerTest, TwoAlternativesWithOneLinkGiveOneLink) {
  spec::ImageSpec spec = DefaultSpec();
  ImageView view = ViewOf({{"/usr/share", LayerEntryType::kDirectory, 0755, ""},
                           {"/usr/share/a", LayerEntryType::kFile, 0755, ""},
                           {"/usr/share/b", LayerEntryType::kFile, 0755, ""}});
  auto top = TopLayerEntries(AlternativesInputs(spec, {{"/usr/bin/x", "a", "/usr/share/a", 1},
                                                       {"/usr/bin/x", "b", "/usr/share/b", 9}}),
                             view);
  ASSERT_TRUE(top.has_value()) << top.error().message;
  std::map<std::string, oci::LayerEntry> by_path;
  for (auto& e : top->entries) by_path[e.path] = e;
  EXPECT_EQ(by_path["/usr/bin/x"].link_target, "/etc/alternatives/a") << "the first by name";
  EXPECT_FALSE(by_path.count("/etc/alternatives/b"));
}

TEST(TopLayerTest, MoreThan1024AlternativeNamesAreRefused) {
  spec::ImageSpec spec = DefaultSpec();
  ImageView view = ViewOf({});
  std::vector<Alternative> alts;
  for (int i = 0; i < 1025; ++i) {
    alts.push_back({"/usr/bin/t" + std::to_string(i), "t" + std::to_string(i), "/usr/bin/x", 1});
  }
  auto top = TopLayerEntries(AlternativesInputs(spec, alts), view);
  ASSERT_FALSE(top.has_value());
  EXPECT_EQ(top.error().message,
            "package evil: registers 1025 update-alternatives names, and the image 1025 in all, "
            "more than 1024: refused");
  alts.pop_back();
  EXPECT_TRUE(TopLayerEntries(AlternativesInputs(spec, alts), view).has_value());
}

TEST(TopLayerTest, OwnEntriesBelowAPackageLinkAreRefused) {
  spec::ImageSpec spec = DefaultSpec();
  ImageView view = ViewOf({{"/srv", LayerEntryType::kSymlink, 0777, "/usr/bin"}});
  TopLayerInputs in;
  in.spec = &spec;
  LocalFile f;
  f.path = "/srv/sh";
  f.content = std::make_shared<const std::string>("x");
  f.user = "0";
  in.files = {f};
  auto top = TopLayerEntries(in, view);
  ASSERT_FALSE(top.has_value());
  EXPECT_EQ(top.error().code, ErrorCode::kIntegrity);
  EXPECT_THAT(top.error().message,
              HasSubstr("the image's own /srv/sh lies below /srv, which is a symbolic link to "
                        "/usr/bin in a package layer"));
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
