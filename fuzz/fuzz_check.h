#ifndef ZRECON_FUZZ_FUZZ_CHECK_H_
#define ZRECON_FUZZ_FUZZ_CHECK_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace zrecon {
namespace fuzz {

// Reports a broken property and aborts, which libFuzzer records as a crash
// and saves the input as a reproducer (like a sanitizer report).
[[noreturn]] inline void Fail(const char* file, int line, const char* condition,
                              const std::string& detail) {
  std::fprintf(stderr, "%s:%d: fuzz property failed: %s\n  %s\n", file, line, condition,
               detail.c_str());
  std::fflush(stderr);
  std::abort();
}

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

}  // namespace fuzz
}  // namespace zrecon

// Checks a property of the code under test; `detail` is evaluated only on
// failure.
#define FUZZ_CHECK(condition, detail)                                 \
  do {                                                                \
    if (!(condition)) {                                               \
      ::zrecon::fuzz::Fail(__FILE__, __LINE__, #condition, (detail)); \
    }                                                                 \
  } while (0)

#endif  // ZRECON_FUZZ_FUZZ_CHECK_H_
