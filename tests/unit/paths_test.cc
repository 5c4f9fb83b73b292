#include "reconciler/util/paths.h"

#include <doctest/doctest.h>

#include <cerrno>
#include <filesystem>
#include <string>

#include "tests/unit/temp_dir.h"

namespace zrecon {
namespace {

TEST_CASE("paths: joining and splitting") {
  CHECK(JoinPath("/usb", "demo01") == "/usb/demo01");
  CHECK(JoinPath("", "a/b") == "a/b");
  CHECK(JoinPath("/usb", "") == "/usb");
  CHECK(DirName("/usb/demo01") == "/usb");
  CHECK(DirName("/usb") == "/");
  CHECK(DirName("demo01") == ".");
  CHECK(BaseName("/usb/demo01") == "demo01");
  CHECK(BaseName("demo01") == "demo01");
  CHECK(RelativeParent("zone/root/1/000-a.zfs") == "zone/root/1");
  CHECK(RelativeParent("000-a.zfs") == "");
  CHECK(StripTrailingSlashes("/usb//") == "/usb");
  CHECK(StripTrailingSlashes("/") == "/");
}

TEST_CASE("paths: IsInside compares whole components") {
  CHECK(IsInside("/usb", "/usb"));
  CHECK(IsInside("/usb/demo01/x", "/usb"));
  CHECK_FALSE(IsInside("/usb2/x", "/usb"));
  CHECK_FALSE(IsInside("/", "/usb"));
  CHECK(IsInside("/anything", "/"));
}

TEST_CASE("paths: RealPath resolves, or returns the errno") {
  testing::TempDir dir("zrecon-paths");
  std::string real;
  CHECK(RealPath(dir / "sub/..", &real) == ENOENT);  // no "sub" yet
  std::filesystem::create_directory(dir / "sub");
  CHECK(RealPath(dir / "sub/..", &real) == 0);
  CHECK(real == std::filesystem::canonical(dir.path()).string());
  CHECK(RealPath(dir / "absent", &real) == ENOENT);
}

}  // namespace
}  // namespace zrecon
