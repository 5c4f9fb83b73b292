#ifndef ZRECON_TESTS_UNIT_STREAM_HELPERS_H_
#define ZRECON_TESTS_UNIT_STREAM_HELPERS_H_

// Test data for destinations: random bytes, and a stream written into a
// destination in uneven chunks, as a pipe would deliver it.

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>

#include "reconciler/storage/destination.h"

namespace zrecon {
namespace testing {

// `size` bytes from a seeded generator (the same for the same seed).
inline std::string RandomBytes(size_t size, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(size, '\0');
  for (size_t i = 0; i < size; i += 8) {
    uint64_t v = rng();
    std::memcpy(&out[i], &v, std::min<size_t>(8, size - i));
  }
  return out;
}

// Writes `content` into a new file of `d` in uneven chunks and commits it.
inline StoredFile WriteStream(Destination* d, const std::string& file, const std::string& content,
                              const std::string& compression = "none") {
  std::unique_ptr<StreamFile> out;
  Status st = d->Create(file, compression, &out);
  REQUIRE_MESSAGE(st.ok(), st.message());
  size_t chunk = 1;
  for (size_t pos = 0; pos < content.size(); pos += chunk, chunk = chunk * 7 % 200003 + 1) {
    st = out->Write(content.data() + pos, std::min(chunk, content.size() - pos));
    REQUIRE_MESSAGE(st.ok(), st.message());
  }
  CHECK(out->bytes_in() == content.size());
  StoredFile stored;
  st = out->Commit(&stored);
  REQUIRE_MESSAGE(st.ok(), st.message());
  return stored;
}

}  // namespace testing
}  // namespace zrecon

#endif  // ZRECON_TESTS_UNIT_STREAM_HELPERS_H_
