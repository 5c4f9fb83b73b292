#include "reconciler/util/sha256.h"

#include <openssl/evp.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace zrecon {

struct Sha256::Impl {
  EVP_MD_CTX* ctx = nullptr;
};

Sha256::Sha256() : impl_(new Impl) {
  impl_->ctx = EVP_MD_CTX_new();
  // Allocation failure of a digest context is not recoverable in any useful
  // way; fail loudly rather than compute a wrong checksum.
  if (impl_->ctx == nullptr || EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("OpenSSL: cannot initialise SHA-256");
  }
}

Sha256::~Sha256() { EVP_MD_CTX_free(impl_->ctx); }

void Sha256::Update(const void* data, size_t size) { EVP_DigestUpdate(impl_->ctx, data, size); }

std::string Sha256::HexDigest() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(impl_->ctx, md, &len);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

std::string Sha256::Hex(std::string_view data) {
  Sha256 h;
  h.Update(data);
  return h.HexDigest();
}

struct BackgroundSha256::Impl {
  // Enough to cover a stall of the consumer; bounded, so memory stays small.
  static constexpr size_t kQueued = 8;

  Sha256 sha;
  std::mutex mu;
  std::condition_variable work, space;
  std::deque<std::vector<char>> queue;   // guarded by mu
  std::vector<std::vector<char>> spare;  // guarded by mu: buffers to reuse
  bool done = false;                     // guarded by mu
  std::thread thread;

  void Run() {
    for (;;) {
      std::vector<char> block;
      {
        std::unique_lock<std::mutex> lock(mu);
        work.wait(lock, [this] { return done || !queue.empty(); });
        if (queue.empty()) return;  // done, and all hashed
        block = std::move(queue.front());
        queue.pop_front();
      }
      sha.Update(block.data(), block.size());
      {
        std::lock_guard<std::mutex> lock(mu);
        spare.push_back(std::move(block));
      }
      space.notify_one();
    }
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu);
      done = true;
    }
    work.notify_one();
    if (thread.joinable()) thread.join();
  }
};

BackgroundSha256::BackgroundSha256() : impl_(new Impl) {
  impl_->thread = std::thread([impl = impl_.get()] { impl->Run(); });
}

BackgroundSha256::~BackgroundSha256() { impl_->Stop(); }

void BackgroundSha256::Update(const void* data, size_t size) {
  if (size == 0) return;
  std::vector<char> block;
  {
    std::unique_lock<std::mutex> lock(impl_->mu);
    impl_->space.wait(lock, [this] { return impl_->queue.size() < Impl::kQueued; });
    if (!impl_->spare.empty()) {
      block = std::move(impl_->spare.back());
      impl_->spare.pop_back();
    }
  }
  const char* bytes = static_cast<const char*>(data);
  block.assign(bytes, bytes + size);
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->queue.push_back(std::move(block));
  }
  impl_->work.notify_one();
}

std::string BackgroundSha256::HexDigest() {
  impl_->Stop();
  return impl_->sha.HexDigest();
}

}  // namespace zrecon
