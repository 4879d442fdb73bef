// End-to-end tests of provenance: the SBOMs `hardbase build` stores and `hardbase sbom` prints,
// cosign-compatible keys, signatures and attestations, and `hardbase verify`. Every document and
// signature is checked by independent tools: the SPDX 2.3 JSON schema (ajv), the CycloneDX
// library's strict validator, @sigstore/verify, node:crypto and tweetnacl (tests/npm), and
// dpkg-query for what a foreign image's package database holds.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "base/fs.h"
#include "base/sha256.h"
#include "support/examples.h"
#include "support/exit_codes.h"
#include "support/process.h"

namespace hardbase::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;

constexpr std::string_view kBundleType = "application/vnd.dev.sigstore.bundle.v0.3+json";
const std::map<std::string, std::string> kPassword = {{"COSIGN_PASSWORD", "correct horse"}};

std::string Npm(const std::string& script) {
  return std::string(HARDBASE_SOURCE_DIR) + "/tests/npm/" + script;
}
std::string SpdxSchema() {
  return std::string(HARDBASE_SOURCE_DIR) + "/../shared/data/spdx-2.3-schema.json";
}
ProcessResult Node(std::vector<std::string> args,
                   const std::map<std::string, std::string>& env = {}) {
  args.insert(args.begin(), "node");
  return RunProcess(args, env);
}

class ProvenanceE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("hardbase-provenance-");
    ASSERT_TRUE(dir.has_value());
    work_.emplace(std::move(*dir));
    ASSERT_TRUE(MakeDirs(ExamplesSuiteDir()).has_value());
  }

  std::string Work() const { return work_->path(); }
  // The build tests' cache and locks (support/examples.h).
  static ProcessResult Hardbase(std::vector<std::string> args,
                                const std::map<std::string, std::string>& env = {}) {
    return HardbaseWithCache(std::move(args), env);
  }
  static std::string LockFor(const std::string& example) { return ExampleLock(example); }

  std::string Build(const std::string& example, const std::string& out,
                    std::vector<std::string> extra = {},
                    const std::map<std::string, std::string>& env = {}) {
    std::vector<std::string> args = {
        "build", ExampleSpec(example), "--lock", LockFor(example), "-o", out, "--tag", "test"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = Hardbase(args, env);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out.substr(0, r.out.find('\n'));
  }

  std::string Write(const std::string& name, const std::string& text) {
    std::string path = Work() + "/" + name;
    EXPECT_TRUE(WriteFileAtomic(path, text).has_value());
    return path;
  }

  static json Index(const std::string& layout) {
    return json::parse(ReadFile(layout + "/index.json").value_or("{}"));
  }
  static std::string BlobText(const std::string& layout, const std::string& digest) {
    auto text = ReadFile(layout + "/blobs/sha256/" + digest.substr(7));
    EXPECT_TRUE(text.has_value()) << digest;
    return text.value_or("");
  }
  static json Blob(const std::string& layout, const std::string& digest) {
    return json::parse(BlobText(layout, digest));
  }
  // index.json entries that are referrers of `subject` with `artifact_type`.
  static std::vector<json> Referrers(const std::string& layout, const std::string& subject,
                                     std::string_view artifact_type) {
    std::vector<json> out;
    json index = Index(layout);  // named: a temporary's member would dangle in the loop
    for (const auto& e : index["manifests"]) {
      if (e.value("artifactType", "") != artifact_type) continue;
      json m = Blob(layout, e["digest"]);
      if (m.contains("subject") && m["subject"]["digest"] == subject) out.push_back(m);
    }
    return out;
  }
  // The manifest at an index.json tag.
  static json Tagged(const std::string& layout, const std::string& tag) {
    json index = Index(layout);
    for (const auto& e : index["manifests"]) {
      if (e.contains("annotations") &&
          e["annotations"].value("org.opencontainers.image.ref.name", "") == tag) {
        return Blob(layout, e["digest"]);
      }
    }
    ADD_FAILURE() << "no tag " << tag << " in " << layout;
    return json::object();
  }
  static std::string SigTag(const std::string& digest, const std::string& suffix) {
    return "sha256-" + digest.substr(7) + "." + suffix;
  }

  void Keygen(const std::string& prefix) {
    auto r = Hardbase({"keygen", "--output-key-prefix", prefix}, kPassword);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  // Runs the three independent checks on an SBOM file.
  void ExpectValidSbom(const std::string& file, bool spdx, bool hashes) {
    auto v = spdx ? Node({Npm("validate_spdx.mjs"), file, SpdxSchema()})
                  : Node({Npm("validate_cyclonedx.mjs"), file});
    EXPECT_EQ(v.exit_code, 0) << file << ": " << v.out << v.err;
    std::vector<std::string> ntia = {Npm("ntia.mjs"), file};
    if (!hashes) ntia.push_back("--allow-missing-hash");
    auto n = Node(ntia);
    EXPECT_EQ(n.exit_code, 0) << file << ": " << n.out << n.err;
  }

  std::optional<TempDir> work_;
};

// The SBOMs stored by the build: valid by both independent validators, NTIA-complete with every
// .deb's SHA256 from the lock, one package per status.d entry, reproducible, and the same
// packages, versions and licences as an SBOM made afterwards from the image's own files.
TEST_F(ProvenanceE2ETest, BuildStoresValidCompleteReproducibleSboms) {
  std::string out = Work() + "/cc";
  std::string digest = Build("cc", out);
  auto lock = json::parse(ReadFile(LockFor("cc")).value_or("{}"));
  std::map<std::string, std::string> lock_sha;
  for (const auto& p : lock["archs"][0]["packages"]) lock_sha[p["name"]] = p["sha256"];

  for (const char* format : {"spdx-json", "cyclonedx-json"}) {
    bool spdx = std::string(format) == "spdx-json";
    std::string file = Work() + "/sbom." + format;
    auto r = Hardbase({"sbom", "oci:" + out + ":test", "--format", format, "-o", file});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ExpectValidSbom(file, spdx, /*hashes=*/true);
    // It is the document stored with the image as a referrer.
    auto stored =
        Referrers(out, digest, spdx ? "application/spdx+json" : "application/vnd.cyclonedx+json");
    ASSERT_EQ(stored.size(), 1u);
    EXPECT_EQ(BlobText(out, stored[0]["layers"][0]["digest"]), ReadFile(file).value_or(""));

    json doc = json::parse(ReadFile(file).value_or("{}"));
    std::map<std::string, std::string> sbom_sha;
    if (spdx) {
      EXPECT_EQ(doc["creationInfo"]["created"],
                Blob(out, digest)["annotations"]["org.opencontainers.image.created"]);
      for (const auto& p : doc["packages"]) {
        if (p.value("primaryPackagePurpose", "") == "CONTAINER") continue;
        sbom_sha[p["name"]] = p["checksums"][0]["checksumValue"];
        EXPECT_NE(p.value("supplier", "NOASSERTION"), "NOASSERTION") << p["name"];
      }
      // libssl3's copyright file is machine-readable (DEP-5); libc6's is free text.
      std::map<std::string, std::string> licenses;
      for (const auto& p : doc["packages"]) licenses[p["name"]] = p["licenseDeclared"];
      EXPECT_THAT(licenses["libssl3"], HasSubstr("Apache-2.0"));
      EXPECT_EQ(licenses["libc6"], "NOASSERTION");
    } else {
      for (const auto& c : doc["components"]) sbom_sha[c["name"]] = c["hashes"][0]["content"];
    }
    // Every shipped package, with the lock's hash; the hardening's left-outs are not shipped.
    for (const auto& [name, sha] : sbom_sha) EXPECT_EQ(lock_sha[name], sha) << name;
    EXPECT_GE(sbom_sha.size(), 5u);
    EXPECT_FALSE(sbom_sha.count("dpkg"));
  }

  // Reproducible: another build elsewhere stores the same SBOM bytes.
  std::string again = Work() + "/cc-again";
  EXPECT_EQ(Build("cc", again, {"--no-layer-cache"}), digest);
  EXPECT_EQ(Referrers(again, digest, "application/spdx+json")[0]["layers"][0]["digest"],
            Referrers(out, digest, "application/spdx+json")[0]["layers"][0]["digest"]);

  // Made from the image's files instead: the same packages, versions and licences.
  auto regenerated = Hardbase({"sbom", "oci:" + out, "--regenerate"});
  ASSERT_EQ(regenerated.exit_code, 0) << regenerated.err;
  json from_files = json::parse(regenerated.out);
  json stored = json::parse(ReadFile(Work() + "/sbom.spdx-json").value_or("{}"));
  auto summary = [](const json& doc) {
    std::set<std::string> out;
    for (const auto& p : doc["packages"]) {
      out.insert(p["name"].get<std::string>() + " " + p.value("versionInfo", "") + " " +
                 p.value("licenseDeclared", ""));
    }
    return out;
  };
  EXPECT_EQ(summary(from_files), summary(stored));
  std::string file = Write("regenerated.spdx.json", regenerated.out);
  ExpectValidSbom(file, true, /*hashes=*/false);
}

// An image hardbase did not build: a dpkg status file (the host's own) inserted with umoci.
// The SBOM lists exactly the packages dpkg-query reports as installed.
TEST_F(ProvenanceE2ETest, SbomOfAnImageMadeByOtherTools) {
  std::string layout = Work() + "/foreign";
  std::string root = Work() + "/root";
  ASSERT_TRUE(MakeDirs(root + "/var/lib/dpkg").has_value());
  ASSERT_TRUE(MakeDirs(root + "/usr/share/doc/libc6").has_value());
  ASSERT_TRUE(MakeDirs(root + "/etc").has_value());
  fs::copy_file("/var/lib/dpkg/status", root + "/var/lib/dpkg/status");
  fs::copy_file("/usr/share/doc/libc6/copyright", root + "/usr/share/doc/libc6/copyright");
  fs::copy_file("/etc/os-release", root + "/etc/os-release");
  for (std::vector<std::string> argv :
       {std::vector<std::string>{"umoci", "init", "--layout", layout},
        {"umoci", "new", "--image", layout + ":base"},
        {"umoci", "insert", "--image", layout + ":base", root + "/var", "/var"},
        {"umoci", "insert", "--image", layout + ":base", root + "/usr", "/usr"},
        {"umoci", "insert", "--image", layout + ":base", root + "/etc", "/etc"},
        {"skopeo", "copy", "oci:" + layout + ":base",
         "docker-archive:" + Work() + "/foreign.tar:foreign:base"}}) {
    auto r = RunProcess(argv);
    ASSERT_EQ(r.exit_code, 0) << argv[0] << " " << argv[1] << ": " << r.err;
  }
  auto installed = RunProcess({"dpkg-query", "-W", "-f", "${db:Status-Abbrev} ${Package}\n"});
  ASSERT_EQ(installed.exit_code, 0);
  std::set<std::string> expected;
  for (size_t pos = 0; pos < installed.out.size();) {
    size_t end = installed.out.find('\n', pos);
    std::string line = installed.out.substr(pos, end - pos);
    if (line.starts_with("ii ")) expected.insert(line.substr(line.rfind(' ') + 1));
    pos = end + 1;
  }

  for (std::string ref : {"oci:" + layout + ":base", "docker-archive:" + Work() + "/foreign.tar"}) {
    for (const char* format : {"spdx-json", "cyclonedx-json"}) {
      bool spdx = std::string(format) == "spdx-json";
      auto r = Hardbase({"sbom", ref, "--format", format});
      ASSERT_EQ(r.exit_code, 0) << ref << ": " << r.err;
      std::string file = Write(std::string("foreign.") + format, r.out);
      ExpectValidSbom(file, spdx, /*hashes=*/false);
      json doc = json::parse(r.out);
      std::set<std::string> names;
      for (const auto& p : doc[spdx ? "packages" : "components"]) {
        if (p.value("primaryPackagePurpose", "") != "CONTAINER") names.insert(p["name"]);
      }
      EXPECT_EQ(names, expected) << ref << " " << format;
    }
  }
}

// Keys: hardbase's key file decrypts with tweetnacl + node's scrypt to the same public key, and a
// key file made by node the way cosign makes it is used by hardbase as it is.
TEST_F(ProvenanceE2ETest, KeyFilesAreCosignCompatibleBothWays) {
  std::string prefix = Work() + "/hb";
  Keygen(prefix);
  struct stat st;
  ASSERT_EQ(stat((prefix + ".key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_THAT(ReadFile(prefix + ".key").value_or(""),
              HasSubstr("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"));
  auto decrypted = Node({Npm("cosign_key.mjs"), "decrypt", prefix + ".key"}, kPassword);
  ASSERT_EQ(decrypted.exit_code, 0) << decrypted.err;
  EXPECT_EQ(decrypted.out, ReadFile(prefix + ".pub").value_or(""));

  // Never overwritten without --force.
  auto again = Hardbase({"keygen", "--output-key-prefix", prefix}, kPassword);
  EXPECT_EQ(again.exit_code, 2) << again.err;
  EXPECT_THAT(again.err, HasSubstr("--force"));

  // A node-made key signs with hardbase; node's public key verifies it.
  std::string image = Work() + "/img";
  Build("static", image);
  std::string node_prefix = Work() + "/node";
  auto made = Node({Npm("cosign_key.mjs"), "make", node_prefix}, kPassword);
  ASSERT_EQ(made.exit_code, 0) << made.err;
  auto sign =
      Hardbase({"sign", "oci:" + image + ":test", "--key", node_prefix + ".key"}, kPassword);
  ASSERT_EQ(sign.exit_code, 0) << sign.err;
  auto verify = Hardbase({"verify", "oci:" + image + ":test", "--key", node_prefix + ".pub"});
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  auto other = Hardbase({"verify", "oci:" + image + ":test", "--key", prefix + ".pub"});
  EXPECT_EQ(other.exit_code, kExitVerification) << other.err;
  EXPECT_THAT(other.err, HasSubstr("does not verify"));

  // A wrong password: a clear error, nothing written.
  std::string before = ReadFile(image + "/index.json").value_or("");
  auto wrong = Hardbase({"sign", "oci:" + image + ":test", "--key", prefix + ".key"},
                        {{"COSIGN_PASSWORD", "wrong"}});
  EXPECT_EQ(wrong.exit_code, kExitAuth) << wrong.err;
  EXPECT_THAT(wrong.err, HasSubstr("wrong password"));
  EXPECT_EQ(ReadFile(image + "/index.json").value_or(""), before);
}

// Signatures: verified by hardbase, by @sigstore/verify (the bundle) and by node:crypto (the
// simple-signing payload, exact bytes); the image's own manifest and digest are untouched and
// skopeo still reads the layout.
TEST_F(ProvenanceE2ETest, SignaturesVerifyWithIndependentVerifiers) {
  std::string key = Work() + "/k";
  Keygen(key);
  std::string image = Work() + "/img";
  std::string digest = Build("static", image);
  json root_entry = Index(image)["manifests"][0];
  std::string manifest_before = BlobText(image, digest);

  auto unsigned_verify = Hardbase({"verify", "oci:" + image + ":test", "--key", key + ".pub"});
  EXPECT_EQ(unsigned_verify.exit_code, kExitVerification);
  EXPECT_THAT(unsigned_verify.err, HasSubstr("none found"));

  auto sign = Hardbase(
      {"sign", "oci:" + image + ":test", "--key", key + ".key", "--reference", "registry.test/app"},
      kPassword);
  ASSERT_EQ(sign.exit_code, 0) << sign.err;
  EXPECT_THAT(sign.out, HasSubstr("signed " + digest));
  EXPECT_EQ(Index(image)["manifests"][0], root_entry);
  EXPECT_EQ(BlobText(image, digest), manifest_before);
  auto inspect = RunProcess({"skopeo", "inspect", "--raw", "oci:" + image + ":test"});
  EXPECT_EQ(inspect.exit_code, 0) << inspect.err;
  EXPECT_EQ(Sha256Hex(inspect.out), digest.substr(7));

  auto verify = Hardbase({"verify", "oci:" + image + ":test", "--key", key + ".pub"});
  ASSERT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_THAT(verify.out, HasSubstr("verified signature"));
  EXPECT_THAT(verify.out, HasSubstr("registry.test/app"));

  // The simple-signing payload and its signature, checked by node:crypto.
  json sig = Tagged(image, SigTag(digest, "sig"));
  ASSERT_EQ(sig["layers"].size(), 1u);
  const json& layer = sig["layers"][0];
  EXPECT_EQ(layer["mediaType"], "application/vnd.dev.cosign.simplesigning.v1+json");
  std::string payload = Write("payload.json", BlobText(image, layer["digest"]));
  EXPECT_EQ(ReadFile(payload).value_or(""),
            R"({"critical":{"identity":{"docker-reference":"registry.test/app"},"image":{)"
            R"("docker-manifest-digest":")" +
                digest + R"("},"type":"cosign container image signature"},"optional":null})");
  auto node_sig = Node({Npm("simple_sig.mjs"), "verify", payload,
                        layer["annotations"]["dev.cosignproject.cosign/signature"], key + ".pub"});
  EXPECT_EQ(node_sig.exit_code, 0) << node_sig.out << node_sig.err;

  // The bundle referrer, checked by @sigstore/verify with only our public key.
  auto bundles = Referrers(image, digest, kBundleType);
  ASSERT_EQ(bundles.size(), 1u);
  std::string bundle = Write("bundle.json", BlobText(image, bundles[0]["layers"][0]["digest"]));
  auto node_bundle = Node({Npm("bundle.mjs"), "verify", bundle, key + ".pub", digest.substr(7)});
  EXPECT_EQ(node_bundle.exit_code, 0) << node_bundle.out << node_bundle.err;
  EXPECT_THAT(node_bundle.out, HasSubstr("https://sigstore.dev/cosign/sign/v1"));

  // Signing again appends to the .sig tag, it does not replace the first signature.
  ASSERT_EQ(Hardbase({"sign", "oci:" + image, "--key", key + ".key"}, kPassword).exit_code, 0);
  EXPECT_EQ(Tagged(image, SigTag(digest, "sig"))["layers"].size(), 2u);
  EXPECT_EQ(Index(image)["manifests"][0], root_entry);
  // Two signers at once: neither loses the other's signature.
  auto sign_once = [&] {
    EXPECT_EQ(Hardbase({"sign", "oci:" + image, "--key", key + ".key"}, kPassword).exit_code, 0);
  };
  std::thread first(sign_once), second(sign_once);
  first.join();
  second.join();
  EXPECT_EQ(Tagged(image, SigTag(digest, "sig"))["layers"].size(), 4u);
}

// Each kind of tampering fails verification (exit 10) naming the failed check.
TEST_F(ProvenanceE2ETest, VerifyNamesEachFailedCheck) {
  std::string key = Work() + "/k";
  Keygen(key);
  std::string image = Work() + "/img";
  std::string digest = Build("static", image);
  ASSERT_EQ(
      Hardbase({"sign", "oci:" + image + ":test", "--key", key + ".key"}, kPassword).exit_code, 0);
  std::string ref = "oci:" + image + ":test";
  ASSERT_EQ(Hardbase({"verify", ref, "--key", key + ".pub"}).exit_code, 0);

  json sig = Tagged(image, SigTag(digest, "sig"));
  std::string payload_path =
      image + "/blobs/sha256/" + sig["layers"][0]["digest"].get<std::string>().substr(7);
  auto bundles = Referrers(image, digest, kBundleType);
  std::string bundle_path =
      image + "/blobs/sha256/" + bundles[0]["layers"][0]["digest"].get<std::string>().substr(7);
  std::string manifest_path = image + "/blobs/sha256/" + digest.substr(7);

  auto expect_fails = [&](const std::string& what, const std::string& message) {
    auto r = Hardbase({"verify", ref, "--key", key + ".pub"});
    EXPECT_EQ(r.exit_code, kExitVerification) << what << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr(message)) << what;
  };
  auto tamper = [&](const std::string& path, auto&& change) {
    std::string original = ReadFile(path).value_or("");
    std::string changed = change(original);
    fs::permissions(path, fs::perms::owner_write, fs::perm_options::add);
    EXPECT_TRUE(WriteFileAtomic(path, changed).has_value());
    return original;
  };
  auto restore = [&](const std::string& path, const std::string& original) {
    EXPECT_TRUE(WriteFileAtomic(path, original).has_value());
  };

  // A tampered manifest: its bytes no longer match the digest that was signed.
  std::string original = tamper(manifest_path, [](std::string s) {
    s[s.find("\"schemaVersion\":2") + 16] = '3';
    return s;
  });
  expect_fails("tampered manifest", "sha256");
  restore(manifest_path, original);

  // A tampered payload and bundle: each signature check fails; verify names both.
  original = tamper(payload_path, [](std::string s) {
    s.replace(s.find("\"optional\":null"), 15, "\"optional\":{} ");
    return s;
  });
  std::string bundle_original = tamper(bundle_path, [](std::string s) {
    size_t at = s.find("\"payload\":\"") + 20;
    s[at] = s[at] == 'A' ? 'B' : 'A';
    return s;
  });
  expect_fails("tampered payload and bundle", "layer 0");
  restore(payload_path, original);
  restore(bundle_path, bundle_original);
  ASSERT_EQ(Hardbase({"verify", ref, "--key", key + ".pub"}).exit_code, 0);

  // The signatures of another image, put at this image's tag: they name another digest.
  std::string other = Work() + "/other";
  std::string other_digest = Build("cc", other);
  ASSERT_EQ(
      Hardbase({"sign", "oci:" + other + ":test", "--key", key + ".key"}, kPassword).exit_code, 0);
  json index = Index(image);
  json other_sig;
  json other_index = Index(other);
  for (const auto& e : other_index["manifests"]) {
    if (e.contains("annotations") && e["annotations"].value("org.opencontainers.image.ref.name",
                                                            "") == SigTag(other_digest, "sig")) {
      other_sig = e;
    }
  }
  ASSERT_FALSE(other_sig.is_null());
  json filtered = json::array();
  for (const auto& e : index["manifests"]) {
    if (e.contains("artifactType") && e["artifactType"] == kBundleType) continue;
    if (e.contains("annotations") &&
        e["annotations"].value("org.opencontainers.image.ref.name", "") == SigTag(digest, "sig")) {
      continue;
    }
    filtered.push_back(e);
  }
  other_sig["annotations"]["org.opencontainers.image.ref.name"] = SigTag(digest, "sig");
  filtered.push_back(other_sig);
  for (const auto& sub : fs::directory_iterator(other + "/blobs/sha256")) {
    std::string dest = image + "/blobs/sha256/" + sub.path().filename().string();
    if (!fs::exists(dest)) fs::copy_file(sub.path(), dest);
  }
  index["manifests"] = filtered;
  ASSERT_TRUE(WriteFileAtomic(image + "/index.json", index.dump()).has_value());
  expect_fails("another image's signature", "is for image " + other_digest);

  // Keys of the wrong kind, or damaged.
  auto rsa = RunProcess({"openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                         "rsa_keygen_bits:2048", "-out", Work() + "/rsa.key"});
  ASSERT_EQ(rsa.exit_code, 0) << rsa.err;
  auto rsa_pub = RunProcess(
      {"openssl", "pkey", "-in", Work() + "/rsa.key", "-pubout", "-out", Work() + "/rsa.pub"});
  ASSERT_EQ(rsa_pub.exit_code, 0) << rsa_pub.err;
  // cosign verifies with RSA keys too (issue 13); this one did not make the ECDSA signature.
  auto wrong_type = Hardbase({"verify", ref, "--key", Work() + "/rsa.pub"});
  EXPECT_EQ(wrong_type.exit_code, kExitVerification) << wrong_type.err;
  EXPECT_THAT(wrong_type.err, HasSubstr("an RSA signature of"));
  std::string truncated = ReadFile(key + ".key").value_or("");
  std::string truncated_key = Write("truncated.key", truncated.substr(0, truncated.size() / 2));
  std::string before = ReadFile(image + "/index.json").value_or("");
  auto damaged = Hardbase({"sign", ref, "--key", truncated_key}, kPassword);
  EXPECT_EQ(damaged.exit_code, kExitSpec) << damaged.err;
  EXPECT_EQ(ReadFile(image + "/index.json").value_or(""), before);
}

// `build --sign-key` signs the image and attests its SPDX SBOM and its SLSA provenance;
// `attest` adds an OpenVEX statement. @sigstore/verify accepts every attestation bundle.
TEST_F(ProvenanceE2ETest, BuildSignsAndAttests) {
  std::string key = Work() + "/k";
  Keygen(key);
  std::string image = Work() + "/img";
  std::string digest = Build("cc", image, {"--sign-key", key + ".key"}, kPassword);
  std::string ref = "oci:" + image + ":test";
  auto verify = Hardbase({"verify", ref, "--key", key + ".pub", "--attestations"});
  ASSERT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_THAT(verify.out, HasSubstr("verified attestation https://spdx.dev/Document"));
  EXPECT_THAT(verify.out, HasSubstr("verified attestation https://slsa.dev/provenance/v1"));

  std::map<std::string, json> statements;
  for (const auto& b : Referrers(image, digest, kBundleType)) {
    std::string file = Write("bundle-" + b["layers"][0]["digest"].get<std::string>().substr(7),
                             BlobText(image, b["layers"][0]["digest"]));
    auto node = Node({Npm("bundle.mjs"), "verify", file, key + ".pub", digest.substr(7)});
    EXPECT_EQ(node.exit_code, 0) << node.out << node.err;
    json bundle = json::parse(ReadFile(file).value_or("{}"));
    auto payload = RunProcess({"base64", "-d"}, {}, bundle["dsseEnvelope"]["payload"]);
    json statement = json::parse(payload.out);
    statements[statement["predicateType"]] = statement;
  }
  ASSERT_TRUE(statements.count("https://slsa.dev/provenance/v1"));
  ASSERT_TRUE(statements.count("https://spdx.dev/Document"));
  const json& slsa = statements["https://slsa.dev/provenance/v1"]["predicate"];
  auto lock = json::parse(ReadFile(LockFor("cc")).value_or("{}"));
  EXPECT_EQ(slsa["buildDefinition"]["resolvedDependencies"].size(),
            lock["archs"][0]["packages"].size());
  EXPECT_EQ(slsa["buildDefinition"]["externalParameters"]["spec"]["digest"]["sha256"],
            Sha256Hex(ReadFile(ExampleSpec("cc")).value_or("")));
  EXPECT_EQ(slsa["buildDefinition"]["externalParameters"]["lock"]["digest"]["sha256"],
            Sha256File(LockFor("cc")).value_or(""));
  EXPECT_EQ(statements["https://spdx.dev/Document"]["predicate"]["spdxVersion"], "SPDX-2.3");

  // A VEX statement added afterwards.
  std::string vex = Write("vex.json", R"({"@context":"https://openvex.dev/ns/v0.2.0",)"
                                      R"("@id":"https://example.test/vex-1","author":"t",)"
                                      R"("timestamp":"2025-01-01T00:00:00Z","version":1,)"
                                      R"("statements":[]})");
  auto attest = Hardbase(
      {"attest", ref, "--key", key + ".key", "--type", "openvex", "--predicate", vex}, kPassword);
  ASSERT_EQ(attest.exit_code, 0) << attest.err;
  auto again = Hardbase({"verify", ref, "--key", key + ".pub", "--attestations"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, HasSubstr("verified attestation https://openvex.dev/ns/v0.2.0"));
  EXPECT_EQ(Tagged(image, SigTag(digest, "att"))["layers"].size(), 3u);

  auto bad = Hardbase({"attest", ref, "--key", key + ".key", "--type", "openvex", "--predicate",
                       Write("bad.json", "[1,2")},
                      kPassword);
  EXPECT_EQ(bad.exit_code, kExitSpec) << bad.err;
}

}  // namespace
}  // namespace hardbase::testing
