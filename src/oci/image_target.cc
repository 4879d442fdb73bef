#include "oci/image_target.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <optional>
#include <set>

#include "base/fs.h"
#include "base/fs_safe.h"
#include "oci/layout_update.h"
#include "oci/manifest.h"
#include "oci/output_target.h"

namespace hardbase::oci {

// ---- Blob contents

ByteOpener FileOpener(std::string path) {
  return [path](uint64_t offset) -> Result<ByteReader> {
    HB_TRY(RegularFile file, OpenRegularFile(path));
    auto fd = std::make_shared<UniqueFd>(std::move(file.fd));
    if (::lseek(fd->get(), static_cast<off_t>(offset), SEEK_SET) < 0) {
      return Fail(ErrorCode::kIo, "seek " + path + ": " + std::strerror(errno));
    }
    return ByteReader([fd, path](char* buf, size_t n) -> Result<size_t> {
      for (;;) {
        ssize_t got = ::read(fd->get(), buf, n);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return Fail(ErrorCode::kIo, "read " + path + ": " + std::strerror(errno));
        return static_cast<size_t>(got);
      }
    });
  };
}

ByteOpener BytesOpener(std::shared_ptr<const std::string> bytes) {
  return [bytes](uint64_t offset) -> Result<ByteReader> {
    auto pos =
        std::make_shared<size_t>(static_cast<size_t>(std::min<uint64_t>(offset, bytes->size())));
    return ByteReader([bytes, pos](char* buf, size_t n) -> Result<size_t> {
      size_t take = std::min(n, bytes->size() - *pos);
      std::memcpy(buf, bytes->data() + *pos, take);
      *pos += take;
      return take;
    });
  };
}

BlobContent ContentOf(const BlobSource& blob) {
  if (!blob.path.empty()) return {blob.descriptor, FileOpener(blob.path), blob.path};
  return {blob.descriptor, BytesOpener(std::make_shared<const std::string>(blob.bytes)), ""};
}

BlobContent ContentOf(ImageSource& source, const Descriptor& blob) {
  if (auto file = source.BlobFile(blob)) return {blob, FileOpener(*file), *file};
  struct Open {
    std::unique_ptr<BlobReader> reader;
    uint64_t position = 0;
  };
  auto open = std::make_shared<Open>();
  ByteOpener opener = [&source, blob, open](uint64_t offset) -> Result<ByteReader> {
    if (!open->reader || offset < open->position) {
      HB_TRY(open->reader, source.OpenBlob(blob));
      open->position = 0;
    }
    std::vector<char> skip(64 * 1024);
    while (open->position < offset) {
      HB_TRY(size_t got, open->reader->Read(skip.data(), std::min<uint64_t>(offset - open->position,
                                                                            skip.size())));
      if (got == 0) break;
      open->position += got;
    }
    return ByteReader([open](char* buf, size_t n) -> Result<size_t> {
      HB_TRY(size_t got, open->reader->Read(buf, n));
      open->position += got;
      return got;
    });
  };
  return {blob, std::move(opener), ""};
}

// ---- ImageTarget

Result<bool> ImageTarget::MountBlob(const Descriptor&, const ImageRef&) { return false; }

Result<void> ImageTarget::Lock() { return {}; }

std::string ImageTarget::TransferLabel() const { return ""; }

namespace {

bool IsDocument(const Descriptor& d) {
  return IsManifestMediaType(d.media_type) || IsIndexMediaType(d.media_type);
}

// A descriptor without platform, artifactType or annotations: how a blob is named by digest.
Descriptor Plain(const Descriptor& d) { return {d.media_type, d.digest, d.size, {}, "", {}}; }

Descriptor Tagged(const Descriptor& d, std::string_view tag) {
  Descriptor out = Plain(d);
  if (!tag.empty()) out.annotations[std::string(kAnnotationRefName)] = std::string(tag);
  return out;
}

// Blobs up to this size are kept in memory until Commit; larger ones in a temporary file.
constexpr int64_t kInMemoryBlob = int64_t{4} << 20;

// A layout directory or an archive. Blobs and documents are gathered (files where they are,
// streamed blobs in a private temporary directory) and written at Commit: by WriteImage for a
// new layout or an archive, by AddToLayout for a layout that exists.
class LocalTarget final : public ImageTarget {
 public:
  LocalTarget(ImageRef ref, OutputFormat format, bool existing)
      : ImageTarget(std::move(ref)), format_(format), existing_(existing) {}

  Result<bool> HasBlob(const Descriptor& blob) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (staged_.count(blob.digest)) return true;
    }
    return existing_ && IsSha256Digest(blob.digest) && PathExists(BlobPath(blob.digest));
  }

  // A layout's manifest file does not prove its blobs are there (a killed AddToLayout may have
  // written it alone); they are cheap to ask about one by one.
  Result<bool> HasManifest(const Descriptor&) override { return false; }

  Result<void> PutBlob(const BlobContent& blob, Progress* progress) override {
    const Descriptor& d = blob.descriptor;
    if (!IsSha256Digest(d.digest) || d.size < 0) {
      return Fail(ErrorCode::kInternal, "blob '" + d.digest + "': not a sha256 descriptor");
    }
    BlobSource staged{d, "", blob.path};
    if (blob.path.empty()) HB_TRY_VOID(Read(blob, staged));
    if (progress) progress->Advance(static_cast<uint64_t>(d.size));
    Stage(std::move(staged));
    return {};
  }

  Result<bool> PutManifest(const Blob& manifest, std::string_view tag) override {
    bool there = existing_ && tag.empty() && PathExists(BlobPath(manifest.descriptor.digest));
    Stage({Plain(manifest.descriptor), manifest.bytes, ""});
    if (!tag.empty()) entries_.push_back(Tagged(manifest.descriptor, tag));
    return !there;
  }

  Result<bool> PutImage(const Blob& root, std::string_view tag) override {
    if (!existing_ && root_ && root_->digest != root.descriptor.digest) {
      return Fail(ErrorCode::kInternal, ref().ToString() +
                                            ": a new layout or archive holds one "
                                            "image; " +
                                            root_->digest + " was put already");
    }
    Stage({Plain(root.descriptor), root.bytes, ""});
    if (existing_) {
      entries_.push_back(Tagged(root.descriptor, tag));
    } else {
      root_ = Plain(root.descriptor);
      tag_ = std::string(tag);
    }
    return true;
  }

  Result<int> PutReferrers(std::string_view, const std::vector<Referrer>& referrers) override {
    for (const auto& r : referrers) {
      Stage({Plain(r.manifest.descriptor), r.manifest.bytes, ""});
      entries_.push_back(r.entry);
    }
    return static_cast<int>(referrers.size());
  }

  Result<void> Lock() override {
    if (!existing_ || lock_) return {};
    HB_TRY(lock_, LockLayout(ref().path));
    return {};
  }

  Result<void> Commit() override {
    std::vector<BlobSource> blobs;
    {
      std::lock_guard<std::mutex> lock(mu_);
      blobs = std::move(order_);
      order_.clear();
      staged_.clear();
    }
    if (existing_) {
      // Configs and layers before the manifests naming them: a layout interrupted half way
      // never holds a manifest whose blobs are missing.
      std::stable_partition(blobs.begin(), blobs.end(),
                            [](const BlobSource& b) { return !IsDocument(b.descriptor); });
      HB_TRY_VOID(AddToLayout(ref().path, blobs, entries_, lock_ ? &*lock_ : nullptr));
    } else {
      if (!root_) {
        return Fail(ErrorCode::kInternal, ref().ToString() + ": no image to write");
      }
      ImageOutput output{std::move(blobs), *root_, tag_, entries_};
      HB_TRY_VOID(WriteImage(output, format_, ref().path));
    }
    lock_.reset();
    tmp_.reset();
    return {};
  }

 private:
  std::string BlobPath(const std::string& digest) const {
    return ref().path + "/blobs/sha256/" + std::string(DigestHex(digest));
  }

  void Stage(BlobSource blob) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!staged_.insert(blob.descriptor.digest).second) return;
    order_.push_back(std::move(blob));
  }

  // Reads a blob given without a file: into memory when small, else into a temporary file. No
  // more than its descriptor's size is taken (what a source adds beyond cannot match anyway);
  // the digest is checked when the output is written.
  Result<void> Read(const BlobContent& blob, BlobSource& staged) {
    const Descriptor& d = blob.descriptor;
    uint64_t size = static_cast<uint64_t>(d.size);
    HB_TRY(ByteReader reader, blob.open(0));
    std::optional<UniqueFd> fd;
    if (d.size > kInMemoryBlob) {
      std::lock_guard<std::mutex> lock(mu_);
      if (!tmp_) {
        HB_TRY(TempDir dir, TempDir::Create("hardbase-copy-"));
        tmp_ = std::move(dir);
      }
      staged.path = tmp_->path() + "/" + std::string(DigestHex(d.digest));
      fd.emplace(::open(staged.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
      if (fd->get() < 0) {
        return Fail(ErrorCode::kIo, "create " + staged.path + ": " + std::strerror(errno));
      }
    }
    std::vector<char> buf(static_cast<size_t>(std::min<uint64_t>(size + 1, 256 * 1024)));
    uint64_t done = 0;
    for (;;) {
      HB_TRY(size_t got, reader(buf.data(), buf.size()));
      if (got == 0) break;
      done += got;
      if (done > size) {
        return Fail(ErrorCode::kIntegrity, "blob " + d.digest + ": more than the " +
                                               std::to_string(size) + " bytes its descriptor says");
      }
      std::string_view piece(buf.data(), got);
      if (fd) {
        HB_TRY_VOID(WriteAll(fd->get(), staged.path, piece));
      } else {
        staged.bytes.append(piece);
      }
    }
    if (done != size) {
      return Fail(ErrorCode::kIntegrity, "blob " + d.digest + ": size " + std::to_string(done) +
                                             ", expected " + std::to_string(size));
    }
    return {};
  }

  const OutputFormat format_;
  const bool existing_;  // a layout that exists: added to, not replaced
  std::mutex mu_;        // guards staged_, order_ and tmp_
  std::set<std::string> staged_;
  std::vector<BlobSource> order_;    // what was put, in order, each digest once
  std::optional<TempDir> tmp_;       // streamed blobs
  std::vector<Descriptor> entries_;  // index.json entries to add (for a new output: after root_)
  std::optional<Descriptor> root_;   // the image of a new output
  std::string tag_;
  std::optional<FileLock> lock_;
};

}  // namespace

Result<std::unique_ptr<ImageTarget>> OpenImageTarget(const ImageRef& ref,
                                                     const ImageTargetOptions& options) {
  using T = ImageRef::Transport;
  if (ref.transport == T::kRegistry) {
    return Fail(ErrorCode::kUsage,
                "write " + ref.ToString() + ": registry images are written by the registry module");
  }
  if (ref.transport == T::kOciLayout && PathExists(ref.path + "/oci-layout")) {
    return std::unique_ptr<ImageTarget>(new LocalTarget(ref, OutputFormat::kOciLayout, true));
  }
  if (options.add_only) {
    if (ref.transport == T::kOciLayout) {
      return Fail(PathExists(ref.path) ? ErrorCode::kSpec : ErrorCode::kNotFound,
                  ref.path + ": not an OCI image layout (no oci-layout file)");
    }
    return Fail(ErrorCode::kUsage,
                ref.ToString() +
                    ": an archive is written whole, never added to; images are "
                    "added to in an OCI layout directory (oci:DIR) or a registry");
  }
  OutputFormat format = ref.transport == T::kOciLayout    ? OutputFormat::kOciLayout
                        : ref.transport == T::kOciArchive ? OutputFormat::kOciArchive
                                                          : OutputFormat::kDockerArchive;
  // Before anything is copied: what is at the path may not be hardbase's to replace.
  HB_TRY_VOID(CheckOutputTarget(format, ref.path));
  return std::unique_ptr<ImageTarget>(new LocalTarget(ref, format, false));
}

}  // namespace hardbase::oci
