#ifndef ZRECON_TESTS_UNIT_TEMP_DIR_H_
#define ZRECON_TESTS_UNIT_TEMP_DIR_H_

#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace zrecon {
namespace testing {

// A fresh directory under the system temp directory, removed with all it
// holds when the test ends.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "zrecon-test") {
    std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace testing
}  // namespace zrecon

#endif  // ZRECON_TESTS_UNIT_TEMP_DIR_H_
