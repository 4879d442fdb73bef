#include "spec/lock.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <random>

#include "base/fs.h"
#include "support/process.h"
#include "support/result_matchers.h"

namespace hardbase::spec {
namespace {

using ::hardbase::testing::FailsWith;

using ::testing::HasSubstr;

const std::string kFpr1 = "4D64FEC119C2029067D6E791F8D2585B8783D481";
const std::string kFpr2 = "B8B80B5B623EAB6AD8775C45B7C5D7D6350947F8";
const std::string kDigest =
    "sha256:dab59bed19543a3568a8a1a4ce0774f5b87bfe66a87c0b98b3b0db22c27fa7c1";

LockedPackage Pkg(std::string name, std::string version, std::vector<std::string> required_by) {
  LockedPackage p;
  p.name = name;
  p.version = version;
  p.architecture = "amd64";
  p.source = name;
  p.source_version = version;
  p.repository = {"Debian", "bookworm", "main"};
  p.filename =
      "pool/main/" + name.substr(0, 1) + "/" + name + "/" + name + "_" + version + "_amd64.deb";
  p.size = 1000 + name.size();
  p.sha256 = std::string(64, 'a' + static_cast<char>(name.size() % 6));
  p.required_by = std::move(required_by);
  return p;
}

// A small lock in canonical order.
Lock SampleLock() {
  Lock lock;
  lock.spec_digest = kDigest;
  lock.keyring_fingerprints = {kFpr1, kFpr2};
  lock.releases = {
      {"Debian", "bookworm", "bookworm", "2025-01-11T10:38:49Z", {kFpr1, kFpr2}},
      {"Debian", "bookworm-security", "bookworm-security", "2025-02-10T20:05:12Z", {kFpr2}},
  };
  lock.source_date_epoch = 1739217912;
  ArchLock amd64;
  amd64.arch = "amd64";
  amd64.packages = {Pkg("libc6", "2.36-9+deb12u9", {"libssl3"}),
                    Pkg("libssl3", "3.0.15-1~deb12u1", {"(spec)"})};
  amd64.packages[0].source = "glibc";
  amd64.packages[1].source = "openssl";
  amd64.packages[1].repository = {"Debian", "bookworm-security", "main"};
  amd64.excluded = {{"debconf", {"tzdata"}}};
  ArchLock arm64 = amd64;
  arm64.arch = "arm64";
  for (LockedPackage& p : arm64.packages) p.architecture = "arm64";
  arm64.packages.push_back(Pkg("tzdata", "2024a-0+deb12u1", {"(spec)"}));
  arm64.packages.back().architecture = "all";
  lock.archs = {amd64, arm64};
  return lock;
}

constexpr std::string_view kSampleJsonStart = R"({
  "lock_version": 1,
  "spec_digest": "sha256:dab59bed19543a3568a8a1a4ce0774f5b87bfe66a87c0b98b3b0db22c27fa7c1",
  "keyring_fingerprints": [
    "4D64FEC119C2029067D6E791F8D2585B8783D481",
    "B8B80B5B623EAB6AD8775C45B7C5D7D6350947F8"
  ],
  "releases": [
    {
      "origin": "Debian",
      "suite": "bookworm",
      "codename": "bookworm",
      "date": "2025-01-11T10:38:49Z",
      "signed_by": [
        "4D64FEC119C2029067D6E791F8D2585B8783D481",
        "B8B80B5B623EAB6AD8775C45B7C5D7D6350947F8"
      ]
    },
    {
      "origin": "Debian",
      "suite": "bookworm-security",
      "codename": "bookworm-security",
      "date": "2025-02-10T20:05:12Z",
      "signed_by": [
        "B8B80B5B623EAB6AD8775C45B7C5D7D6350947F8"
      ]
    }
  ],
  "source_date_epoch": 1739217912,
  "archs": [
    {
      "arch": "amd64",
      "packages": [
        {
          "name": "libc6",
          "version": "2.36-9+deb12u9",
          "architecture": "amd64",
          "source": "glibc",
          "source_version": "2.36-9+deb12u9",
          "repository": {
            "origin": "Debian",
            "suite": "bookworm",
            "component": "main"
          },
          "filename": "pool/main/l/libc6/libc6_2.36-9+deb12u9_amd64.deb",
          "size": 1005,
          "sha256": "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
          "required_by": [
            "libssl3"
          ]
        },
)";

TEST(LockJsonTest, FixedLayout) {
  std::string json = LockToJson(SampleLock());
  EXPECT_TRUE(json.starts_with(kSampleJsonStart)) << json;
  EXPECT_TRUE(json.ends_with("}\n"));
  EXPECT_FALSE(json.ends_with("\n\n"));
  EXPECT_THAT(json, HasSubstr(R"(      "excluded": [
        {
          "name": "debconf",
          "wanted_by": [
            "tzdata"
          ]
        }
      ],
      "left_out": []
)"));
}

TEST(LockJsonTest, PythonReadsItAndWritesTheSameBytes) {
  // Python's json module, an independent parser and writer, keeps key order and uses the same
  // 2-space layout: if it reproduces our bytes, the document is valid, canonical JSON.
  std::string json = LockToJson(SampleLock());
  auto py = testing::RunProcess(
      {"python3", "-c",
       "import json,sys; d=json.load(sys.stdin); sys.stdout.write(json.dumps(d, indent=2)+'\\n')"},
      {}, json);
  ASSERT_EQ(py.exit_code, 0) << py.err;
  EXPECT_EQ(py.out, json);
}

TEST(LockJsonTest, ByteIdenticalAcrossRunsAndInputOrder) {
  const Lock lock = SampleLock();
  const std::string first = LockToJson(lock);
  EXPECT_EQ(first, LockToJson(lock));
  // The same content in any order gives the same bytes.
  std::mt19937 rng(1);
  for (int round = 0; round < 20; ++round) {
    Lock shuffled = lock;
    std::shuffle(shuffled.archs.begin(), shuffled.archs.end(), rng);
    std::shuffle(shuffled.releases.begin(), shuffled.releases.end(), rng);
    std::shuffle(shuffled.keyring_fingerprints.begin(), shuffled.keyring_fingerprints.end(), rng);
    for (ArchLock& a : shuffled.archs) {
      std::shuffle(a.packages.begin(), a.packages.end(), rng);
      a.packages[0].required_by.push_back("(spec)");
      a.packages[0].required_by.push_back("(spec)");
      a.packages[0].required_by.push_back("zlib1g");
      std::reverse(a.packages[0].required_by.begin(), a.packages[0].required_by.end());
    }
    // required_by gained duplicates and a new entry, so compare with the canonical form of this
    // very lock rather than with `first`.
    std::string got = LockToJson(shuffled);
    EXPECT_EQ(LockToJson(CanonicalLock(shuffled)), got);
    Lock reparsed = *ParseLock(got, "x.lock.json");
    EXPECT_EQ(LockToJson(reparsed), got);
  }
  Lock reordered = lock;
  std::reverse(reordered.archs.begin(), reordered.archs.end());
  for (ArchLock& a : reordered.archs) std::reverse(a.packages.begin(), a.packages.end());
  std::reverse(reordered.releases.begin(), reordered.releases.end());
  EXPECT_EQ(LockToJson(reordered), first);
}

TEST(LockJsonTest, RoundTrip) {
  const Lock lock = SampleLock();
  auto parsed = ParseLock(LockToJson(lock), "image.lock.json");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_EQ(*parsed, lock);  // SampleLock is already canonical
  Lock messy = lock;
  std::reverse(messy.archs.begin(), messy.archs.end());
  messy.keyring_fingerprints.push_back(kFpr1);
  auto reparsed = ParseLock(LockToJson(messy), "image.lock.json");
  ASSERT_TRUE(reparsed.has_value()) << reparsed.error().message;
  EXPECT_EQ(*reparsed, CanonicalLock(messy));
  EXPECT_EQ(*reparsed, lock);
}

// What hardening left out, libc-bin added for its locale and an Essential package a dev lock
// adds are written and read back; a lock written before `left_out` existed still reads.
TEST(LockJsonTest, LeftOutAndHardbasesMarkersRoundTrip) {
  Lock lock = SampleLock();
  lock.archs[0].left_out = {{"passwd", {"adduser"}}, {"dpkg", {"tzdata", "(spec)"}}};
  lock.archs[0].packages.push_back(
      Pkg("libc-bin", "2.36-9+deb12u9", {"(hardbase: C.UTF-8 locale)"}));
  lock.archs[0].packages.push_back(Pkg("sed", "4.9-1", {"(hardbase: Essential)"}));
  std::string json = LockToJson(lock);
  EXPECT_THAT(json, HasSubstr(R"x(      "left_out": [
        {
          "name": "dpkg",
          "wanted_by": [
            "(spec)",
            "tzdata"
          ]
        },
        {
          "name": "passwd",)x"));
  EXPECT_THAT(json, HasSubstr(R"x("required_by": [
            "(hardbase: C.UTF-8 locale)"
          ])x"));
  auto parsed = ParseLock(json, "image.lock.json");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_EQ(*parsed, CanonicalLock(lock));
  EXPECT_EQ(LockToJson(*parsed), json);

  auto old = nlohmann::json::parse(LockToJson(SampleLock()));
  for (auto& a : old["archs"]) a.erase("left_out");
  auto old_parsed = ParseLock(old.dump(2), "image.lock.json");
  ASSERT_TRUE(old_parsed.has_value()) << old_parsed.error().message;
  EXPECT_EQ(*old_parsed, SampleLock());
}

TEST(LockJsonTest, LargeSizesAndEpochSurvive) {
  Lock lock = SampleLock();
  lock.archs[0].packages[0].size = 1ull << 40;
  lock.source_date_epoch = 4102444800;  // 2100-01-01
  auto parsed = ParseLock(LockToJson(lock), "l.json");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_EQ(parsed->archs[0].packages[0].size, 1ull << 40);
  EXPECT_EQ(parsed->source_date_epoch, 4102444800);
}

// ParseLock's error for each Python edit of the sample lock's JSON (`d` is the parsed document).
// One Python process makes all the edited documents.
std::vector<std::string> ErrorsAfterEdits(const std::vector<std::string>& edits) {
  std::string script =
      "import copy, json, sys\n"
      "base = json.load(sys.stdin)\n"
      "edits = json.loads(sys.argv[1])\n"
      "out = []\n"
      "for e in edits:\n"
      "    env = {'d': copy.deepcopy(base)}\n"
      "    exec(e, env)\n"
      "    out.append(json.dumps(env['d'], indent=2))\n"
      "json.dump(out, sys.stdout)\n";
  nlohmann::json edit_list = edits;
  auto py = testing::RunProcess({"python3", "-c", script, edit_list.dump()}, {},
                                LockToJson(SampleLock()));
  EXPECT_EQ(py.exit_code, 0) << py.err;
  std::vector<std::string> errors;
  for (const auto& doc : nlohmann::json::parse(py.out)) {
    auto lock = ParseLock(doc.get<std::string>(), "image.lock.json");
    if (lock) {
      errors.push_back("(parsed without error)");
      continue;
    }
    EXPECT_THAT(lock, FailsWith(ErrorCode::kSpec));
    errors.push_back(lock.error().message);
  }
  return errors;
}

// Expects each edit (first) to give its error (second).
void ExpectEditErrors(const std::vector<std::pair<std::string, std::string>>& cases) {
  std::vector<std::string> edits;
  for (const auto& c : cases) edits.push_back(c.first);
  std::vector<std::string> errors = ErrorsAfterEdits(edits);
  ASSERT_EQ(errors.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(errors[i], cases[i].second) << "edit: " << cases[i].first;
  }
}

TEST(ParseLockTest, ErrorsNameTheJsonPointer) {
  ExpectEditErrors({
      {"d['archs'][0]['packages'][1]['sha256'] = 'abc'",
       "image.lock.json: /archs/0/packages/1/sha256: expected 64 lowercase hex digits, got "
       "'abc'"},
      {"d['archs'][1]['packages'][2]['sha256'] = 'A' * 64",
       "image.lock.json: /archs/1/packages/2/sha256: expected 64 lowercase hex digits, got "
       "'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'"},
      {"del d['archs'][0]['packages'][0]['size']",
       "image.lock.json: /archs/0/packages/0: missing required key 'size'"},
      {"d['archs'][0]['packages'][0]['size'] = '12'",
       "image.lock.json: /archs/0/packages/0/size: expected a non-negative integer"},
      {"d['archs'][0]['packages'][0]['size'] = -1",
       "image.lock.json: /archs/0/packages/0/size: expected a non-negative integer"},
      {"d['archs'][0]['packages'][0]['size'] = 1.5",
       "image.lock.json: /archs/0/packages/0/size: expected a non-negative integer"},
      {"d['archs'][0]['packages'][0]['url'] = 'http://x'",
       "image.lock.json: /archs/0/packages/0/url: unknown key"},
      // A filename error names the line too: it is the value that decides which file is read.
      {"d['archs'][0]['packages'][0]['filename'] = '/pool/x.deb'",
       "image.lock.json:45: /archs/0/packages/0/filename: repository path '/pool/x.deb' is "
       "absolute"},
      {"d['archs'][0]['packages'][0]['filename'] = 'pool/../../x.deb'",
       "image.lock.json:45: /archs/0/packages/0/filename: repository path 'pool/../../x.deb' has "
       "a '..' component"},
      {"d['archs'][0]['packages'][0]['filename'] = 'pool/%2e%2e/%2E%2E/x.deb'",
       "image.lock.json:45: /archs/0/packages/0/filename: repository path "
       "'pool/%2e%2e/%2E%2E/x.deb' contains the percent-escape '%2e'"},
      {"d['archs'][0]['packages'][0]['filename'] = 'pool\\\\..\\\\x.deb'",
       "image.lock.json:45: /archs/0/packages/0/filename: repository path 'pool\\..\\x.deb' "
       "contains '\\'"},
      {"d['archs'][1]['packages'][1]['filename'] = 'pool/x.deb\\n'",
       "image.lock.json:113: /archs/1/packages/1/filename: path 'pool/x.deb\\n' contains the "
       "control character \\n"},
      // Python writes non-ASCII as \\u escapes, so the value is not found verbatim: the pointer
      // still names it.
      {"d['archs'][0]['packages'][0]['filename'] = 'pool/\\u00e9%41'",
       "image.lock.json: /archs/0/packages/0/filename: repository path 'pool/\xc3\xa9%41' "
       "contains the percent-escape '%41'"},
      {"d['archs'][0]['packages'][0]['name'] = 'Libc6'",
       "image.lock.json: /archs/0/packages/0/name: expected a Debian package name, got "
       "'Libc6'"},
      {"d['archs'][0]['packages'][0]['version'] = 'latest'",
       "image.lock.json: /archs/0/packages/0/version: expected a Debian version, got 'latest'"},
      {"d['archs'][0]['packages'][0]['architecture'] = 'x86_64'",
       "image.lock.json: /archs/0/packages/0/architecture: expected a Debian architecture or "
       "all, got 'x86_64'"},
      {"d['archs'][0]['packages'][0]['architecture'] = 'arm64'",
       "image.lock.json: /archs/0/packages/0/architecture: 'arm64' package in the amd64 lock"},
      {"d['archs'][0]['packages'][0]['required_by'] = []",
       "image.lock.json: /archs/0/packages/0/required_by: must not be empty"},
      {"d['archs'][0]['packages'][0]['repository'] = 'bookworm'",
       "image.lock.json: /archs/0/packages/0/repository: expected an object"},
      {"d['archs'][0]['packages'][0]['repository']['suite'] = ''",
       "image.lock.json: /archs/0/packages/0/repository/suite: expected a suite name, got ''"},
      {"d['archs'][0]['packages'].append(d['archs'][0]['packages'][0])",
       "image.lock.json: /archs/0/packages/2/name: package 'libc6' is listed twice"},
      {"d['archs'][1]['arch'] = 'amd64'\nfor p in d['archs'][1]['packages']: p['architecture'] = "
       "'all'",
       "image.lock.json: /archs/1/arch: architecture 'amd64' is listed twice"},
      {"d['archs'][0]['excluded'][0]['name'] = 'libc6'",
       "image.lock.json: /archs/0/excluded/0/name: 'libc6' is both excluded and locked"},
      // An exclusion no one wanted is not written: a lock with one was not written by hardbase.
      {"d['archs'][0]['excluded'][0]['wanted_by'] = []",
       "image.lock.json: /archs/0/excluded/0/wanted_by: must not be empty"},
      {"d['archs'][0]['left_out'] = [{'name': 'dpkg', 'wanted_by': []}]",
       "image.lock.json: /archs/0/left_out/0/wanted_by: must not be empty"},
      {"d['archs'][0]['left_out'] = [{'name': 'libc6', 'wanted_by': ['x1']}]",
       "image.lock.json: /archs/0/left_out/0/name: 'libc6' is both left out and locked"},
      {"d['archs'][0]['left_out'] = [{'name': 'debconf', 'wanted_by': ['x1']}]",
       "image.lock.json: /archs/0/left_out/0/name: 'debconf' is listed twice (excluded or left "
       "out)"},
      {"d['archs'][0]['left_out'] = {}", "image.lock.json: /archs/0/left_out: expected an array"},
      {"d['archs'][0]['left_out'] = [{'name': 'dpkg', 'wanted_by': ['(hardbase: C.UTF-8 "
       "locale)']}]",
       "image.lock.json: /archs/0/left_out/0/wanted_by/0: expected a package name or (spec), got "
       "'(hardbase: C.UTF-8 locale)'"},
      {"d['archs'][0]['packages'][0]['required_by'] = ['(hardbase)']",
       "image.lock.json: /archs/0/packages/0/required_by/0: expected a package name, (spec), "
       "(hardbase: C.UTF-8 locale) or (hardbase: Essential), got '(hardbase)'"},
      {"d['archs'] = []", "image.lock.json: /archs: must not be empty"},
      {"d['releases'][1]['date'] = 'Mon, 10 Feb 2025 20:05:12 UTC'",
       "image.lock.json: /releases/1/date: expected an RFC 3339 UTC time like "
       "2025-02-08T10:44:01Z, got 'Mon, 10 Feb 2025 20:05:12 UTC'"},
      {"d['releases'][0]['signed_by'] = ['0xDEADBEEF']",
       "image.lock.json: /releases/0/signed_by/0: expected a key fingerprint (40 or 64 hex "
       "digits), got '0xDEADBEEF'"},
      {"d['spec_digest'] = 'sha256:abc'",
       "image.lock.json: /spec_digest: expected sha256: and 64 lowercase hex digits, got "
       "'sha256:abc'"},
      {"d['source_date_epoch'] = 'yesterday'",
       "image.lock.json: /source_date_epoch: expected a non-negative integer"},
      {"d['mirror'] = 'http://x'", "image.lock.json: /mirror: unknown key"},
      {"del d['releases']", "image.lock.json: /: missing required key 'releases'"},
      {"d = [d]", "image.lock.json: /: expected a JSON object"},
  });
}

TEST(ParseLockTest, RejectsOtherLockVersions) {
  ExpectEditErrors({
      {"d['lock_version'] = 2\nd['archs'] = 'new shape'",
       "image.lock.json: /lock_version: unsupported lock_version 2 (this hardbase reads 1): "
       "use a matching hardbase or run hardbase lock"},
      {"d['lock_version'] = '1'", "image.lock.json: /lock_version: expected an integer"},
      {"del d['lock_version']", "image.lock.json: /: missing required key 'lock_version'"},
  });
}

TEST(ParseLockTest, SyntaxErrorsHaveLineAndColumn) {
  auto lock = ParseLock("{\n  \"lock_version\": 1,\n  \"archs\": [,]\n}\n", "image.lock.json");
  ASSERT_FALSE(lock.has_value());
  EXPECT_THAT(lock, FailsWith(ErrorCode::kSpec));
  EXPECT_THAT(lock.error().message, ::testing::StartsWith("image.lock.json:3:13: invalid JSON: "));
  auto empty = ParseLock("", "image.lock.json");
  ASSERT_FALSE(empty.has_value());
  EXPECT_THAT(empty.error().message, ::testing::StartsWith("image.lock.json:1:1: invalid JSON: "));
  auto bad_utf8 = ParseLock("{\"a\": \"\xff\"}", "image.lock.json");
  ASSERT_FALSE(bad_utf8.has_value());
  EXPECT_THAT(bad_utf8.error().message,
              ::testing::StartsWith("image.lock.json:1:8: invalid JSON: "));
}

TEST(LockPathTest, DefaultLockPath) {
  EXPECT_EQ(DefaultLockPath("image.yaml"), "image.lock.json");
  EXPECT_EQ(DefaultLockPath("examples/java17/image.yaml"), "examples/java17/image.lock.json");
  EXPECT_EQ(DefaultLockPath("spec.yml"), "spec.lock.json");
  EXPECT_EQ(DefaultLockPath("spec"), "spec.lock.json");
  EXPECT_EQ(DefaultLockPath("spec.json"), "spec.json.lock.json");
  EXPECT_EQ(DefaultLockPath("dir.yaml/spec"), "dir.yaml/spec.lock.json");
  EXPECT_EQ(DefaultLockPath(".yaml"), ".yaml.lock.json");
}

TEST(LockSpecTest, CheckLockMatchesSpec) {
  auto spec = ParseImageSpec("name: x\narchs: [amd64]\npackages: [base-files]\n", "image.yaml");
  ASSERT_TRUE(spec.has_value());
  Lock lock = SampleLock();
  lock.spec_digest = ResolutionDigest(*spec);
  EXPECT_TRUE(CheckLockMatchesSpec(lock, *spec, "image.lock.json").has_value());

  // An image-only edit keeps the lock valid; a package edit makes it stale.
  auto relabelled = ParseImageSpec(
      "name: x\narchs: [amd64]\npackages: [base-files]\nlabels: {a: b}\ncmd: [x]\n", "image.yaml");
  EXPECT_TRUE(CheckLockMatchesSpec(lock, *relabelled, "image.lock.json").has_value());
  auto changed =
      ParseImageSpec("name: x\narchs: [amd64]\npackages: [base-files, tzdata]\n", "image.yaml");
  auto stale = CheckLockMatchesSpec(lock, *changed, "image.lock.json");
  ASSERT_FALSE(stale.has_value());
  EXPECT_THAT(stale, FailsWith(ErrorCode::kStale));
  EXPECT_EQ(stale.error().message, "image.lock.json was made for another spec (digest " +
                                       lock.spec_digest + ", spec now " +
                                       ResolutionDigest(*changed) + "): run hardbase lock");
}

TEST(LockFileTest, LoadLock) {
  auto dir = TempDir::Create("lock-test-");
  ASSERT_TRUE(dir.has_value());
  auto missing = LoadLock(dir->path() + "/image.lock.json");
  ASSERT_FALSE(missing.has_value());
  EXPECT_THAT(missing, FailsWith(ErrorCode::kNotFound));
  EXPECT_EQ(missing.error().message,
            "lock " + dir->path() + "/image.lock.json does not exist: run hardbase lock");
  std::string path = dir->path() + "/image.lock.json";
  ASSERT_TRUE(WriteFileAtomic(path, LockToJson(SampleLock())));
  auto loaded = LoadLock(path);
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
  EXPECT_EQ(*loaded, SampleLock());
  ASSERT_TRUE(WriteFileAtomic(path, "{}"));
  auto bad = LoadLock(path);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message, path + ": /: missing required key 'lock_version'");
}

}  // namespace
}  // namespace hardbase::spec
