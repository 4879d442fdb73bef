#include "pipeline/package_layers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/fs.h"
#include "base/sha256.h"
#include "deb/decompress.h"
#include "oci/tar_writer.h"
#include "support/repo_fixture.h"

namespace hardbase::pipeline {
namespace {

using ::testing::HasSubstr;

// A cached layer gives back exactly the facts the build read from the package: a rebuild with
// nothing changed never reads the .deb again, so what the record drops the image loses. The
// package is a real .deb made by dpkg-deb, with setup in every source and bytes that are not UTF-8.
TEST(PackageLayersTest, TheCachedRecordKeepsEveryFact) {
  auto dir = TempDir::Create("hardbase-layers-");
  ASSERT_TRUE(dir.has_value());
  testing::RepoFixture repo(dir->path() + "/repo");
  testing::PackageSpec spec{.name = "demo", .version = "1.0-1"};
  spec.files = {
      {"usr/lib/sysusers.d/demo.conf", "u demo - \"Demo\" /var/lib/demo\n"},
      {"usr/lib/tmpfiles.d/demo.conf", "d /run/demo 0755 demo demo -\n"},
      {"usr/bin/demo-report", "#!/usr/bin/perl -w\nprint 1;\n"},
      {"etc/demo.conf", "name=d\xe9mo\n"},  // Latin-1
  };
  spec.modes = {{"usr/bin/demo-report", 0755}};
  // A real executable (coreutils' true, of the host's machine) and a header cut short.
  auto true_bytes = ReadFile("/usr/bin/true");
  ASSERT_TRUE(true_bytes.has_value()) << true_bytes.error().message;
  spec.files["usr/bin/demo"] = *true_bytes;
  spec.files["usr/lib/demo/broken.so"] = "\177ELF";
  spec.control_files = {
      {"postinst",
       "#!/bin/sh\nset -e\nif [ -d /var/lib/demo ]; then chmod 0640 /etc/demo.conf; fi\n"
       "cat > /etc/demo.d/local.conf <<EOF\nport 99\nEOF\n"
       "frobnicate --caf\xe9\n"}};
  auto published = repo.AddPackage("bookworm", "amd64", spec);
  ASSERT_TRUE(published.has_value()) << published.error().message;
  auto deb = ReadFile(published->path);
  ASSERT_TRUE(deb.has_value());

  auto store = cache::BlobStore::Open(dir->path() + "/cache");
  ASSERT_TRUE(store.has_value()) << store.error().message;
  ASSERT_TRUE(store->Put(*deb).has_value());
  spec::LockedPackage locked;
  locked.name = "demo";
  locked.version = "1.0-1";
  locked.architecture = "amd64";
  locked.filename = published->filename;
  locked.size = published->size;
  locked.sha256 = published->sha256;
  image::FilePolicy policy;
  PackageLayerSettings settings{&policy, 1700000000, oci::Compression::kGzip};
  std::string key = PackageLayerKey(locked, settings);

  auto built = BuildPackageLayer(*store, locked, settings, key);
  ASSERT_TRUE(built.has_value()) << built.error().message;
  const image::PackageFacts& facts = built->facts;
  ASSERT_FALSE(facts.setup.empty());
  EXPECT_EQ(facts.setup.front().name, "demo");
  EXPECT_FALSE(facts.not_applied.empty());
  EXPECT_THAT(facts.not_applied.back().text, HasSubstr("frobnicate"));
  EXPECT_EQ(facts.interpreters, (std::vector<std::pair<std::string, std::string>>{
                                    {"/usr/bin/demo-report", "/usr/bin/perl"}}));
  EXPECT_EQ(facts.setup_files.count("/etc/demo.conf"), 1u);
  std::map<std::string, std::optional<image::ElfIdentity>> elf;
  for (const auto& f : facts.elf_files) elf[f.path] = f.identity;
  ASSERT_EQ(elf.size(), 2u);
  EXPECT_TRUE(elf["/usr/bin/demo"].has_value());
  EXPECT_FALSE(elf["/usr/lib/demo/broken.so"].has_value());
  EXPECT_TRUE(std::any_of(facts.setup.begin(), facts.setup.end(), [](const image::SetupAction& a) {
    return a.content == "port 99\n";
  })) << "the here-document's text";
  EXPECT_TRUE(std::any_of(facts.setup.begin(), facts.setup.end(), [](const image::SetupAction& a) {
    return !a.when.empty();
  })) << "the chmod is under `if [ -d /var/lib/demo ]`";
  EXPECT_TRUE(
      std::any_of(facts.not_applied.begin(), facts.not_applied.end(),
                  [](const image::NotApplied& n) { return n.text.find('\xe9') != n.text.npos; }))
      << "a Latin-1 byte kept as it is";

  auto cached = FindPackageLayer(*store, key);
  ASSERT_TRUE(cached.has_value()) << cached.error().message;
  ASSERT_TRUE(cached->has_value()) << "the record was not readable";
  const image::PackageFacts& back = (*cached)->facts;
  EXPECT_EQ(back.setup, facts.setup);
  EXPECT_EQ(back.not_applied, facts.not_applied);
  EXPECT_EQ(back.interpreters, facts.interpreters);
  EXPECT_EQ(back.setup_files, facts.setup_files);
  EXPECT_EQ(back.elf_files, facts.elf_files);
  EXPECT_EQ(back.status, facts.status);
  EXPECT_EQ((*cached)->entries.size(), built->entries.size());
  EXPECT_EQ((*cached)->layer.digest, built->layer.digest);
}

// Merged package layers hold every member's entries in order, each path once (container storage
// refuses a layer naming a path twice): the directory both members ship is there once; a merge of
// one layer is that layer; merging again reuses the first merge.
TEST(PackageLayersTest, MergedLayersHoldEveryPathOnce) {
  auto dir = TempDir::Create("hardbase-merge-");
  ASSERT_TRUE(dir.has_value());
  auto store = cache::BlobStore::Open(dir->path() + "/cache");
  ASSERT_TRUE(store.has_value()) << store.error().message;
  auto entry = [](std::string path, oci::LayerEntryType type) {
    oci::LayerEntry e;
    e.path = std::move(path);
    e.type = type;
    e.mode = type == oci::LayerEntryType::kDirectory ? 0755 : 0644;
    if (type == oci::LayerEntryType::kFile) {
      e.content = std::make_shared<const std::string>(std::string(700, '\0'));  // ends in zeros
    }
    return e;
  };
  std::vector<LayerInfo> layers;
  std::vector<oci::LayerEntry> all;
  for (std::string name : {"a", "b"}) {
    // A long name takes a PAX header: the merge must read the path from it.
    std::vector<oci::LayerEntry> entries = {
        entry("/usr/share", oci::LayerEntryType::kDirectory),
        entry("/usr/share/" + name + std::string(120, 'x'), oci::LayerEntryType::kFile)};
    all.push_back(entries[1]);
    auto tar = oci::WriteLayerTar(entries);
    ASSERT_TRUE(tar.has_value()) << tar.error().message;
    auto layer = StoreGeneratedLayer(*store, *tar, oci::Compression::kGzip);
    ASSERT_TRUE(layer.has_value()) << layer.error().message;
    layers.push_back(*layer);
  }
  auto one = MergePackageLayers(*store, {layers[1]}, oci::Compression::kGzip);
  ASSERT_TRUE(one.has_value()) << one.error().message;
  EXPECT_EQ(one->diff_id, layers[1].diff_id);

  auto merged = MergePackageLayers(*store, layers, oci::Compression::kGzip);
  ASSERT_TRUE(merged.has_value()) << merged.error().message;
  // What one layer of the three entries is, as WriteLayerTar sorts them the same way here.
  all.insert(all.begin(), entry("/usr/share", oci::LayerEntryType::kDirectory));
  auto expected = oci::WriteLayerTar(all);
  ASSERT_TRUE(expected.has_value()) << expected.error().message;
  EXPECT_EQ(merged->diff_id, Sha256Hex(*expected));

  auto again = MergePackageLayers(*store, layers, oci::Compression::kGzip);
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_EQ(again->digest, merged->digest);
}

}  // namespace
}  // namespace hardbase::pipeline
