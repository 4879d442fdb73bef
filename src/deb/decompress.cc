#include "deb/decompress.h"

#include <lzma.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <string>

namespace hardbase::deb {
namespace {

// The most output one Next() returns: small enough that nothing is sized from a stream's claims,
// big enough that per-call overhead vanishes (and liblzma's threaded decoder keeps all its
// threads busy; given one huge output buffer, liblzma 5.4 decodes in the calling thread only).
constexpr size_t kStep = size_t{1} << 20;

Error Corrupt(std::string message) { return Error{ErrorCode::kIntegrity, std::move(message)}; }

// Counts output against the caller's bound.
class Bounded : public Decoder {
 public:
  explicit Bounded(uint64_t max_output) : max_output_(max_output) {}

  Result<std::string_view> Next() final {
    HB_TRY(std::string_view piece, Produce());
    total_ += piece.size();
    if (total_ > max_output_) {
      return Fail(ErrorCode::kIntegrity,
                  "unpacks to more than the limit of " + std::to_string(max_output_) + " bytes");
    }
    return piece;
  }

 protected:
  virtual Result<std::string_view> Produce() = 0;

 private:
  uint64_t max_output_;
  uint64_t total_ = 0;
};

class PlainDecoder final : public Bounded {
 public:
  PlainDecoder(std::string_view data, uint64_t max_output) : Bounded(max_output), data_(data) {}

 private:
  Result<std::string_view> Produce() override {
    std::string_view piece = data_.substr(0, kStep);
    data_.remove_prefix(piece.size());
    return piece;
  }
  std::string_view data_;
};

class XzDecoder final : public Bounded {
 public:
  XzDecoder(std::string_view data, uint64_t max_output) : Bounded(max_output), buf_(kStep, '\0') {
    stream_.next_in = reinterpret_cast<const uint8_t*>(data.data());
    stream_.avail_in = data.size();
  }
  ~XzDecoder() override { lzma_end(&stream_); }

  Result<void> Start(unsigned threads) {
    lzma_mt mt{};
    mt.flags = LZMA_CONCATENATED;
    mt.threads = std::max(1u, threads);
    // Above memlimit_threading liblzma decodes in one thread; above memlimit_stop it refuses.
    mt.memlimit_threading = kMaxXzDecoderMemory;
    mt.memlimit_stop = kMaxXzDecoderMemory;
    if (lzma_stream_decoder_mt(&stream_, &mt) != LZMA_OK) {
      return Fail(ErrorCode::kInternal, "xz: cannot start the decoder");
    }
    return {};
  }

 private:
  Result<std::string_view> Produce() override {
    if (done_) return std::string_view();
    stream_.next_out = reinterpret_cast<uint8_t*>(buf_.data());
    stream_.avail_out = buf_.size();
    while (stream_.avail_out == buf_.size()) {
      lzma_ret r = lzma_code(&stream_, LZMA_FINISH);
      if (r == LZMA_STREAM_END) {
        done_ = true;
        break;
      }
      if (r == LZMA_MEMLIMIT_ERROR) {
        return Fail(Corrupt("xz: the stream needs more than " +
                            std::to_string(kMaxXzDecoderMemory >> 20) +
                            " MiB of memory to decode"));
      }
      if (r == LZMA_FORMAT_ERROR) return Fail(Corrupt("xz: not an xz stream"));
      if (r != LZMA_OK) return Fail(Corrupt("xz: corrupt or truncated stream"));
    }
    return std::string_view(buf_.data(), buf_.size() - stream_.avail_out);
  }

  lzma_stream stream_ = LZMA_STREAM_INIT;
  std::string buf_;
  bool done_ = false;
};

class ZstdDecoder final : public Bounded {
 public:
  ZstdDecoder(std::string_view data, uint64_t max_output)
      : Bounded(max_output), in_{data.data(), data.size(), 0}, buf_(kStep, '\0') {}
  ~ZstdDecoder() override { ZSTD_freeDCtx(ctx_); }

  Result<void> Start() {
    ctx_ = ZSTD_createDCtx();
    if (ctx_ == nullptr ||
        ZSTD_isError(ZSTD_DCtx_setParameter(ctx_, ZSTD_d_windowLogMax, kMaxZstdWindowLog))) {
      return Fail(ErrorCode::kInternal, "zstd: cannot start the decoder");
    }
    return {};
  }

 private:
  Result<std::string_view> Produce() override {
    ZSTD_outBuffer out{buf_.data(), buf_.size(), 0};
    while (out.pos == 0) {
      // Done when all input is consumed at a frame boundary (frames may follow one another).
      if (in_.pos == in_.size && frame_done_) break;
      size_t before = in_.pos;
      size_t r = ZSTD_decompressStream(ctx_, &out, &in_);
      if (ZSTD_isError(r)) {
        if (ZSTD_getErrorCode(r) == ZSTD_error_frameParameter_windowTooLarge) {
          return Fail(Corrupt("zstd: the stream's window is larger than the limit of " +
                              std::to_string((size_t{1} << kMaxZstdWindowLog) >> 20) + " MiB"));
        }
        return Fail(Corrupt(std::string("zstd: ") + ZSTD_getErrorName(r)));
      }
      frame_done_ = r == 0;
      if (out.pos == 0 && in_.pos == before && in_.pos == in_.size && !frame_done_) {
        return Fail(Corrupt("zstd: truncated stream"));
      }
    }
    return std::string_view(buf_.data(), out.pos);
  }

  ZSTD_DCtx* ctx_ = nullptr;
  ZSTD_inBuffer in_;
  std::string buf_;
  bool frame_done_ = true;
};

class GzipDecoder final : public Bounded {
 public:
  GzipDecoder(std::string_view data, uint64_t max_output) : Bounded(max_output), buf_(kStep, '\0') {
    stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    stream_.avail_in = static_cast<uInt>(std::min<size_t>(data.size(), UINT32_MAX));
    rest_ = data.size() - stream_.avail_in;
  }
  ~GzipDecoder() override {
    if (started_) inflateEnd(&stream_);
  }

  Result<void> Start() {
    // 16 + 15: gzip framing, the largest (32 KiB) window zlib has.
    if (inflateInit2(&stream_, 16 + 15) != Z_OK) {
      return Fail(ErrorCode::kInternal, "gzip: cannot start the decoder");
    }
    started_ = true;
    return {};
  }

 private:
  Result<std::string_view> Produce() override {
    stream_.next_out = reinterpret_cast<Bytef*>(buf_.data());
    stream_.avail_out = static_cast<uInt>(buf_.size());
    while (stream_.avail_out == buf_.size() && !done_) {
      if (stream_.avail_in == 0 && rest_ > 0) {
        stream_.avail_in = static_cast<uInt>(std::min<size_t>(rest_, UINT32_MAX));
        rest_ -= stream_.avail_in;
      }
      int r = inflate(&stream_, Z_NO_FLUSH);
      if (r == Z_STREAM_END) {
        // Several gzip members one after the other make one stream (as gzip -d reads them).
        if (stream_.avail_in == 0 && rest_ == 0) {
          done_ = true;
        } else if (inflateReset(&stream_) != Z_OK) {
          return Fail(ErrorCode::kInternal, "gzip: cannot restart the decoder");
        }
        continue;
      }
      if (r == Z_BUF_ERROR && stream_.avail_in == 0 && rest_ == 0) {
        return Fail(Corrupt("gzip: truncated stream"));
      }
      if (r != Z_OK) {
        return Fail(
            Corrupt(std::string("gzip: ") + (stream_.msg ? stream_.msg : "corrupt stream")));
      }
    }
    return std::string_view(buf_.data(), buf_.size() - stream_.avail_out);
  }

  z_stream stream_{};
  size_t rest_ = 0;  // input beyond what one zlib call can take
  std::string buf_;
  bool started_ = false;
  bool done_ = false;
};

}  // namespace

Compression DetectCompression(std::string_view data) {
  if (data.starts_with(std::string_view("\xfd"
                                        "7zXZ\0",
                                        6)))
    return Compression::kXz;
  if (data.starts_with("\x1f\x8b")) return Compression::kGzip;
  if (data.starts_with("\x28\xb5\x2f\xfd")) return Compression::kZstd;
  return Compression::kNone;
}

Result<std::unique_ptr<Decoder>> OpenDecoder(Compression compression, std::string_view data,
                                             uint64_t max_output, unsigned threads) {
  if (compression != Compression::kNone && DetectCompression(data) != compression) {
    return Fail(ErrorCode::kIntegrity, "compressed differently than its name says");
  }
  switch (compression) {
    case Compression::kNone:
      return std::make_unique<PlainDecoder>(data, max_output);
    case Compression::kXz: {
      auto d = std::make_unique<XzDecoder>(data, max_output);
      HB_TRY_VOID(d->Start(threads));
      return d;
    }
    case Compression::kZstd: {
      auto d = std::make_unique<ZstdDecoder>(data, max_output);
      HB_TRY_VOID(d->Start());
      return d;
    }
    case Compression::kGzip: {
      auto d = std::make_unique<GzipDecoder>(data, max_output);
      HB_TRY_VOID(d->Start());
      return d;
    }
  }
  return Fail(ErrorCode::kInternal, "unknown compression");
}

Result<std::string> Decompress(std::string_view data, std::string_view what, uint64_t max_size) {
  std::string context = "decompress " + std::string(what);
  HB_TRY(auto decoder, WithContext(OpenDecoder(DetectCompression(data), data, max_size), context));
  std::string out;
  for (;;) {
    HB_TRY(std::string_view piece, WithContext(decoder->Next(), context));
    if (piece.empty()) return out;
    out += piece;
  }
}

}  // namespace hardbase::deb
