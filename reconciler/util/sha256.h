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

}  // namespace zrecon

#endif  // ZRECON_UTIL_SHA256_H_
