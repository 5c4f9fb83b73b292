#include "reconciler/util/files.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <string>

#include "tests/unit/temp_dir.h"

namespace zrecon {
namespace {

namespace fs = std::filesystem;

using testing::TempDir;

std::set<std::string> Names(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename());
  return names;
}

std::string Slurp(const std::string& path) {
  std::string text;
  Status st = ReadFile(path, &text);
  REQUIRE_MESSAGE(st.ok(), st.message());
  return text;
}

TEST_CASE("files: write creates, then replaces, leaving no temp file") {
  TempDir dir;
  std::string path = dir / "manifest.json";
  Status st = WriteFileAtomically(path, "first version, longer than the second\n");
  REQUIRE_MESSAGE(st.ok(), st.message());
  CHECK(Slurp(path) == "first version, longer than the second\n");
  st = WriteFileAtomically(path, "second\n");
  REQUIRE_MESSAGE(st.ok(), st.message());
  CHECK(Slurp(path) == "second\n");
  CHECK(Names(dir.path()) == std::set<std::string>{"manifest.json"});
}

TEST_CASE("files: new files are 0644 less the umask") {
  TempDir dir;
  mode_t mask = ::umask(022);
  Status st = WriteFileAtomically(dir / "f", "x");
  ::umask(mask);
  REQUIRE_MESSAGE(st.ok(), st.message());
  struct stat info;
  REQUIRE(::stat((dir / "f").c_str(), &info) == 0);
  CHECK((info.st_mode & 07777) == 0644);
}

TEST_CASE("files: binary content and files larger than one read survive a round trip") {
  TempDir dir;
  std::string content;
  for (int i = 0; i < 300000; ++i) content += static_cast<char>(i % 251);
  REQUIRE(WriteFileAtomically(dir / "blob", content).ok());
  CHECK(Slurp(dir / "blob") == content);
  REQUIRE(WriteFileAtomically(dir / "empty", "").ok());
  CHECK(Slurp(dir / "empty").empty());
}

TEST_CASE("files: a parent that is a regular file fails and changes nothing") {
  TempDir dir;
  std::string parent = dir / "not-a-dir";
  REQUIRE(WriteFileAtomically(parent, "original\n").ok());
  Status st = WriteFileAtomically(parent + "/manifest.json", "new\n");
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().find(parent + "/.tmp.manifest.json.") != std::string::npos);
  CHECK(st.message().find("Not a directory") != std::string::npos);
  CHECK(Slurp(parent) == "original\n");
  CHECK(Names(dir.path()) == std::set<std::string>{"not-a-dir"});
}

TEST_CASE("files: a failed rename removes the temp file and keeps the target") {
  TempDir dir;
  std::string target = dir / "occupied";
  REQUIRE(MakeDirectories(target + "/child").ok());
  Status st = WriteFileAtomically(target, "new\n");
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().find("cannot rename") != std::string::npos);
  CHECK(st.message().find(target) != std::string::npos);
  CHECK(Names(dir.path()) == std::set<std::string>{"occupied"});
  CHECK(Names(target) == std::set<std::string>{"child"});
}

TEST_CASE("files: a leftover temp file of the same name is replaced, not followed") {
  TempDir dir;
  std::string victim = dir / "victim";
  REQUIRE(WriteFileAtomically(victim, "keep\n").ok());
  std::string tmp = dir / (".tmp.f." + std::to_string(::getpid()));
  fs::create_symlink(victim, tmp);
  REQUIRE(WriteFileAtomically(dir / "f", "new\n").ok());
  CHECK(Slurp(victim) == "keep\n");
  CHECK(Slurp(dir / "f") == "new\n");
  CHECK(Names(dir.path()) == std::set<std::string>{"f", "victim"});
}

TEST_CASE("files: ReadFile errors name the path") {
  TempDir dir;
  std::string out = "unchanged";
  Status st = ReadFile(dir / "missing", &out);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message() == "cannot open " + (dir / "missing") + ": No such file or directory");
  st = ReadFile(dir.path(), &out);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message() == "cannot read " + dir.path() + ": not a regular file");
  CHECK(out == "unchanged");
}

TEST_CASE("files: MakeDirectories is mkdir -p") {
  TempDir dir;
  std::string deep = dir / "a/b/c";
  REQUIRE(MakeDirectories(deep).ok());
  CHECK(fs::is_directory(deep));
  CHECK(MakeDirectories(deep).ok());
  CHECK(MakeDirectories(dir / "a/b//d/").ok());
  CHECK(fs::is_directory(dir / "a/b/d"));

  REQUIRE(WriteFileAtomically(dir / "file", "x").ok());
  Status st = MakeDirectories(dir / "file/sub");
  REQUIRE_FALSE(st.ok());
  CHECK(st.message() == (dir / "file") + " exists and is not a directory");
  CHECK_FALSE(MakeDirectories("").ok());
}

TEST_CASE("files: FsyncDirectory") {
  TempDir dir;
  CHECK(FsyncDirectory(dir.path()).ok());
  Status st = FsyncDirectory(dir / "missing");
  REQUIRE_FALSE(st.ok());
  CHECK(st.message() ==
        "cannot open directory " + (dir / "missing") + ": No such file or directory");
}

}  // namespace
}  // namespace zrecon
