#include "reconciler/storage/zstd_encoder.h"

#include <zstd.h>

#include <algorithm>
#include <thread>
#include <utility>

namespace zrecon {

namespace {

constexpr int kZstdLevel = 3;
constexpr unsigned kMaxZstdWorkers = 4;

// Worker threads compress while the caller's thread feeds input and hashes
// output; a library built without threads reports an upper bound of 0.
unsigned ZstdWorkers() {
  unsigned cores = std::thread::hardware_concurrency();
  ZSTD_bounds bounds = ZSTD_cParam_getBounds(ZSTD_c_nbWorkers);
  if (cores < 2 || ZSTD_isError(bounds.error) || bounds.upperBound <= 0) return 0;
  return std::min({cores - 1, kMaxZstdWorkers, static_cast<unsigned>(bounds.upperBound)});
}

}  // namespace

struct ZstdEncoder::Impl {
  ~Impl() { ZSTD_freeCCtx(cctx); }
  ZSTD_CCtx* cctx = nullptr;
  std::string path;
};

ZstdEncoder::ZstdEncoder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ZstdEncoder::~ZstdEncoder() = default;

Status ZstdEncoder::Create(const std::string& path, std::unique_ptr<ZstdEncoder>* out) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->cctx = ZSTD_createCCtx();
  if (impl->cctx == nullptr) {
    return Status::Error("cannot compress " + path + ": cannot allocate a zstd context");
  }
  size_t rc = ZSTD_CCtx_setParameter(impl->cctx, ZSTD_c_compressionLevel, kZstdLevel);
  // The frame checksum lets `zstd -t` check a copy without the manifest.
  if (!ZSTD_isError(rc)) rc = ZSTD_CCtx_setParameter(impl->cctx, ZSTD_c_checksumFlag, 1);
  if (ZSTD_isError(rc)) {
    return Status::Error("cannot compress " + path + ": " + ZSTD_getErrorName(rc));
  }
  if (unsigned workers = ZstdWorkers()) {
    // On failure the context stays single-threaded, which is correct too.
    ZSTD_CCtx_setParameter(impl->cctx, ZSTD_c_nbWorkers, static_cast<int>(workers));
  }
  out->reset(new ZstdEncoder(std::move(impl)));
  return Status::Ok();
}

Status ZstdEncoder::Encode(const char* data, size_t size, bool end, EncoderOutput* out) {
  ZSTD_EndDirective mode = end ? ZSTD_e_end : ZSTD_e_continue;
  ZSTD_inBuffer in{data, size, 0};
  for (;;) {
    ZSTD_outBuffer o{out->space(), out->space_size(), 0};
    size_t left = ZSTD_compressStream2(impl_->cctx, &o, &in, mode);
    if (ZSTD_isError(left)) {
      return Status::Error("cannot compress " + impl_->path + ": " + ZSTD_getErrorName(left));
    }
    Status st = out->Fill(o.pos);
    if (!st.ok()) return st;
    if (end ? left == 0 : in.pos == in.size) return Status::Ok();
  }
}

}  // namespace zrecon
