// End-to-end tests of `hardbase reproduce`: an image built and signed (so it carries its SLSA
// provenance) with the suite's cache is rebuilt by another process from a fresh cache, from its
// layout and from a loopback registry, with real Debian packages; a lock altered after signing,
// an image whose attested provenance says another compression, and a spec whose file changed
// since are each named precisely.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/base64.h"
#include "base/fs.h"
#include "support/examples.h"
#include "support/exit_codes.h"
#include "support/process.h"
#include "support/registry_fixture.h"

namespace hardbase::testing {
namespace {

using nlohmann::json;
using ::testing::AllOf;
using ::testing::HasSubstr;

const std::map<std::string, std::string> kPassword = {{"COSIGN_PASSWORD", "pw"}};

class ReproduceE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("hardbase-reproduce-e2e-");
    ASSERT_TRUE(dir.has_value());
    work_.emplace(std::move(*dir));
    ASSERT_TRUE(MakeDirs(ExamplesSuiteDir()).has_value());
    // The static example (the smallest: 4 packages) with a file of its own, and its suite lock,
    // copied here so that a test can change them; the build records these absolute paths.
    auto spec = ReadFile(ExampleSpec("static"));
    ASSERT_TRUE(spec.has_value());
    ASSERT_TRUE(WriteFileAtomic(Spec(), *spec + "files:\n  - src: motd\n    dest: /etc/motd\n")
                    .has_value());
    ASSERT_TRUE(WriteFileAtomic(Work() + "/motd", "hello\n").has_value());
    auto lock = ReadFile(ExampleLock("static"));
    ASSERT_TRUE(lock.has_value());
    ASSERT_TRUE(WriteFileAtomic(Lock(), *lock).has_value());
    auto k = HardbaseWithCache({"keygen", "--output-key-prefix", Work() + "/cosign"}, kPassword);
    ASSERT_EQ(k.exit_code, 0) << k.err;
  }

  std::string Work() const { return work_->path(); }
  std::string Spec() const { return Work() + "/static.yaml"; }
  std::string Lock() const { return Work() + "/static.lock.json"; }
  std::string Pub() const { return Work() + "/cosign.pub"; }
  // A cache no build has used: what `reproduce` fetches, it fetches itself.
  std::string FreshCache() const { return Work() + "/fresh-cache"; }

  // Builds the spec with the suite's cache into Work()/NAME (signed unless `sign` is false);
  // the digest.
  std::string Build(const std::string& name, bool sign = true) {
    std::vector<std::string> args = {"build", Spec(), "--lock", Lock(), "-o", Work() + "/" + name,
                                     "--tag", "test"};
    if (sign) args.insert(args.end(), {"--sign-key", Work() + "/cosign.key"});
    auto r = HardbaseWithCache(args, kPassword);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out.substr(0, r.out.find('\n'));
  }
  ProcessResult Reproduce(std::vector<std::string> args) {
    args.insert(args.begin(), "reproduce");
    auto start = std::chrono::steady_clock::now();
    auto r = HardbaseWithCache(args, {}, FreshCache());
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("reproduce %s: exit %d in %.2f s\n", args[1].c_str(), r.exit_code, seconds);
    return r;
  }

  // The SLSA predicate the build attested, read from the layout's .att tag (the DSSE payload).
  json Provenance(const std::string& layout, const std::string& digest) {
    json index = json::parse(ReadFile(layout + "/index.json").value_or("{}"));
    std::string tag = "sha256-" + digest.substr(7) + ".att";
    for (const auto& e : index["manifests"]) {
      if (!e.contains("annotations") ||
          e["annotations"].value("org.opencontainers.image.ref.name", "") != tag) {
        continue;
      }
      json manifest = Blob(layout, e["digest"]);
      for (const auto& layer : manifest["layers"]) {
        json envelope = Blob(layout, layer["digest"]);
        auto payload = Base64Decode(envelope["payload"].get<std::string>(), "payload");
        EXPECT_TRUE(payload.has_value());
        json statement = json::parse(payload.value_or("{}"));
        if (statement["predicateType"] == "https://slsa.dev/provenance/v1") {
          return statement["predicate"];
        }
      }
    }
    ADD_FAILURE() << "no SLSA provenance at " << tag;
    return json::object();
  }
  // How many files the fresh cache holds (downloads, layers).
  size_t FreshCacheFiles() const {
    size_t n = 0;
    std::error_code ec;
    for (std::filesystem::recursive_directory_iterator it(FreshCache() + "/blobs", ec), end;
         !ec && it != end; it.increment(ec)) {
      if (it->is_regular_file()) ++n;
    }
    return n;
  }
  static json Blob(const std::string& layout, const std::string& digest) {
    return json::parse(ReadFile(layout + "/blobs/sha256/" + digest.substr(7)).value_or("{}"));
  }

  std::optional<TempDir> work_;
};

// Another process, another cache: the same digest, from the layout and from a registry; with the
// key the provenance is verified, without it `reproduce` says it is not.
TEST_F(ReproduceE2ETest, ASignedImageIsRebuiltBitForBitFromAFreshCache) {
  std::string digest = Build("image");
  auto r = Reproduce({"oci:" + Work() + "/image", "--key", Pub(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["image"], digest);
  EXPECT_EQ(j["rebuilt"], digest);
  EXPECT_EQ(j["reproduced"], true);
  EXPECT_EQ(j["provenanceVerified"], true);
  EXPECT_EQ(j["spec"], Spec());
  EXPECT_EQ(j["lock"], Lock());
  EXPECT_EQ(j["packages"],
            json::parse(ReadFile(Lock()).value_or("{}"))["archs"][0]["packages"].size());
  ASSERT_EQ(j["platforms"].size(), 1u);
  EXPECT_EQ(j["platforms"][0]["platform"], "linux/amd64");
  EXPECT_EQ(j["platforms"][0]["reproduced"], true);
  EXPECT_THAT(r.err, HasSubstr("provenance verified with key"));
  // The .debs came into the fresh cache, checked against the lock.
  EXPECT_GT(FreshCacheFiles(), 4u);

  // Without --key: the same answer, and a warning that the provenance was not verified.
  auto unverified = Reproduce({"oci:" + Work() + "/image"});
  ASSERT_EQ(unverified.exit_code, 0) << unverified.err;
  EXPECT_THAT(unverified.err, HasSubstr("NOT verified"));
  EXPECT_THAT(unverified.out, HasSubstr(digest + " reproduced bit for bit from " + Spec()));

  if (FindInPath("docker-registry").empty()) {
    GTEST_SKIP() << "docker-registry is needed for the registry half";
  }
  auto server = RegistryServer::Start();
  ASSERT_TRUE(server) << server.error().message;
  std::string ref = (*server)->host() + "/team/static:1";
  auto push = HardbaseWithCache({"push", "oci:" + Work() + "/image:test", ref, "--plain-http"});
  ASSERT_EQ(push.exit_code, 0) << push.err;
  auto from_registry = Reproduce({ref, "--plain-http", "--key", Pub()});
  ASSERT_EQ(from_registry.exit_code, 0) << from_registry.err;
  EXPECT_THAT(from_registry.out, HasSubstr("linux/amd64: " + digest + " reproduced"));
}

// A lock changed after the image was signed is not the one it was built from: every package
// that differs is named, and nothing is built.
TEST_F(ReproduceE2ETest, ALockAlteredAfterSigningNamesThePackages) {
  Build("image");
  json lock = json::parse(ReadFile(Lock()).value_or("{}"));
  auto& packages = lock["archs"][0]["packages"];
  std::string tzdata_version, netbase_version;
  for (auto it = packages.begin(); it != packages.end();) {
    if ((*it)["name"] == "tzdata") {
      tzdata_version = (*it)["version"];
      (*it)["version"] = tzdata_version + "+evil1";
    }
    if ((*it)["name"] == "netbase") {
      netbase_version = (*it)["version"];
      it = packages.erase(it);
      continue;
    }
    ++it;
  }
  ASSERT_FALSE(tzdata_version.empty());
  ASSERT_FALSE(netbase_version.empty());
  ASSERT_TRUE(WriteFileAtomic(Lock(), lock.dump(2) + "\n").has_value());

  auto r = Reproduce({"oci:" + Work() + "/image", "--key", Pub()});
  EXPECT_EQ(r.exit_code, kExitIntegrity) << r.err;
  EXPECT_THAT(r.err, AllOf(HasSubstr("is not the lock the image was built from"),
                           HasSubstr("2 differences (provenance -> lock)"),
                           HasSubstr("amd64: tzdata " + tzdata_version + " -> " + tzdata_version +
                                     "+evil1"),
                           HasSubstr("amd64: - netbase " + netbase_version)));
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(FreshCacheFiles(), 0u);  // nothing was fetched
}

// The image is not what its provenance says: attested as zstd-compressed, it is gzip. The first
// layer is named, with why: the same tar, compressed differently.
TEST_F(ReproduceE2ETest, AnImageUnlikeItsProvenanceNamesTheFirstDifferingLayer) {
  std::string digest = Build("signed");
  json predicate = Provenance(Work() + "/signed", digest);
  predicate["buildDefinition"]["externalParameters"]["compression"] = "zstd";
  ASSERT_TRUE(WriteFileAtomic(Work() + "/provenance.json", predicate.dump()).has_value());
  // The same image unsigned (the same digest), with only the altered provenance attested.
  EXPECT_EQ(Build("image", /*sign=*/false), digest);
  auto attest =
      HardbaseWithCache({"attest", "oci:" + Work() + "/image", "--key", Work() + "/cosign.key",
                         "--type", "slsaprovenance", "--predicate", Work() + "/provenance.json"},
                        kPassword);
  ASSERT_EQ(attest.exit_code, 0) << attest.err;

  auto r = Reproduce({"oci:" + Work() + "/image", "--key", Pub(), "--json"});
  EXPECT_EQ(r.exit_code, kExitNotReproducible) << r.err;
  EXPECT_THAT(r.err, AllOf(HasSubstr("is not reproducible"), HasSubstr("at layer 0"),
                           HasSubstr("compressed differently")));
  json j = json::parse(r.out);
  EXPECT_EQ(j["reproduced"], false);
  const json& layer = j["platforms"][0]["layer"];
  EXPECT_EQ(layer["index"], 0);
  EXPECT_EQ(layer["content"], "merged-/usr skeleton");
  EXPECT_THAT(layer["note"].get<std::string>(),
              HasSubstr("tar+gzip vs application/vnd.oci.image.layer.v1.tar+zstd"));
  EXPECT_NE(layer["image"], layer["rebuilt"]);
}

// The spec is the same bytes, but a file it copies changed since the build: the image's own
// layer (the last) is named, and in it the file, with its sizes and digests.
TEST_F(ReproduceE2ETest, AChangedSpecFileNamesTheLayerAndTheFile) {
  std::string digest = Build("image");
  ASSERT_TRUE(WriteFileAtomic(Work() + "/motd", "hello, world\n").has_value());
  auto r = Reproduce({"oci:" + Work() + "/image", "--key", Pub()});
  EXPECT_EQ(r.exit_code, kExitNotReproducible) << r.err;
  EXPECT_THAT(r.out, AllOf(HasSubstr("linux/amd64: " + digest + " differs from its rebuild"),
                           HasSubstr("first differing file: etc/motd: size 6 vs 13, content "
                                     "sha256 ")));
  EXPECT_THAT(r.err, AllOf(HasSubstr("the spec's dirs and files"),
                           HasSubstr("file etc/motd: size 6 vs 13")));
}

}  // namespace
}  // namespace hardbase::testing
