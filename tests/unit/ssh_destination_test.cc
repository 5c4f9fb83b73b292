// The ssh destination and the ssh tree, against OpenSSH's sftp-server run
// locally in place of `ssh ... -s host sftp` ($ZRECON_SSH names a stand-in
// that execs it), so every SFTP request is real. The contract is the
// directory destination's: the same calls through both types leave the
// same files, byte for byte, and both trees read them back the same.
// tests/integration/ssh_destination_test.sh does it through a real sshd.

#include "reconciler/storage/ssh_destination.h"

#include <doctest/doctest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "reconciler/catalog/catalog_json.h"
#include "reconciler/storage/directory_catalog.h"
#include "reconciler/storage/directory_destination.h"
#include "reconciler/storage/directory_layout.h"
#include "reconciler/storage/ssh_tree.h"
#include "reconciler/storage/stored_stream.h"
#include "reconciler/util/files.h"
#include "tests/unit/stream_helpers.h"
#include "tests/unit/temp_dir.h"

namespace zrecon {
namespace {

namespace fs = std::filesystem;
using testing::RandomBytes;
using testing::TempDir;
using testing::WriteStream;

constexpr char kHost[] = "demo01";
constexpr char kZone[] = "8f6d2b3a-61c4-4e0b-b7a1-3c9e5d0f2a47";
constexpr char kImage[] = "5417ab20-3156-11ea-8b19-2b66f5e7a439";

const char* SftpServer() {
  for (const char* p : {"/usr/lib/openssh/sftp-server", "/usr/libexec/sftp-server",
                        "/usr/lib/ssh/sftp-server", "/usr/libexec/openssh/sftp-server"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return nullptr;
}

// $ZRECON_SSH: a stand-in for ssh that ignores its arguments and runs the
// SFTP server here; it also logs its arguments, one per line.
class FakeSsh {
 public:
  FakeSsh() : dir_("zrecon-fakessh") {
    REQUIRE_MESSAGE(SftpServer(), "openssh-sftp-server is not installed (tools/install-deps.sh)");
    script_ = dir_ / "ssh";
    // While a file "down" exists, it fails the way ssh does when the host
    // refuses; else it notes its pid (the server's, after exec).
    std::ofstream(script_) << "#!/bin/sh\nprintf '%s\\n' \"$@\" > " << dir_ / "args"
                           << "\nif [ -e " << dir_ / "down"
                           << " ]; then echo 'ssh: connect to host vault port 2222: Connection "
                              "refused' >&2; exit 255; fi\necho $$ > "
                           << dir_ / "pid"
                           << "\nexec " << SftpServer() << "\n";
    ::chmod(script_.c_str(), 0755);
    ::setenv("ZRECON_SSH", script_.c_str(), 1);
  }
  ~FakeSsh() { ::unsetenv("ZRECON_SSH"); }
  // The running server's pid.
  std::string Pid() const {
    std::string pid;
    REQUIRE(ReadFile(dir_ / "pid", &pid).ok());
    return pid;
  }
  // Ends the session as a dropped link would.
  void KillServer() const { REQUIRE(::kill(std::stoi(Pid()), SIGKILL) == 0); }
  void SetDown(bool down) const {
    if (down) {
      std::ofstream(dir_ / "down") << "";
    } else {
      fs::remove(dir_ / "down");
    }
  }
  std::string args() const {
    std::string text;
    ReadFile(dir_ / "args", &text);
    return text;
  }

 private:
  TempDir dir_;
  std::string script_;
};

SshLocation At(const std::string& path) {
  SshLocation l;
  l.user = "backup";
  l.host = "vault";
  l.port = 2222;
  l.path = path;
  l.identity = "/opt/zrecon/id_ed25519";
  l.known_hosts = "/opt/zrecon/known_hosts";
  return l;
}

std::map<std::string, std::string> FilesBelow(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_directory()) continue;
    std::string text;
    ReadFile(e.path().string(), &text);
    out[e.path().lexically_relative(dir).string()] = text;
  }
  return out;
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

Chain RootChain() {
  Chain c;
  c.id = "root/20261115T020000Z";
  c.dataset = std::string("zones/") + kZone;
  c.origin = std::string("zones/") + kImage + "@final";
  c.origin_guid = 5521843319208747101u;
  c.image_uuid = kImage;
  return c;
}

// One day of exports: an image, a config, two links of a chain (one
// zstd), a loose file journaled and removed again, then the chain removed.
void Scenario(Destination* d, bool remove_chain) {
  Status st = d->Prepare();
  REQUIRE_MESSAGE(st.ok(), st.message());
  ImageManifest image;
  image.uuid = kImage;
  image.snapshot = std::string("zones/") + kImage + "@final";
  image.guid = 5521843319208747101u;
  image.createtxg = 100;
  image.stream = WriteStream(d, std::string("images/") + kImage + ".zfs", RandomBytes(70000, 3));
  image.written = "2026-11-15T02:00:00Z";
  st = d->RecordImage(image);
  REQUIRE_MESSAGE(st.ok(), st.message());
  std::string config_file = std::string(kZone) + "/config/20261115T020000Z.json";
  st = d->JournalFile(Identity(), config_file);
  REQUIRE_MESSAGE(st.ok(), st.message());
  StoredFile config = WriteStream(d, config_file, "{\"alias\": \"web01\"}\n");
  st = d->RecordConfig(Identity(), ConfigRecord{config, "2026-11-15T02:03:00Z"});
  REQUIRE_MESSAGE(st.ok(), st.message());
  std::vector<std::string> chain_files;
  for (int i = 0; i < 2; ++i) {
    std::string file = std::string(kZone) + "/root/20261115T020000Z/00" + std::to_string(i) +
                       "-zrecon-daily-2026111" + std::to_string(5 + i) + "T020000Z.zfs" +
                       (i == 1 ? ".zst" : "");
    st = d->JournalFile(Identity(), file);
    REQUIRE_MESSAGE(st.ok(), st.message());
    StoredFile stream =
        WriteStream(d, file, RandomBytes(300000 + i, 10 + i) + std::string(200000, 'z'),
                    i == 1 ? "zstd" : "none");
    ChainLink l;
    l.snapshot = "zrecon-daily-2026111" + std::to_string(5 + i) + "T020000Z";
    l.guid = 1000 + i;
    l.createtxg = 27000 + i;
    l.creation = 1794708000 + i * 86400;
    l.from = i == 0 ? RootChain().origin
                    : std::string("zones/") + kZone + "@zrecon-daily-20261115T020000Z";
    l.from_guid = i == 0 ? RootChain().origin_guid : 1000;
    l.stream = stream;
    l.config = config_file;
    l.written = "2026-11-15T02:03:12Z";
    st = d->RecordLink(Identity(), RootChain(), l);
    REQUIRE_MESSAGE(st.ok(), st.message());
    chain_files.push_back(file);
  }
  std::string loose = std::string(kZone) + "/root/x/leftover.zfs";
  st = d->JournalFile(Identity(), loose);
  REQUIRE_MESSAGE(st.ok(), st.message());
  WriteStream(d, loose, "half");
  st = d->RemoveLooseFiles(kZone, {loose});
  REQUIRE_MESSAGE(st.ok(), st.message());
  if (remove_chain) {
    st = d->RemoveChain(kZone, RootChain().id, chain_files);
    REQUIRE_MESSAGE(st.ok(), st.message());
  }
}

TEST_CASE("ssh destination: the same calls leave the same files as a directory destination") {
  FakeSsh ssh;
  for (bool remove_chain : {false, true}) {
    CAPTURE(remove_chain);
    TempDir local("zrecon-dir"), remote("zrecon-ssh");
    DirectoryDestination dir("usb", local.path(), kHost, DestinationCatalog());
    SshDestination over_ssh("offsite", At(remote.path()), kHost, DestinationCatalog());
    Scenario(&dir, remove_chain);
    Scenario(&over_ssh, remove_chain);
    auto want = FilesBelow(local.path());
    auto got = FilesBelow(remote.path());
    CHECK(want.size() == got.size());
    CHECK(want == got);
    CHECK(EncodeZoneManifest(over_ssh.catalog().zones.at(kZone)) ==
          EncodeZoneManifest(dir.catalog().zones.at(kZone)));

    // Read back through the ssh tree: the same catalog, the same streams.
    DestinationCatalog via_ssh, via_dir;
    std::unique_ptr<DestinationTree> tree = SshDestinationTree(At(remote.path()));
    Status st = ReadTreeCatalog("offsite", *tree, kHost, &via_ssh);
    REQUIRE_MESSAGE(st.ok(), st.message());
    REQUIRE(ReadDirectoryCatalog("usb", local.path(), kHost, &via_dir).ok());
    CHECK(via_ssh.reachable);
    CHECK(EncodeZoneManifest(via_ssh.zones.at(kZone)) ==
          EncodeZoneManifest(via_dir.zones.at(kZone)));
    CHECK(EncodeImageManifest(via_ssh.images.at(kImage)) ==
          EncodeImageManifest(via_dir.images.at(kImage)));
    for (const Chain& chain : via_ssh.zones.at(kZone).chains) {
      for (const ChainLink& link : chain.links) {
        std::unique_ptr<StoredStream> in;
        REQUIRE(OpenStoredStream(*tree, kHost, link.stream, &in).ok());
        std::string back;
        char buf[10000];
        size_t n = 0;
        do {
          REQUIRE(in->Read(buf, sizeof buf, &n).ok());
          back.append(buf, n);
        } while (n > 0);
        CHECK(back.size() ==
              (link.stream.compression == "zstd" ? link.stream.stream_size : link.stream.size));
        CHECK(in->CheckRest().ok());
      }
    }
  }
  // The ssh command: batch mode, the policy's port, user, identity and
  // known_hosts, the sftp subsystem, the host after "--".
  std::string args = ssh.args();
  for (const char* expected :
       {"BatchMode=yes\n", "-p\n2222\n", "-l\nbackup\n", "-i\n/opt/zrecon/id_ed25519\n",
        "UserKnownHostsFile=/opt/zrecon/known_hosts\n", "StrictHostKeyChecking=yes\n",
        "-s\n--\nvault\nsftp\n"}) {
    CHECK_MESSAGE(args.find(expected) != std::string::npos, expected);
  }
}

TEST_CASE("ssh destination: Prepare removes leftovers, refuses symlinks and a missing path") {
  FakeSsh ssh;
  TempDir remote("zrecon-ssh");
  fs::create_directories(remote / (std::string(kHost) + "/" + kZone + "/root"));
  std::ofstream(remote / (std::string(kHost) + "/" + kZone + "/root/.tmp.x.zfs.1.0")) << "x";
  std::ofstream(remote / (std::string(kHost) + "/keep.txt")) << "x";
  SshDestination d("offsite", At(remote.path()), kHost, DestinationCatalog());
  Status st = d.Prepare();
  REQUIRE_MESSAGE(st.ok(), st.message());
  CHECK_FALSE(fs::exists(remote / (std::string(kHost) + "/" + kZone + "/root/.tmp.x.zfs.1.0")));
  CHECK(fs::exists(remote / (std::string(kHost) + "/keep.txt")));

  // A symlinked zone directory is never written through.
  TempDir elsewhere("zrecon-elsewhere");
  fs::create_directory_symlink(elsewhere.path(), remote / (std::string(kHost) + "/" + kZone + "x"));
  std::unique_ptr<StreamFile> out;
  st = d.Create(std::string(kZone) + "x/config/a.json", "none", &out);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().find("refusing to follow symlink") != std::string::npos);
  CHECK(fs::is_empty(elsewhere.path()));

  SshDestination missing("offsite", At(remote / "absent"), kHost, DestinationCatalog());
  st = missing.Prepare();
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().find("does not exist") != std::string::npos);
  CHECK_FALSE(fs::exists(remote / "absent"));
  // Every later call fails, writing nothing.
  CHECK_FALSE(missing.Create("images/x.zfs", "none", &out).ok());
}

TEST_CASE(
    "ssh destination: an abandoned stream leaves nothing; a recorded file is never replaced") {
  FakeSsh ssh;
  TempDir remote("zrecon-ssh");
  SshDestination d("offsite", At(remote.path()), kHost, DestinationCatalog());
  REQUIRE(d.Prepare().ok());
  {
    std::unique_ptr<StreamFile> out;
    REQUIRE(d.Create("images/a.zfs", "none", &out).ok());
    REQUIRE(out->Write("partial", 7).ok());
  }
  CHECK(fs::is_empty(remote / (std::string(kHost) + "/images")));
  // An unrecorded leftover under the final name is replaced.
  std::ofstream(remote / (std::string(kHost) + "/images/b.zfs")) << "garbage of a crash";
  StoredFile b = WriteStream(&d, "images/b.zfs", "fresh");
  std::string text;
  REQUIRE(ReadFile(remote / (std::string(kHost) + "/images/b.zfs"), &text).ok());
  CHECK(text == "fresh");
  CHECK(b.size == 5);
}

TEST_CASE("ssh destination: a lost session is reconnected by Recover; a refusal is not") {
  FakeSsh ssh;
  TempDir remote("zrecon-sshdest");
  SshDestination d("offsite", At(remote.path()), kHost, DestinationCatalog{});
  d.set_recover_waits_ms({10, 10, 10});
  REQUIRE(d.Prepare().ok());
  const std::string file = std::string(kZone) + "/config/20261115T020000Z.json";

  // A refusal of a server that answers (a full disk reads "failure") is
  // the medium's verdict: no reconnect.
  Status refusal =
      Status::Error("ssh://backup@vault:2222" + remote.path() + ": SFTP write x: failure");
  CHECK(d.Recover(refusal, nullptr).message() == refusal.message());

  std::unique_ptr<StreamFile> f;
  REQUIRE(d.Create(file, "none", &f).ok());
  REQUIRE(f->Write("{}", 2).ok());
  ssh.KillServer();
  StoredFile stored;
  Status lost = f->Commit(&stored);
  REQUIRE_FALSE(lost.ok());
  CHECK(lost.message().find("the ssh session is lost") != std::string::npos);
  f.reset();  // its temporary file stays: the session is gone

  SUBCASE("the server is back: reconnected, the leftover removed, the file written again") {
    Status back = d.Recover(lost, nullptr);
    REQUIRE_MESSAGE(back.ok(), back.message());
    for (const auto& [name, text] : FilesBelow(remote.path())) {
      CHECK_MESSAGE(name.find(".tmp") == std::string::npos, name);
    }
    CHECK(WriteStream(&d, file, "{\"alias\": \"web01\"}\n").size == 19);
    CHECK(fs::is_regular_file(remote.path() + "/" + kHost + "/" + file));
  }
  SUBCASE("the host stays away: unreachable, after every wait") {
    ssh.SetDown(true);
    Status still = d.Recover(lost, nullptr);
    REQUIRE_FALSE(still.ok());
    CAPTURE(still.message());
    CHECK(still.message().find("destination offsite: is unreachable: ") != std::string::npos);
    CHECK(still.message().find("Connection refused") != std::string::npos);
    ssh.SetDown(false);
    // Nothing more is tried: the run has ended the work there.
    CHECK_FALSE(d.Recover(lost, nullptr).ok());
  }
  SUBCASE("an interrupt ends the waiting") {
    Interrupt interrupt;
    interrupt.Raise(SIGTERM);
    CHECK(d.Recover(lost, &interrupt).message() == lost.message());
  }
}

TEST_CASE("ssh tree: a read goes on through a lost session, from where it stopped") {
  FakeSsh ssh;
  TempDir remote("zrecon-sshtree");
  const std::string file = std::string(kHost) + "/" + kZone + "/root/x/000-a.zfs";
  fs::create_directories(remote.path() + "/" + kHost + "/" + kZone + "/root/x");
  const std::string data = RandomBytes(3 << 20, 77);
  std::ofstream(remote.path() + "/" + file, std::ios::binary) << data;
  std::unique_ptr<DestinationTree> tree = SshDestinationTree(At(remote.path()));
  std::unique_ptr<ByteSource> in;
  uint64_t size = 0;
  REQUIRE(tree->Open(file, &in, &size) == "");
  CHECK(size == data.size());
  std::string back;
  char buffer[50000];
  size_t got = 0;
  REQUIRE(in->Read(buffer, sizeof buffer, &got).ok());
  back.append(buffer, got);
  const std::string first = ssh.Pid();
  ssh.KillServer();  // the link drops mid-file
  do {
    Status st = in->Read(buffer, sizeof buffer, &got);
    REQUIRE_MESSAGE(st.ok(), st.message());
    back.append(buffer, got);
  } while (got > 0);
  CHECK(back.size() == data.size());
  CHECK(back == data);
  CHECK(ssh.Pid() != first);  // read on through a new session
  // The tree goes on over it.
  CHECK(tree->Inspect(file, nullptr, nullptr) == EntryKind::kRegular);
}

TEST_CASE("ssh tree: says what is wrong as the directory tree does") {
  FakeSsh ssh;
  TempDir remote("zrecon-ssh");
  std::string host_dir = remote / kHost;
  fs::create_directories(host_dir + "/images");
  std::ofstream(host_dir + "/images/a.zfs") << "abc";
  fs::create_directory_symlink("images", host_dir + "/pictures");
  fs::create_symlink("a.zfs", host_dir + "/images/link.zfs");
  ::mkfifo((host_dir + "/images/fifo.zfs").c_str(), 0600);
  std::unique_ptr<DestinationTree> ssh_tree = SshDestinationTree(At(remote.path()));
  std::unique_ptr<DestinationTree> local_tree = LocalDestinationTree(remote.path());
  for (const char* file :
       {"images/a.zfs", "images/absent.zfs", "absent/x.zfs", "images", "images/a.zfs/x",
        "pictures/a.zfs", "images/link.zfs", "images/fifo.zfs"}) {
    CAPTURE(file);
    uint64_t size_ssh = 0, size_local = 0;
    std::string relative = std::string(kHost) + "/" + file;
    std::string via_ssh = ssh_tree->Open(relative, nullptr, &size_ssh);
    std::string via_local = local_tree->Open(relative, nullptr, &size_local);
    // Symlink targets: the local tree resolves them, ssh says what the link holds.
    CHECK(via_ssh.substr(0, via_ssh.find(" a symlink to ")) ==
          via_local.substr(0, via_local.find(" a symlink to ")));
    CHECK(via_ssh.substr(0, 16) == via_local.substr(0, 16));
    CHECK(size_ssh == size_local);
  }
  HostLayout over_ssh, local;
  ListHostLayout(*ssh_tree, kHost, &over_ssh);
  ListHostLayout(*local_tree, kHost, &local);
  CHECK(over_ssh.present == local.present);
  REQUIRE(over_ssh.problems.size() == local.problems.size());
  for (size_t i = 0; i < local.problems.size(); ++i) {
    CHECK(over_ssh.problems[i].file == local.problems[i].file);
  }
  CHECK(SshDestinationTree(At(remote / "absent"))->CheckRoot().find("does not exist") !=
        std::string::npos);
}

TEST_CASE("ssh location: URLs and fields are checked before ssh sees them") {
  SshLocation l;
  REQUIRE(ParseSshUrl("ssh://backup@vault.example:2222/srv/zrecon/", &l).ok());
  CHECK(l.user == "backup");
  CHECK(l.host == "vault.example");
  CHECK(l.port == 2222);
  CHECK(l.path == "/srv/zrecon/");
  CHECK(l.Url() == "ssh://backup@vault.example:2222/srv/zrecon");
  REQUIRE(ParseSshUrl("ssh://[fe80::1]/x", &l).ok());
  CHECK(l.host == "fe80::1");
  CHECK(l.Url() == "ssh://[fe80::1]/x");
  for (const char* bad :
       {"http://vault/x", "ssh://vault", "ssh://vault/", "ssh://-oProxyCommand=x/y",
        "ssh://a b@vault/x", "ssh://vault:0/x", "ssh://vault:99999/x", "ssh://vault:/x",
        "ssh://vault/a/../b", "ssh://[fe80::1/x", "ssh://vault/x\nProxyCommand"}) {
    std::string url = bad;
    CAPTURE(url);
    Status st = ParseSshUrl(url, &l);
    CHECK_FALSE(st.ok());
    CHECK(st.message().find("invalid ssh URL") == 0);
  }
  SshLocation f = At("/srv/z");
  f.known_hosts = "/opt/my known_hosts";
  CHECK_FALSE(CheckSshLocation(f).ok());
  f.known_hosts = "/opt/%h";
  CHECK_FALSE(CheckSshLocation(f).ok());
}

}  // namespace
}  // namespace zrecon
