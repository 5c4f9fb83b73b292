#ifndef ZRECON_UTIL_SHA256_H_
#define ZRECON_UTIL_SHA256_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace zrecon {

// Incremental SHA-256 (OpenSSL libcrypto underneath).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(const void* data, size_t size);
  void Update(std::string_view data) { Update(data.data(), data.size()); }
  // Lowercase hex of the digest. Call once; the object is spent afterwards.
  std::string HexDigest();

  static std::string Hex(std::string_view data);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// SHA-256 on a thread of its own, so that hashing overlaps whatever the
// caller does with the bytes (restore: writing them into zfs receive). Update
// copies the bytes into one of a few buffers and returns; it waits only when
// all are queued. Not for concurrent callers: one feeding thread.
class BackgroundSha256 {
 public:
  BackgroundSha256();
  ~BackgroundSha256();
  BackgroundSha256(const BackgroundSha256&) = delete;
  BackgroundSha256& operator=(const BackgroundSha256&) = delete;

  void Update(const void* data, size_t size);
  // Waits for what was queued; call once.
  std::string HexDigest();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace zrecon

#endif  // ZRECON_UTIL_SHA256_H_
