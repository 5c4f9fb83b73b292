#include "reconciler/storage/stored_stream.h"

#include <unistd.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "reconciler/util/sha256.h"

namespace zrecon {

namespace {

constexpr size_t kChunk = 1 << 20;

class TreeStoredStream : public StoredStream {
 public:
  TreeStoredStream(std::string path, const StoredFile& stored)
      : path_(std::move(path)), stored_(stored), buffer_(kChunk) {}
  ~TreeStoredStream() override {
    if (dctx_ != nullptr) ZSTD_freeDCtx(dctx_);
  }

  // Opened as every reader of a destination opens a stored file: no
  // symlink followed below the destination (destination_tree.h); a local
  // file is close-on-exec, so zfs receive, spawned while it is open, does
  // not inherit it.
  Status Open(DestinationTree& tree, const std::string& host) {
    uint64_t size = 0;
    std::string what = tree.Open(host + "/" + stored_.file, &raw_source_, &size);
    if (!what.empty()) return Status::Error(path_ + ": " + what);
    if (stored_.compression == "zstd") {
      dctx_ = ZSTD_createDCtx();
      if (dctx_ == nullptr) return Status::Error("zstd: cannot create a decompression context");
    } else if (stored_.compression != "none") {
      return Status::Error(path_ + ": unknown compression \"" + stored_.compression + "\"");
    }
    return Status::Ok();
  }

  Status Read(char* out, size_t capacity, size_t* got) override {
    *got = 0;
    if (dctx_ == nullptr) return ReadRaw(out, capacity, got);
    // Decompress from buffer_[pos_, len_) into out, refilling as needed.
    while (*got == 0) {
      if (pos_ == len_) {
        Status s = ReadRaw(buffer_.data(), buffer_.size(), &len_);
        pos_ = 0;
        if (!s.ok()) return s;
        if (len_ == 0) {
          if (!frame_done_) return Status::Error(path_ + ": zstd stream is truncated");
          return Status::Ok();
        }
      }
      ZSTD_inBuffer in = {buffer_.data(), len_, pos_};
      ZSTD_outBuffer o = {out, capacity, 0};
      size_t r = ZSTD_decompressStream(dctx_, &o, &in);
      if (ZSTD_isError(r)) {
        return Status::Error(path_ + ": zstd: " + ZSTD_getErrorName(r));
      }
      frame_done_ = r == 0;
      pos_ = in.pos;
      *got = o.pos;
    }
    return Status::Ok();
  }

  uint64_t raw_bytes() const override { return raw_; }

  Status CheckRest() override {
    if (at_end_) return end_status_;
    std::vector<char> buf(kChunk);
    for (;;) {
      size_t got = 0;
      Status s = ReadRaw(buf.data(), buf.size(), &got);
      if (!s.ok() || got == 0) return s;
    }
  }

 private:
  // Reads stored bytes; at end of file checks size and SHA-256.
  Status ReadRaw(char* out, size_t capacity, size_t* got) {
    if (at_end_) {  // the digest is taken once; a read after the end repeats its verdict
      *got = 0;
      return end_status_;
    }
    Status st = raw_source_->Read(out, capacity, got);
    if (!st.ok()) return st;
    if (*got > 0) {
      hash_.Update(out, *got);
      raw_ += *got;
      return Status::Ok();
    }
    at_end_ = true;
    end_status_ = CheckEnd();
    return end_status_;
  }

  // At the end of the file: its size and SHA-256 against the catalog's.
  Status CheckEnd() {
    if (raw_ != stored_.size) {
      return Status::Error(path_ + ": " + std::to_string(raw_) + " bytes, the catalog records " +
                           std::to_string(stored_.size));
    }
    std::string digest = hash_.HexDigest();
    if (digest != stored_.sha256) {
      return Status::Error(path_ + ": sha256 " + digest + " differs from the catalog's " +
                           stored_.sha256);
    }
    return Status::Ok();
  }

  std::string path_;
  StoredFile stored_;
  std::unique_ptr<ByteSource> raw_source_;
  ZSTD_DCtx* dctx_ = nullptr;
  std::vector<char> buffer_;
  size_t pos_ = 0, len_ = 0;
  bool frame_done_ = false;
  // Hashed beside the receive, on a thread of its own: restore goes at the
  // pace of zfs receive, not of receive plus SHA-256.
  BackgroundSha256 hash_;
  uint64_t raw_ = 0;
  bool at_end_ = false;
  Status end_status_;  // once at_end_
};

}  // namespace

Status OpenStoredStream(DestinationTree& tree, const std::string& host, const StoredFile& stored,
                        std::unique_ptr<StoredStream>* out) {
  auto stream = std::make_unique<TreeStoredStream>(tree.PathOf(host + "/" + stored.file), stored);
  Status s = stream->Open(tree, host);
  if (s.ok()) *out = std::move(stream);
  return s;
}

}  // namespace zrecon
