// Writing images, wherever they go: the write-side counterpart of ImageSource. `copy`, `push`,
// `pull`, `sign` and `attest` store blobs, manifests, tags and referrers through an ImageTarget
// without knowing whether they go to an OCI layout directory, an oci-archive, a docker-archive, a
// registry (registry/registry_target.h) or memory (memory_image.h).
//
// What a target holds is changed at Commit for the stores written whole: a new layout directory,
// an oci-archive and a docker-archive are written to a temporary and renamed into place; an
// existing layout gets its blobs and index.json entries added under its lock (AddToLayout). A
// target destroyed without Commit leaves what was there as it was. A registry has no such step:
// each blob and manifest is stored when it is put, blobs before the manifests naming them, so it
// never holds a manifest whose blobs are missing.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "base/log.h"
#include "oci/image.h"
#include "oci/image_ref.h"
#include "oci/image_source.h"

namespace hardbase::oci {

// Bytes read in pieces: how many were put in `buf`, 0 at the end. (The same type as
// registry::ByteReader, so either side's readers serve the other.)
using ByteReader = std::function<Result<size_t>(char* buf, size_t size)>;
// A blob's bytes from `offset` on, opened afresh for each attempt (a resumed upload starts where
// the registry says it stands; a retried chunk asks for an earlier offset).
using ByteOpener = std::function<Result<ByteReader>(uint64_t offset)>;

// A blob to store: its descriptor and where its bytes come from, read in pieces so that a layer
// never sits in memory whole. Targets check the bytes against the descriptor (kIntegrity naming
// the digest), as they read them or at Commit at the latest.
struct BlobContent {
  Descriptor descriptor;
  ByteOpener open;
  // The local regular file holding the bytes, when there is one (a layout's blob file, a cache
  // entry): a local target copies it as it is (copy_file_range) instead of reading `open`.
  std::string path;
};

// Reads the regular file `path` (a FIFO or a device is refused with kIo, never waited on).
ByteOpener FileOpener(std::string path);
// Reads `bytes`.
ByteOpener BytesOpener(std::shared_ptr<const std::string> bytes);
// A blob given as bytes or a file (what WriteImage and AddToLayout take).
BlobContent ContentOf(const BlobSource& blob);
// The blob `blob` of `source` (which must outlive the content): its file when the source has one
// (BlobFile), else read through OpenBlob, so checked against the descriptor as it is read. Reads
// at consecutive offsets share one reader; an earlier offset opens the blob again.
BlobContent ContentOf(ImageSource& source, const Descriptor& blob);

// A manifest naming another (its `subject`): an SBOM, a sigstore bundle (OCI 1.1 referrers).
struct Referrer {
  Blob manifest;
  // How the referrer is listed: for a layout its index.json entry, for a registry without the
  // referrers API its entry in the fallback index: the manifest's descriptor with its
  // artifactType and annotations.
  Descriptor entry;
};

class ImageTarget {
 public:
  virtual ~ImageTarget() = default;
  ImageTarget(const ImageTarget&) = delete;
  ImageTarget& operator=(const ImageTarget&) = delete;

  // Where the image goes; its tag and digest say how the image is named there (PutImage).
  const ImageRef& ref() const { return ref_; }

  // HasBlob, HasManifest, MountBlob and PutBlob may be called from several threads at once, the
  // other members from one at a time.

  // Whether the target holds the blob (a config or layer) already, so it need not be put.
  virtual Result<bool> HasBlob(const Descriptor& blob) = 0;
  // Whether the target holds the manifest by digest, and so every blob it names (a registry
  // accepts a manifest only when they are there): a repeated copy asks about a few manifests,
  // not every layer. False when the target cannot tell (a layout: its blobs are asked about).
  virtual Result<bool> HasManifest(const Descriptor& manifest) = 0;
  // Links the blob from the image `from` is (another repository of the same registry) instead of
  // sending it; false when it cannot (then PutBlob). False by default.
  virtual Result<bool> MountBlob(const Descriptor& blob, const ImageRef& from);
  // Stores a blob. `progress` (may be null) advances by the bytes sent.
  virtual Result<void> PutBlob(const BlobContent& blob, Progress* progress) = 0;

  // Stores a manifest or index (its exact bytes, so its digest never changes) by digest, and
  // names it `tag` unless `tag` is empty: a registry tag, a layout's index.json entry with that
  // ref.name (replacing an entry with the same name): what cosign's sha256-<hex>.sig tags are.
  // Whether anything was stored (false: it was there already under that name).
  virtual Result<bool> PutManifest(const Blob& manifest, std::string_view tag) = 0;
  // Stores the image the target is made to hold: its root manifest or index, named `tag`; with an
  // empty tag, a registry stores it under its reference's digest, else "latest", and a layout or
  // archive lists it without a name. A new layout or archive holds one image. Whether anything
  // was stored.
  virtual Result<bool> PutImage(const Blob& root, std::string_view tag) = 0;
  // Stores the referrers of `subject` (manifests whose subject field names it) by digest and
  // lists them where the target lists referrers: a layout's index.json; a registry's referrers
  // API, or when it has none the image index at the fallback tag sha256-<hex> (OCI 1.1). How many
  // manifests were stored (the referrers and a changed fallback index).
  virtual Result<int> PutReferrers(std::string_view subject,
                                   const std::vector<Referrer>& referrers) = 0;

  // Holds the target's lock from now until Commit or destruction, so that what was read from the
  // image before writing (the signatures at a cosign tag, to add one) is still what is there when
  // the new entries are added: for an existing layout the flock AddToLayout takes. Nothing for the
  // others (a new layout or archive is replaced whole; a registry offers no lock: as for cosign,
  // two signers racing on one tag may lose a signature).
  virtual Result<void> Lock();
  // Makes what was put visible (see the top of this file). Once, after the last put.
  virtual Result<void> Commit() = 0;

  // What a progress line calls sending blobs to this target ("push HOST/REPO"), or "" when
  // storing them is local work that shows none.
  virtual std::string TransferLabel() const;

 protected:
  explicit ImageTarget(ImageRef ref) : ref_(std::move(ref)) {}

 private:
  ImageRef ref_;
};

struct ImageTargetOptions {
  // Add to the image store the reference names, never create or replace one: a layout directory
  // must hold a layout already (kNotFound / kSpec otherwise); an archive, which is only ever
  // written whole, is refused (kUsage). For storing signatures and attestations beside an image.
  bool add_only = false;
};

// Opens a layout directory, an oci-archive or a docker-archive for writing. A directory that holds
// an OCI layout gets the image added (entries with the same tag replaced); otherwise the layout or
// archive is written whole at Commit, and what is at the path now must be hardbase's to replace
// (CheckOutputTarget: kUsage before anything is copied). A docker-archive holds one platform
// (kUsage at Commit otherwise). Nothing is written before Commit. Registries are opened by the
// registry module (registry::OpenRegistryTarget); here they are kUsage.
Result<std::unique_ptr<ImageTarget>> OpenImageTarget(const ImageRef& ref,
                                                     const ImageTargetOptions& options = {});

}  // namespace hardbase::oci
