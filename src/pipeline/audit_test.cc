// The audit flow on real images: one hardbase built from the fake repository (signed, with its
// SBOM), one written here layer by layer with what an audit must find (a key a later layer
// deleted, setuid and world-writable files, secrets in the config), and a root filesystem
// directory.
#include "pipeline/audit.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>

#include "base/fs.h"
#include "oci/image.h"
#include "oci/layer.h"
#include "oci/test_images.h"
#include "pipeline/build_pipeline.h"
#include "pipeline/fake_repository_test_support.h"
#include "support/result_matchers.h"
#include "vuln/database.h"

namespace hardbase::pipeline {
namespace {

using ::hardbase::testing::FailsWith;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using namespace ::hardbase::oci::testing;
using Signature = audit::Provenance::Signature;

const audit::Finding* FindingOf(const audit::Report& r, std::string_view id) {
  for (const auto& f : r.findings) {
    if (f.id == id) return &f;
  }
  return nullptr;
}

std::string CisStatus(const audit::Report& r, std::string_view id) {
  for (const auto& c : r.cis) {
    if (c.id == id) return std::string(audit::CisStatusName(c.status));
  }
  return "missing";
}

class AuditPipelineTest : public FakeRepositoryTest {
 protected:
  // libfoo1 (with a CVE fixed in 1.1-1) and base-files saying Debian 12, built and signed.
  void BuildSignedImage() {
    auto key = sign::PrivateKey::Generate();
    ASSERT_TRUE(key.has_value());
    key_.emplace(std::move(*key));
    BuildDebian12Image(Work() + "/image", &*key_);
    ASSERT_FALSE(HasFailure());
  }

  std::string SaveDatabase() {
    vuln::Metadata metadata;
    metadata.format_version = vuln::kDatabaseFormatVersion;
    metadata.source = "osv:test";
    metadata.data_date = "2099-01-01T00:00:00Z";
    vuln::Entry e;
    e.release = "12";
    e.source = "foo";
    e.id = "CVE-2099-0001";
    e.introduced = "0";
    e.fixed = "1.1-1";
    e.urgency = "high";
    auto db = vuln::Database::Make(metadata, {e}, {{e.id, "x", "", -1, "", ""}});
    std::string path = Work() + "/vulndb";
    EXPECT_TRUE(db.Save(path).has_value());
    return path;
  }

  std::optional<sign::PrivateKey> key_;
};

TEST_F(AuditPipelineTest, AuditsASignedHardbaseImage) {
  BuildSignedImage();
  ASSERT_FALSE(HasFatalFailure());
  AuditOptions options;
  options.db_path = SaveDatabase();
  sign::PublicKey key = key_->Public();
  options.key = &key;
  auto facts = ReadAuditFacts("oci:" + Work() + "/image:test", options);
  ASSERT_TRUE(facts.has_value()) << facts.error().message;
  EXPECT_EQ(facts->package_database, "var/lib/dpkg/status.d");
  EXPECT_TRUE(facts->has_config);
  EXPECT_GT(facts->layers, 1u);
  EXPECT_TRUE(facts->tree.nodes.count("usr/lib/libfoo.so.1"));
  EXPECT_TRUE(facts->tree.files.count("var/lib/dpkg/status.d/libfoo1.md5sums"));
  EXPECT_FALSE(facts->tree.files.count("usr/lib/libfoo.so.1"));  // not an audited file
  audit::Report r = audit::Audit(*facts);
  EXPECT_EQ(r.distro, "Debian GNU/Linux 12 (bookworm)");
  EXPECT_FALSE(r.config.runs_as_root) << r.config.user_evidence;
  EXPECT_TRUE(r.file_lists);
  EXPECT_THAT(r.unowned_sample, Not(Contains("/usr/lib/libfoo.so.1")));
  EXPECT_EQ(r.provenance.signature, Signature::kVerified);
  EXPECT_TRUE(r.provenance.sbom);
  EXPECT_TRUE(r.provenance.sbom_verified);
  EXPECT_GE(r.provenance.attestations, 1);
  ASSERT_TRUE(r.vulnerabilities.database) << r.vulnerabilities.note;
  EXPECT_EQ(r.vulnerabilities.high.fixable, 1);  // CVE-2099-0001 in libfoo1
  EXPECT_EQ(CisStatus(r, "4.1"), "pass");
  EXPECT_EQ(CisStatus(r, "4.2"), "pass");
  EXPECT_EQ(CisStatus(r, "4.3"), "pass");
  EXPECT_EQ(CisStatus(r, "4.4"), "fail");
  EXPECT_EQ(CisStatus(r, "4.5"), "pass");
  EXPECT_EQ(CisStatus(r, "4.8"), "pass");
  for (const auto& tools : r.surface) EXPECT_THAT(tools, IsEmpty());

  // Without the key: present, not verified. With another: invalid.
  options.key = nullptr;
  auto unchecked = AuditImage("oci:" + Work() + "/image:test", options);
  ASSERT_TRUE(unchecked.has_value()) << unchecked.error().message;
  EXPECT_EQ(unchecked->provenance.signature, Signature::kPresent);
  EXPECT_TRUE(unchecked->provenance.sbom);
  EXPECT_EQ(CisStatus(*unchecked, "4.2"), "fail");
  EXPECT_EQ(CisStatus(*unchecked, "4.5"), "pass");
  sign::PublicKey other = sign::PrivateKey::Generate()->Public();
  options.key = &other;
  auto wrong = AuditImage("oci:" + Work() + "/image:test", options);
  ASSERT_TRUE(wrong.has_value()) << wrong.error().message;
  EXPECT_EQ(wrong->provenance.signature, Signature::kInvalid);
  EXPECT_NE(FindingOf(*wrong, "invalid-signature"), nullptr);
  EXPECT_LT(wrong->score, r.score);

  // A database given with --db must be there; the default one may be missing.
  options.key = nullptr;
  options.db_path = Work() + "/no-such-db";
  auto missing = AuditImage("oci:" + Work() + "/image:test", options);
  ASSERT_TRUE(missing.has_value()) << missing.error().message;
  EXPECT_FALSE(missing->vulnerabilities.database);
  EXPECT_THAT(missing->vulnerabilities.note, HasSubstr("no vulnerability database"));
  options.db_required = true;
  EXPECT_THAT(AuditImage("oci:" + Work() + "/image:test", options),
              FailsWith(ErrorCode::kNotFound, HasSubstr("no-such-db")));
}

// An image written here: what a careless Dockerfile leaves.
TEST_F(AuditPipelineTest, FindsWhatAHostileImageHides) {
  std::string key =
      "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAE\n"
      "-----END OPENSSH PRIVATE KEY-----\n";
  oci::LayerEntry srv = DirEntry("/srv");
  srv.mode = 0777;
  std::vector<std::string> tars = {
      Tar({DirEntry("/root"), DirEntry("/root/.ssh"), FileEntry("/root/.ssh/id_ed25519", key, 0600),
           DirEntry("/usr"), DirEntry("/usr/bin"), FileEntry("/usr/bin/su", "ELF", 04755),
           FileEntry("/usr/bin/sh", "ELF", 0755), srv, DirEntry("/etc"),
           FileEntry("/etc/passwd", "root:x:0:0::/root:/bin/sh\n")}),
      Tar({DirEntry("/root/.ssh"), FileEntry("/root/.ssh/.wh.id_ed25519", "")}),
  };
  oci::ImageConfig config;
  config.platform = {"amd64", "linux", ""};
  config.user = "root";
  config.env = {"PATH=/usr/bin", "AWS_SECRET_ACCESS_KEY=" + std::string(40, 'k'),
                "DB_PASSWORD=hunter2"};
  config.exposed_ports = {"8080/tcp"};
  std::vector<oci::BlobSource> blobs;
  std::vector<oci::Descriptor> layers;
  for (const auto& tar : tars) {
    config.diff_ids.push_back("sha256:" + Sha256Hex(tar));
    oci::Blob layer = oci::MakeBlob(std::string(oci::LayerMediaType(oci::Compression::kGzip)),
                                    *oci::CompressLayer(tar, oci::Compression::kGzip, 1));
    layers.push_back(layer.descriptor);
    blobs.push_back({layer.descriptor, layer.bytes, ""});
  }
  oci::Blob config_blob = oci::MakeBlob(std::string(oci::kMediaTypeConfig), ConfigJson(config));
  oci::Blob manifest = oci::MakeBlob(std::string(oci::kMediaTypeManifest),
                                     ManifestJson(config_blob.descriptor, layers, {}));
  blobs.push_back({config_blob.descriptor, config_blob.bytes, ""});
  blobs.push_back({manifest.descriptor, manifest.bytes, ""});
  std::string layout = Work() + "/hostile";
  ASSERT_TRUE(oci::WriteImage(Output(blobs, manifest.descriptor, "t"),
                              oci::OutputFormat::kOciLayout, layout)
                  .has_value());

  AuditOptions options;
  options.db_path = Work() + "/no-db";
  auto r = AuditImage("oci:" + layout, options);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_EQ(r->secrets.size(), 1u);
  EXPECT_EQ(r->secrets[0].path, "/root/.ssh/id_ed25519");
  EXPECT_EQ(r->secrets[0].kind, "private-key");
  EXPECT_EQ(r->secrets[0].layer, 0u);
  EXPECT_TRUE(r->secrets[0].removed);
  EXPECT_THAT(r->setuid, ElementsAre(Field(&audit::ModeFile::path, "/usr/bin/su")));
  EXPECT_THAT(r->world_writable, ElementsAre(Field(&audit::ModeFile::path, "/srv")));
  EXPECT_THAT(r->surface[0], ElementsAre(Field(&audit::Tool::path, "/usr/bin/sh")));
  EXPECT_THAT(r->config.env_secrets, ElementsAre("AWS_SECRET_ACCESS_KEY", "DB_PASSWORD"));
  EXPECT_THAT(r->config.exposed_ports, ElementsAre("8080/tcp"));
  EXPECT_TRUE(r->config.runs_as_root);
  EXPECT_FALSE(r->file_lists);
  EXPECT_NE(FindingOf(*r, "no-package-database"), nullptr);
  EXPECT_EQ(CisStatus(*r, "4.10"), "fail");
  EXPECT_EQ(CisStatus(*r, "4.11"), "n/a");
  EXPECT_EQ(r->provenance.signature, Signature::kAbsent);
  EXPECT_EQ(r->layers, 2u);
  EXPECT_EQ(r->digest, manifest.descriptor.digest);

  // A layer cut short (its descriptor made to match): a clear error, not a partial audit.
  std::string noise(200000, '\0');
  uint32_t x = 7;
  for (char& c : noise) c = static_cast<char>((x = x * 1103515245 + 12345) >> 24);
  std::string whole =
      *oci::CompressLayer(Tar({FileEntry("/f", noise)}), oci::Compression::kGzip, 1);
  oci::Blob cut = oci::MakeBlob(std::string(oci::LayerMediaType(oci::Compression::kGzip)),
                                whole.substr(0, whole.size() / 2));
  oci::Blob cut_manifest =
      oci::MakeBlob(std::string(oci::kMediaTypeManifest),
                    ManifestJson(config_blob.descriptor, {cut.descriptor}, {}));
  std::vector<oci::BlobSource> cut_blobs = {{cut.descriptor, cut.bytes, ""},
                                            {config_blob.descriptor, config_blob.bytes, ""},
                                            {cut_manifest.descriptor, cut_manifest.bytes, ""}};
  std::string truncated = Work() + "/truncated";
  ASSERT_TRUE(oci::WriteImage(Output(cut_blobs, cut_manifest.descriptor, "t"),
                              oci::OutputFormat::kOciLayout, truncated)
                  .has_value());
  EXPECT_THAT(AuditImage("oci:" + truncated, options),
              FailsWith(ErrorCode::kSpec, HasSubstr("layer 0")));
}

TEST_F(AuditPipelineTest, AuditsARootFilesystemDirectory) {
  std::string root = Work() + "/rootfs";
  ASSERT_TRUE(MakeDirs(root + "/usr/bin").has_value());
  ASSERT_TRUE(MakeDirs(root + "/app").has_value());
  ASSERT_TRUE(WriteFileAtomic(root + "/usr/bin/bash", "ELF", 04755).has_value());
  ASSERT_EQ(::chmod((root + "/usr/bin/bash").c_str(), 04755), 0);
  ASSERT_TRUE(WriteFileAtomic(root + "/app/.env", "DB_PASSWORD=hunter2\n").has_value());
  ASSERT_EQ(::symlink("usr/bin", (root + "/bin").c_str()), 0);
  ASSERT_EQ(::symlink("/etc/shadow", (root + "/app/escape").c_str()), 0);  // never followed
  AuditOptions options;
  options.db_path = Work() + "/no-db";
  auto r = AuditImage("dir:" + root, options);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->name, "rootfs");
  EXPECT_THAT(r->surface[0], ElementsAre(Field(&audit::Tool::path, "/usr/bin/bash")));
  EXPECT_THAT(r->setuid, ElementsAre(Field(&audit::ModeFile::mode, 04755u)));
  ASSERT_EQ(r->secrets.size(), 1u);
  EXPECT_EQ(r->secrets[0].path, "/app/.env");
  EXPECT_FALSE(r->secrets[0].removed);
  EXPECT_TRUE(r->config.runs_as_root);
  EXPECT_EQ(r->provenance.signature, Signature::kAbsent);
  EXPECT_THAT(AuditImage("dir:" + Work() + "/none", options), FailsWith(ErrorCode::kNotFound));
}

}  // namespace
}  // namespace hardbase::pipeline
