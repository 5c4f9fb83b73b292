#include "reconciler/host/observe.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "reconciler/util/strings.h"
#include "tests/unit/fake_host.h"

namespace zrecon {
namespace {

const Argv kZfsList = {
    "zfs", "list", "-H", "-p",
    "-t",  "all",  "-o", "name,type,origin,creation,guid,createtxg,userrefs,used,zrecon:exported"};
const Argv kZfsGet = {"zfs",
                      "get",
                      "-H",
                      "-p",
                      "-r",
                      "-o",
                      "name,property,value",
                      "type,origin,creation,guid,createtxg,userrefs,used,zrecon:exported"};
const Argv kVmadmList = {"vmadm", "lookup", "-j", "-o",
                         "uuid,brand,state,image_uuid,zpool,zonename,flexible_disk_size,alias"};

constexpr char kUuid[] = "54f1cc77-68f1-42ab-acac-5c4f64f5d6e0";
constexpr char kImage[] = "4ad7a1c2-1111-4b4e-8d5b-2a1f9c0e3b11";

// `zfs list -H -p -t all -o name,type,origin,creation,guid,createtxg,userrefs,used,zrecon:exported`
// (illumos). Built from parts so the TABs are visible.
std::string ZfsListOutput() {
  const std::string vm = std::string("zones/") + kUuid;
  const std::string image = std::string("zones/") + kImage;
  const std::vector<std::vector<std::string>> rows = {
      {"zones", "filesystem", "-", "1700000000", "1311826421327416021", "1", "-", "52345678", "-"},
      {image, "filesystem", "-", "1700000100", "8391", "210", "-", "300000000", "-"},
      {image + "@final", "snapshot", "-", "1700000101", "5521", "211", "0", "0", "-"},
      {vm, "filesystem", image + "@final", "1700000500", "7712", "300", "-", "2000000", "-"},
      {vm + "@daily-1", "snapshot", "-", "1700000600", "9011", "310", "1", "12000", "usb"},
  };
  std::string out;
  for (const auto& row : rows) out += Join(row, "\t") + "\n";
  return out;
}

// `vmadm lookup -j -o uuid,brand,state,image_uuid,zpool,zonename,flexible_disk_size,alias`.
std::string VmadmListOutput() {
  return std::string("[\n  {\n    \"uuid\": \"") + kUuid +
         "\",\n    \"brand\": \"joyent\",\n    \"state\": \"running\",\n"
         "    \"image_uuid\": \"" +
         kImage + "\",\n    \"zpool\": \"zones\",\n    \"alias\": \"web:01\"\n  }\n]\n";
}

// `zfs get -H -p -r -o name,property,value <props>` as zfs-fuse prints it.
std::string ZfsGetOutput() {
  struct Row {
    const char* name;
    const char* values[8];  // in the order of the property list
  };
  const char* properties[8] = {"type",      "origin",   "creation", "guid",
                               "createtxg", "userrefs", "used",     "zrecon:exported"};
  const Row rows[] = {
      {"tank", {"filesystem", "-", "1700000000", "77", "1", "-", "4096", "-"}},
      {"tank@s1", {"snapshot", "-", "1700000100", "78", "5", "0", "0", "-"}},
  };
  std::string out;
  for (const Row& row : rows) {
    for (int i = 0; i < 8; ++i) {
      out += std::string(row.name) + "\t" + properties[i] + "\t" + row.values[i] + "\n";
    }
  }
  return out;
}

const char kUsageError[] =
    "invalid option 'p'\n"
    "usage:\n"
    "\tlist [-rH][-d max] [-o property[,...]] [-t type[,...]] [-s property] ...\n";

TEST_CASE("observe: illumos reads one zfs list and one vmadm lookup") {
  FakeHost host;
  host.Answer(kZfsList, FakeHost::Output(ZfsListOutput()));
  host.Answer(kVmadmList, FakeHost::Output(VmadmListOutput()));
  ObserveOptions options;
  options.dialect = DialectChoice::kIllumos;
  Inventory inv;
  ZfsDialect used = ZfsDialect::kLegacy;
  Status status = Observe(host, options, &inv, &used);
  REQUIRE_MESSAGE(status.ok(), status.message());

  CHECK(host.calls() == std::vector<Argv>{kZfsList, kVmadmList});
  CHECK(used == ZfsDialect::kIllumos);
  const Dataset* vm = inv.FindDataset(std::string("zones/") + kUuid);
  REQUIRE(vm != nullptr);
  CHECK(vm->origin == std::string("zones/") + kImage + "@final");
  const Snapshot* daily = inv.FindSnapshot(std::string("zones/") + kUuid + "@daily-1");
  REQUIRE(daily != nullptr);
  CHECK(daily->guid == 9011);
  CHECK(daily->exported == "usb");
  CHECK(inv.IsCloneOrigin(std::string("zones/") + kImage + "@final"));
  const Zone* zone = inv.FindZone(kUuid);
  REQUIRE(zone != nullptr);
  CHECK(zone->alias == "web:01");
}

TEST_CASE("observe: auto takes the illumos path when zfs accepts -p") {
  FakeHost host;
  host.Queue(FakeHost::Output(ZfsListOutput()));
  host.Queue(FakeHost::Output(VmadmListOutput()));
  Inventory inv;
  ZfsDialect used = ZfsDialect::kLegacy;
  REQUIRE(Observe(host, ObserveOptions(), &inv, &used).ok());
  CHECK(host.calls() == std::vector<Argv>{kZfsList, kVmadmList});
  CHECK(used == ZfsDialect::kIllumos);
}

TEST_CASE("observe: the configured zfs and vmadm programs are argv[0]") {
  FakeHost host;
  host.Queue(FakeHost::Output(ZfsListOutput()));
  host.Queue(FakeHost::Output(VmadmListOutput()));
  ObserveOptions options;
  options.zfs = "/usr/sbin/zfs";
  options.vmadm = "/opt/sim/vmadm";
  Inventory inv;
  REQUIRE(Observe(host, options, &inv, nullptr).ok());
  REQUIRE(host.calls().size() == 2);
  CHECK(host.calls()[0][0] == "/usr/sbin/zfs");
  CHECK(host.calls()[1][0] == "/opt/sim/vmadm");
}

TEST_CASE("observe: auto falls back to zfs get when zfs rejects -p") {
  FakeHost host;
  host.Answer(kZfsList, FakeHost::Failure(2, kUsageError));
  host.Answer(kZfsGet, FakeHost::Output(ZfsGetOutput()));
  host.Answer(kVmadmList, FakeHost::Output(""));
  Inventory inv;
  ZfsDialect used = ZfsDialect::kIllumos;
  Status status = Observe(host, ObserveOptions(), &inv, &used);
  REQUIRE_MESSAGE(status.ok(), status.message());
  CHECK(host.calls() == std::vector<Argv>{kZfsList, kZfsGet, kVmadmList});
  CHECK(used == ZfsDialect::kLegacy);
  const Snapshot* s1 = inv.FindSnapshot("tank@s1");
  REQUIRE(s1 != nullptr);
  CHECK(s1->guid == 78);
  CHECK(inv.zones.empty());
}

TEST_CASE("observe: legacy reads one zfs get and never tries zfs list") {
  FakeHost host;
  host.Answer(kZfsGet, FakeHost::Output(ZfsGetOutput()));
  host.Answer(kVmadmList, FakeHost::Output(VmadmListOutput()));
  ObserveOptions options;
  options.dialect = DialectChoice::kLegacy;
  Inventory inv;
  ZfsDialect used = ZfsDialect::kIllumos;
  REQUIRE(Observe(host, options, &inv, &used).ok());
  CHECK(host.calls() == std::vector<Argv>{kZfsGet, kVmadmList});
  CHECK(used == ZfsDialect::kLegacy);
  CHECK(inv.FindDataset("tank") != nullptr);
}

TEST_CASE("observe: other zfs list failures are errors, not a fallback") {
  struct Case {
    const char* label;
    DialectChoice choice;
    CommandResult result;
    const char* expected;
  };
  CommandResult timed_out = FakeHost::Failure(143, "");
  timed_out.timed_out = true;
  const std::string list = ShellJoin(kZfsList);
  const Case cases[] = {
      {"missing pool", DialectChoice::kAuto,
       FakeHost::Failure(1, "cannot open 'zones': dataset does not exist\n"),
       " exited 1: cannot open 'zones': dataset does not exist"},
      {"another usage error", DialectChoice::kAuto,
       FakeHost::Failure(2, "invalid option 'x'\nusage:\n"), " exited 2: invalid option 'x'"},
      {"-p rejected while illumos is forced", DialectChoice::kIllumos,
       FakeHost::Failure(2, kUsageError), " exited 2: invalid option 'p'"},
      {"timeout", DialectChoice::kAuto, timed_out, " timed out (exit 143) with no error output"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    FakeHost host;
    host.Queue(c.result);
    ObserveOptions options;
    options.dialect = c.choice;
    Inventory inv;
    Status status = Observe(host, options, &inv, nullptr);
    REQUIRE_FALSE(status.ok());
    CHECK(status.message() == list + c.expected);
    CHECK(host.calls() == std::vector<Argv>{kZfsList});
  }
}

TEST_CASE("observe: a failing zfs get or vmadm list names the command and its stderr") {
  FakeHost legacy;
  legacy.Answer(kZfsGet,
                FakeHost::Failure(1, "connect: Connection refused\nIs zfs-fuse running?\n"));
  ObserveOptions options;
  options.dialect = DialectChoice::kLegacy;
  Inventory inv;
  Status get = Observe(legacy, options, &inv, nullptr);
  REQUIRE_FALSE(get.ok());
  CHECK(get.message() == ShellJoin(kZfsGet) + " exited 1: connect: Connection refused");

  FakeHost host;
  host.Answer(kZfsList, FakeHost::Output(ZfsListOutput()));
  host.Answer(kVmadmList, FakeHost::Failure(2, "FATAL: cannot run because: not root\n"));
  Status vmadm = Observe(host, ObserveOptions(), &inv, nullptr);
  REQUIRE_FALSE(vmadm.ok());
  CHECK(vmadm.message() ==
        "vmadm lookup -j -o uuid,brand,state,image_uuid,zpool,zonename,flexible_disk_size,alias "
        "exited 2: "
        "FATAL: cannot run because: not root");
}

TEST_CASE("observe: a command that cannot start returns the host's error") {
  FakeHost host;
  host.FailStart(1, "cannot run zfs: No such file or directory");
  Inventory inv;
  Status status = Observe(host, ObserveOptions(), &inv, nullptr);
  REQUIRE_FALSE(status.ok());
  CHECK(status.message() == "cannot run zfs: No such file or directory");
  CHECK(host.calls().size() == 1);
}

TEST_CASE("observe: parse errors are prefixed with the command") {
  FakeHost host;
  host.Answer(kZfsList, FakeHost::Output(ZfsListOutput() + "zones/broken\tfilesystem\t-\n"));
  host.Answer(kVmadmList, FakeHost::Output(VmadmListOutput()));
  Inventory inv;
  Status list = Observe(host, ObserveOptions(), &inv, nullptr);
  REQUIRE_FALSE(list.ok());
  const std::string list_prefix = ShellJoin(kZfsList) + ": ";
  CHECK(StartsWith(list.message(), list_prefix));
  CHECK(list.message().size() > list_prefix.size());
  CHECK(host.calls().size() == 1);

  FakeHost vm_host;
  vm_host.Answer(kZfsList, FakeHost::Output(ZfsListOutput()));
  vm_host.Answer(kVmadmList, FakeHost::Output("not-a-vmadm-row\n"));
  Status vmadm = Observe(vm_host, ObserveOptions(), &inv, nullptr);
  REQUIRE_FALSE(vmadm.ok());
  CHECK(StartsWith(vmadm.message(), ShellJoin(kVmadmList) + ": "));
}

TEST_CASE("observe: success replaces the inventory, failure leaves it alone") {
  Inventory inv;
  Dataset old;
  old.name = "old/pool";
  inv.datasets.push_back(old);
  inv.Index();
  ZfsDialect used = ZfsDialect::kLegacy;

  FakeHost failing;
  failing.Queue(FakeHost::Output(ZfsListOutput()));
  failing.Queue(FakeHost::Failure(1, "vmadm: broken\n"));
  REQUIRE_FALSE(Observe(failing, ObserveOptions(), &inv, &used).ok());
  CHECK(inv.FindDataset("old/pool") != nullptr);
  CHECK(inv.datasets.size() == 1);
  CHECK(used == ZfsDialect::kLegacy);

  FakeHost working;
  working.Queue(FakeHost::Output(ZfsListOutput()));
  working.Queue(FakeHost::Output(VmadmListOutput()));
  REQUIRE(Observe(working, ObserveOptions(), &inv, &used).ok());
  CHECK(inv.FindDataset("old/pool") == nullptr);
  CHECK(inv.FindDataset("zones") != nullptr);
  CHECK(inv.zones.size() == 1);
  CHECK(used == ZfsDialect::kIllumos);
}

// FakeHost is shared test infrastructure; its answering rules are checked
// here, next to its first user.
TEST_CASE("observe: FakeHost answering rules") {
  FakeHost host;
  host.SetDefault(FakeHost::Failure(127, "default"));
  host.Answer({"zfs", "list"}, FakeHost::Output("exact"));
  host.AnswerPrefix({"zfs"}, FakeHost::Output("zfs prefix"));
  host.AnswerPrefix({"zfs", "destroy"}, FakeHost::Output("destroy prefix"));
  host.FailCallIf([](const Argv& argv) { return argv.back() == "tank@held"; },
                  FakeHost::Failure(1, "dataset is busy"));

  CommandResult r;
  REQUIRE(host.Run({"zfs", "list"}, &r).ok());
  CHECK(r.out == "exact");
  REQUIRE(host.Run({"zfs", "list", "-H"}, &r).ok());
  CHECK(r.out == "zfs prefix");
  REQUIRE(host.Run({"zfs", "destroy", "tank@a"}, &r).ok());
  CHECK(r.out == "destroy prefix");
  REQUIRE(host.Run({"zfs", "destroy", "tank@held"}, &r).ok());
  CHECK(r.err == "dataset is busy");
  REQUIRE(host.Run({"vmadm", "list"}, &r).ok());
  CHECK(r.exit_code == 127);
  CHECK(r.err == "default");

  host.Queue(FakeHost::Output("queued 1"));
  host.Queue(FakeHost::Output("queued 2"));
  host.FailCall(7, FakeHost::Failure(1, "seventh"));
  host.FailStart(8, "cannot run zfs: Permission denied");
  REQUIRE(host.Run({"zfs", "list"}, &r).ok());
  CHECK(r.out == "queued 1");
  REQUIRE(host.Run({"zfs", "list"}, &r).ok());
  CHECK(r.err == "seventh");
  Status start = host.Run({"zfs", "list"}, &r);
  CHECK(start.message() == "cannot run zfs: Permission denied");
  CHECK(host.queued() == 1);
  REQUIRE(host.Run({"zfs", "list"}, &r).ok());
  CHECK(r.out == "queued 2");
  REQUIRE(host.Run({"zfs", "list"}, &r).ok());
  CHECK(r.out == "exact");
  CHECK(host.calls().size() == 10);
  CHECK(host.CommandLines()[3] == "zfs destroy tank@held");
}

}  // namespace
}  // namespace zrecon
