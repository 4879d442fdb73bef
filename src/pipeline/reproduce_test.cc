// `reproduce` on real images: built from the fake repository (signed, so that they carry their
// SLSA provenance), rebuilt from another cache, and compared; and the comparison itself on small
// images made layer by layer, one difference at a time.
#include "pipeline/reproduce.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "base/sha256.h"
#include "oci/memory_image.h"
#include "oci/test_images.h"
#include "pipeline/attach.h"
#include "pipeline/fake_repository_test_support.h"
#include "sign/dsse.h"
#include "support/result_matchers.h"

namespace hardbase::pipeline {
namespace {

using ::hardbase::testing::FailsWith;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using namespace ::hardbase::oci::testing;

// ---------------------------------------------------------------------------------------------
// The comparison, on images made here.

// Two images in memory, "a" (the image) and "b" (the rebuild), each of the given layer tars.
struct Pair {
  std::shared_ptr<oci::MemoryStore> store = std::make_shared<oci::MemoryStore>();
  std::unique_ptr<oci::ImageSource> source;
  oci::PlatformImage a, b;

  Pair(const TestImage& original, const TestImage& rebuilt) {
    for (const TestImage* image : {&original, &rebuilt}) {
      for (const auto& blob : image->blobs) store->Add(blob.descriptor.media_type, blob.bytes);
    }
    store->SetTag("a", original.manifest);
    store->SetTag("b", rebuilt.manifest);
    oci::ImageRef ref;
    ref.path = "memory";
    source = oci::OpenMemorySource(store, ref);
    a = Resolve(original.manifest);
    b = Resolve(rebuilt.manifest);
  }
  oci::PlatformImage Resolve(const oci::Descriptor& d) {
    auto platforms = oci::ResolvePlatforms(*source, d);
    EXPECT_TRUE(platforms.has_value() && platforms->size() == 1);
    return platforms ? platforms->front() : oci::PlatformImage{};
  }
  PlatformComparison Compare() {
    auto c = ComparePlatformImages(*source, a, *source, b);
    EXPECT_TRUE(c.has_value()) << c.error().message;
    return c.value_or(PlatformComparison{});
  }
};

const std::string kBase = Tar({DirEntry("/etc"), FileEntry("/etc/a", "a\n")});

PlatformComparison CompareTops(std::vector<oci::LayerEntry> original,
                               std::vector<oci::LayerEntry> rebuilt) {
  Pair pair(MakeTestImage({kBase, Tar(std::move(original))}),
            MakeTestImage({kBase, Tar(std::move(rebuilt))}));
  return pair.Compare();
}

TEST(ComparePlatformImagesTest, TheSameImageIsTheSame) {
  TestImage image = MakeTestImage({kBase});
  Pair pair(image, image);
  PlatformComparison c = pair.Compare();
  EXPECT_TRUE(c.same());
  EXPECT_EQ(c.platform, "linux/amd64");
  EXPECT_FALSE(c.layer);
  EXPECT_THAT(c.config, IsEmpty());
}

TEST(ComparePlatformImagesTest, NamesTheFirstLayerAndTheFirstFileWhoseContentDiffers) {
  PlatformComparison c = CompareTops({FileEntry("/etc/b", "one\n"), FileEntry("/etc/c", "same\n")},
                                     {FileEntry("/etc/b", "two\n"), FileEntry("/etc/c", "else\n")});
  EXPECT_FALSE(c.same());
  // The config differs only in the layer's diff_id, which is the layer's story.
  EXPECT_THAT(c.config, IsEmpty());
  ASSERT_TRUE(c.layer);
  EXPECT_EQ(c.layer->index, 1u);
  EXPECT_NE(c.layer->original, c.layer->rebuilt);
  ASSERT_TRUE(c.layer->file);
  EXPECT_EQ(c.layer->file->path, "etc/b");
  EXPECT_EQ(c.layer->file->what,
            "content sha256 " + Sha256Hex("one\n") + " vs " + Sha256Hex("two\n"));
}

TEST(ComparePlatformImagesTest, SaysWhatDiffersOfAFile) {
  auto what = [](std::vector<oci::LayerEntry> a, std::vector<oci::LayerEntry> b) {
    PlatformComparison c = CompareTops(std::move(a), std::move(b));
    EXPECT_TRUE(c.layer && c.layer->file);
    return c.layer && c.layer->file ? c.layer->file->path + ": " + c.layer->file->what : "";
  };
  EXPECT_EQ(what({FileEntry("/etc/b", "x", 0644)}, {FileEntry("/etc/b", "x", 0755)}),
            "etc/b: mode 0644 vs 0755");
  EXPECT_EQ(what({FileEntry("/etc/b", "x")}, {FileEntry("/etc/b", "xy")}),
            "etc/b: size 1 vs 2, content sha256 " + Sha256Hex("x") + " vs " + Sha256Hex("xy"));
  EXPECT_EQ(what({LinkEntry("/etc/l", "a", oci::LayerEntryType::kSymlink)},
                 {LinkEntry("/etc/l", "b", oci::LayerEntryType::kSymlink)}),
            "etc/l: link target 'a' vs 'b'");
  EXPECT_EQ(
      what({FileEntry("/etc/l", "a")}, {LinkEntry("/etc/l", "a", oci::LayerEntryType::kSymlink)}),
      "etc/l: a regular file vs a symbolic link");
  auto owned = FileEntry("/etc/b", "x");
  owned.uid = owned.gid = 65532;
  EXPECT_EQ(what({FileEntry("/etc/b", "x")}, {owned}), "etc/b: owner 0:0 vs 65532:65532");
  EXPECT_EQ(what({FileEntry("/etc/b", "x")}, {FileEntry("/etc/b", "x"), FileEntry("/etc/c", "")}),
            "etc/c: only in the rebuilt layer");
  EXPECT_EQ(what({FileEntry("/etc/b", "x"), FileEntry("/etc/c", "")}, {FileEntry("/etc/c", "")}),
            "etc/b: only in the image's layer");
  EXPECT_EQ(what({FileEntry("/etc/b", "x"), FileEntry("/etc/c", "x")},
                 {FileEntry("/etc/b", "x"),
                  LinkEntry("/etc/c", "/etc/b", oci::LayerEntryType::kHardlink)}),
            "etc/c: a file of its own vs a hard link to etc/b");
}

TEST(ComparePlatformImagesTest, SameFilesOtherTimestampsAreSaidSo) {
  auto dated = [](int64_t mtime) {
    auto e = FileEntry("/etc/b", "x");
    e.mtime = mtime;
    return e;
  };
  PlatformComparison c = CompareTops({dated(1)}, {dated(2)});
  ASSERT_TRUE(c.layer);
  EXPECT_EQ(c.layer->index, 1u);
  EXPECT_FALSE(c.layer->file);
  EXPECT_THAT(c.layer->note, HasSubstr("the same files"));
  EXPECT_THAT(c.layer->note, HasSubstr("timestamps"));
}

TEST(ComparePlatformImagesTest, OtherCompressionIsTheSameTarCompressedDifferently) {
  Pair pair(MakeTestImage({kBase}, {"amd64", "linux", ""}, oci::Compression::kGzip),
            MakeTestImage({kBase}, {"amd64", "linux", ""}, oci::Compression::kZstd));
  PlatformComparison c = pair.Compare();
  ASSERT_TRUE(c.layer);
  EXPECT_EQ(c.layer->index, 0u);
  EXPECT_FALSE(c.layer->file);
  EXPECT_THAT(c.layer->note,
              AllOf(HasSubstr("the same tar"), HasSubstr("compressed differently"),
                    HasSubstr("tar+gzip vs application/vnd.oci.image.layer.v1.tar+zstd")));
  EXPECT_THAT(c.config, IsEmpty());
}

TEST(ComparePlatformImagesTest, ALayerOnlyOneSideHasIsNamed) {
  std::string top = Tar({FileEntry("/etc/b", "x")});
  Pair pair(MakeTestImage({kBase}), MakeTestImage({kBase, top}));
  PlatformComparison c = pair.Compare();
  ASSERT_TRUE(c.layer);
  EXPECT_EQ(c.layer->index, 1u);
  EXPECT_EQ(c.layer->original, "");
  EXPECT_NE(c.layer->rebuilt, "");
  EXPECT_EQ(c.layer->note, "only in the rebuild");
}

TEST(ComparePlatformImagesTest, ConfigDifferencesAreListedByJsonPointer) {
  TestImage a = MakeTestImage({kBase});
  TestImage b = MakeTestImage({kBase}, {"amd64", "linux", "v1"});
  Pair pair(a, b);
  PlatformComparison c = pair.Compare();
  EXPECT_FALSE(c.layer);
  EXPECT_THAT(c.config, ElementsAre("/variant: only in the rebuild (\"v1\")"));
}

// ---------------------------------------------------------------------------------------------
// The provenance against a lock.

SlsaProvenance ProvenanceOf(std::vector<SlsaProvenance::Deb> debs) {
  SlsaProvenance p;
  p.arch = "amd64";
  p.debs = std::move(debs);
  return p;
}

spec::Lock LockOf(std::vector<spec::LockedPackage> packages) {
  spec::Lock lock;
  lock.archs.push_back({});
  lock.archs[0].arch = "amd64";
  lock.archs[0].packages = std::move(packages);
  return lock;
}

spec::LockedPackage Locked(std::string name, std::string version, std::string sha256) {
  spec::LockedPackage p;
  p.name = std::move(name);
  p.version = std::move(version);
  p.architecture = "amd64";
  p.filename = "pool/" + p.name + ".deb";
  p.sha256 = std::move(sha256);
  return p;
}

TEST(LockProvenanceDifferencesTest, NamesEveryPackageThatDiffers) {
  const std::string a(64, 'a'), b(64, 'b');
  SlsaProvenance provenance = ProvenanceOf({{"same", "1", "amd64", "pool/same.deb", a},
                                            {"newer", "1", "amd64", "pool/newer.deb", a},
                                            {"rehashed", "1", "amd64", "pool/rehashed.deb", a},
                                            {"dropped", "2", "amd64", "pool/dropped.deb", a}});
  spec::Lock lock = LockOf({Locked("same", "1", a), Locked("newer", "2", a),
                            Locked("rehashed", "1", b), Locked("added", "3", a)});
  EXPECT_THAT(
      LockProvenanceDifferences(provenance, lock),
      ElementsAre("amd64: - dropped 2", "amd64: newer 1 -> 2",
                  "amd64: rehashed 1: same version, other .deb (sha256 " + a + " -> " + b + ")",
                  "amd64: + added 3"));
  EXPECT_THAT(LockProvenanceDifferences(ProvenanceOf({{"same", "1", "amd64", "pool/same.deb", a}}),
                                        LockOf({Locked("same", "1", a)})),
              IsEmpty());
  provenance.arch = "arm64";
  EXPECT_THAT(LockProvenanceDifferences(provenance, lock),
              ElementsAre("arm64: architecture not in the lock"));
}

// ---------------------------------------------------------------------------------------------
// The whole flow, on images built from the fake repository.

class ReproduceTest : public FakeRepositoryTest {
 protected:
  void SetUp() override {
    FakeRepositoryTest::SetUp();
    auto key = sign::PrivateKey::Generate();
    ASSERT_TRUE(key.has_value());
    key_.emplace(std::move(*key));
    auto other = cache::BlobStore::Open(Work() + "/other-cache");
    ASSERT_TRUE(other.has_value());
    other_.emplace(std::move(*other));
  }

  std::string Layout() const { return Work() + "/image"; }
  std::string Spec() const { return Work() + "/image.yaml"; }
  std::string LockPath() const { return Work() + "/image.lock.json"; }

  // The Debian 12 image, signed: it carries its SLSA provenance.
  void BuildSigned() {
    BuildDebian12Image(Layout(), &*key_);
    ASSERT_FALSE(HasFailure());
  }
  // libfoo1 and the spec's own file app.conf ("one\n" at first), built with `options` changed by
  // `adjust`, signed.
  void BuildWithFile(const std::function<void(BuildOptions&)>& adjust = {}) {
    AddFooAndBar();
    Publish("stable");
    ASSERT_TRUE(WriteFileAtomic(Work() + "/app.conf", "one\n").has_value());
    const char* body = "packages: [libfoo1]\nfiles:\n  - src: app.conf\n    dest: /etc/app.conf\n";
    BuildOptions options;
    options.spec_path = WriteSpec(body);
    options.lock_path = LockPath();
    options.locked = true;
    options.output = Layout();
    options.sign_key = &*key_;
    if (adjust) adjust(options);
    spec::Lock lock = LockOrFail(ParseSpec(body));
    ASSERT_TRUE(WriteLock(lock, options.lock_path).has_value());
    auto built = BuildImage(options, http_, *store_);
    ASSERT_TRUE(built.has_value()) << built.error().message;
  }

  // The spec and lock BuildDebian12Image wrote, built again into `output` (signed with `key`).
  void BuildAgain(const std::string& output, const sign::PrivateKey* key) {
    BuildOptions options;
    options.spec_path = Spec();
    options.lock_path = LockPath();
    options.locked = true;
    options.output = output;
    options.sign_key = key;
    auto built = BuildImage(options, http_, *store_);
    ASSERT_TRUE(built.has_value()) << built.error().message;
  }
  // The SLSA predicate attached to the image at Layout(), read unverified.
  std::string ProvenanceJson() {
    oci::ImageRef ref;
    ref.path = Layout();
    auto source = oci::OpenImage(ref);
    EXPECT_TRUE(source.has_value());
    if (!source) return "";
    auto root = (*source)->Root();
    EXPECT_TRUE(root.has_value());
    if (!root) return "";
    auto findings = UnverifiedAttestations(**source, *root);
    EXPECT_TRUE(findings.has_value());
    for (const auto& f : findings.value_or(std::vector<Finding>{})) {
      EXPECT_FALSE(f.valid);
      EXPECT_EQ(f.problem, "not verified: no key given");
      if (f.predicate_type == sign::kPredicateSlsaProvenance) return f.predicate_json;
    }
    ADD_FAILURE() << "no SLSA provenance";
    return "";
  }

  ReproduceOptions Options(const sign::PublicKey* key) const {
    ReproduceOptions options;
    options.image = "oci:" + Layout();
    options.key = key;
    return options;
  }
  Result<Reproduction> Reproduce(const ReproduceOptions& options) {
    return ReproduceImage(options, http_, *other_);
  }
  Reproduction ReproduceOrFail(const ReproduceOptions& options) {
    auto r = Reproduce(options);
    EXPECT_TRUE(r.has_value()) << r.error().message;
    return r.value_or(Reproduction{});
  }

  std::optional<sign::PrivateKey> key_;
  std::optional<cache::BlobStore> other_;
};

TEST_F(ReproduceTest, ASignedImageRebuildsBitForBitFromAnotherCache) {
  BuildSigned();
  int debs_before = Requests(".deb");
  sign::PublicKey pub = key_->Public();
  Reproduction r = ReproduceOrFail(Options(&pub));
  EXPECT_TRUE(r.same()) << (r.platforms.empty() ? "" : r.platforms[0].note);
  EXPECT_TRUE(r.verified);
  EXPECT_EQ(r.key_hint, pub.Hint());
  EXPECT_EQ(r.spec_path, Spec());  // the paths the provenance records
  EXPECT_EQ(r.lock_path, LockPath());
  EXPECT_EQ(r.packages, 3u);
  ASSERT_EQ(r.platforms.size(), 1u);
  EXPECT_TRUE(r.platforms[0].same());
  EXPECT_EQ(r.platforms[0].original, r.image);
  ASSERT_EQ(r.provenance.size(), 1u);
  EXPECT_THAT(r.provenance[0], HasSubstr("linux/amd64: tag sha256-" +
                                         std::string(oci::DigestHex(r.image)) + ".att layer "));
  // The other cache was empty: every .deb was fetched again.
  EXPECT_EQ(Requests(".deb") - debs_before, 3);
}

// A two-platform index: each platform's manifest has its own provenance, each is rebuilt and
// compared, and so is the index.
TEST_F(ReproduceTest, EveryPlatformOfAnIndexIsRebuilt) {
  for (std::string arch : {"amd64", "arm64"}) {
    auto added = repo_->AddPackage("stable", arch,
                                   {.name = "libbar1",
                                    .version = "2.0-1",
                                    .architecture = arch,
                                    .files = {{"usr/lib/libbar.so.1", "bar " + arch + "\n"}}});
    ASSERT_TRUE(added.has_value()) << added.error().message;
  }
  Publish("stable");
  std::string text = "name: test\nrepositories:\n  - url: " + std::string(kRepoUrl) +
                     "\n    suites: [stable]\n    keyring: " + testing::RepoFixture::KeyringPath() +
                     "\narchs: [amd64, arm64]\npackages: [libbar1]\n";
  ASSERT_TRUE(WriteFileAtomic(Spec(), text).has_value());
  auto parsed = spec::ParseImageSpec(text, Spec());
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  ASSERT_TRUE(WriteLock(LockOrFail(*parsed), LockPath()).has_value());
  BuildOptions options;
  options.spec_path = Spec();
  options.locked = true;
  options.output = Layout();
  options.sign_key = &*key_;
  auto built = BuildImage(options, http_, *store_);
  ASSERT_TRUE(built.has_value()) << built.error().message;
  ASSERT_EQ(built->archs.size(), 2u);

  sign::PublicKey pub = key_->Public();
  Reproduction r = ReproduceOrFail(Options(&pub));
  EXPECT_TRUE(r.same());
  EXPECT_EQ(r.image, built->digest);
  EXPECT_EQ(r.rebuilt, built->digest);
  EXPECT_EQ(r.packages, 2u);
  ASSERT_EQ(r.platforms.size(), 2u);
  EXPECT_EQ(r.platforms[0].platform, "linux/amd64");
  EXPECT_EQ(r.platforms[1].platform, "linux/arm64/v8");
  EXPECT_TRUE(r.platforms[0].same());
  EXPECT_TRUE(r.platforms[1].same());
  EXPECT_EQ(r.provenance.size(), 2u);

  // One platform's manifest, by digest: that platform alone is compared.
  ReproduceOptions one = Options(&pub);
  one.image = "oci:" + Layout() + "@" + built->archs[1].manifest_digest;
  Reproduction arm64 = ReproduceOrFail(one);
  EXPECT_TRUE(arm64.same());
  EXPECT_EQ(arm64.rebuilt, built->archs[1].manifest_digest);
  ASSERT_EQ(arm64.platforms.size(), 1u);
  EXPECT_EQ(arm64.platforms[0].platform, "linux/arm64/v8");
}

TEST_F(ReproduceTest, WithoutAKeyTheProvenanceIsReadUnverified) {
  BuildSigned();
  Reproduction r = ReproduceOrFail(Options(nullptr));
  EXPECT_TRUE(r.same());
  EXPECT_FALSE(r.verified);
  EXPECT_EQ(r.key_hint, "");
}

TEST_F(ReproduceTest, TheProvenancesCompressionAndTimestampAreUsed) {
  BuildWithFile([](BuildOptions& o) {
    o.compression = oci::Compression::kZstd;
    o.source_date_epoch = 1600000000;
  });
  ASSERT_FALSE(HasFailure());
  sign::PublicKey pub = key_->Public();
  Reproduction r = ReproduceOrFail(Options(&pub));
  EXPECT_TRUE(r.same());
}

TEST_F(ReproduceTest, KeepsTheRebuiltImageWhenAsked) {
  BuildSigned();
  ReproduceOptions options = Options(nullptr);
  options.output = Work() + "/rebuilt";
  Reproduction r = ReproduceOrFail(options);
  EXPECT_TRUE(r.same());
  auto index = ReadFile(options.output + "/index.json");
  ASSERT_TRUE(index.has_value());
  EXPECT_THAT(*index, HasSubstr(r.image));
}

TEST_F(ReproduceTest, AnImageWithoutProvenanceIsAVerificationError) {
  BuildDebian12Image(Layout());  // unsigned: no provenance
  ASSERT_FALSE(HasFailure());
  EXPECT_THAT(Reproduce(Options(nullptr)),
              FailsWith(ErrorCode::kVerification,
                        AllOf(HasSubstr("no SLSA provenance attestation covers the linux/amd64"),
                              HasSubstr("none found"))));
}

TEST_F(ReproduceTest, AProvenanceOfAnotherKeyIsAVerificationError) {
  BuildSigned();
  auto other = sign::PrivateKey::Generate();
  ASSERT_TRUE(other.has_value());
  sign::PublicKey pub = other->Public();
  EXPECT_THAT(Reproduce(Options(&pub)),
              FailsWith(ErrorCode::kVerification, HasSubstr("that verifies with key")));
}

TEST_F(ReproduceTest, AnotherSpecIsRefused) {
  BuildSigned();
  auto text = ReadFile(Spec());
  ASSERT_TRUE(text.has_value());
  ASSERT_TRUE(WriteFileAtomic(Spec(), *text + "# changed\n").has_value());
  EXPECT_THAT(
      Reproduce(Options(nullptr)),
      FailsWith(ErrorCode::kIntegrity, AllOf(HasSubstr("is not the spec the image was built from"),
                                             HasSubstr(Sha256Hex(*text)))));
}

TEST_F(ReproduceTest, AnAlteredLockNamesEveryPackageThatDiffers) {
  BuildSigned();
  auto lock = spec::LoadLock(LockPath());
  ASSERT_TRUE(lock.has_value());
  std::string foo_sha;
  for (auto& p : lock->archs[0].packages) {
    if (p.name == "libbar1") p.version = "2.0-2";
    if (p.name == "libfoo1") {
      foo_sha = p.sha256;
      p.sha256 = std::string(64, 'f');
    }
  }
  ASSERT_TRUE(WriteLock(*lock, LockPath()).has_value());
  auto r = Reproduce(Options(nullptr));
  ASSERT_THAT(r, FailsWith(ErrorCode::kIntegrity,
                           AllOf(HasSubstr("is not the lock the image was built from"),
                                 HasSubstr("; 2 differences (provenance -> lock)"))));
  EXPECT_THAT(r.error().details,
              ElementsAre("amd64: libbar1 2.0-1 -> 2.0-2",
                          "amd64: libfoo1 1.0-1: same version, other .deb (sha256 " + foo_sha +
                              " -> " + std::string(64, 'f') + ")"));
}

TEST_F(ReproduceTest, AReformattedLockIsTheSameLock) {
  BuildSigned();
  auto text = ReadFile(LockPath());
  ASSERT_TRUE(text.has_value());
  ASSERT_TRUE(WriteFileAtomic(LockPath(), nlohmann::json::parse(*text).dump(7)).has_value());
  EXPECT_TRUE(ReproduceOrFail(Options(nullptr)).same());
}

TEST_F(ReproduceTest, ASpecFileChangedSinceNamesTheFileInTheTopLayer) {
  BuildWithFile();
  ASSERT_FALSE(HasFailure());
  // The spec is the same bytes; the file it copies is not.
  ASSERT_TRUE(WriteFileAtomic(Work() + "/app.conf", "changed\n").has_value());
  Reproduction r = ReproduceOrFail(Options(nullptr));
  EXPECT_FALSE(r.same());
  ASSERT_EQ(r.platforms.size(), 1u);
  const PlatformComparison& c = r.platforms[0];
  EXPECT_FALSE(c.same());
  EXPECT_THAT(c.config, IsEmpty());
  ASSERT_TRUE(c.layer);
  // skeleton, libbar1, libfoo1, then the image's own layer.
  EXPECT_EQ(c.layer->index, 3u);
  EXPECT_THAT(c.layer->content, HasSubstr("the spec's dirs and files"));
  ASSERT_TRUE(c.layer->file);
  EXPECT_EQ(c.layer->file->path, "etc/app.conf");
  EXPECT_EQ(c.layer->file->what,
            "size 4 vs 8, content sha256 " + Sha256Hex("one\n") + " vs " + Sha256Hex("changed\n"));
}

TEST_F(ReproduceTest, AProvenanceOfOtherInputsNamesTheFirstDifference) {
  BuildSigned();
  // An attestation on the image saying it was built with zstd and another timestamp, in place of
  // the build's own: the rebuild follows it, and its config and every layer differ.
  std::string provenance = ProvenanceJson();
  ASSERT_FALSE(provenance.empty());
  auto j = nlohmann::json::parse(provenance);
  j["buildDefinition"]["externalParameters"]["compression"] = "zstd";
  j["buildDefinition"]["externalParameters"]["sourceDateEpoch"] = 1600000000;
  ASSERT_TRUE(RemoveAll(Layout()).has_value());
  BuildAgain(Layout(), nullptr);
  ASSERT_FALSE(HasFailure());
  auto ref = oci::ParseImageRef("oci:" + Layout());
  ASSERT_TRUE(ref.has_value());
  ASSERT_TRUE(AttestImage(*ref, *key_, {std::string(sign::kPredicateSlsaProvenance), j.dump()})
                  .has_value());
  sign::PublicKey pub = key_->Public();
  Reproduction r = ReproduceOrFail(Options(&pub));
  EXPECT_FALSE(r.same());
  ASSERT_EQ(r.platforms.size(), 1u);
  const PlatformComparison& c = r.platforms[0];
  EXPECT_THAT(
      c.config,
      Contains(HasSubstr("/created: \"2023-11-14T22:13:20Z\" vs \"2020-09-13T12:26:40Z\"")));
  ASSERT_TRUE(c.layer);
  EXPECT_EQ(c.layer->index, 0u);
  EXPECT_EQ(c.layer->content, "merged-/usr skeleton");
  EXPECT_FALSE(c.layer->file);
  // The skeleton has no timestamps of the build's: the same tar, in zstd.
  EXPECT_THAT(c.layer->note, HasSubstr("compressed differently"));
}

}  // namespace
}  // namespace hardbase::pipeline
