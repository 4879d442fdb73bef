#include "image/image_files.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "support/result_matchers.h"

namespace hardbase::image {
namespace {

using ::hardbase::testing::FailsWith;

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
  // Debian's layout: /var/run and /var/lock lead to /run, /var/tmp is like /tmp.
  EXPECT_EQ(by_path["/var/run"].link_target, "/run");
  EXPECT_EQ(by_path["/var/lock"].link_target, "/run/lock");
  EXPECT_EQ(by_path["/run/lock"].mode, 01777u);
  EXPECT_EQ(by_path["/var/tmp"].mode, 01777u);
  EXPECT_EQ(by_path["/run"].mode, 0755u);
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
  EXPECT_THAT(top, FailsWith(ErrorCode::kSpec));
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
  EXPECT_THAT(r, FailsWith(ErrorCode::kIntegrity));
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
    EXPECT_THAT(r, FailsWith(ErrorCode::kIntegrity));
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
    EXPECT_THAT(top, FailsWith(ErrorCode::kIntegrity));
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
    EXPECT_THAT(top, FailsWith(ErrorCode::kIntegrity));
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
  EXPECT_THAT(top, FailsWith(ErrorCode::kIntegrity));
  EXPECT_THAT(top.error().message,
              HasSubstr("the image's own /srv/sh lies below /srv, which is a symbolic link to "
                        "/usr/bin in a package layer"));
}

TEST(TopLayerTest, TheDebugVariantLinksBusyboxAppletsWhereNothingElseIs) {
  spec::ImageSpec spec = DefaultSpec();
  spec.variant = spec::Variant::kDebug;
  ImageView view = ViewOf({
      {"/usr/bin/busybox", LayerEntryType::kFile, 0755, ""},
      {"/usr/bin/ls", LayerEntryType::kFile, 0755, ""},  // coreutils' own
  });
  TopLayerInputs in;
  in.spec = &spec;
  in.packages = {"busybox", "demo"};
  PackageFacts busybox, demo;
  demo.alternatives = {{"/usr/bin/awk", "awk", "/usr/bin/ls", 10}};
  in.facts = {busybox, demo};
  auto top = TopLayerEntries(in, view);
  ASSERT_TRUE(top.has_value()) << top.error().message;
  std::map<std::string, oci::LayerEntry> by_path;
  for (auto& e : top->entries) by_path[e.path] = e;
  EXPECT_EQ(by_path["/usr/bin/sh"].link_target, "busybox");
  EXPECT_FALSE(by_path.count("/usr/bin/ls")) << "a package's file stays";
  EXPECT_EQ(by_path["/usr/bin/awk"].link_target, "/etc/alternatives/awk") << "an alternative too";
  size_t links = 0;
  for (auto applet : DebugApplets()) {
    if (applet == "ls" || applet == "awk") continue;
    const auto& e = by_path["/usr/bin/" + std::string(applet)];
    EXPECT_EQ(e.type, LayerEntryType::kSymlink) << applet;
    EXPECT_EQ(e.link_target, "busybox") << applet;
    ++links;
  }
  EXPECT_GE(links, 70u);
  for (std::string_view core : {"cat", "cp", "grep", "ps", "sed", "env", "id", "mkdir", "vi"}) {
    EXPECT_NE(std::find(DebugApplets().begin(), DebugApplets().end(), core), DebugApplets().end())
        << core;
  }
  // None without busybox, nor in the standard image.
  spec.variant = spec::Variant::kStandard;
  auto standard = TopLayerEntries(in, view);
  ASSERT_TRUE(standard.has_value());
  for (const auto& e : standard->entries) EXPECT_NE(e.link_target, "busybox") << e.path;
}

SetupAction OriginAction(SetupAction::Kind kind, std::string origin) {
  SetupAction a;
  a.kind = kind;
  a.origin = std::move(origin);
  return a;
}

// Two packages' setup as their parsers give it: a service user with its group, its directories
// (one with a setgid bit the hardening policy clears), a link, a file's mode, and lines that were
// not understood or cannot be applied.
TopLayerInputs ServiceInputs(const spec::ImageSpec& spec) {
  TopLayerInputs in;
  in.spec = &spec;
  in.epoch = 77;
  in.packages = {"svc", "aaa-tools"};  // applied in name order: aaa-tools first
  PackageFacts svc, tools;
  SetupAction group = OriginAction(SetupAction::Kind::kGroup, "aaa-tools: postinst:3");
  group.name = "svc";
  SetupAction user = OriginAction(SetupAction::Kind::kUser, "aaa-tools: postinst:3");
  user.name = "svc";
  user.group = "svc";
  user.home = "/var/lib/svc";
  SetupAction lib = OriginAction(SetupAction::Kind::kDir, "aaa-tools: postinst:5");
  lib.path = "/var/lib/svc";
  lib.mode = 02750;
  lib.user = "svc";
  lib.owner_group = "svc";
  SetupAction run = OriginAction(SetupAction::Kind::kDir, "svc: /usr/lib/tmpfiles.d/svc.conf:1");
  run.path = "/var/run/svc";  // through the skeleton's link
  run.user = "svc";
  SetupAction conf = OriginAction(SetupAction::Kind::kChmod, "svc: postinst:9");
  conf.path = "/etc/svc.conf";
  conf.mode = 0640;
  SetupAction link = OriginAction(SetupAction::Kind::kSymlink, "svc: postinst:10");
  link.path = "/etc/svc/enabled";
  link.target = "/etc/svc/available";
  SetupAction owner = OriginAction(SetupAction::Kind::kChown, "svc: postinst:11");
  owner.path = "/var/lib/svc";
  owner.owner_group = "no-such-group";
  SetupAction passwd = OriginAction(SetupAction::Kind::kSymlink, "svc: postinst:12");
  passwd.path = "/etc/passwd";
  passwd.target = "/tmp/passwd";
  tools.setup = {group, user, lib};
  svc.setup = {run, conf, link, owner, passwd};
  svc.setup_files = {{"/etc/svc.conf", "port=1\n"}};
  svc.not_applied = {{"svc: postinst:20", "frobnicate $X"}};
  in.facts = {svc, tools};
  return in;
}

ImageView ServiceView() {
  return ViewOf({
      {"/etc/svc", LayerEntryType::kDirectory, 0755, ""},
      {"/etc/svc/available", LayerEntryType::kFile, 0644, ""},
      {"/etc/svc.conf", LayerEntryType::kFile, 0644, ""},
  });
}

TEST(TopLayerTest, AppliesThePackagesSetupHardenedAndWarnsPerPackage) {
  spec::ImageSpec spec = DefaultSpec();
  spec.accounts.run_as = "svc";  // a package's user
  auto top = TopLayerEntries(ServiceInputs(spec), ServiceView());
  ASSERT_TRUE(top.has_value()) << top.error().message;
  std::map<std::string, oci::LayerEntry> by_path;
  for (auto& e : top->entries) by_path[e.path] = e;
  const std::string& passwd = *by_path["/etc/passwd"].content;
  EXPECT_THAT(passwd, HasSubstr("\nsvc:x:100:100::/var/lib/svc:/usr/sbin/nologin\n"));
  EXPECT_THAT(*by_path["/etc/group"].content, HasSubstr("\nsvc:x:100:\n"));
  EXPECT_EQ(top->user, "100:100");
  EXPECT_EQ(by_path["/var/lib/svc"].type, LayerEntryType::kDirectory);
  EXPECT_EQ(by_path["/var/lib/svc"].uid, 100u);
  EXPECT_EQ(by_path["/var/lib/svc"].mode, 0750u) << "no setgid bit";
  EXPECT_EQ(by_path["/run/svc"].uid, 100u) << "/var/run/svc is /run/svc";
  EXPECT_FALSE(by_path.count("/var/run/svc"));
  EXPECT_EQ(by_path["/etc/svc.conf"].mode, 0640u);
  EXPECT_EQ(*by_path["/etc/svc.conf"].content, "port=1\n");
  EXPECT_EQ(by_path["/etc/svc/enabled"].link_target, "/etc/svc/available");
  EXPECT_EQ(by_path["/etc/passwd"].type, LayerEntryType::kFile) << "hardbase's, not the link";
  EXPECT_EQ(by_path["/var/lib/svc"].mtime, 77);
  // One line per package, naming the lines; what hardbase writes is never a package's.
  ASSERT_EQ(top->warnings.size(), 1u) << ::testing::PrintToString(top->warnings);
  EXPECT_THAT(top->warnings[0], ::testing::StartsWith("svc: 3 setup lines not applied: "));
  EXPECT_THAT(top->warnings[0], HasSubstr("postinst:20: frobnicate $X"));
  EXPECT_THAT(top->warnings[0], HasSubstr("postinst:11: "));
  EXPECT_THAT(top->warnings[0], HasSubstr("no-such-group"));
  EXPECT_THAT(top->warnings[0], HasSubstr("postinst:12: symlink /etc/passwd"));
}

TEST(TopLayerTest, SpecDirsGetTheirOwnerAndModeAfterThePackagesSetup) {
  auto spec = spec::ParseImageSpec(
      "name: t\npackages: [base-files]\narchs: [amd64]\n"
      "dirs:\n"
      "  - {path: /var/lib/svc, owner: nonroot, mode: '0700'}\n"
      "  - {path: /srv/data/cache, owner: 'svc:staff', mode: '2775'}\n",
      "image.yaml");
  ASSERT_TRUE(spec.has_value()) << spec.error().message;
  auto top = TopLayerEntries(ServiceInputs(*spec), ServiceView());
  ASSERT_TRUE(top.has_value()) << top.error().message;
  std::map<std::string, oci::LayerEntry> by_path;
  for (auto& e : top->entries) by_path[e.path] = e;
  EXPECT_EQ(by_path["/var/lib/svc"].uid, 65532u);
  EXPECT_EQ(by_path["/var/lib/svc"].gid, 65532u) << "nonroot's primary group";
  EXPECT_EQ(by_path["/var/lib/svc"].mode, 0700u);
  EXPECT_EQ(by_path["/srv/data/cache"].uid, 100u);
  EXPECT_EQ(by_path["/srv/data/cache"].gid, 50u);
  EXPECT_EQ(by_path["/srv/data/cache"].mode, 02775u) << "as the spec asks";
  EXPECT_EQ(by_path["/srv/data"].mode, 0755u);
  EXPECT_EQ(by_path["/srv/data"].uid, 0u);
}

TEST(TopLayerTest, SpecDirsAndRunAsErrorsNameTheEntry) {
  auto error_of = [](std::string yaml) {
    auto spec = spec::ParseImageSpec("name: t\npackages: [base-files]\narchs: [amd64]\n" + yaml,
                                     "image.yaml");
    EXPECT_TRUE(spec.has_value()) << spec.error().message;
    auto top = TopLayerEntries(ServiceInputs(*spec), ServiceView());
    if (top) return std::string("ok");
    EXPECT_THAT(top, FailsWith(ErrorCode::kSpec));
    return top.error().message;
  };
  EXPECT_EQ(error_of("dirs: [{path: /srv/x, owner: ghost}]\n"),
            "image.yaml:4:8: dirs: /srv/x: unknown user 'ghost' (the image's users and groups "
            "come from base-passwd, accounts and the packages' setup)");
  EXPECT_EQ(error_of("dirs: [{path: /srv/x, owner: 'svc:ghosts'}]\n"),
            "image.yaml:4:8: dirs: /srv/x: unknown group 'ghosts' (the image's users and groups "
            "come from base-passwd, accounts and the packages' setup)");
  EXPECT_EQ(error_of("dirs: [{path: /var/run/x}]\n"),
            "image.yaml:4:8: dirs: /var/run/x: lies below a symbolic link, so the image has it at "
            "/run/x: write that");
  EXPECT_EQ(error_of("dirs: [{path: /etc/svc.conf}]\n"),
            "image.yaml:4:8: dirs: /etc/svc.conf: the image has it as a file (mode 0644, sha256 "
            "), not a directory");
  EXPECT_EQ(error_of("dirs: [{path: /var/run}]\n"),
            "image.yaml:4:8: dirs: /var/run: the image has it as a symbolic link to /run, not a "
            "directory");
  EXPECT_EQ(error_of("dirs: [{path: /var/lib/dpkg/status.d/x}]\n"),
            "image.yaml:4:8: dirs: /var/lib/dpkg/status.d/x: hardbase writes that path itself");
  EXPECT_EQ(error_of("accounts: {run-as: svc}\n"), "ok");
  EXPECT_THAT(error_of("accounts: {run-as: mysql}\n"),
              HasSubstr("image.yaml: accounts.run-as: unknown user 'mysql': the image's users "
                        "(from base-passwd, accounts.users and the packages' setup) are root, "));
}

TEST(MissingInterpreterWarningsTest, OneLinePerPackageAndMissingInterpreter) {
  spec::ImageSpec spec = DefaultSpec();
  ImageView view = ViewOf({
      {"/usr/bin/python3", LayerEntryType::kSymlink, 0777, "python3.11"},
      {"/usr/bin/python3.11", LayerEntryType::kFile, 0755, ""},
      {"/usr/bin/env", LayerEntryType::kFile, 0755, ""},
      {"/usr/bin/perl", LayerEntryType::kFile, 0644, ""},  // not executable
  });
  PackageFacts pg, py, none;
  for (int i = 0; i < 7; ++i) {
    pg.interpreters.push_back({"/usr/lib/pg/bin/tool" + std::to_string(i), "/usr/bin/perl"});
  }
  pg.interpreters.push_back({"/usr/lib/pg/bin/initdb-helper", "/bin/sh"});
  py.interpreters = {{"/usr/bin/ok", "/bin/python3"},
                     {"/usr/bin/ok2", "/usr/bin/env python3"},
                     {"/usr/bin/rb", "/usr/bin/env ruby"}};
  auto warnings =
      MissingInterpreterWarnings({"postgresql-15", "python3", "zlib"}, {pg, py, none}, spec, view);
  EXPECT_THAT(warnings,
              ::testing::ElementsAre(
                  "postgresql-15: 1 script needs /bin/sh, which the image does not have: "
                  "/usr/lib/pg/bin/initdb-helper",
                  "postgresql-15: 7 scripts need /usr/bin/perl, which the image does not have: "
                  "/usr/lib/pg/bin/tool0, /usr/lib/pg/bin/tool1, /usr/lib/pg/bin/tool2, "
                  "/usr/lib/pg/bin/tool3, /usr/lib/pg/bin/tool4 and 2 more",
                  "python3: 1 script needs /usr/bin/env ruby, which the image does not have (on "
                  "its PATH): /usr/bin/rb"));
  // The debug variant's busybox is a /bin/sh.
  view.Add("/usr/bin/sh", {LayerEntryType::kSymlink, 0777, "busybox"});
  view.Add("/usr/bin/busybox", {LayerEntryType::kFile, 0755, ""});
  EXPECT_EQ(MissingInterpreterWarnings({"postgresql-15"}, {pg}, spec, view).size(), 1u);
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
