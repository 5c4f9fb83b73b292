#include "reconciler/restore/restore_plan.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "reconciler/restore/zone_payload.h"
#include "reconciler/util/strings.h"
#include "tests/unit/test_builders.h"

namespace zrecon {

using testing::InventoryBuilder;

namespace {

const std::string kImage = "390639d4-f146-11e7-9280-37ae5c6d53d4";
const std::string kZone = "85dbcafe-889a-e402-cf36-c7ffdd15e568";
const std::string kRoot = "zones/" + kZone;
const std::string kOrigin = "zones/" + kImage + "@final";

std::string Config(const std::string& extra = "") {
  return "{\"uuid\": \"" + kZone +
         "\", \"brand\": \"lx\", \"alias\": \"web01\", \"quota\": 10, \"state\": \"running\", "
         "\"zonepath\": \"/zones/" +
         kZone + "\", \"datasets\": [\"zones/" + kZone + "/data\"]" + extra + "}";
}

ChainLink Link(const std::string& dataset, const std::string& snap, uint64_t guid,
               const std::string& from, uint64_t from_guid, int64_t creation) {
  ChainLink l;
  l.snapshot = snap;
  l.guid = guid;
  l.createtxg = guid;
  l.creation = creation;
  l.from = from;
  l.from_guid = from_guid;
  l.stream.file = kZone + "/" + dataset + "/" + snap + ".zfs";
  l.stream.size = 100;
  l.stream.sha256 = std::string(64, 'a');
  l.config = kZone + "/config/" + snap + ".json";
  return l;
}

// A zone root chain from the image (two links) and a data chain (full base).
ZoneManifest Manifest(uint64_t origin_guid) {
  ZoneManifest m;
  m.host = "demo01";
  m.uuid = kZone;
  m.alias = "web01";
  m.brand = "lx";
  m.image_uuid = kImage;
  Chain root;
  root.id = "root/d1";
  root.dataset = kRoot;
  root.origin = kOrigin;
  root.origin_guid = origin_guid;
  root.image_uuid = kImage;
  root.links = {Link("root", "zrecon-daily-1", 11, kOrigin, origin_guid, 1000),
                Link("root", "zrecon-daily-2", 12, kRoot + "@zrecon-daily-1", 11, 2000)};
  Chain data;
  data.id = "root+data/d1";
  data.dataset = kRoot + "/data";
  data.links = {Link("data", "zrecon-daily-1", 21, "", 0, 1000),
                Link("data", "zrecon-daily-2", 22, kRoot + "/data@zrecon-daily-1", 21, 2000)};
  m.chains = {root, data};
  for (const char* snap : {"zrecon-daily-1", "zrecon-daily-2"}) {
    ConfigRecord c;
    c.stored.file = kZone + "/config/" + std::string(snap) + ".json";
    c.stored.size = 10;
    c.stored.sha256 = std::string(64, 'c');
    m.configs.push_back(c);
  }
  return m;
}

// imgadm's record of kImage as `imgadm get -P zones <uuid>` prints it.
std::string ImgadmRecord(const std::string& type = "lx-dataset") {
  return "{\n  \"manifest\": {\n    \"v\": 2,\n    \"uuid\": \"" + kImage +
         "\",\n    \"name\": \"base\",\n    \"type\": \"" + type +
         "\"\n  },\n  \"zpool\": \"zones\",\n  \"source\": \"https://images.example\"\n}\n";
}

struct Fixture {
  ZoneManifest manifest;
  std::map<std::string, ImageManifest> images;
  Inventory inventory;
  // What the host's imgadm database knows, and the records on the media.
  std::set<std::string> registered = {kImage};
  std::map<std::string, std::string> records = {{kImage, ImgadmRecord()}};
  int64_t available = -1;  // the target pool's free bytes; -1: not checked

  explicit Fixture(InventoryBuilder b) : inventory(b.Build()) {
    const Snapshot* origin = inventory.FindSnapshot(kOrigin);
    uint64_t guid = origin ? origin->guid : 4242;
    manifest = Manifest(guid);
    ImageManifest img;
    img.uuid = kImage;
    img.snapshot = kOrigin;
    img.guid = guid;
    img.stream.file = "images/" + kImage + ".zfs";
    img.stream.size = 1000;
    img.stream.sha256 = std::string(64, 'b');
    img.imgadm_record.file = "images/" + kImage + ".imgadm";
    img.imgadm_record.size = 100;
    img.imgadm_record.sha256 = std::string(64, 'd');
    img.imgadm_type = "lx-dataset";
    images[kImage] = img;
  }

  Status Plan(RestorePlan* plan, const std::string& at = "", const std::string& pool = "",
              bool force = false, const std::string& config = Config()) {
    RestoreInput in;
    in.zone = &manifest;
    in.images = &images;
    in.inventory = &inventory;
    Status s = SelectRestorePoint(manifest, at, pool, &in.point);
    if (!s.ok()) return s;
    in.pool = pool;
    in.config_json = config;
    in.force = force;
    in.registered_images = registered;
    in.image_records = records;
    in.imgadm_db = "/var/imgadm";
    in.pool_available = available;
    return PlanRestore(in, plan);
  }
};

std::vector<std::string> Commands(const RestorePlan& plan) {
  std::vector<std::string> out;
  for (const RestoreStep& s : plan.steps) {
    if (s.kind == RestoreStepKind::kRegisterImage) {
      out.push_back("register " + s.file);
      continue;
    }
    out.push_back(ShellJoin(s.argv) + (s.file.empty() ? "" : " < " + s.file) +
                  (s.target.empty() ? "" : " -> " + s.target));
  }
  return out;
}

}  // namespace

TEST_CASE("restore_plan: onto a host with the image, chains go to -partial names, then swap") {
  InventoryBuilder b;
  b.Image(kImage);
  Fixture f(b);
  RestorePlan plan;
  Status s = f.Plan(&plan);
  REQUIRE_MESSAGE(s.ok(), s.message());
  const std::string partial = kRoot + "-partial";
  // The image is mounted first (tolerating "already mounted"): found by
  // restore_kill_test, a restore killed during the image's rename left it
  // unmounted and the rerun's vmadm create refused a joyent zone.
  CHECK(
      Commands(plan) ==
      std::vector<std::string>{
          "zfs receive -u " + partial + " < " + kZone + "/root/zrecon-daily-1.zfs",
          "zfs receive -u -F " + partial + " < " + kZone + "/root/zrecon-daily-2.zfs",
          "zfs receive -u " + partial + "/data < " + kZone + "/data/zrecon-daily-1.zfs",
          "zfs receive -u -F " + partial + "/data < " + kZone + "/data/zrecon-daily-2.zfs",
          "zfs mount zones/" + kImage, "vmadm create", "vmadm stop -F " + kZone,
          "zfs umount zones/cores/" + kZone, "zfs umount " + kRoot + "/data", "zfs umount " + kRoot,
          "zfs get -H -p -s local -o property,value all " + kRoot + " -> " + partial,
          "zfs get -H -p -s local -o property,value all " + kRoot + "/data -> " + partial + "/data",
          "zfs destroy -r -f " + kRoot, "zfs rename " + partial + " " + kRoot, "zfs mount " + kRoot,
          "zfs mount " + kRoot + "/data", "zfs mount zones/cores/" + kZone,
          "vmadm update " + kZone + " autoboot=true"});
  CHECK(plan.point.snapshot == "zrecon-daily-2");
  CHECK(plan.files_to_verify.size() == 5);  // four streams and the config
  CHECK(plan.cleanup == std::vector<Argv>{{"zfs", "destroy", "-r", partial}});
  // The payload went through MakeCreatePayload: state and paths are gone.
  const RestoreStep& create = plan.steps[5];
  CHECK(create.input.find("\"delegate_dataset\": true") != std::string::npos);
  CHECK(create.input.find("zonepath") == std::string::npos);
  CHECK(create.input.find("\"state\"") == std::string::npos);
  CHECK(create.input.find("\"autoboot\": false") != std::string::npos);
}

TEST_CASE("restore_plan: a missing image is received from the media first, kept -partial") {
  InventoryBuilder b;  // no image on this host
  Fixture f(b);
  RestorePlan plan;
  REQUIRE(f.Plan(&plan).ok());
  std::vector<std::string> cmds = Commands(plan);
  REQUIRE(cmds.size() > 8);
  CHECK(cmds[0] == "zfs receive -u zones/" + kImage + "-partial < images/" + kImage + ".zfs");
  // The zone's streams follow, received as clones of the -partial image
  // (found by its @final's guid): nothing outside -partial names changes
  // until every file has been received and verified.
  CHECK(cmds[1] == "zfs receive -u " + kRoot + "-partial < " + kZone + "/root/zrecon-daily-1.zfs");
  CHECK(cmds[4] ==
        "zfs receive -u -F " + kRoot + "-partial/data < " + kZone + "/data/zrecon-daily-2.zfs");
  // imgadm's record before the dataset's rename, as imgadm's own install
  // writes it (imgadm.js:2825).
  CHECK(cmds[5] == "register /var/imgadm/images/zones-" + kImage + ".json");
  CHECK(cmds[6] == "zfs rename zones/" + kImage + "-partial zones/" + kImage);
  CHECK(cmds[7] == "zfs mount zones/" + kImage);
  CHECK(cmds[8] == "vmadm create");
  // The record is the saved one with this host's pool, in imgadm's format.
  CHECK(plan.steps[5].input == ImgadmRecord());
  CHECK(plan.files_to_verify.size() == 7);  // the image stream and its record too
  // A failure removes the zone's -partial datasets before the image's,
  // whose clones they are.
  CHECK(plan.cleanup ==
        std::vector<Argv>{{"zfs", "destroy", "-r", kRoot + "-partial"},
                          {"zfs", "destroy", "-r", "zones/" + kImage + "-partial"}});

  SUBCASE("a complete -partial image of an interrupted run is used as it is") {
    InventoryBuilder again;
    again.Dataset("zones/" + kImage + "-partial").Snap("zones/" + kImage + "-partial", "final");
    Fixture g(again);
    g.images[kImage].guid = g.inventory.FindSnapshot("zones/" + kImage + "-partial@final")->guid;
    for (Chain& c : g.manifest.chains) {
      if (c.origin == kOrigin) {
        c.origin_guid = g.images[kImage].guid;
        c.links[0].from_guid = c.origin_guid;
      }
    }
    REQUIRE(g.Plan(&plan).ok());
    cmds = Commands(plan);
    CHECK(cmds[0] ==
          "zfs receive -u " + kRoot + "-partial < " + kZone + "/root/zrecon-daily-1.zfs");
    CHECK(std::count(cmds.begin(), cmds.end(),
                     "zfs rename zones/" + kImage + "-partial zones/" + kImage) == 1);
    CHECK(Join(plan.notes, "\n").find("was received by an interrupted restore") !=
          std::string::npos);
  }
  SUBCASE("an incomplete one is received again") {
    InventoryBuilder again;
    again.Dataset("zones/" + kImage + "-partial");
    Fixture g(again);
    REQUIRE(g.Plan(&plan).ok());
    cmds = Commands(plan);
    CHECK(cmds[0] == "zfs destroy -r zones/" + kImage + "-partial");
    CHECK(cmds[1] == "zfs receive -u zones/" + kImage + "-partial < images/" + kImage + ".zfs");
  }
}

TEST_CASE("restore_plan: an image on the host that imgadm does not know is registered") {
  InventoryBuilder b;
  b.Image(kImage);
  Fixture f(b);
  f.registered.clear();
  RestorePlan plan;
  REQUIRE(f.Plan(&plan).ok());
  std::vector<std::string> cmds = Commands(plan);
  CHECK(cmds[0] == "zfs receive -u " + kRoot + "-partial < " + kZone + "/root/zrecon-daily-1.zfs");
  CHECK(cmds[4] == "zfs mount zones/" + kImage);
  CHECK(cmds[5] == "register /var/imgadm/images/zones-" + kImage + ".json");
  CHECK(std::count(cmds.begin(), cmds.end(), cmds[5]) == 1);
  CHECK(cmds[6] == "vmadm create");

  SUBCASE("without a record on the media, refused: vmadm create would refuse the image") {
    f.records.clear();
    Status s = f.Plan(&plan);
    CHECK_FALSE(s.ok());
    CHECK(s.message().find("imgadm has no record of it, so vmadm create would refuse it") !=
          std::string::npos);
    CHECK(s.message().find("imgadm import " + kImage) != std::string::npos);
  }
  SUBCASE("a record without a manifest type is no better") {
    f.records[kImage] = "{\"manifest\": {\"uuid\": \"" + kImage + "\"}, \"zpool\": \"zones\"}";
    Status s = f.Plan(&plan);
    CHECK_FALSE(s.ok());
    CHECK(s.message().find("has no manifest type") != std::string::npos);
  }
}

TEST_CASE("restore_plan: an image on the media without imgadm's record (old export) is refused") {
  InventoryBuilder b;  // no image on this host
  Fixture f(b);
  f.registered.clear();
  f.records.clear();
  RestorePlan plan;
  Status s = f.Plan(&plan);
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().find("the media has no imgadm record of it (exported before zrecon saved "
                         "one)") != std::string::npos);
  CHECK(s.message().find("nothing was changed") != std::string::npos);
}

TEST_CASE("restore_plan: a chain that starts with a full stream needs no origin (F8)") {
  InventoryBuilder b;  // the zone's origin is not on this host, nor on the media
  Fixture f(b);
  f.images.clear();
  f.records.clear();
  Chain& root = f.manifest.chains[0];
  root.origin = "zones/" + kImage + "@" + kZone;  // cinstall's per-zone origin
  root.links[0].from = "";
  root.links[0].from_guid = 0;
  RestorePlan plan;
  Status s = f.Plan(&plan);
  REQUIRE_MESSAGE(s.ok(), s.message());
  CHECK(Commands(plan)[0] ==
        "zfs receive -u " + kRoot + "-partial < " + kZone + "/root/zrecon-daily-1.zfs");
}

TEST_CASE("restore_plan: refusals change nothing and say why") {
  SUBCASE("image neither on the host nor on the media") {
    InventoryBuilder b;
    Fixture f(b);
    f.images.clear();
    RestorePlan plan;
    Status s = f.Plan(&plan);
    CHECK_FALSE(s.ok());
    CHECK(s.message().find("is not on this host and its stream is not on the media") !=
          std::string::npos);
  }
  SUBCASE("the host's image is another one") {
    InventoryBuilder b;
    b.Image(kImage);
    Fixture f(b);
    f.manifest = Manifest(999);
    RestorePlan plan;
    Status s = f.Plan(&plan);
    CHECK_FALSE(s.ok());
    CHECK(s.message().find("is not the image the export was made from") != std::string::npos);
  }
  SUBCASE("the zone exists") {
    InventoryBuilder b;
    b.Image(kImage).Zone(kZone, "lx", "web01", kImage);
    Fixture f(b);
    RestorePlan plan;
    Status s = f.Plan(&plan);
    CHECK_FALSE(s.ok());
    CHECK(s.message().find("already exists on this host; nothing was changed") !=
          std::string::npos);
    CHECK(s.message().find(kRoot + " (0 snapshots)") != std::string::npos);
  }
  SUBCASE("an unknown --at") {
    InventoryBuilder b;
    b.Image(kImage);
    Fixture f(b);
    RestorePlan plan;
    Status s = f.Plan(&plan, "zrecon-daily-9");
    CHECK_FALSE(s.ok());
    CHECK(s.message().find("exported snapshots: @zrecon-daily-1, @zrecon-daily-2") !=
          std::string::npos);
  }
  SUBCASE("a config of another zone") {
    InventoryBuilder b;
    b.Image(kImage);
    Fixture f(b);
    RestorePlan plan;
    Status s = f.Plan(&plan, "", "", false, "{\"uuid\": \"x\", \"brand\": \"lx\"}");
    CHECK_FALSE(s.ok());
    CHECK(s.message().find("is for uuid \"x\"") != std::string::npos);
  }
}

TEST_CASE("restore_plan: --force deletes the existing zone once its replacement is received") {
  InventoryBuilder b;
  b.Image(kImage).Zone(kZone, "lx", "web01", kImage).Snap(kRoot, "x");
  Fixture f(b);
  RestorePlan plan;
  REQUIRE(f.Plan(&plan, "", "", true).ok());
  std::vector<std::string> cmds = Commands(plan);
  auto at = [&](const std::string& c) {
    return std::find(cmds.begin(), cmds.end(), c) - cmds.begin();
  };
  CHECK(at("vmadm delete " + kZone) == 5);  // after the four receives and the image's mount
  CHECK(at("vmadm delete " + kZone) + 1 == at("vmadm create"));
  CHECK(cmds[3] ==
        "zfs receive -u -F " + kRoot + "-partial/data < " + kZone + "/data/zrecon-daily-2.zfs");
  REQUIRE(plan.notes.size() == 1);
  CHECK(plan.notes[0].find("deleted once its replacement is received and verified") !=
        std::string::npos);
  CHECK(plan.notes[0].find(kRoot + " (1 snapshots)") != std::string::npos);
  CHECK(plan.notes[0].find("zones/cores/" + kZone) != std::string::npos);
}

// Found by tests/integration/restore_kill_test.sh: a vmadm create killed
// with its restore (the whole process group) leaves the zone root without
// the zone. The refusal said "Remove it or use --force", but --force left it
// in place and vmadm create then failed on it.
TEST_CASE("restore_plan: --force destroys the datasets of a uuid no zone has") {
  InventoryBuilder b;
  b.Image(kImage).Dataset(kRoot, kOrigin).Dataset("zones/cores/" + kZone);
  Fixture f(b);
  RestorePlan plan;
  Status s = f.Plan(&plan);
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("dataset " + kRoot +
                         " exists but no zone has that uuid; nothing was changed. Remove it, "
                         "or use --force to destroy first:") != std::string::npos);
  CHECK(s.message().find("\n    zones/cores/" + kZone + " (0 snapshots)") != std::string::npos);
  REQUIRE(f.Plan(&plan, "", "", true).ok());
  std::vector<std::string> cmds = Commands(plan);
  REQUIRE(cmds.size() > 3);
  // Once the replacement is received; the cores dataset first: it is
  // mounted inside the zone root.
  CHECK(cmds[0] == "zfs receive -u " + kRoot + "-partial < " + kZone + "/root/zrecon-daily-1.zfs");
  CHECK(cmds[4] == "zfs mount zones/" + kImage);
  CHECK(cmds[5] == "zfs destroy -r -f zones/cores/" + kZone);
  CHECK(cmds[6] == "zfs destroy -r -f " + kRoot);
  CHECK(plan.steps[6].retry_when_busy);
  CHECK(cmds[7] == "vmadm create");
  REQUIRE(plan.notes.size() == 1);
  CHECK(plan.notes[0].find("--force: no zone has uuid " + kZone) != std::string::npos);
}

TEST_CASE("restore_plan: --at picks the earlier link for every dataset") {
  InventoryBuilder b;
  b.Image(kImage);
  Fixture f(b);
  RestorePlan plan;
  REQUIRE(f.Plan(&plan, kRoot + "@zrecon-daily-1").ok());
  std::vector<std::string> cmds = Commands(plan);
  CHECK(cmds[0] == "zfs receive -u " + kRoot + "-partial < " + kZone + "/root/zrecon-daily-1.zfs");
  CHECK(cmds[1] ==
        "zfs receive -u " + kRoot + "-partial/data < " + kZone + "/data/zrecon-daily-1.zfs");
  CHECK(cmds[2] == "zfs mount zones/" + kImage);
  CHECK(cmds[3] == "vmadm create");
  CHECK(plan.point.config_file == kZone + "/config/zrecon-daily-1.json");
}

TEST_CASE("restore_plan: another pool maps every name, the image included") {
  InventoryBuilder b;
  Fixture f(b);
  RestorePlan plan;
  REQUIRE(f.Plan(&plan, "", "tank").ok());
  std::vector<std::string> cmds = Commands(plan);
  CHECK(cmds[0] == "zfs receive -u tank/" + kImage + "-partial < images/" + kImage + ".zfs");
  CHECK(cmds[1] ==
        "zfs receive -u tank/" + kZone + "-partial < " + kZone + "/root/zrecon-daily-1.zfs");
  CHECK(cmds[5] == "register /var/imgadm/images/tank-" + kImage + ".json");
  CHECK(plan.steps[5].input.find("\"zpool\": \"tank\"") != std::string::npos);
  CHECK(plan.steps[8].kind == RestoreStepKind::kCreateZone);
  CHECK(plan.steps[8].input.find("\"zpool\": \"tank\"") != std::string::npos);
}

namespace {

// The host holds the exported snapshots 1..upto of both chains.
void GiveSnapshots(Inventory* inv, const std::string& root, int upto) {
  for (Dataset& d : inv->datasets) {
    uint64_t base = d.name == root ? 10 : d.name == root + "/data" ? 20 : 0;
    if (base == 0) continue;
    for (int i = 1; i <= upto; ++i) {
      Snapshot s;
      s.name = "zrecon-daily-" + std::to_string(i);
      s.guid = base + static_cast<uint64_t>(i);
      s.createtxg = 100 + s.guid;
      d.snapshots.push_back(s);
    }
  }
  inv->Index();
}

}  // namespace

TEST_CASE("restore_plan: a finished restore only mounts; an interrupted one continues") {
  SUBCASE("finished, the zone started") {
    InventoryBuilder b;  // the builder's zones are running
    b.Image(kImage).Zone(kZone, "lx", "web01", kImage);
    b.Dataset(kRoot + "/data");
    Fixture f(b);
    GiveSnapshots(&f.inventory, kRoot, 2);
    RestorePlan plan;
    REQUIRE(f.Plan(&plan).ok());
    // A running zone has taken its delegated dataset over: not mounted here.
    CHECK(Commands(plan) == std::vector<std::string>{"zfs mount " + kRoot,
                                                     "zfs mount zones/cores/" + kZone,
                                                     "vmadm update " + kZone + " autoboot=true"});
    CHECK(plan.notes[0].find("already restored") != std::string::npos);
  }
  SUBCASE("interrupted after vmadm create") {
    InventoryBuilder b;
    b.Image(kImage).Zone(kZone, "lx", "web01", kImage);
    b.Dataset(kRoot + "-partial", kOrigin);
    Fixture f(b);
    RestorePlan plan;
    REQUIRE(f.Plan(&plan).ok());
    std::vector<std::string> cmds = Commands(plan);
    CHECK(cmds[0] == "zfs destroy -r " + kRoot + "-partial");
    CHECK(std::find(cmds.begin(), cmds.end(), "vmadm create") == cmds.end());
    CHECK(std::find(cmds.begin(), cmds.end(), "zfs rename " + kRoot + "-partial " + kRoot) !=
          cmds.end());
    REQUIRE(plan.notes.size() == 1);
    CHECK(plan.notes[0].find("continuing it (its -partial datasets are received again)") !=
          std::string::npos);
  }
}

// Found by tests/integration/restore_kill_test.sh: a restore killed (or
// stopped) after the zone root's rename left the quota unset and the cores
// and delegated datasets unmounted, and the rerun, taking the zone for
// restored, mounted only the zone root.
TEST_CASE("restore_plan: a restore stopped after the zone root's rename is finished by the rerun") {
  InventoryBuilder b;
  b.Image(kImage).Zone(kZone, "lx", "web01", kImage);
  b.Dataset(kRoot + "/data");
  Fixture f(b);
  f.inventory.zones[0].state = "stopped";  // as the restore's vmadm stop left it
  GiveSnapshots(&f.inventory, kRoot, 2);
  RestorePlan plan;
  REQUIRE(f.Plan(&plan).ok());
  CHECK(plan.notes[0].find("already restored") != std::string::npos);
  CHECK(Commands(plan) == std::vector<std::string>{"zfs mount " + kRoot,
                                                   "zfs mount " + kRoot + "/data",
                                                   "zfs mount zones/cores/" + kZone,
                                                   "vmadm update " + kZone + " autoboot=true"});
  for (const RestoreStep& step : plan.steps) {
    if (step.kind != RestoreStepKind::kMount) continue;
    CHECK(std::find(step.tolerate.begin(), step.tolerate.end(), "already mounted") !=
          step.tolerate.end());
  }

  // Nothing but those steps follows the rename in a full restore: the
  // properties are copied onto the received root before it.
  InventoryBuilder fresh;
  fresh.Image(kImage);
  Fixture g(fresh);
  REQUIRE(g.Plan(&plan).ok());
  std::vector<std::string> cmds = Commands(plan);
  auto rename = std::find(cmds.begin(), cmds.end(), "zfs rename " + kRoot + "-partial " + kRoot);
  REQUIRE(rename != cmds.end());
  CHECK(*(rename - 1) == "zfs destroy -r -f " + kRoot);
  CHECK(std::vector<std::string>(rename + 1, cmds.end()) ==
        std::vector<std::string>{"zfs mount " + kRoot, "zfs mount " + kRoot + "/data",
                                 "zfs mount zones/cores/" + kZone,
                                 "vmadm update " + kZone + " autoboot=true"});
}

TEST_CASE("restore_plan: --at an older export over a zone that moved on is a real restore") {
  InventoryBuilder b;
  b.Image(kImage).Zone(kZone, "lx", "web01", kImage);
  b.Dataset(kRoot + "/data");
  Fixture f(b);
  GiveSnapshots(&f.inventory, kRoot, 2);
  RestorePlan plan;
  Status s = f.Plan(&plan, "zrecon-daily-1");
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("already exists") != std::string::npos);
  REQUIRE(f.Plan(&plan, "zrecon-daily-1", "", true).ok());
  std::vector<std::string> cmds = Commands(plan);
  auto del = std::find(cmds.begin(), cmds.end(), "vmadm delete " + kZone);
  REQUIRE(del != cmds.end());
  CHECK(StartsWith(cmds[0], "zfs receive -u " + kRoot + "-partial < "));
  CHECK(*(del + 1) == "vmadm create");
}

// A --force restore killed after its receives, before it deleted the zone
// it replaces: the zone (with its snapshots) is not one an interrupted
// restore created, so it is never continued as such.
TEST_CASE("restore_plan: the zone a killed --force run was replacing is not taken for its own") {
  InventoryBuilder b;
  b.Image(kImage).Zone(kZone, "lx", "web01", kImage).Snap(kRoot, "zrecon-daily-0");
  b.Dataset(kRoot + "-partial", kOrigin).Dataset(kRoot + "-partial/data");
  Fixture f(b);
  GiveSnapshots(&f.inventory, kRoot + "-partial", 2);
  RestorePlan plan;
  Status s = f.Plan(&plan);
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("already exists on this host; nothing was changed") != std::string::npos);
  REQUIRE(f.Plan(&plan, "", "", true).ok());
  std::vector<std::string> cmds = Commands(plan);
  CHECK(cmds[0] == "zfs mount zones/" + kImage);  // the received -partial datasets are kept
  CHECK(cmds[1] == "vmadm delete " + kZone);
  CHECK(cmds[2] == "vmadm create");
  CHECK(Join(plan.notes, "\n").find("are used as they are") != std::string::npos);
}

TEST_CASE("restore_plan: complete -partial datasets of an interrupted run are kept") {
  InventoryBuilder b;
  b.Image(kImage).Zone(kZone, "lx", "web01", kImage);
  b.Dataset(kRoot + "-partial", kOrigin).Dataset(kRoot + "-partial/data");
  Fixture f(b);
  GiveSnapshots(&f.inventory, kRoot + "-partial", 2);
  RestorePlan plan;
  REQUIRE(f.Plan(&plan).ok());
  std::vector<std::string> cmds = Commands(plan);
  for (const std::string& c : cmds) CHECK(c.find("receive") == std::string::npos);
  CHECK(cmds[0] == "vmadm stop -F " + kZone);
  // The notes say what happens: the datasets are used, not received again.
  REQUIRE(plan.notes.size() == 2);
  CHECK(plan.notes[0].find("they are used as they are") != std::string::npos);
  CHECK(plan.notes[1] == "zone " + kZone + " was created by an interrupted restore: continuing it");
  // The fresh root may already be gone: its unmount and destroy tolerate that.
  for (const RestoreStep& step : plan.steps) {
    if (step.kind == RestoreStepKind::kUnmount || step.kind == RestoreStepKind::kDestroyFresh) {
      CHECK(std::find(step.tolerate.begin(), step.tolerate.end(), "does not exist") !=
            step.tolerate.end());
    }
  }
}

TEST_CASE("zone_payload: vmadm get output becomes a create payload for the same zone") {
  ZonePayload p;
  REQUIRE(MakeCreatePayload(
              Config(", \"disks\": [{\"zfs_filesystem\": \"zones/" + kZone +
                     "-disk0\", \"path\": \"/dev/zvol/rdsk/zones/" + kZone + "-disk0\"}]"),
              kZone, "tank", &p)
              .ok());
  CHECK(p.brand == "lx");
  CHECK(p.alias == "web01");
  CHECK(p.fractional_quota_bytes == 0);
  CHECK(p.json.find("\"quota\": 10") != std::string::npos);
  CHECK(p.delegated == std::vector<std::string>{"tank/" + kZone + "/data"});
  CHECK(p.json.find("\"uuid\": \"" + kZone + "\"") != std::string::npos);
  CHECK(p.json.find("\"zpool\": \"tank\"") != std::string::npos);
  CHECK(p.disks == std::vector<std::string>{"tank/" + kZone + "-disk0"});
  CHECK(p.json.find("/dev/zvol/rdsk") == std::string::npos);
  CHECK(p.json.find("\"autoboot\": false") != std::string::npos);
  CHECK(p.json.find("\"datasets\"") == std::string::npos);
  CHECK(p.json.find("\"zonepath\"") == std::string::npos);
  CHECK_FALSE(MakeCreatePayload("not json", kZone, "tank", &p).ok());
  CHECK_FALSE(MakeCreatePayload("[1]", kZone, "tank", &p).ok());
  CHECK_FALSE(MakeCreatePayload("{\"uuid\": \"" + kZone + "\"}", kZone, "tank", &p).ok());
}

}  // namespace zrecon

namespace zrecon {

TEST_CASE("restore_plan: a zone with its own zonename comes back under that name") {
  InventoryBuilder b;
  b.Image(kImage);
  Fixture f(b);
  // The same zone, created with zonename build-01: root zones/build-01.
  const std::string named = "zones/build-01";
  auto rename = [&](std::string& name) {
    if (StartsWith(name, kRoot)) name = named + name.substr(kRoot.size());
  };
  for (Chain& c : f.manifest.chains) {
    rename(c.dataset);
    for (ChainLink& l : c.links) rename(l.from);
  }
  Chain cores;
  cores.id = "cores/d1";
  cores.dataset = "zones/cores/build-01";
  cores.links = {Link("cores", "zrecon-daily-2", 31, "", 0, 2000)};
  f.manifest.chains.push_back(cores);
  RestorePlan plan;
  Status s = f.Plan(&plan, "", "", false, Config(", \"zonename\": \"build-01\""));
  REQUIRE_MESSAGE(s.ok(), s.message());
  std::vector<std::string> commands = Commands(plan);
  auto has = [&](const std::string& c) {
    return std::find(commands.begin(), commands.end(), c) != commands.end();
  };
  CAPTURE(Join(commands, "\n"));
  CHECK(has("zfs rename " + named + "-partial " + named));
  CHECK(has("zfs rename zones/cores/build-01-partial zones/cores/build-01"));
  CHECK(has("zfs mount zones/cores/build-01"));
  CHECK(has("vmadm stop -F " + kZone));
  for (const RestoreStep& step : plan.steps) {
    if (step.kind == RestoreStepKind::kCreateZone) {
      CHECK(step.input.find("\"zonename\": \"build-01\"") != std::string::npos);
    }
  }
  // A config that would make another root than the one on the media.
  s = f.Plan(&plan, "", "", false, Config());
  CHECK(s.message() ==
        "the zone root on the media is zones/build-01, but vmadm create would make " + kRoot +
            " from the saved config (" + kZone +
            "/config/zrecon-daily-2.json); nothing was changed");
}

TEST_CASE("restore_plan: the pool must have room for the streams and the fresh volumes") {
  InventoryBuilder b;  // no image: its stream (1000 bytes) is received too
  Fixture f(b);
  // Four links of 100 bytes and the image; one link is zstd, 400 bytes of
  // stream once decompressed.
  StoredFile& packed = f.manifest.chains[1].links[1].stream;
  packed.compression = "zstd";
  packed.stream_size = 400;
  RestorePlan plan;
  f.available = 1700;
  REQUIRE(f.Plan(&plan).ok());
  CHECK(Join(plan.notes, "\n")
            .find("space: needs 1.7 KiB (1.7 KiB of streams), pool zones has "
                  "1.7 KiB available") != std::string::npos);
  f.available = 1699;
  Status s = f.Plan(&plan);
  CHECK(s.message() ==
        "pool zones has 1.7 KiB available, this restore needs 1.7 KiB (1.7 KiB of streams): 1 B "
        "missing; nothing was changed. Free space, restore into another pool (--pool), or skip "
        "this check (--no-space-check) if the pool compresses the data well.");
  // An export from before stream sizes were recorded: counted at its
  // compressed size, and said so.
  packed.stream_size = 0;
  REQUIRE(f.Plan(&plan).ok());
  CHECK(Join(plan.warnings, "\n").find("1 compressed stream(s) from exports made before") !=
        std::string::npos);
  // The fresh volumes of an HVM zone (disk sizes in MiB) count too.
  f.available = 3 * 1024 * 1024;
  std::string disks = ", \"brand\": \"kvm\", \"disks\": [{\"size\": 1024}, {\"size\": 2048}]";
  s = f.Plan(&plan, "", "", false, Config(disks));
  CHECK(s.message().find("(1.4 KiB of streams and 3.0 GiB of fresh volumes)") != std::string::npos);
  // Unchecked when the pool's room is not known (--no-space-check).
  f.available = -1;
  REQUIRE(f.Plan(&plan, "", "", false, Config(disks)).ok());
  CHECK(Join(plan.notes, "\n").find("space:") == std::string::npos);
}

TEST_CASE("restore_plan: HVM disks vmadm would name differently are refused, changing nothing") {
  InventoryBuilder b;
  b.Image(kImage);
  Fixture f(b);
  // vmadm create numbers disks by position (VM.js:3205-3222): a VM whose
  // disk1 was removed comes back with disk0 and disk1, not disk2.
  std::string disks = ", \"brand\": \"kvm\", \"disks\": [{\"zfs_filesystem\": \"zones/" + kZone +
                      "-disk0\"}, {\"zfs_filesystem\": \"zones/" + kZone + "-disk2\"}]";
  RestorePlan plan;
  Status s = f.Plan(&plan, "", "", false, Config(disks));
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().find("disk 1 of zone " + kZone + " was zones/" + kZone +
                         "-disk2, but vmadm create would name it zones/" + kZone + "-disk1") !=
        std::string::npos);
  disks = ", \"brand\": \"kvm\", \"disks\": [{\"zfs_filesystem\": \"zones/" + kZone +
          "-disk0\"}, {\"media\": \"cdrom\", \"path\": \"/x.iso\"}, {\"zfs_filesystem\": \"zones/" +
          kZone + "-disk1\"}]";
  s = f.Plan(&plan, "", "", false, Config(disks));
  REQUIRE_MESSAGE(s.ok(), s.message());
  // What vmadm really created is read back right after create, before the
  // stop and anything that replaces the fresh zone.
  std::vector<std::string> commands = Commands(plan);
  auto create = std::find(commands.begin(), commands.end(), "vmadm create");
  REQUIRE(create != commands.end());
  CHECK(*(create + 1) == "vmadm get " + kZone);
  CHECK(*(create + 2) == "vmadm stop -F " + kZone);
  for (const RestoreStep& step : plan.steps) {
    if (step.kind == RestoreStepKind::kCheckDisks) {
      CHECK(step.input == "zones/" + kZone + "-disk0\nzones/" + kZone + "-disk1\n");
    }
  }
  // An OS zone has no disks to check.
  s = f.Plan(&plan);
  REQUIRE(s.ok());
  for (const RestoreStep& step : plan.steps) CHECK(step.kind != RestoreStepKind::kCheckDisks);
}

}  // namespace zrecon
