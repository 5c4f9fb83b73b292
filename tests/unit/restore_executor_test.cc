#include "reconciler/restore/restore_executor.h"

#include <doctest/doctest.h>
#include <zstd.h>

#include <csignal>
#include <fstream>
#include <utility>
#include <vector>

#include "reconciler/util/interrupt.h"
#include "reconciler/util/sha256.h"
#include "tests/unit/fake_host.h"
#include "tests/unit/temp_dir.h"

namespace zrecon {

namespace {

// The host directory `dir` of a local destination (its parent).
HostDirectory Where(const std::string& dir) {
  std::string parent = dir.substr(0, dir.rfind('/'));
  return HostDirectory{parent, dir.substr(dir.rfind('/') + 1), dir, LocalDestinationTree(parent)};
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  out << data;
}

StoredFile Stored(const std::string& file, const std::string& bytes,
                  const std::string& compression = "none") {
  StoredFile s;
  s.file = file;
  s.size = bytes.size();
  s.sha256 = Sha256::Hex(bytes);
  s.compression = compression;
  return s;
}

RestoreStep Receive(const std::string& into, const StoredFile& stored) {
  RestoreStep s;
  s.kind = RestoreStepKind::kReceive;
  s.argv = {"zfs", "receive", "-u", into};
  s.file = stored.file;
  s.stored = stored;
  return s;
}

RestoreStep Command(RestoreStepKind kind, Argv argv) {
  RestoreStep s;
  s.kind = kind;
  s.argv = std::move(argv);
  return s;
}

RestoreOptions NoSleep(int* slept = nullptr) {
  RestoreOptions o;
  o.sleep = [slept](int s) {
    if (slept) *slept += s;
  };
  o.monotonic = [] { return 0.0; };
  return o;
}

// Receives of `files` (name, bytes; written into `dir`) into
// zones/u-partial, then its rename to zones/u; the cleanup destroys
// zones/u-partial.
RestorePlan ReceivesThenRename(const std::string& dir,
                               const std::vector<std::pair<std::string, std::string>>& files) {
  RestorePlan plan;
  for (const auto& [name, bytes] : files) {
    WriteFile(dir + "/" + name, bytes);
    plan.steps.push_back(Receive("zones/u-partial", Stored(name, bytes)));
  }
  plan.steps.push_back(
      Command(RestoreStepKind::kRename, {"zfs", "rename", "zones/u-partial", "zones/u"}));
  plan.cleanup = {{"zfs", "destroy", "-r", "zones/u-partial"}};
  return plan;
}

}  // namespace

TEST_CASE("restore_executor: receives are fed the files, zstd ones decompressed") {
  testing::TempDir dir;
  std::string plain(300000, 'p');
  std::string stream(2000000, 's');
  std::string compressed(ZSTD_compressBound(stream.size()), '\0');
  compressed.resize(
      ZSTD_compress(compressed.data(), compressed.size(), stream.data(), stream.size(), 3));
  WriteFile(dir.path() + "/a.zfs", plain);
  WriteFile(dir.path() + "/b.zfs.zst", compressed);
  RestorePlan plan;
  plan.steps = {Receive("zones/u-partial", Stored("a.zfs", plain)),
                Receive("zones/u-partial/data", Stored("b.zfs.zst", compressed, "zstd"))};
  RestoreStep create = Command(RestoreStepKind::kCreateZone, {"vmadm", "create"});
  create.input = "{\"uuid\": \"u\"}\n";
  plan.steps.push_back(create);
  FakeHost host;
  RestoreReport report = ExecuteRestore(plan, host, Where(dir.path()), nullptr, NoSleep());
  REQUIRE(report.ok());
  // Compare digests: a mismatch must not print megabytes.
  CHECK(Sha256::Hex(host.Received(1)) == Sha256::Hex(plain));
  CHECK(Sha256::Hex(host.Received(2)) == Sha256::Hex(stream));
  CHECK(host.Received(3) == create.input);
  CHECK(report.results[1].bytes == compressed.size());
}

TEST_CASE("restore_executor: a file that changed since it was verified fails, and cleanup runs") {
  testing::TempDir dir;
  WriteFile(dir.path() + "/a.zfs", "original bytes");
  RestorePlan plan;
  plan.steps = {Receive("zones/u-partial", Stored("a.zfs", "original bytes")),
                Command(RestoreStepKind::kCreateZone, {"vmadm", "create"})};
  plan.cleanup = {{"zfs", "destroy", "-r", "zones/u-partial"}};
  WriteFile(dir.path() + "/a.zfs", "0riginal bytes");  // one flipped byte
  FakeHost host;
  RestoreReport report = ExecuteRestore(plan, host, Where(dir.path()), nullptr, NoSleep());
  CHECK_FALSE(report.ok());
  CHECK(report.results[0].error.find("sha256") != std::string::npos);
  CHECK(report.results[1].outcome == Outcome::kNotAttempted);
  CHECK(host.CommandLines().back() == "zfs destroy -r zones/u-partial");
  REQUIRE(report.cleanup.size() == 1);
  CHECK(report.cleanup[0] == "removed: zfs destroy -r zones/u-partial");
}

TEST_CASE("restore_executor: a cleanup destroy that finds the dataset busy is tried again") {
  testing::TempDir dir;
  WriteFile(dir.path() + "/a.zfs", "0riginal bytes");
  RestorePlan plan;
  plan.steps = {Receive("zones/u-partial", Stored("a.zfs", "original bytes")),
                Command(RestoreStepKind::kCreateZone, {"vmadm", "create"})};
  plan.cleanup = {{"zfs", "destroy", "-r", "zones/u-partial"}};
  FakeHost host;
  // The stopped receive still holds it twice, then lets go.
  host.FailCall(2, FakeHost::Failure(1, "cannot destroy 'zones/u-partial': dataset is busy\n"));
  // zfs-fuse's other answer meanwhile (seen in CI under ASan).
  host.FailCall(3, FakeHost::Failure(1,
                                     "cannot destroy 'zones/u-partial@zrecon-daily-"
                                     "20261126T100000Z': dataset already exists\n"));
  int slept = 0;
  RestoreReport report = ExecuteRestore(plan, host, Where(dir.path()), nullptr, NoSleep(&slept));
  CHECK_FALSE(report.ok());
  CHECK(host.calls().size() == 4);
  CHECK(slept == 2);
  CHECK(report.cleanup == std::vector<std::string>{"removed: zfs destroy -r zones/u-partial"});

  SUBCASE("busy for good: said, after the retries") {
    FakeHost stuck;
    stuck.Answer(plan.cleanup[0],
                 FakeHost::Failure(1, "cannot destroy 'zones/u-partial': dataset is busy\n"));
    report = ExecuteRestore(plan, stuck, Where(dir.path()), nullptr, NoSleep());
    CHECK(stuck.calls().size() == 1 + 1 + 10);
    REQUIRE(report.cleanup.size() == 1);
    CHECK(report.cleanup[0].find("could not clean up: ") == 0);
  }
}

TEST_CASE("restore_executor: no cleanup once every receive is done (a rerun continues)") {
  testing::TempDir dir;
  RestorePlan plan = ReceivesThenRename(dir.path(), {{"a.zfs", "bytes"}});
  FakeHost host;
  host.Answer(plan.steps[1].argv, FakeHost::Failure(1, "cannot rename: I/O error\n"));
  RestoreReport report = ExecuteRestore(plan, host, Where(dir.path()), nullptr, NoSleep());
  CHECK_FALSE(report.ok());
  CHECK(report.cleanup.empty());
  CHECK(host.calls().size() == 2);
}

TEST_CASE("restore_executor: an interrupt between steps stops without cleanup") {
  // Every receive so far is complete: a rerun continues from them.
  testing::TempDir dir;
  RestorePlan plan = ReceivesThenRename(dir.path(), {{"a.zfs", "bytes"}, {"b.zfs", "more bytes"}});
  FakeHost host;
  Interrupt interrupt;
  host.OnCall([&](size_t n) {
    if (n == 1) interrupt.Raise(SIGTERM);
  });
  RestoreOptions options = NoSleep();
  options.interrupt = &interrupt;
  RestoreReport report = ExecuteRestore(plan, host, Where(dir.path()), nullptr, options);
  CHECK_FALSE(report.ok());
  CHECK(report.interrupted == "interrupted by SIGTERM");
  CHECK(host.CommandLines() == std::vector<std::string>{"zfs receive -u zones/u-partial"});
  CHECK(report.results[0].outcome == Outcome::kDone);
  CHECK(report.results[1].outcome == Outcome::kNotAttempted);
  CHECK(report.cleanup.empty());
}

TEST_CASE("restore_executor: a receive stopped by an interrupt is cleaned up") {
  // The host stops the receive (as PosixHost does); the cleanup commands
  // start after the interrupt, so the host runs them.
  testing::TempDir dir;
  RestorePlan plan = ReceivesThenRename(dir.path(), {{"a.zfs", "bytes"}});
  FakeHost host;
  Interrupt interrupt;
  host.OnCall([&](size_t n) {
    if (n == 1) interrupt.Raise(SIGINT);
  });
  host.FailStart(1, "zfs receive -u zones/u-partial: interrupted by SIGINT");
  RestoreOptions options = NoSleep();
  options.interrupt = &interrupt;
  RestoreReport report = ExecuteRestore(plan, host, Where(dir.path()), nullptr, options);
  CHECK(report.interrupted == "interrupted by SIGINT");
  CHECK(report.results[0].outcome == Outcome::kFailed);
  CHECK(report.results[0].error == "zfs receive -u zones/u-partial: interrupted by SIGINT");
  CHECK(host.CommandLines() == std::vector<std::string>{"zfs receive -u zones/u-partial",
                                                        "zfs destroy -r zones/u-partial"});
}

TEST_CASE("restore_executor: an interrupt ends the busy retries") {
  RestorePlan plan;
  RestoreStep destroy =
      Command(RestoreStepKind::kDestroyFresh, {"zfs", "destroy", "-r", "-f", "z"});
  destroy.retry_when_busy = true;
  plan.steps = {destroy};
  FakeHost host;
  host.SetDefault(FakeHost::Failure(1, "cannot destroy 'z': dataset is busy\n"));
  Interrupt interrupt;
  int slept = 0;
  RestoreOptions options = NoSleep(&slept);
  options.sleep = [&](int s) {
    slept += s;
    interrupt.Raise(SIGINT);
  };
  options.interrupt = &interrupt;
  RestoreReport report = ExecuteRestore(plan, host, Where("/nonexistent"), nullptr, options);
  CHECK(report.interrupted == "interrupted by SIGINT");
  CHECK(report.results[0].outcome == Outcome::kFailed);
  CHECK(host.calls().size() == 2);
  CHECK(slept == 1);
}

TEST_CASE("restore_executor: busy destroys are retried, tolerated answers pass") {
  RestorePlan plan;
  RestoreStep destroy =
      Command(RestoreStepKind::kDestroyFresh, {"zfs", "destroy", "-r", "-f", "z"});
  destroy.retry_when_busy = true;
  RestoreStep unmount = Command(RestoreStepKind::kUnmount, {"zfs", "umount", "c"});
  unmount.tolerate = {"not currently mounted"};
  plan.steps = {unmount, destroy};
  FakeHost host;
  host.Answer(unmount.argv, FakeHost::Failure(1, "cannot unmount 'c': not currently mounted\n"));
  host.FailCall(2, FakeHost::Failure(1, "cannot destroy 'z': dataset is busy\n"));
  host.FailCall(3, FakeHost::Failure(1, "cannot destroy 'z': dataset is busy\n"));
  int slept = 0;
  RestoreReport report =
      ExecuteRestore(plan, host, Where("/nonexistent"), nullptr, NoSleep(&slept));
  CHECK(report.ok());
  CHECK(host.calls().size() == 4);
  CHECK(slept == 2);
  // Other failures are not retried.
  FakeHost other;
  other.Answer(destroy.argv, FakeHost::Failure(1, "cannot destroy 'z': permission denied\n"));
  plan.steps = {destroy};
  CHECK_FALSE(ExecuteRestore(plan, other, Where("/nonexistent"), nullptr, NoSleep()).ok());
  CHECK(other.calls().size() == 1);
}

}  // namespace zrecon

namespace zrecon {

TEST_CASE("restore_executor: copy properties sets each local one on the received dataset") {
  RestorePlan plan;
  RestoreStep copy = Command(
      RestoreStepKind::kCopyProperties,
      {"zfs", "get", "-H", "-p", "-s", "local", "-o", "property,value", "all", "zones/cores/u"});
  copy.target = "zones/cores/u-partial";
  plan.steps.push_back(copy);
  FakeHost host;
  host.Answer(copy.argv, FakeHost::Output("quota\t107374182400\n"
                                          "mountpoint\t/zones/u/cores\n"
                                          "volblocksize\t8192\n"
                                          "compression\tgzip\n"));
  host.Answer({"zfs", "umount", "zones/cores/u-partial"},
              FakeHost::Failure(1,
                                "cannot unmount 'zones/cores/u-partial': not "
                                "currently mounted\n"));
  RestoreReport report = ExecuteRestore(plan, host, Where("/nonexistent"), nullptr, NoSleep());
  CHECK(report.ok());
  // volblocksize can only be chosen at creation; a mountpoint change may
  // mount the dataset (zfs-fuse): it stays unmounted until its rename.
  CHECK(host.CommandLines() ==
        std::vector<std::string>{"zfs get -H -p -s local -o property,value all zones/cores/u",
                                 "zfs set quota=107374182400 zones/cores/u-partial",
                                 "zfs set mountpoint=/zones/u/cores zones/cores/u-partial",
                                 "zfs set compression=gzip zones/cores/u-partial",
                                 "zfs umount zones/cores/u-partial"});

  SUBCASE("no fresh dataset: nothing to copy") {
    FakeHost none;
    none.Answer(copy.argv,
                FakeHost::Failure(1, "cannot open 'zones/cores/u': dataset does not exist\n"));
    plan.steps[0].tolerate = {"does not exist"};
    CHECK(ExecuteRestore(plan, none, Where("/nonexistent"), nullptr, NoSleep()).ok());
    CHECK(none.CommandLines().size() == 1);
  }
  SUBCASE("a set that fails stops the restore, naming it") {
    FakeHost failing;
    failing.Answer(copy.argv, FakeHost::Output("quota\t5\n"));
    failing.Answer({"zfs", "set", "quota=5", "zones/cores/u-partial"},
                   FakeHost::Failure(1,
                                     "cannot set property: size is less than "
                                     "current used or reserved space\n"));
    RestoreReport r = ExecuteRestore(plan, failing, Where("/nonexistent"), nullptr, NoSleep());
    CHECK_FALSE(r.ok());
    CHECK(r.results[0].error.find("zfs set quota=5 zones/cores/u-partial") != std::string::npos);
  }
  SUBCASE("output zrecon cannot read is refused") {
    FakeHost odd;
    odd.Answer(copy.argv, FakeHost::Output("quota 5\n"));
    RestoreReport r = ExecuteRestore(plan, odd, Where("/nonexistent"), nullptr, NoSleep());
    CHECK_FALSE(r.ok());
    CHECK(r.results[0].error.find("unexpected line \"quota 5\"") != std::string::npos);
    CHECK(odd.CommandLines().size() == 1);
  }
}

TEST_CASE("restore_executor: the volumes vmadm created are read back before anything is swapped") {
  RestorePlan plan;
  plan.zone = "u";
  RestoreStep check = Command(RestoreStepKind::kCheckDisks, {"vmadm", "get", "u"});
  check.input = "zones/u/disk0\nzones/u/disk1\n";
  plan.steps.push_back(check);
  plan.steps.push_back(Command(RestoreStepKind::kStopZone, {"vmadm", "stop", "-F", "u"}));
  plan.cleanup = {{"zfs", "destroy", "-r", "zones/u-partial"}};
  auto vm = [](const std::string& disks) {
    return FakeHost::Output("{\"uuid\": \"u\", \"brand\": \"bhyve\", \"disks\": [" + disks +
                            "]}\n");
  };
  SUBCASE("the names the disks were received for: the restore goes on") {
    FakeHost host;
    host.Answer(check.argv, vm("{\"zfs_filesystem\": \"zones/u/disk0\"}, {\"media\": \"cdrom\", "
                               "\"path\": \"/x.iso\"}, {\"zfs_filesystem\": \"zones/u/disk1\"}"));
    RestoreReport r = ExecuteRestore(plan, host, Where("/nonexistent"), nullptr, NoSleep());
    CHECK(r.ok());
    CHECK(host.CommandLines() == std::vector<std::string>{"vmadm get u", "vmadm stop -F u"});
  }
  SUBCASE("other names: the fresh zone is deleted again and the -partial datasets removed") {
    FakeHost host;
    host.Answer(check.argv, vm("{\"zfs_filesystem\": \"zones/u/disk0\"}, "
                               "{\"zfs_filesystem\": \"zones/u/disk2\"}"));
    RestoreReport r = ExecuteRestore(plan, host, Where("/nonexistent"), nullptr, NoSleep());
    CHECK_FALSE(r.ok());
    CHECK(r.results[0].error ==
          "vmadm created the zone's disks as zones/u/disk0, zones/u/disk2, but the media's "
          "disks were received for zones/u/disk0, zones/u/disk1; the zone was deleted again and "
          "nothing of the restore is left");
    CHECK(host.CommandLines() == std::vector<std::string>{"vmadm get u", "vmadm delete u",
                                                          "zfs destroy -r zones/u-partial"});
  }
  SUBCASE("a vmadm get zrecon cannot read stops the restore") {
    FakeHost host;
    host.Answer(check.argv, vm("{\"size\": 10}"));
    RestoreReport r = ExecuteRestore(plan, host, Where("/nonexistent"), nullptr, NoSleep());
    CHECK_FALSE(r.ok());
    CHECK(r.results[0].error == "vmadm get u: disks.0 has no zfs_filesystem");
    CHECK(host.CommandLines() == std::vector<std::string>{"vmadm get u"});
  }
}

TEST_CASE("restore_executor: register image writes imgadm's record, creating its directory") {
  testing::TempDir dir;
  RestorePlan plan;
  RestoreStep reg;
  reg.kind = RestoreStepKind::kRegisterImage;
  reg.file = dir.path() + "/var/imgadm/images/zones-i.json";
  reg.input = "{\n  \"manifest\": {}\n}\n";
  plan.steps.push_back(reg);
  FakeHost host;
  RestoreReport report = ExecuteRestore(plan, host, Where(dir.path()), nullptr, NoSleep());
  REQUIRE(report.ok());
  std::ifstream in(reg.file);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(content == reg.input);
  CHECK(host.calls().empty());
}

}  // namespace zrecon
