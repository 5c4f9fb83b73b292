#include "reconciler/storage/directory_destination.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>
#ifdef __linux__
#include <sys/mount.h>
#endif

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "reconciler/catalog/catalog_edits.h"
#include "reconciler/catalog/catalog_json.h"
#include "reconciler/host/posix_host.h"
#include "reconciler/storage/directory_catalog.h"
#include "reconciler/util/files.h"
#include "reconciler/util/sha256.h"
#include "tests/unit/stream_helpers.h"
#include "tests/unit/temp_dir.h"

namespace zrecon {
namespace {

using testing::RandomBytes;
using testing::WriteStream;

namespace fs = std::filesystem;
using testing::TempDir;

constexpr char kHost[] = "demo01";
constexpr char kZone[] = "8f6d2b3a-61c4-4e0b-b7a1-3c9e5d0f2a47";
constexpr char kImage[] = "5417ab20-3156-11ea-8b19-2b66f5e7a439";
constexpr char kChainId[] = "root/20261115T020000Z";

std::string ZoneFile(const std::string& rest) { return std::string(kZone) + "/" + rest; }

std::string Slurp(const std::string& path) {
  std::string text;
  Status st = ReadFile(path, &text);
  REQUIRE_MESSAGE(st.ok(), st.message());
  return text;
}

// Regular files and symlinks below `dir`, relative to it.
std::set<std::string> FilesBelow(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_directory() || e.is_symlink()) out.insert(e.path().lexically_relative(dir).string());
  }
  return out;
}

// <dest>/<host>[/<file>]
std::string HostPath(const TempDir& dir, const std::string& file = "") {
  return dir.path() + "/" + kHost + (file.empty() ? "" : "/" + file);
}

DestinationCatalog ReadCatalog(const std::string& dest) {
  DestinationCatalog catalog;
  Status st = ReadDirectoryCatalog("usb", dest, kHost, &catalog);
  REQUIRE_MESSAGE(st.ok(), st.message());
  return catalog;
}

std::unique_ptr<DirectoryDestination> OpenDestination(const std::string& dest) {
  auto d = std::make_unique<DirectoryDestination>("usb", dest, kHost, ReadCatalog(dest));
  Status st = d->Prepare();
  REQUIRE_MESSAGE(st.ok(), st.message());
  return d;
}

void CheckSameCatalog(const DestinationCatalog& a, const DestinationCatalog& b) {
  REQUIRE(a.zones.size() == b.zones.size());
  for (const auto& [uuid, zone] : a.zones) {
    REQUIRE(b.zones.count(uuid) == 1);
    CHECK(EncodeZoneManifest(zone) == EncodeZoneManifest(b.zones.at(uuid)));
  }
  REQUIRE(a.images.size() == b.images.size());
  for (const auto& [uuid, image] : a.images) {
    REQUIRE(b.images.count(uuid) == 1);
    CHECK(EncodeImageManifest(image) == EncodeImageManifest(b.images.at(uuid)));
  }
}

ZoneManifest Identity() {
  ZoneManifest z;
  z.host = kHost;
  z.uuid = kZone;
  z.alias = "web01";
  z.brand = "joyent";
  z.image_uuid = kImage;
  return z;
}

Chain RootChain(const std::string& id = kChainId) {
  Chain c;
  c.id = id;
  c.dataset = std::string("zones/") + kZone;
  c.origin = std::string("zones/") + kImage + "@final";
  c.origin_guid = 5521843319208747101u;
  c.image_uuid = kImage;
  return c;
}

// Link `seq` of RootChain(): the base is incremental from the origin, each
// later one from the previous link.
ChainLink Link(int seq, const StoredFile& stream) {
  ChainLink l;
  l.snapshot = "zrecon-daily-2026111" + std::to_string(5 + seq) + "T020000Z";
  l.guid = 1000 + seq;
  l.createtxg = 27000 + seq;
  l.creation = 1794708000 + seq * 86400;
  if (seq == 0) {
    l.from = std::string("zones/") + kImage + "@final";
    l.from_guid = 5521843319208747101u;
  } else {
    l.from = std::string("zones/") + kZone + "@zrecon-daily-2026111" + std::to_string(4 + seq) +
             "T020000Z";
    l.from_guid = 1000 + seq - 1;
  }
  l.stream = stream;
  l.config = ZoneFile("config/20261115T020000Z.json");
  l.written = "2026-11-15T02:03:12Z";
  return l;
}

std::string LinkFile(const std::string& chain_id, int seq) {
  return ZoneFile(chain_id + "/00" + std::to_string(seq) + "-zrecon-daily-2026111" +
                  std::to_string(5 + seq) + "T020000Z.zfs");
}

// Exports a config and `links` links of chain `chain_id` through `d`.
void ExportChain(DirectoryDestination* d, const std::string& chain_id, int links) {
  std::string config_file = ZoneFile("config/" + chain_id.substr(5) + ".json");
  StoredFile config = WriteStream(d, config_file, "{\"alias\": \"web01\"}\n");
  Status st = d->RecordConfig(Identity(), ConfigRecord{config, "2026-11-15T02:03:00Z"});
  REQUIRE_MESSAGE(st.ok(), st.message());
  for (int i = 0; i < links; ++i) {
    std::string file = LinkFile(chain_id, i);
    StoredFile stream = WriteStream(d, file, "stream " + file);
    ChainLink link = Link(i, stream);
    link.config = config_file;
    st = d->RecordLink(Identity(), RootChain(chain_id), link);
    REQUIRE_MESSAGE(st.ok(), st.message());
  }
}

TEST_CASE("directory_destination: a committed stream holds the bytes, size and sha256 reported") {
  TempDir dir("zrecon-dest");
  auto d = OpenDestination(dir.path());
  // Over two 4 MiB blocks, so writes in flight and a partial last block count.
  std::string content = RandomBytes(9 * 1024 * 1024 + 12345, 1);
  std::string file = LinkFile(kChainId, 0);
  StoredFile stored = WriteStream(d.get(), file, content);
  std::string on_disk = Slurp(HostPath(dir, file));
  CHECK(on_disk == content);
  CHECK(stored.file == file);
  CHECK(stored.size == content.size());
  CHECK(stored.sha256 == Sha256::Hex(on_disk));
  CHECK(stored.compression == "none");
  CHECK(FilesBelow(HostPath(dir)) == std::set<std::string>{file});
  struct stat info;
  REQUIRE(::stat(HostPath(dir, file).c_str(), &info) == 0);
  CHECK((info.st_mode & 0777 & ~0644) == 0);
}

TEST_CASE("directory_destination: an empty stream commits as an empty file") {
  TempDir dir("zrecon-dest");
  auto d = OpenDestination(dir.path());
  StoredFile stored = WriteStream(d.get(), "images/x.zfs", "");
  CHECK(stored.size == 0);
  CHECK(stored.sha256 == Sha256::Hex(""));
  CHECK(Slurp(HostPath(dir, "images/x.zfs")).empty());
}

TEST_CASE(
    "directory_destination: zstd streams decompress to the input; hash and size are of the file") {
  TempDir dir("zrecon-dest");
  auto d = OpenDestination(dir.path());
  std::string content = std::string(3 * 1024 * 1024, 'z') + RandomBytes(2 * 1024 * 1024, 2) +
                        std::string(4 * 1024 * 1024, '\0');
  std::string file = LinkFile(kChainId, 0) + ".zst";
  std::unique_ptr<StreamFile> out;
  REQUIRE(d->Create(file, "zstd", &out).ok());
  REQUIRE(out->Write(content.data(), content.size()).ok());
  CHECK(out->bytes_in() == content.size());
  StoredFile stored;
  Status st = out->Commit(&stored);
  REQUIRE_MESSAGE(st.ok(), st.message());

  std::string on_disk = Slurp(HostPath(dir, file));
  CHECK(stored.compression == "zstd");
  CHECK(stored.size == on_disk.size());
  CHECK(stored.size < content.size() / 2);
  CHECK(stored.stream_size == content.size());  // what a receive will take
  CHECK(stored.sha256 == Sha256::Hex(on_disk));
  std::string back(content.size() + 1, '\0');
  size_t n = ZSTD_decompress(back.data(), back.size(), on_disk.data(), on_disk.size());
  REQUIRE_MESSAGE(!ZSTD_isError(n), ZSTD_getErrorName(n));
  back.resize(n);
  CHECK(back == content);
}

TEST_CASE("directory_destination: nothing is visible under the final name before Commit") {
  TempDir dir("zrecon-dest");
  auto d = OpenDestination(dir.path());
  std::string file = LinkFile(kChainId, 0);
  std::unique_ptr<StreamFile> out;
  REQUIRE(d->Create(file, "none", &out).ok());
  std::string content = RandomBytes(5 * 1024 * 1024, 3);
  REQUIRE(out->Write(content.data(), content.size()).ok());
  CHECK_FALSE(fs::exists(HostPath(dir, file)));
  std::set<std::string> files = FilesBelow(HostPath(dir));
  REQUIRE(files.size() == 1);
  CHECK(fs::path(*files.begin()).filename().string().rfind(".tmp.", 0) == 0);
  CHECK(ReadCatalog(dir.path()).zones.empty());
  StoredFile stored;
  REQUIRE(out->Commit(&stored).ok());
  CHECK(FilesBelow(HostPath(dir)) == std::set<std::string>{file});
}

TEST_CASE("directory_destination: an abandoned stream file leaves no file behind") {
  TempDir dir("zrecon-dest");
  auto d = OpenDestination(dir.path());
  for (const char* compression : {"none", "zstd"}) {
    std::unique_ptr<StreamFile> out;
    REQUIRE(d->Create(LinkFile(kChainId, 0), compression, &out).ok());
    std::string content = RandomBytes(6 * 1024 * 1024, 4);
    REQUIRE(out->Write(content.data(), content.size()).ok());
    out.reset();
    CHECK(FilesBelow(HostPath(dir)).empty());
  }
}

// Direct mode: a child writes the temporary file itself.

// Starts direct mode on a new uncompressed file; `progress` collects what
// the hashing thread reports.
int BeginDirect(Destination* d, const std::string& file, std::unique_ptr<StreamFile>* out,
                std::vector<uint64_t>* progress) {
  REQUIRE(d->Create(file, "none", out).ok());
  int fd = (*out)->BeginDirect([progress](uint64_t bytes) { progress->push_back(bytes); });
  REQUIRE(fd >= 0);
  return fd;
}

Status RunShInto(int fd, const std::string& script) {
  PosixHost host(60);
  CommandResult r;
  Status st = host.RunToFile({"/bin/sh", "-c", script}, fd, &r);
  if (st.ok() && r.exit_code != 0) st = Status::Error(DescribeFailure({"sh", "-c", script}, r));
  return st;
}

TEST_CASE("directory_destination: direct mode hashes what another process writes meanwhile") {
  TempDir dir("zrecon-dest");
  auto d = OpenDestination(dir.path());
  std::string file = LinkFile(kChainId, 0);
  std::unique_ptr<StreamFile> out;
  std::vector<uint64_t> progress;
  // The child stops after its first MiB until the hashing thread has seen
  // it, so hashing provably runs while the file grows.
  std::string go = dir / "go";
  bool went = false;
  REQUIRE(d->Create(file, "none", &out).ok());
  int fd = out->BeginDirect([&progress, &went, go](uint64_t bytes) {
    // A failure here shows as the child's "no progress" below.
    if (bytes >= (1u << 20) && !went) went = WriteFileAtomically(go, "").ok();
    progress.push_back(bytes);
  });
  REQUIRE(fd >= 0);
  CHECK(out->Write("x", 1).message() ==
        "cannot write " + HostPath(dir, file) + ": it is written directly");
  Status st =
      RunShInto(fd,
                "head -c 1048576 /dev/urandom; n=0; "
                "until [ -e '" +
                    go +
                    "' ]; do n=$((n+1)); "
                    "[ $n -lt 2000 ] || { echo no progress >&2; exit 1; }; sleep 0.01; done; "
                    "for i in 1 2 3 4 5 6 7 8 9 10 11; do "
                    "head -c 1048576 /dev/urandom; sleep 0.01; done");
  REQUIRE_MESSAGE(st.ok(), st.message());
  CHECK_FALSE(fs::exists(HostPath(dir, file)));
  StoredFile stored;
  st = out->Commit(&stored);
  REQUIRE_MESSAGE(st.ok(), st.message());

  std::string on_disk = Slurp(HostPath(dir, file));
  CHECK(on_disk.size() == 12u << 20);
  CHECK(stored.size == on_disk.size());
  CHECK(stored.sha256 == Sha256::Hex(on_disk));
  CHECK(stored.compression == "none");
  CHECK(out->bytes_in() == on_disk.size());
  REQUIRE(progress.size() >= 2);
  CHECK(progress.front() <= (1u << 20));
  CHECK(std::is_sorted(progress.begin(), progress.end()));
  CHECK(progress.back() == on_disk.size());
  CHECK(FilesBelow(HostPath(dir)) == std::set<std::string>{file});
}

TEST_CASE("directory_destination: direct mode only for an untouched uncompressed file") {
  TempDir dir("zrecon-dest");
  auto d = OpenDestination(dir.path());
  std::unique_ptr<StreamFile> packed, written, direct;
  REQUIRE(d->Create(LinkFile(kChainId, 0) + ".zst", "zstd", &packed).ok());
  CHECK(packed->BeginDirect(nullptr) == -1);
  REQUIRE(d->Create(LinkFile(kChainId, 1), "none", &written).ok());
  REQUIRE(written->Write("abc", 3).ok());
  CHECK(written->BeginDirect(nullptr) == -1);
  REQUIRE(written->Write("def", 3).ok());
  StoredFile stored;
  REQUIRE(written->Commit(&stored).ok());
  CHECK(stored.sha256 == Sha256::Hex("abcdef"));

  std::vector<uint64_t> progress;
  int fd = BeginDirect(d.get(), LinkFile(kChainId, 2), &direct, &progress);
  CHECK(direct->BeginDirect(nullptr) == -1);
  REQUIRE(::write(fd, "direct", 6) == 6);
  REQUIRE(direct->Commit(&stored).ok());
  CHECK(stored.size == 6);
  CHECK(stored.sha256 == Sha256::Hex("direct"));
  CHECK(Slurp(HostPath(dir, LinkFile(kChainId, 2))) == "direct");
}

TEST_CASE("directory_destination: an abandoned direct-mode file is removed at once") {
  TempDir dir("zrecon-dest");
  auto d = OpenDestination(dir.path());
  std::unique_ptr<StreamFile> out;
  std::vector<uint64_t> progress;
  int fd = BeginDirect(d.get(), LinkFile(kChainId, 0), &out, &progress);
  Status st = RunShInto(fd, "head -c 3000000 /dev/urandom");
  REQUIRE_MESSAGE(st.ok(), st.message());
  CHECK(FilesBelow(HostPath(dir)).size() == 1);
  // The hashing thread is waiting for more: abandoning must not wait for it.
  auto start = std::chrono::steady_clock::now();
  out.reset();
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
  CHECK(FilesBelow(HostPath(dir)).empty());
}

TEST_CASE("directory_destination: a direct-mode file that shrank after hashing is not committed") {
  TempDir dir("zrecon-dest");
  auto d = OpenDestination(dir.path());
  std::unique_ptr<StreamFile> out;
  std::vector<uint64_t> progress;
  std::string file = LinkFile(kChainId, 0);
  int fd = BeginDirect(d.get(), file, &out, &progress);
  REQUIRE(::write(fd, "0123456789", 10) == 10);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (out->bytes_in() < 10 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  REQUIRE(out->bytes_in() == 10);
  REQUIRE(::ftruncate(fd, 4) == 0);
  StoredFile stored;
  Status st = out->Commit(&stored);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message() == "cannot commit " + HostPath(dir, file) +
                            ": it holds 4 bytes but 10 were written and hashed");
  CHECK(FilesBelow(HostPath(dir)).empty());
}

TEST_CASE("directory_destination: a direct-mode commit never replaces a file recorded since") {
  TempDir dir("zrecon-dest");
  auto d = OpenDestination(dir.path());
  std::string file = LinkFile(kChainId, 0);
  std::unique_ptr<StreamFile> late;
  std::vector<uint64_t> progress;
  int fd = BeginDirect(d.get(), file, &late, &progress);
  REQUIRE(::write(fd, "late", 4) == 4);

  StoredFile first = WriteStream(d.get(), file, "first");
  Status st = d->RecordLink(Identity(), RootChain(), Link(0, first));
  REQUIRE_MESSAGE(st.ok(), st.message());

  StoredFile stored;
  st = late->Commit(&stored);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message() == "refusing to replace " + HostPath(dir, file) + ": the catalog records it");
  CHECK(Slurp(HostPath(dir, file)) == "first");
  CHECK(FilesBelow(HostPath(dir)) == std::set<std::string>{file, ZoneFile("manifest.json")});
}

TEST_CASE("directory_destination: Create refuses a file the catalog records") {
  TempDir dir("zrecon-dest");
  ExportChain(OpenDestination(dir.path()).get(), kChainId, 1);
  std::string file = LinkFile(kChainId, 0);
  std::string before = Slurp(HostPath(dir, file));

  auto d = OpenDestination(dir.path());
  std::unique_ptr<StreamFile> out;
  Status st = d->Create(file, "none", &out);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message() == "\"" + file + "\" is already recorded in the catalog of destination usb");
  CHECK(out == nullptr);
  st = d->Create(ZoneFile("config/20261115T020000Z.json"), "none", &out);
  CHECK_FALSE(st.ok());
  CHECK(Slurp(HostPath(dir, file)) == before);
}

TEST_CASE("directory_destination: an unrecorded leftover of the same name is replaced") {
  TempDir dir("zrecon-dest");
  auto d = OpenDestination(dir.path());
  std::string file = LinkFile(kChainId, 0);
  REQUIRE(MakeDirectories(fs::path(HostPath(dir, file)).parent_path().string()).ok());
  REQUIRE(WriteFileAtomically(HostPath(dir, file), "garbage of a crashed run, longer\n").ok());
  StoredFile stored = WriteStream(d.get(), file, "new stream\n");
  CHECK(Slurp(HostPath(dir, file)) == "new stream\n");
  CHECK(stored.size == 11);
  CHECK(FilesBelow(HostPath(dir)) == std::set<std::string>{file});
}

TEST_CASE("directory_destination: a commit never replaces a file recorded since Create") {
  TempDir dir("zrecon-dest");
  auto d = OpenDestination(dir.path());
  std::string file = LinkFile(kChainId, 0);
  std::unique_ptr<StreamFile> late;
  REQUIRE(d->Create(file, "none", &late).ok());
  REQUIRE(late->Write("late", 4).ok());

  StoredFile first = WriteStream(d.get(), file, "first");
  Status st = d->RecordLink(Identity(), RootChain(), Link(0, first));
  REQUIRE_MESSAGE(st.ok(), st.message());

  StoredFile stored;
  st = late->Commit(&stored);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message() == "refusing to replace " + HostPath(dir, file) + ": the catalog records it");
  CHECK(Slurp(HostPath(dir, file)) == "first");
  CHECK(late->Write("x", 1).message() == st.message());
  std::set<std::string> files = FilesBelow(HostPath(dir));
  CHECK(files == std::set<std::string>{file, ZoneFile("manifest.json")});
}

TEST_CASE("directory_destination: Prepare removes temp files left anywhere below the host dir") {
  TempDir dir("zrecon-dest");
  TempDir elsewhere("zrecon-elsewhere");
  std::string host = HostPath(dir);
  REQUIRE(MakeDirectories(host + "/" + ZoneFile("root/20261115T020000Z")).ok());
  REQUIRE(MakeDirectories(host + "/images").ok());
  for (const std::string& f :
       {ZoneFile("root/20261115T020000Z/.tmp.000-x.zfs.123.0"), ZoneFile(".tmp.manifest.json.9"),
        std::string("images/.tmp.u.zfs.1.2"), std::string(".tmpfoo"),
        ZoneFile("root/20261115T020000Z/000-x.zfs"), ZoneFile("manifest.tmp")}) {
    REQUIRE(WriteFileAtomically(host + "/" + f, "x").ok());
  }
  REQUIRE(WriteFileAtomically(elsewhere / ".tmp.outside", "keep").ok());
  fs::create_symlink(elsewhere.path(), host + "/linked-dir");
  fs::create_symlink(elsewhere / ".tmp.outside", host + "/images/.tmp.link");

  // The reader refuses the outside symlink; the writer must not follow it.
  DirectoryDestination d("usb", dir.path(), kHost, DestinationCatalog());
  Status st = d.Prepare();
  REQUIRE_MESSAGE(st.ok(), st.message());
  CHECK(FilesBelow(host) == std::set<std::string>{ZoneFile("root/20261115T020000Z/000-x.zfs"),
                                                  ZoneFile("manifest.tmp"), "linked-dir"});
  CHECK(Slurp(elsewhere / ".tmp.outside") == "keep");
}

TEST_CASE("directory_destination: Prepare creates the host dir but never the destination path") {
  TempDir dir("zrecon-dest");
  DirectoryDestination missing("usb", dir / "unmounted", kHost, DestinationCatalog());
  Status st = missing.Prepare();
  REQUIRE_FALSE(st.ok());
  CHECK(st.message() == "destination usb is unreachable: cannot open " + (dir / "unmounted") +
                            ": No such file or directory");
  CHECK_FALSE(fs::exists(dir / "unmounted"));

  DirectoryDestination d("usb", dir.path(), kHost, DestinationCatalog());
  REQUIRE(d.Prepare().ok());
  CHECK(fs::is_directory(HostPath(dir)));
  CHECK(d.Prepare().ok());
}

TEST_CASE("directory_destination: RecordLink creates the manifest and chain, then appends") {
  TempDir dir("zrecon-dest");
  auto d = OpenDestination(dir.path());
  StoredFile s0 = WriteStream(d.get(), LinkFile(kChainId, 0), "base");
  Status st = d->RecordLink(Identity(), RootChain(), Link(0, s0));
  REQUIRE_MESSAGE(st.ok(), st.message());
  CheckSameCatalog(ReadCatalog(dir.path()), d->catalog());

  StoredFile s1 = WriteStream(d.get(), LinkFile(kChainId, 1), "incremental");
  Chain only_id;
  only_id.id = kChainId;  // an existing chain is found by id alone
  st = d->RecordLink(Identity(), only_id, Link(1, s1));
  REQUIRE_MESSAGE(st.ok(), st.message());

  DestinationCatalog reread = ReadCatalog(dir.path());
  CheckSameCatalog(reread, d->catalog());
  const ZoneManifest& zone = reread.zones.at(kZone);
  CHECK(zone.host == kHost);
  CHECK(zone.alias == "web01");
  CHECK(zone.brand == "joyent");
  CHECK(zone.image_uuid == kImage);
  REQUIRE(zone.chains.size() == 1);
  const Chain& chain = zone.chains[0];
  CHECK(chain.id == kChainId);
  CHECK(chain.origin == RootChain().origin);
  CHECK(chain.image_uuid == kImage);
  REQUIRE(chain.links.size() == 2);
  CHECK(chain.links[0].stream.sha256 == Sha256::Hex("base"));
  CHECK(chain.links[1].stream.file == LinkFile(kChainId, 1));
  CHECK(chain.links[1].from_guid == chain.links[0].guid);
}

TEST_CASE("directory_destination: RecordConfig creates the zone manifest, then adds to it") {
  TempDir dir("zrecon-dest");
  auto d = OpenDestination(dir.path());
  StoredFile c1 = WriteStream(d.get(), ZoneFile("config/20261115T020000Z.json"), "{}\n");
  ZoneManifest identity = Identity();
  identity.host = "";  // the destination's host decides
  REQUIRE(d->RecordConfig(identity, ConfigRecord{c1, "2026-11-15T02:00:00Z"}).ok());
  StoredFile c2 = WriteStream(d.get(), ZoneFile("config/20261116T020000Z.json"), "{ }\n");
  REQUIRE(d->RecordConfig(identity, ConfigRecord{c2, "2026-11-16T02:00:00Z"}).ok());

  DestinationCatalog reread = ReadCatalog(dir.path());
  CheckSameCatalog(reread, d->catalog());
  const ZoneManifest& zone = reread.zones.at(kZone);
  CHECK(zone.host == kHost);
  CHECK(zone.chains.empty());
  REQUIRE(zone.configs.size() == 2);
  CHECK(zone.configs[1].stored.sha256 == Sha256::Hex("{ }\n"));
  CHECK(zone.configs[1].written == "2026-11-16T02:00:00Z");

  Status st = d->RecordConfig(identity, ConfigRecord{c2, "2026-11-16T02:00:00Z"});
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().find("already recorded") != std::string::npos);
}

ImageManifest Image(const StoredFile& stream) {
  ImageManifest m;
  m.uuid = kImage;
  m.snapshot = std::string("zones/") + kImage + "@final";
  m.guid = 5521843319208747101u;
  m.createtxg = 211;
  m.stream = stream;
  m.written = "2026-11-01T02:03:05Z";
  return m;
}

TEST_CASE("directory_destination: RecordImage writes images/<uuid>.json once") {
  TempDir dir("zrecon-dest");
  auto d = OpenDestination(dir.path());
  StoredFile stream =
      WriteStream(d.get(), std::string("images/") + kImage + ".zfs", RandomBytes(4096, 5), "zstd");
  Status st = d->RecordImage(Image(stream));
  REQUIRE_MESSAGE(st.ok(), st.message());
  DestinationCatalog reread = ReadCatalog(dir.path());
  CheckSameCatalog(reread, d->catalog());
  REQUIRE(reread.images.count(kImage) == 1);
  CHECK(reread.images.at(kImage).stream.compression == "zstd");
  CHECK(fs::exists(HostPath(dir, std::string("images/") + kImage + ".json")));

  st = d->RecordImage(Image(stream));
  REQUIRE_FALSE(st.ok());
  CHECK(st.message() == "image \"" + std::string(kImage) +
                            "\" is already recorded in the catalog of destination usb");
}

TEST_CASE("directory_destination: a record that would not decode is refused and nothing changes") {
  TempDir dir("zrecon-dest");
  auto d = OpenDestination(dir.path());
  ExportChain(d.get(), kChainId, 1);
  std::string manifest = HostPath(dir, ZoneFile("manifest.json"));
  std::string before = Slurp(manifest);
  DestinationCatalog catalog_before = d->catalog();

  StoredFile s1 = WriteStream(d.get(), LinkFile(kChainId, 1), "incremental");
  ChainLink bad = Link(1, s1);
  bad.guid = 0;
  Status st = d->RecordLink(Identity(), RootChain(), bad);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message() ==
        "refusing to record snapshot \"zrecon-daily-20261116T020000Z\" of chain "
        "\"root/20261115T020000Z\": its guid is 0");

  ChainLink wrong_source = Link(1, s1);
  wrong_source.from_guid = 0;
  st = d->RecordLink(Identity(), RootChain(), wrong_source);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().find("refusing to write the manifest of zone \"" + std::string(kZone) +
                          "\": it would not decode: chains[0].links[1].from_guid") == 0);

  ChainLink out_of_order = Link(1, s1);
  out_of_order.createtxg = 1;
  st = d->RecordLink(Identity(), RootChain(), out_of_order);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().find("chains[0].links[1].createtxg") != std::string::npos);

  ImageManifest image = Image(s1);
  image.snapshot = "zones/other@final";
  st = d->RecordImage(image);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().find("refusing to record image \"" + std::string(kImage) +
                          "\": image.snapshot: expected a snapshot of") == 0);
  image = Image(s1);
  image.guid = 0;
  st = d->RecordImage(image);
  CHECK(st.message() == "refusing to record image \"" + std::string(kImage) + "\": its guid is 0");

  CHECK(Slurp(manifest) == before);
  CheckSameCatalog(d->catalog(), catalog_before);
  CHECK(d->catalog().images.empty());
}

TEST_CASE("directory_destination: only committed files of the recorded size can be recorded") {
  TempDir dir("zrecon-dest");
  auto d = OpenDestination(dir.path());
  StoredFile missing{LinkFile(kChainId, 0), 4, Sha256::Hex("base"), "none"};
  Status st = d->RecordLink(Identity(), RootChain(), Link(0, missing));
  REQUIRE_FALSE(st.ok());
  CHECK(st.message() == "refusing to record a file that was not committed: " +
                            HostPath(dir, missing.file) + ": No such file or directory");

  StoredFile stored = WriteStream(d.get(), LinkFile(kChainId, 0), "base");
  stored.size = 5;
  st = d->RecordLink(Identity(), RootChain(), Link(0, stored));
  REQUIRE_FALSE(st.ok());
  CHECK(st.message() == "refusing to record " + HostPath(dir, stored.file) +
                            ": it holds 4 bytes but the record says 5");
  CHECK(d->catalog().zones.empty());
  CHECK_FALSE(fs::exists(HostPath(dir, ZoneFile("manifest.json"))));
}

TEST_CASE(
    "directory_destination: RemoveChain drops the chain, then its files, and repeats safely") {
  TempDir dir("zrecon-dest");
  auto d = OpenDestination(dir.path());
  const std::string old_chain = "root/20261101T020000Z";
  ExportChain(d.get(), old_chain, 2);
  ExportChain(d.get(), kChainId, 1);
  std::string host = HostPath(dir);
  std::vector<std::string> files = {LinkFile(old_chain, 0), LinkFile(old_chain, 1),
                                    ZoneFile("config/20261101T020000Z.json")};

  Status st = d->RemoveChain(kZone, old_chain, files);
  REQUIRE_MESSAGE(st.ok(), st.message());
  DestinationCatalog reread = ReadCatalog(dir.path());
  CheckSameCatalog(reread, d->catalog());
  const ZoneManifest& zone = reread.zones.at(kZone);
  REQUIRE(zone.chains.size() == 1);
  CHECK(zone.chains[0].id == kChainId);
  REQUIRE(zone.configs.size() == 1);
  CHECK(zone.configs[0].stored.file == ZoneFile("config/20261115T020000Z.json"));
  CHECK(FilesBelow(host) == std::set<std::string>{ZoneFile("manifest.json"),
                                                  ZoneFile("config/20261115T020000Z.json"),
                                                  LinkFile(kChainId, 0)});
  CHECK_FALSE(fs::exists(host + "/" + ZoneFile(old_chain)));
  CHECK(fs::is_directory(host + "/" + ZoneFile("root")));

  std::string manifest = Slurp(host + "/" + ZoneFile("manifest.json"));
  st = d->RemoveChain(kZone, old_chain, files);
  REQUIRE_MESSAGE(st.ok(), st.message());
  CHECK(Slurp(host + "/" + ZoneFile("manifest.json")) == manifest);

  // The last chain: the zone directory and its manifest stay.
  st = d->RemoveChain(kZone, kChainId, {LinkFile(kChainId, 0)});
  REQUIRE_MESSAGE(st.ok(), st.message());
  CHECK_FALSE(fs::exists(host + "/" + ZoneFile("root")));
  CHECK(ReadCatalog(dir.path()).zones.at(kZone).chains.empty());
}

TEST_CASE("directory_destination: RemoveChain writes the manifest before removing any file") {
  TempDir dir("zrecon-dest");
  auto d = OpenDestination(dir.path());
  ExportChain(d.get(), kChainId, 1);
  // A directory in place of a file: unlink fails after the manifest is written.
  std::string blocker = ZoneFile("root/20261115T020000Z/not-a-file");
  REQUIRE(MakeDirectories(HostPath(dir, blocker) + "/child").ok());
  Status st = d->RemoveChain(kZone, kChainId, {blocker, LinkFile(kChainId, 0)});
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().find("cannot remove " + HostPath(dir, blocker) + ": ") == 0);
  const ZoneManifest on_disk = ReadCatalog(dir.path()).zones.at(kZone);
  CHECK(on_disk.chains.empty());
  CHECK(d->catalog().zones.at(kZone).chains.empty());
  // The files the failure left are journaled, not forgotten.
  CHECK(on_disk.loose_files == std::set<std::string>{blocker, LinkFile(kChainId, 0)});
  CHECK(fs::exists(HostPath(dir, LinkFile(kChainId, 0))));
}

// The manifest an interrupted apply leaves on disk: `zone` as written by
// the destination's first write of a step, the second never came.
void WriteManifestAsLeft(const TempDir& dir, const ZoneManifest& zone) {
  REQUIRE(
      WriteFileAtomically(HostPath(dir, ZoneFile("manifest.json")), EncodeZoneManifest(zone)).ok());
}

TEST_CASE("directory_destination: JournalFile lists a file before it is recorded, then not") {
  TempDir dir("zrecon-dest");
  auto d = OpenDestination(dir.path());
  const std::string config = ZoneFile("config/20261115T020000Z.json");
  ZoneManifest identity = Identity();
  identity.host = "";  // the destination's host decides
  Status st = d->JournalFile(identity, config);
  REQUIRE_MESSAGE(st.ok(), st.message());
  // A zone's first export: a manifest with nothing recorded yet.
  DestinationCatalog reread = ReadCatalog(dir.path());
  CheckSameCatalog(reread, d->catalog());
  const ZoneManifest& first = reread.zones.at(kZone);
  CHECK(first.host == kHost);
  CHECK(first.configs.empty());
  CHECK(first.chains.empty());
  CHECK(first.loose_files == std::set<std::string>{config});
  const std::string manifest = Slurp(HostPath(dir, ZoneFile("manifest.json")));
  REQUIRE(d->JournalFile(identity, config).ok());
  CHECK(Slurp(HostPath(dir, ZoneFile("manifest.json"))) == manifest);

  StoredFile stored = WriteStream(d.get(), config, "{}\n");
  REQUIRE(d->RecordConfig(identity, ConfigRecord{stored, "2026-11-15T02:00:00Z"}).ok());
  CHECK(ReadCatalog(dir.path()).zones.at(kZone).loose_files.empty());

  const std::string file = LinkFile(kChainId, 0);
  REQUIRE(d->JournalFile(identity, file).ok());
  CHECK(ReadCatalog(dir.path()).zones.at(kZone).loose_files == std::set<std::string>{file});
  stored = WriteStream(d.get(), file, "base");
  ChainLink link = Link(0, stored);
  link.config = config;
  st = d->RecordLink(identity, RootChain(), link);
  REQUIRE_MESSAGE(st.ok(), st.message());
  reread = ReadCatalog(dir.path());
  CheckSameCatalog(reread, d->catalog());
  CHECK(reread.zones.at(kZone).loose_files.empty());
  CHECK(reread.zones.at(kZone).chains.size() == 1);
}

TEST_CASE("directory_destination: JournalFile refuses files outside the zone or recorded") {
  TempDir dir("zrecon-dest");
  auto d = OpenDestination(dir.path());
  ExportChain(d.get(), kChainId, 1);
  const std::string manifest = Slurp(HostPath(dir, ZoneFile("manifest.json")));
  for (const std::string& bad :
       {std::string("images/x.zfs"), std::string("../x"), ZoneFile("manifest.json"),
        ZoneFile("../other/x"), std::string("/") + ZoneFile("x.zfs"), std::string(kZone)}) {
    CAPTURE(bad);
    Status st = d->JournalFile(Identity(), bad);
    REQUIRE_FALSE(st.ok());
    CHECK(st.message() == "refusing to journal \"" + bad +
                              "\": not a file in the directory of zone \"" + kZone + "\"");
  }
  Status st = d->JournalFile(Identity(), LinkFile(kChainId, 0));
  REQUIRE_FALSE(st.ok());
  CHECK(st.message() ==
        "\"" + LinkFile(kChainId, 0) + "\" is already recorded in the catalog of destination usb");
  CHECK(Slurp(HostPath(dir, ZoneFile("manifest.json"))) == manifest);
  CHECK(d->catalog().zones.at(kZone).loose_files.empty());
}

TEST_CASE("directory_destination: RemoveLooseFiles deletes what a crash left, then the list") {
  TempDir dir("zrecon-dest");
  const std::string old_chain = "root/20261101T020000Z";
  std::vector<std::string> removed = {LinkFile(old_chain, 0), LinkFile(old_chain, 1)};
  const std::string committed = LinkFile(kChainId, 1);
  const std::string uncommitted = ZoneFile("config/20261117T020000Z.json");
  {
    auto d = OpenDestination(dir.path());
    ExportChain(d.get(), old_chain, 2);
    ExportChain(d.get(), kChainId, 1);
    // Killed in a chain removal after its first write ...
    ZoneManifest left;
    bool changed = false;
    REQUIRE(ZoneWithoutChain(d->catalog(), kZone, old_chain, removed, &left, &changed).ok());
    REQUIRE(changed);
    // ... and, in another run, after the commit of a journaled stream and
    // before the commit of a journaled config.
    left.loose_files.insert({committed, uncommitted});
    WriteStream(d.get(), committed, "linked, never recorded");
    WriteManifestAsLeft(dir, left);
  }
  std::string keep = ZoneFile("root/20261115T020000Z/unlisted.zfs");
  REQUIRE(WriteFileAtomically(HostPath(dir, keep), "not zrecon's").ok());
  DestinationCatalog before = ReadCatalog(dir.path());
  CHECK(before.zones.at(kZone).loose_files ==
        std::set<std::string>{removed[0], removed[1], committed, uncommitted});

  DirectoryDestination d("usb", dir.path(), kHost, before);
  // Prepare leaves them to the plan's remove_loose action.
  REQUIRE(d.Prepare().ok());
  CHECK(fs::exists(HostPath(dir, committed)));
  CheckSameCatalog(ReadCatalog(dir.path()), before);
  const std::vector<std::string> listed(before.zones.at(kZone).loose_files.begin(),
                                        before.zones.at(kZone).loose_files.end());
  Status st = d.RemoveLooseFiles(kZone, listed);
  REQUIRE_MESSAGE(st.ok(), st.message());
  DestinationCatalog after = ReadCatalog(dir.path());
  CheckSameCatalog(after, d.catalog());
  CHECK(after.zones.at(kZone).loose_files.empty());
  before.zones.at(kZone).loose_files.clear();
  CheckSameCatalog(after, before);
  CHECK(FilesBelow(HostPath(dir)) == std::set<std::string>{ZoneFile("manifest.json"),
                                                           ZoneFile("config/20261101T020000Z.json"),
                                                           ZoneFile("config/20261115T020000Z.json"),
                                                           LinkFile(kChainId, 0), keep});
  CHECK_FALSE(fs::exists(HostPath(dir, ZoneFile(old_chain))));
  CHECK(fs::is_directory(HostPath(dir, ZoneFile("root"))));
  // They are no longer listed: a second removal is refused, changing nothing.
  const std::string manifest = Slurp(HostPath(dir, ZoneFile("manifest.json")));
  st = d.RemoveLooseFiles(kZone, {committed});
  REQUIRE_FALSE(st.ok());
  CHECK(st.message() == "cannot remove the loose files of zone \"" + std::string(kZone) +
                            "\": refusing to remove \"" + committed +
                            "\": the manifest of zone \"" + kZone + "\" does not list it as loose");
  CHECK(Slurp(HostPath(dir, ZoneFile("manifest.json"))) == manifest);
}

TEST_CASE("directory_destination: RemoveLooseFiles refuses a recorded file or an unknown zone") {
  TempDir dir("zrecon-dest");
  auto d = OpenDestination(dir.path());
  ExportChain(d.get(), kChainId, 1);
  const std::string recorded = LinkFile(kChainId, 0);
  const std::string manifest = Slurp(HostPath(dir, ZoneFile("manifest.json")));
  Status st = d->RemoveLooseFiles(kZone, {recorded});
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().find("does not list it as loose") != std::string::npos);
  CHECK(fs::exists(HostPath(dir, recorded)));
  CHECK(Slurp(HostPath(dir, ZoneFile("manifest.json"))) == manifest);
  st = d->RemoveLooseFiles("11111111-2222-4333-8444-555555555555", {recorded});
  REQUIRE_FALSE(st.ok());
  CHECK(fs::exists(HostPath(dir, recorded)));
}

TEST_CASE("directory_destination: RemoveLooseFiles takes only regular files, never via a symlink") {
  TempDir dir("zrecon-dest");
  TempDir elsewhere("zrecon-elsewhere");
  REQUIRE(WriteFileAtomically(elsewhere / "x.zfs", "keep").ok());
  ZoneManifest base;
  {
    auto d = OpenDestination(dir.path());
    ExportChain(d.get(), kChainId, 1);
    base = d->catalog().zones.at(kZone);
  }
  const std::string linked_file = ZoneFile("root/20261116T020000Z/x.zfs");
  const std::string through_dir = ZoneFile("data/x.zfs");
  const std::string a_dir = ZoneFile("root/20261117T020000Z");
  REQUIRE(MakeDirectories(fs::path(HostPath(dir, linked_file)).parent_path().string()).ok());
  fs::create_symlink(elsewhere / "x.zfs", HostPath(dir, linked_file));
  fs::create_symlink(elsewhere.path(), HostPath(dir, ZoneFile("data")));
  REQUIRE(MakeDirectories(HostPath(dir, a_dir)).ok());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {linked_file, "refusing to remove " + HostPath(dir, linked_file) + ": not a regular file"},
      {through_dir, "refusing to follow symlink " + HostPath(dir, ZoneFile("data")) +
                        ": destinations are written without following symlinks"},
      {a_dir, "refusing to remove " + HostPath(dir, a_dir) + ": not a regular file"},
  };
  for (const auto& [listed, why] : cases) {
    CAPTURE(listed);
    ZoneManifest left = base;
    left.loose_files = {listed};
    WriteManifestAsLeft(dir, left);
    const std::string manifest = Slurp(HostPath(dir, ZoneFile("manifest.json")));
    DirectoryDestination d("usb", dir.path(), kHost, ReadCatalog(dir.path()));
    Status st = d.RemoveLooseFiles(kZone, {listed});
    REQUIRE_FALSE(st.ok());
    CHECK(st.message() ==
          "cannot remove the loose files of zone \"" + std::string(kZone) + "\": " + why);
    CHECK(Slurp(HostPath(dir, ZoneFile("manifest.json"))) == manifest);
    CHECK(d.catalog().zones.at(kZone).loose_files == left.loose_files);
  }
  CHECK(Slurp(elsewhere / "x.zfs") == "keep");
  CHECK(fs::is_symlink(HostPath(dir, linked_file)));
  CHECK(fs::is_directory(HostPath(dir, a_dir)));

  // A catalog not read from disk is held to the decoder's rules all the same.
  DestinationCatalog forged = ReadCatalog(dir.path());
  forged.zones.at(kZone).loose_files = {"../" + std::string(kHost) + "/x"};
  DirectoryDestination d("usb", dir.path(), kHost, forged);
  Status st = d.RemoveLooseFiles(kZone, {"../" + std::string(kHost) + "/x"});
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().find("refusing to remove \"../") != std::string::npos);
}

TEST_CASE("directory_destination: RemoveChain journals the files, deletes them, then forgets") {
  TempDir dir("zrecon-dest");
  auto d = OpenDestination(dir.path());
  const std::string old_chain = "root/20261101T020000Z";
  ExportChain(d.get(), old_chain, 1);
  ExportChain(d.get(), kChainId, 1);
  std::vector<std::string> files = {LinkFile(old_chain, 0),
                                    ZoneFile("config/20261101T020000Z.json")};
  ZoneManifest first;
  bool changed = false;
  REQUIRE(ZoneWithoutChain(d->catalog(), kZone, old_chain, files, &first, &changed).ok());
  REQUIRE(changed);
  CHECK(first.chains.size() == 1);
  CHECK(first.configs.size() == 1);
  CHECK(first.loose_files == std::set<std::string>(files.begin(), files.end()));

  Status st = d->RemoveChain(kZone, old_chain, files);
  REQUIRE_MESSAGE(st.ok(), st.message());
  DestinationCatalog reread = ReadCatalog(dir.path());
  CheckSameCatalog(reread, d->catalog());
  ZoneManifest expected = first;
  expected.loose_files.clear();
  CHECK(EncodeZoneManifest(reread.zones.at(kZone)) == EncodeZoneManifest(expected));
  for (const std::string& f : files) CHECK_FALSE(fs::exists(HostPath(dir, f)));
}

TEST_CASE("directory_destination: RemoveChain refuses files outside the zone or still in use") {
  TempDir dir("zrecon-dest");
  auto d = OpenDestination(dir.path());
  const std::string old_chain = "root/20261101T020000Z";
  ExportChain(d.get(), old_chain, 1);
  ExportChain(d.get(), kChainId, 1);
  std::string manifest = Slurp(HostPath(dir, ZoneFile("manifest.json")));
  std::set<std::string> files = FilesBelow(HostPath(dir));

  for (const std::string& bad : {std::string("images/x.zfs"), std::string("../x"),
                                 ZoneFile("manifest.json"), ZoneFile("../other/x")}) {
    Status st = d->RemoveChain(kZone, old_chain, {LinkFile(old_chain, 0), bad});
    REQUIRE_FALSE(st.ok());
    CHECK(st.message().find("refusing to remove") == 0);
  }
  Status st = d->RemoveChain(kZone, old_chain, {LinkFile(kChainId, 0)});
  REQUIRE_FALSE(st.ok());
  CHECK(st.message() == "refusing to remove \"" + LinkFile(kChainId, 0) +
                            "\": it is the stream of snapshot \"zrecon-daily-20261115T020000Z\" "
                            "in chain \"" +
                            kChainId + "\", which remains");
  CHECK(Slurp(HostPath(dir, ZoneFile("manifest.json"))) == manifest);
  CHECK(FilesBelow(HostPath(dir)) == files);
  CHECK(d->catalog().zones.at(kZone).chains.size() == 2);
}

TEST_CASE("directory_destination: files outside the host dir are refused") {
  TempDir dir("zrecon-dest");
  TempDir elsewhere("zrecon-elsewhere");
  auto d = OpenDestination(dir.path());
  std::unique_ptr<StreamFile> out;
  for (const std::string& bad :
       {std::string("../x.zfs"), std::string("/tmp/x.zfs"), std::string("a/./b.zfs"),
        std::string("a//b.zfs"), ZoneFile(".tmp.x.zfs"), std::string("")}) {
    Status st = d->Create(bad, "none", &out);
    REQUIRE_FALSE(st.ok());
    CHECK(st.message().find("refusing to write") == 0);
  }
  Status st = d->Create("images/x.zfs", "gzip", &out);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message() ==
        "cannot write \"images/x.zfs\": unknown compression \"gzip\" (expected \"none\" or "
        "\"zstd\")");

  fs::create_symlink(elsewhere.path(), HostPath(dir, kZone));
  st = d->Create(LinkFile(kChainId, 0), "none", &out);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().find("refusing to follow symlink " + HostPath(dir, kZone)) == 0);
  fs::remove(HostPath(dir, kZone));
  REQUIRE(MakeDirectories(HostPath(dir, ZoneFile(""))).ok());
  fs::create_symlink(elsewhere.path(), HostPath(dir, ZoneFile("root")));
  st = d->Create(LinkFile(kChainId, 0), "none", &out);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().find("refusing to follow symlink " + HostPath(dir, ZoneFile("root"))) == 0);
  CHECK(FilesBelow(elsewhere.path()).empty());
  CHECK(out == nullptr);
}

TEST_CASE("directory_destination: a full destination fails cleanly, naming the file") {
#ifdef __linux__
  if (::geteuid() != 0) {
    MESSAGE("skipped: mounting a 1 MiB tmpfs needs root");
    return;
  }
  TempDir dir("zrecon-dest");
  if (::mount("tmpfs", dir.path().c_str(), "tmpfs", 0, "size=1m") != 0) {
    MESSAGE("skipped: cannot mount a tmpfs: " << std::strerror(errno));
    return;
  }
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount(path.c_str()); }
  } unmount{dir.path()};

  auto d = OpenDestination(dir.path());
  ExportChain(d.get(), kChainId, 1);
  std::string manifest = Slurp(HostPath(dir, ZoneFile("manifest.json")));
  std::set<std::string> files = FilesBelow(HostPath(dir));
  DestinationCatalog catalog_before = d->catalog();

  std::string file = LinkFile(kChainId, 1);
  std::unique_ptr<StreamFile> out;
  REQUIRE(d->Create(file, "none", &out).ok());
  std::string chunk = RandomBytes(64 * 1024, 6);
  Status st;
  for (int i = 0; i < 32 && st.ok(); ++i) st = out->Write(chunk.data(), chunk.size());
  StoredFile stored;
  if (st.ok()) st = out->Commit(&stored);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message() == "cannot write " + HostPath(dir, file) + ": No space left on device");
  CHECK(out->Commit(&stored).message() == st.message());
  CHECK(FilesBelow(HostPath(dir)) == files);
  out.reset();
  CHECK(FilesBelow(HostPath(dir)) == files);
  CHECK(Slurp(HostPath(dir, ZoneFile("manifest.json"))) == manifest);
  CheckSameCatalog(d->catalog(), catalog_before);
#else
  MESSAGE("skipped: the tmpfs mount is Linux-only");
#endif
}

}  // namespace
}  // namespace zrecon

namespace zrecon {
namespace {

// A medium unmounted mid-run leaves its mount point: an empty directory, or
// none. Writing on would fill the filesystem under it.
TEST_CASE("directory_destination: once prepared, a replaced or vanished host directory stops it") {
  TempDir dir("zrecon-dest");
  auto d = OpenDestination(dir.path());
  WriteStream(d.get(), LinkFile(kChainId, 0), RandomBytes(1000, 3));
  const std::string moved = dir.path() + "/elsewhere";
  fs::rename(HostPath(dir), moved);

  SUBCASE("gone: it is not created again") {
    std::unique_ptr<StreamFile> file;
    Status st = d->Create(LinkFile(kChainId, 1), "none", &file);
    REQUIRE_FALSE(st.ok());
    CHECK_FALSE(fs::exists(HostPath(dir)));
  }
  SUBCASE("another, empty directory in its place") {
    fs::create_directory(HostPath(dir));
    std::unique_ptr<StreamFile> file;
    Status st = d->Create(LinkFile(kChainId, 1), "none", &file);
    CHECK(st.message() == "destination usb: " + HostPath(dir) +
                              " is no longer the directory this run prepared (was the medium "
                              "unmounted or replaced?); nothing more is written there");
    CHECK(FilesBelow(HostPath(dir)).empty());
    // Its manifests are not written there either.
    ConfigRecord config;
    config.stored.file = ZoneFile("config/x.json");
    CHECK_FALSE(d->RecordConfig(Identity(), config).ok());
    CHECK(FilesBelow(HostPath(dir)).empty());
  }
  // The directory that moved still holds exactly what was committed.
  CHECK(FilesBelow(moved) == std::set<std::string>{LinkFile(kChainId, 0)});
}

}  // namespace
}  // namespace zrecon
