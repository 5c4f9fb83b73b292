#include "reconciler/util/sha256.h"

#include <doctest/doctest.h>

#include <random>
#include <string>

namespace zrecon {

TEST_CASE("sha256: known digests") {
  CHECK(Sha256::Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(Sha256::Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("sha256: the background hash equals the inline one, whatever the chunks") {
  std::mt19937_64 rng(7);
  std::string data(5 * 1024 * 1024 + 123, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  const std::string want = Sha256::Hex(data);
  for (size_t chunk : {size_t{1} << 20, size_t{4096}, size_t{65537}, size_t{3}}) {
    CAPTURE(chunk);
    BackgroundSha256 h;
    // Small chunks of the first MiB only: many more blocks than the queue holds.
    size_t limit = chunk < 4096 ? 1 << 20 : data.size();
    for (size_t at = 0; at < limit; at += chunk) {
      h.Update(data.data() + at, std::min(chunk, limit - at));
    }
    CHECK(h.HexDigest() == Sha256::Hex(std::string_view(data).substr(0, limit)));
  }
  BackgroundSha256 whole;
  whole.Update(data.data(), data.size());
  whole.Update(data.data(), 0);
  CHECK(whole.HexDigest() == want);
  BackgroundSha256 unused;  // destroyed without a digest: the thread ends
}

}  // namespace zrecon
