#include "oci/layout_update.h"

#include <algorithm>
#include <optional>

#include "base/fs.h"
#include "base/fs_safe.h"
#include "oci/image_ref.h"
#include "oci/image_source.h"
#include "oci/manifest.h"

namespace hardbase::oci {
namespace {

Result<void> Update(const std::string& dir, const std::vector<BlobSource>& blobs,
                    const std::vector<Descriptor>& entries, const FileLock* held) {
  if (!PathExists(dir + "/oci-layout")) {
    return Fail(PathExists(dir) ? ErrorCode::kSpec : ErrorCode::kNotFound,
                "not an OCI image layout (no oci-layout file)");
  }
  for (const auto& blob : blobs) {
    if (!IsSha256Digest(blob.descriptor.digest)) {
      return Fail(ErrorCode::kInternal, "blob '" + blob.descriptor.digest + "': not sha256");
    }
    std::string path = dir + "/blobs/sha256/" + blob.descriptor.digest.substr(7);
    if (PathExists(path)) continue;
    HB_TRY_VOID(MakeDirs(dir + "/blobs/sha256"));
    HB_TRY_VOID(WriteBlobFile(blob, path));
  }

  std::optional<FileLock> lock;
  if (!held) {
    HB_TRY(lock, LockLayout(dir));
  }
  HB_TRY(std::string text, ReadRegularFile(dir + "/index.json", kMaxLayoutDocument));
  auto index = ParseIndex(text);
  if (!index) return Fail(index.error().Wrap("index.json"));
  std::vector<Descriptor>& list = index->manifests;
  for (const auto& entry : entries) {
    if (std::find(list.begin(), list.end(), entry) != list.end()) continue;
    std::string tag = RefName(entry);
    auto same_tag = std::find_if(list.begin(), list.end(), [&](const Descriptor& d) {
      return !tag.empty() && RefName(d) == tag;
    });
    if (same_tag != list.end()) {
      *same_tag = entry;
    } else {
      list.push_back(entry);
    }
  }
  return WriteFileAtomic(dir + "/index.json", IndexJson(list, index->annotations));
}

}  // namespace

Result<void> AddToLayout(const std::string& dir, const std::vector<BlobSource>& blobs,
                         const std::vector<Descriptor>& entries, const FileLock* held) {
  return WithContext(Update(dir, blobs, entries, held), "add to OCI layout " + dir);
}

Result<FileLock> LockLayout(const std::string& dir) {
  if (!PathExists(dir + "/oci-layout")) {
    return Fail(PathExists(dir) ? ErrorCode::kSpec : ErrorCode::kNotFound,
                dir + ": not an OCI image layout (no oci-layout file)");
  }
  return FileLock::Acquire(dir + "/index.json.lock", FileLock::Mode::kExclusive);
}

}  // namespace hardbase::oci
