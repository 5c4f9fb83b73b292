#include "reconciler/storage/directory_layout.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include "reconciler/catalog/catalog.h"
#include "reconciler/storage/directory_catalog.h"
#include "reconciler/storage/verify.h"
#include "reconciler/util/files.h"
#include "reconciler/util/strings.h"
#include "tests/unit/temp_dir.h"

namespace zrecon {
namespace {

namespace fs = std::filesystem;

constexpr char kHost[] = "demo01";
constexpr char kZone[] = "8f6d2b3a-61c4-4e0b-b7a1-3c9e5d0f2a47";
constexpr char kImage[] = "5417ab20-3156-11ea-8b19-2b66f5e7a439";
constexpr char kRule[] = "zrecon follows no symlink inside a destination";

using testing::TempDir;

// A writable copy of the two-chains fixture at <dir>/dest.
std::string CopyFixture(const TempDir& dir) {
  std::string dest = dir / "dest";
  fs::copy(std::string(ZRECON_SOURCE_DIR) + "/tests/fixtures/catalogs/two-chains", dest,
           fs::copy_options::recursive);
  return dest;
}

// Every stored file the catalog names: what restore opens.
std::vector<StoredFile> StoredFiles(const DestinationCatalog& catalog) {
  std::vector<StoredFile> out;
  for (const auto& [uuid, image] : catalog.images) out.push_back(image.stream);
  for (const auto& [uuid, zone] : catalog.zones) {
    for (const ConfigRecord& c : zone.configs) out.push_back(c.stored);
    for (const Chain& chain : zone.chains) {
      for (const ChainLink& link : chain.links) out.push_back(link.stream);
    }
  }
  return out;
}

std::vector<std::string> VerifyProblems(const std::string& dest) {
  VerifyReport report;
  Status st = VerifyDestination(dest, VerifyOptions(), &report);
  REQUIRE_MESSAGE(st.ok(), st.message());
  std::vector<std::string> out;
  auto add = [&](const std::vector<VerifyProblem>& problems) {
    for (const VerifyProblem& p : problems) out.push_back(p.file + ": " + p.what);
  };
  for (const HostReport& host : report.hosts) {
    add(host.problems);
    for (const ZoneReport& zone : host.zones) add(zone.problems);
    for (const ImageReport& image : host.images) add(image.problems);
  }
  CHECK(report.ok() == out.empty());
  return out;
}

bool AnyNames(const std::vector<std::string>& lines, const std::string& needle) {
  for (const std::string& line : lines) {
    if (line.find(needle) != std::string::npos && line.find(kRule) != std::string::npos) {
      return true;
    }
  }
  return false;
}

// The same entries for every reader: plan's and restore's catalog reader
// (strict), restore's opening of stored files (strict) and verify
// (lenient). `read_by_catalog`: the catalog reader opens the entry itself
// (manifests and the directories leading to them); streams and configs are
// only opened by restore and verify.
struct Case {
  const char* name;
  std::string relative;  // below the host directory; "" is the host directory
  bool read_by_catalog;
};

TEST_CASE("directory_layout: one symlink rule for plan, restore and verify") {
  const std::string chain_dir = std::string(kZone) + "/root/20261101T020000Z";
  const std::vector<Case> cases = {
      {"the host directory", "", true},
      {"images/", "images", true},
      {"an image manifest", std::string("images/") + kImage + ".json", true},
      {"an image stream", std::string("images/") + kImage + ".zfs", false},
      {"a zone directory", kZone, true},
      {"a zone manifest", std::string(kZone) + "/manifest.json", true},
      {"a chain directory", chain_dir, false},
      {"a link stream", chain_dir + "/000-zrecon-daily-20261101T020000Z.zfs", false},
      {"a config", std::string(kZone) + "/config/20261101T020000Z.json", false},
  };
  for (const Case& c : cases) {
    for (bool inside : {false, true}) {
      std::string name = c.name;
      CAPTURE(name);
      CAPTURE(inside);
      TempDir dir("zrecon-layout");
      std::string dest = CopyFixture(dir);
      std::string host_dir = dest + "/" + kHost;
      DestinationCatalog before;
      REQUIRE(ReadDirectoryCatalog("usb", dest, kHost, &before).ok());
      std::vector<StoredFile> stored = StoredFiles(before);
      REQUIRE(stored.size() >= 5);

      // The entry moves away and a symlink to it takes its place: out of the
      // destination, or to an identical copy inside it.
      std::string entry = c.relative.empty() ? host_dir : host_dir + "/" + c.relative;
      std::string target = inside ? dest + "/keep/moved" : dir / "outside";
      fs::create_directories(fs::path(target).parent_path());
      fs::rename(entry, target);
      fs::create_symlink(target, entry);

      DestinationCatalog catalog;
      Status st = ReadDirectoryCatalog("usb", dest, kHost, &catalog);
      if (c.read_by_catalog) {
        REQUIRE_FALSE(st.ok());
        CHECK(st.message().rfind(entry + ": ", 0) == 0);
        CHECK(st.message().find(kRule) != std::string::npos);
      } else {
        CHECK_MESSAGE(st.ok(), st.message());
      }

      std::vector<std::string> problems;
      HostDirectory where{dest, kHost, host_dir, LocalDestinationTree(dest)};
      REQUIRE(VerifyStoredFiles(where, stored, &problems, nullptr, false).ok());
      std::vector<std::string> read_problems;
      REQUIRE(VerifyStoredFiles(where, stored, &read_problems).ok());
      CHECK(problems == read_problems);
      bool holds_stored = false;
      for (const StoredFile& f : stored) {
        holds_stored = holds_stored || c.relative.empty() || f.file == c.relative ||
                       f.file.rfind(c.relative + "/", 0) == 0;
      }
      CHECK(holds_stored == !problems.empty());
      if (holds_stored) CHECK(AnyNames(problems, c.relative.empty() ? "host directory" : ""));

      std::vector<std::string> verify = VerifyProblems(dest);
      CAPTURE(Join(verify, "\n"));
      CHECK(AnyNames(verify, c.relative));
    }
  }
}

TEST_CASE("directory_layout: DestinationTree::Open says what is wrong, opens only regular files") {
  TempDir dir("zrecon-layout");
  std::string dest = CopyFixture(dir);
  std::string host_dir = dest + "/" + kHost;
  std::string stream = std::string("images/") + kImage + ".zfs";
  std::unique_ptr<DestinationTree> tree = LocalDestinationTree(dest);
  auto OpenStoredFile = [&](const std::string&, const std::string& relative,
                            std::unique_ptr<ByteSource>* out, uint64_t* size) {
    return tree->Open(std::string(kHost) + "/" + relative, out, size);
  };
  std::unique_ptr<ByteSource> fd;
  uint64_t size = 0;
  CHECK(OpenStoredFile(host_dir, stream, &fd, &size) == "");
  CHECK(fd != nullptr);
  CHECK(size == fs::file_size(host_dir + "/" + stream));
  CHECK(OpenStoredFile(host_dir, "images/absent.zfs", &fd, &size) == "missing");
  CHECK(OpenStoredFile(host_dir, "absent/x.zfs", &fd, &size) == "missing");
  CHECK(OpenStoredFile(host_dir, "../x", &fd, &size) ==
        "not a relative path of ordinary components");
  CHECK(OpenStoredFile(host_dir, "images", &fd, &size) == "not a regular file");
  CHECK(OpenStoredFile(host_dir, stream + "/x", &fd, &size) ==
        "images/" + std::string(kImage) + ".zfs is not a directory");
  REQUIRE(::mkfifo((host_dir + "/images/fifo.zfs").c_str(), 0600) == 0);
  // Only inspected: a fifo opened for reading would block without O_NONBLOCK.
  CHECK(OpenStoredFile(host_dir, "images/fifo.zfs", &fd, &size) == "not a regular file");
  CHECK(OpenStoredFile(host_dir, "images/fifo.zfs", nullptr, &size) == "not a regular file");

  fs::create_directory_symlink("images", host_dir + "/pictures");
  CHECK(OpenStoredFile(host_dir, "pictures/" + std::string(kImage) + ".zfs", &fd, &size) ==
        "reached through pictures, a symlink to " + fs::canonical(host_dir).string() +
            "/images: " + kRule);
}

TEST_CASE("directory_layout: ListHostLayout lists committed manifests in name order") {
  TempDir dir("zrecon-layout");
  std::string dest = CopyFixture(dir);
  std::string host_dir = dest + "/" + kHost;
  REQUIRE(MakeDirectories(host_dir + "/.tmp.x").ok());
  REQUIRE(MakeDirectories(host_dir + "/0-uncommitted/root").ok());
  REQUIRE(WriteFileAtomically(host_dir + "/images/notes.txt", "x").ok());
  REQUIRE(WriteFileAtomically(host_dir + "/zrecon.lock", "").ok());
  HostLayout layout;
  ListHostLayout(dest, kHost, &layout);
  CHECK(layout.present);
  CHECK(layout.problems.empty());
  CHECK(layout.image_manifests == std::vector<std::string>{std::string(kImage) + ".json"});
  CHECK(layout.zones == std::vector<std::string>{kZone});

  ListHostLayout(dest, "absent", &layout);
  CHECK_FALSE(layout.present);
  CHECK(layout.problems.empty());

  fs::remove_all(host_dir + "/images");
  REQUIRE(WriteFileAtomically(host_dir + "/images", "x").ok());
  fs::remove(host_dir + "/" + kZone + "/manifest.json");
  fs::create_directory(host_dir + "/" + kZone + "/manifest.json");
  ListHostLayout(dest, kHost, &layout);
  REQUIRE(layout.problems.size() == 2);
  CHECK(layout.problems[0].file == std::string(kZone) + "/manifest.json");
  CHECK(layout.problems[0].what == "not a regular file");
  CHECK(layout.problems[1].file == "images");
  CHECK(layout.problems[1].what == "not a directory");
  CHECK(layout.zones.empty());
}

}  // namespace
}  // namespace zrecon
