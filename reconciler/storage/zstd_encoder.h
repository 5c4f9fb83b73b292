#ifndef ZRECON_STORAGE_ZSTD_ENCODER_H_
#define ZRECON_STORAGE_ZSTD_ENCODER_H_

#include <cstddef>
#include <memory>
#include <string>

#include "reconciler/util/status.h"

namespace zrecon {

// Where a ZstdEncoder puts its output: a buffer it fills in place.
class EncoderOutput {
 public:
  virtual ~EncoderOutput() = default;
  // The free part of the current buffer; never empty between calls.
  virtual char* space() = 0;
  virtual size_t space_size() const = 0;
  // `n` bytes were put at space().
  virtual Status Fill(size_t n) = 0;
};

// The zstd compression of an export stream (level 3, a frame checksum so
// that `zstd -t` can check a copy without the manifest, worker threads
// where there are cores to spare), shared by every destination type.
class ZstdEncoder {
 public:
  // `path` names the file in messages.
  static Status Create(const std::string& path, std::unique_ptr<ZstdEncoder>* out);
  ~ZstdEncoder();
  ZstdEncoder(const ZstdEncoder&) = delete;
  ZstdEncoder& operator=(const ZstdEncoder&) = delete;

  // Compresses `size` bytes of `data` into `out`; with `end`, then ends the
  // frame (the last call).
  Status Encode(const char* data, size_t size, bool end, EncoderOutput* out);

 private:
  struct Impl;
  explicit ZstdEncoder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace zrecon

#endif  // ZRECON_STORAGE_ZSTD_ENCODER_H_
