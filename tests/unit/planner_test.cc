#include "reconciler/plan/planner.h"

#include <doctest/doctest.h>

#include <algorithm>

#include "reconciler/plan/plan_json.h"
#include "reconciler/plan/plan_text.h"
#include "reconciler/util/strings.h"
#include "tests/unit/test_builders.h"

namespace zrecon {

using testing::At;
using testing::InventoryBuilder;
using testing::ReachableEmpty;
using testing::StandardPolicy;

namespace {

const std::string kImage = "390639d4-f146-11e7-9280-37ae5c6d53d4";
const std::string kImage2 = "7b5981c4-1889-11e7-b4c5-3f3bdfc9b88b";
const std::string kZone = "85dbcafe-889a-e402-cf36-c7ffdd15e568";
const std::string kRoot = "zones/" + kZone;

Plan MakePlan(const Policy& policy, const Inventory& inv, const Catalogs& catalogs, const char* now,
              ZfsDialect dialect = ZfsDialect::kIllumos) {
  PlannerInput in;
  in.policy = &policy;
  in.inventory = &inv;
  in.catalogs = &catalogs;
  in.now = At(now);
  in.host = "demo01";
  in.commands.dialect = dialect;
  Plan plan;
  Status s = BuildPlan(in, &plan);
  REQUIRE_MESSAGE(s.ok(), s.message());
  return plan;
}

std::vector<const Action*> OfKind(const Plan& plan, ActionKind kind) {
  std::vector<const Action*> out;
  for (const Action& a : plan.actions) {
    if (a.kind == kind) out.push_back(&a);
  }
  return out;
}

std::vector<std::string> Kinds(const Plan& plan) {
  std::vector<std::string> out;
  for (const Action& a : plan.actions) out.push_back(ActionKindName(a.kind));
  return out;
}

// A web zone (clone of kImage) with hourly snapshots every hour from `first`
// for `count` hours.
InventoryBuilder WebZoneWithHourlies(EpochSeconds first, int count) {
  InventoryBuilder b;
  b.Image(kImage).Zone(kZone, "joyent", "web01", kImage);
  for (int i = 0; i < count; ++i) {
    b.Snap(kRoot, "zrecon-hourly-" + FormatCompact(first + i * 3600));
  }
  return b;
}

// A catalog for usb holding one chain of kRoot whose links are `snaps`.
Catalogs CatalogWithChain(const Inventory& inv, const std::string& chain_id,
                          const std::vector<std::string>& snaps, const std::string& origin) {
  Catalogs c = ReachableEmpty();
  ZoneManifest& m = c["usb"].zones[kZone];
  m.host = "demo01";
  m.uuid = kZone;
  m.brand = "joyent";
  Chain chain;
  chain.id = chain_id;
  chain.dataset = kRoot;
  chain.origin = origin;
  chain.origin_guid = origin.empty() ? 0 : inv.FindSnapshot(origin)->guid;
  chain.image_uuid = origin.empty() ? "" : kImage;
  std::string from = origin;
  uint64_t from_guid = chain.origin_guid;
  for (size_t i = 0; i < snaps.size(); ++i) {
    ChainLink l;
    l.snapshot = snaps[i];
    const Snapshot* s = inv.FindSnapshot(kRoot + "@" + snaps[i]);
    l.guid = s ? s->guid : 424242;
    l.createtxg = s ? s->createtxg : 1;
    l.from = from;
    l.from_guid = from_guid;
    l.stream.file =
        kZone + "/" + chain_id + "/000" + std::to_string(i + 1) + "-" + snaps[i] + ".zfs";
    l.stream.sha256 = std::string(64, 'a');
    l.config = kZone + "/config/" + chain_id.substr(chain_id.find('/') + 1) + ".json";
    from = kRoot + "@" + snaps[i];
    from_guid = l.guid;
    chain.links.push_back(l);
  }
  m.chains.push_back(chain);
  ImageManifest img;
  img.uuid = kImage;
  img.snapshot = "zones/" + kImage + "@final";
  img.guid = inv.FindSnapshot(img.snapshot)->guid;
  img.imgadm_record.file = "images/" + kImage + ".imgadm";
  img.imgadm_type = "zone-dataset";
  c["usb"].images[kImage] = img;
  return c;
}

}  // namespace

TEST_CASE("planner: fresh host snapshots, exports image, config and origin incremental") {
  InventoryBuilder b;
  b.Image(kImage).Zone(kZone, "joyent", "web01", kImage);
  Inventory inv = b.Build();
  Plan plan = MakePlan(StandardPolicy(), inv, ReachableEmpty(), "2026-11-26T10:00:00Z");

  CHECK(Kinds(plan) == std::vector<std::string>{"snapshot", "save_image", "save_image_record",
                                                "save_config", "send", "hold", "mark_tip"});
  const Action& snap = plan.actions[0];
  CHECK(snap.argv == Argv{"zfs", "snapshot", kRoot + "@zrecon-hourly-20261126T100000Z",
                          kRoot + "@zrecon-daily-20261126T100000Z"});
  CHECK(snap.reason.find("hourly due: none yet") != std::string::npos);
  const Action& image = plan.actions[1];
  CHECK(image.argv == Argv{"zfs", "send", "zones/" + kImage + "@final"});
  CHECK(image.file == "images/" + kImage + ".zfs");
  const Action& record = plan.actions[2];
  CHECK(record.argv == Argv{"imgadm", "get", "-P", "zones", kImage});
  CHECK(record.file == "images/" + kImage + ".imgadm");
  CHECK(record.stream.image_uuid == kImage);
  plan.actions.erase(plan.actions.begin() + 2);
  const Action& config = plan.actions[2];
  CHECK(config.argv == Argv{"vmadm", "get", kZone});
  CHECK(config.file == kZone + "/config/20261126T100000Z.json");
  const Action& send = plan.actions[3];
  CHECK(send.argv == Argv{"zfs", "send", "-i", "zones/" + kImage + "@final",
                          kRoot + "@zrecon-daily-20261126T100000Z"});
  CHECK(send.file == kZone + "/root/20261126T100000Z/0001-zrecon-daily-20261126T100000Z.zfs");
  CHECK(send.stream.new_chain);
  CHECK(send.stream.chain_id == "root/20261126T100000Z");
  CHECK(send.stream.image_uuid == kImage);
  CHECK(send.stream.config_file == config.file);
  CHECK(send.reason.find("first export") != std::string::npos);
  CHECK(plan.actions[4].argv == Argv{"zfs", "hold", "zrecon", send.snapshot});
  CHECK(plan.actions[5].argv == Argv{"zfs", "set", "zrecon:exported=usb", send.snapshot});
  CHECK(plan.Summary().ToString() ==
        "Plan: 2 to snapshot, 2 to send, 0 to destroy, 2 chain tip protection changes.");
}

TEST_CASE("planner: an image exported without imgadm's record gets it with the next export") {
  InventoryBuilder b;
  b.Image(kImage).Zone(kZone, "joyent", "web01", kImage);
  b.Snap(kRoot, "zrecon-daily-20261125T000000Z", 1, "usb")
      .Snap(kRoot, "zrecon-daily-20261126T000000Z");
  Inventory inv = b.Build();
  Catalogs cat = CatalogWithChain(inv, "root/20261125T000000Z", {"zrecon-daily-20261125T000000Z"},
                                  "zones/" + kImage + "@final");
  cat["usb"].images[kImage].imgadm_record = StoredFile();
  Plan plan = MakePlan(StandardPolicy(), inv, cat, "2026-11-26T10:30:00Z");
  auto records = OfKind(plan, ActionKind::kSaveImageRecord);
  REQUIRE(records.size() == 1);
  CHECK(records[0]->argv == Argv{"imgadm", "get", "-P", "zones", kImage});
  CHECK(records[0]->reason.find("no imgadm record yet") != std::string::npos);
  CHECK(OfKind(plan, ActionKind::kSaveImage).empty());
  CHECK(plan.Summary().image_records == 1);

  // Not when the image is gone from the host: nothing could be read.
  inv.datasets.erase(std::remove_if(inv.datasets.begin(), inv.datasets.end(),
                                    [](const Dataset& d) { return d.name == "zones/" + kImage; }),
                     inv.datasets.end());
  plan = MakePlan(StandardPolicy(), inv, cat, "2026-11-26T10:30:00Z");
  CHECK(OfKind(plan, ActionKind::kSaveImageRecord).empty());
}

TEST_CASE("planner: nothing due gives no changes") {
  InventoryBuilder b;
  b.Image(kImage).Zone(kZone, "joyent", "web01", kImage);
  b.Snap(kRoot, "zrecon-daily-20261126T000000Z").Snap(kRoot, "zrecon-hourly-20261126T100500Z");
  Policy policy = StandardPolicy();
  policy.policies["standard"].exports.clear();
  Plan plan = MakePlan(policy, b.Build(), {}, "2026-11-26T10:59:59Z");
  CHECK(plan.actions.empty());
  CHECK(plan.Summary().ToString() == "No changes.");
  // One second later the hour turns and hourly is due again.
  Plan later = MakePlan(policy, b.Build(), {}, "2026-11-26T11:00:00Z");
  REQUIRE(later.actions.size() == 1);
  CHECK(later.actions[0].snapshots ==
        std::vector<std::string>{kRoot + "@zrecon-hourly-20261126T110000Z"});
}

TEST_CASE("planner: prune keeps the newest per class and never touches foreign or held") {
  InventoryBuilder b =
      WebZoneWithHourlies(At("2026-11-25T08:00:00Z"), 26);  // 08:00 .. 09:00 next day
  b.Snap(kRoot, "first_snap").Snap(kRoot, "vmsnap-x").Snap(kRoot, "zrecon-daily-20261126T000000Z");
  // The oldest hourly is held by someone.
  InventoryBuilder held = b;
  Policy policy = StandardPolicy();
  policy.policies["standard"].exports.clear();
  Inventory inv = b.Build();
  const_cast<Snapshot*>(inv.FindSnapshot(kRoot + "@zrecon-hourly-20261125T080000Z"))->userrefs = 1;
  Plan plan = MakePlan(policy, inv, {}, "2026-11-26T10:00:00Z");
  auto destroys = OfKind(plan, ActionKind::kDestroy);
  REQUIRE(destroys.size() == 1);
  // 26 existing + 1 planned = 27 hourlies, keep 24: the three oldest go,
  // except the held one.
  CHECK(destroys[0]->argv ==
        Argv{"zfs", "destroy",
             kRoot + "@zrecon-hourly-20261125T090000Z,zrecon-hourly-20261125T100000Z"});
  CHECK(destroys[0]->snapshots ==
        std::vector<std::string>{kRoot + "@zrecon-hourly-20261125T090000Z",
                                 kRoot + "@zrecon-hourly-20261125T100000Z"});
  bool noted = false;
  for (const std::string& n : plan.notes) {
    noted = noted || (n.find("zrecon-hourly-20261125T080000Z") != std::string::npos &&
                      n.find("held") != std::string::npos);
  }
  CHECK(noted);
  for (const Action& a : plan.actions) {
    for (const std::string& s : a.snapshots) {
      CHECK(s.find("first_snap") == std::string::npos);
      CHECK(s.find("vmsnap") == std::string::npos);
    }
  }
}

TEST_CASE("planner: keep 0 prunes a class but never the newest managed snapshot") {
  InventoryBuilder b;
  b.Image(kImage).Zone(kZone, "joyent", "web01", kImage);
  b.Snap(kRoot, "zrecon-weekly-20261102T000000Z").Snap(kRoot, "zrecon-weekly-20261109T000000Z");
  Policy policy = StandardPolicy();
  policy.policies["standard"].exports.clear();
  policy.policies["standard"].keep = {{"weekly", 0}};
  Plan plan = MakePlan(policy, b.Build(), {}, "2026-11-26T10:00:00Z");
  auto destroys = OfKind(plan, ActionKind::kDestroy);
  REQUIRE(destroys.size() == 1);
  CHECK(destroys[0]->snapshots ==
        std::vector<std::string>{kRoot + "@zrecon-weekly-20261102T000000Z"});
  CHECK(OfKind(plan, ActionKind::kSnapshot).empty());
}

TEST_CASE("planner: a clone origin is never pruned") {
  InventoryBuilder b = WebZoneWithHourlies(At("2026-11-25T08:00:00Z"), 26);
  b.Dataset("zones/debug-copy", kRoot + "@zrecon-hourly-20261125T090000Z");
  Policy policy = StandardPolicy();
  policy.policies["standard"].exports.clear();
  Plan plan = MakePlan(policy, b.Build(), {}, "2026-11-26T10:00:00Z");
  auto destroys = OfKind(plan, ActionKind::kDestroy);
  REQUIRE(destroys.size() == 1);
  CHECK(destroys[0]->snapshots ==
        std::vector<std::string>{kRoot + "@zrecon-hourly-20261125T080000Z",
                                 kRoot + "@zrecon-hourly-20261125T100000Z"});
}

TEST_CASE("planner: chain continues incrementally and the tip moves") {
  InventoryBuilder b;
  b.Image(kImage).Zone(kZone, "joyent", "web01", kImage);
  b.Snap(kRoot, "zrecon-daily-20261125T000000Z", 1, "usb")
      .Snap(kRoot, "zrecon-daily-20261126T000000Z")
      .Snap(kRoot, "zrecon-hourly-20261126T100500Z");
  Inventory inv = b.Build();
  Catalogs cat = CatalogWithChain(inv, "root/20261125T000000Z", {"zrecon-daily-20261125T000000Z"},
                                  "zones/" + kImage + "@final");
  Plan plan = MakePlan(StandardPolicy(), inv, cat, "2026-11-26T10:30:00Z");
  CHECK(Kinds(plan) ==
        std::vector<std::string>{"save_config", "send", "hold", "mark_tip", "release", "mark_tip"});
  const Action& send = plan.actions[1];
  CHECK(send.argv == Argv{"zfs", "send", "-i", kRoot + "@zrecon-daily-20261125T000000Z",
                          kRoot + "@zrecon-daily-20261126T000000Z"});
  CHECK_FALSE(send.stream.new_chain);
  CHECK(send.stream.chain_id == "root/20261125T000000Z");
  CHECK(send.file == kZone + "/root/20261125T000000Z/0002-zrecon-daily-20261126T000000Z.zfs");
  CHECK(plan.actions[4].argv ==
        Argv{"zfs", "release", "zrecon", kRoot + "@zrecon-daily-20261125T000000Z"});
  CHECK(plan.actions[5].argv ==
        Argv{"zfs", "inherit", "zrecon:exported", kRoot + "@zrecon-daily-20261125T000000Z"});
}

TEST_CASE("planner: an up-to-date chain needs nothing, and a missing mark is repaired") {
  InventoryBuilder b;
  b.Image(kImage).Zone(kZone, "joyent", "web01", kImage);
  b.Snap(kRoot, "zrecon-daily-20261126T000000Z").Snap(kRoot, "zrecon-hourly-20261126T100500Z");
  Inventory inv = b.Build();
  Catalogs cat = CatalogWithChain(inv, "root/20261126T000000Z", {"zrecon-daily-20261126T000000Z"},
                                  "zones/" + kImage + "@final");
  // The catalog says it is the tip, but the host has neither mark nor hold
  // (an apply died right after recording the stream).
  Plan plan = MakePlan(StandardPolicy(), inv, cat, "2026-11-26T10:30:00Z");
  CHECK(Kinds(plan) == std::vector<std::string>{"hold", "mark_tip"});
}

TEST_CASE("planner: full_every expiry starts a new chain and keep_chains removes the oldest") {
  InventoryBuilder b;
  b.Image(kImage).Zone(kZone, "joyent", "web01", kImage);
  b.Snap(kRoot, "zrecon-daily-20261020T000000Z")
      .Snap(kRoot, "zrecon-daily-20261125T000000Z", 1, "usb")
      .Snap(kRoot, "zrecon-daily-20261126T000000Z")
      .Snap(kRoot, "zrecon-hourly-20261126T100500Z");
  Inventory inv = b.Build();
  Catalogs cat =
      CatalogWithChain(inv, "root/20261020T000000Z",
                       {"zrecon-daily-20261020T000000Z", "zrecon-daily-20261125T000000Z"},
                       "zones/" + kImage + "@final");
  Policy policy = StandardPolicy();
  policy.policies["standard"].exports[0].full_every = Duration(30, Duration::Unit::kDay);
  policy.policies["standard"].exports[0].keep_chains = 1;
  Plan plan = MakePlan(policy, inv, cat, "2026-11-26T10:30:00Z");
  auto sends = OfKind(plan, ActionKind::kSend);
  REQUIRE(sends.size() == 1);
  CHECK(sends[0]->stream.new_chain);
  CHECK(sends[0]->from == "zones/" + kImage + "@final");
  CHECK(sends[0]->reason.find("full_every 30d expired 2026-11-19T00:00:00Z") != std::string::npos);
  CHECK(OfKind(plan, ActionKind::kSaveImage).empty());  // already on usb, same guid
  auto removals = OfKind(plan, ActionKind::kRemoveExport);
  REQUIRE(removals.size() == 1);
  CHECK(removals[0]->chain_id == "root/20261020T000000Z");
  CHECK(removals[0]->files.size() == 3);  // two streams and their config
  CHECK(plan.actions.back().kind == ActionKind::kRemoveExport);
  // The old tip lost its protection and is beyond keep 7? No: only 3 dailies.
  CHECK(OfKind(plan, ActionKind::kRelease).size() == 1);
}

TEST_CASE("planner: a reprovisioned zone (new origin) starts a new chain with a reason") {
  InventoryBuilder b;
  b.Image(kImage).Image(kImage2).Zone(kZone, "joyent", "web01", kImage2);
  b.Snap(kRoot, "zrecon-daily-20261126T000000Z").Snap(kRoot, "zrecon-hourly-20261126T100500Z");
  Inventory inv = b.Build();
  Catalogs cat = CatalogWithChain(inv, "root/20261120T000000Z", {"zrecon-daily-20261120T000000Z"},
                                  "zones/" + kImage + "@final");
  Plan plan = MakePlan(StandardPolicy(), inv, cat, "2026-11-26T10:30:00Z");
  auto sends = OfKind(plan, ActionKind::kSend);
  REQUIRE(sends.size() == 1);
  CHECK(sends[0]->reason.find("origin changed") != std::string::npos);
  CHECK(sends[0]->from == "zones/" + kImage2 + "@final");
  auto images = OfKind(plan, ActionKind::kSaveImage);
  REQUIRE(images.size() == 1);
  CHECK(images[0]->snapshot == "zones/" + kImage2 + "@final");
}

TEST_CASE("planner: a chain tip destroyed by hand starts a new chain") {
  InventoryBuilder b;
  b.Image(kImage).Zone(kZone, "joyent", "web01", kImage);
  b.Snap(kRoot, "zrecon-daily-20261126T000000Z").Snap(kRoot, "zrecon-hourly-20261126T100500Z");
  Inventory inv = b.Build();
  Catalogs cat = CatalogWithChain(inv, "root/20261120T000000Z", {"zrecon-daily-20261120T000000Z"},
                                  "zones/" + kImage + "@final");
  Plan plan = MakePlan(StandardPolicy(), inv, cat, "2026-11-26T10:30:00Z");
  auto sends = OfKind(plan, ActionKind::kSend);
  REQUIRE(sends.size() == 1);
  CHECK(sends[0]->stream.new_chain);
  CHECK(sends[0]->reason.find("is no longer on the host") != std::string::npos);
}

TEST_CASE("planner: loose files on a reachable destination are removed first, any zone") {
  InventoryBuilder b;
  b.Image(kImage).Zone(kZone, "joyent", "web01", kImage);
  b.Snap(kRoot, "zrecon-daily-20261126T000000Z").Snap(kRoot, "zrecon-hourly-20261126T100000Z");
  Inventory inv = b.Build();
  Catalogs cat = CatalogWithChain(inv, "root/20261120T000000Z", {"zrecon-daily-20261120T000000Z"},
                                  "zones/" + kImage + "@final");
  const std::string gone = "0b7c2a36-5d0e-4b8e-a9f1-6b1f0f3b2c41";  // not on the host
  ZoneManifest& old = cat["usb"].zones[gone];
  old.host = "demo01";
  old.uuid = gone;
  old.alias = "old01";
  old.brand = "joyent";
  old.loose_files = {gone + "/config/20261101T000000Z.json"};
  cat["usb"].zones[kZone].loose_files = {kZone + "/root/b.zfs", kZone + "/config/a.json"};
  Plan plan = MakePlan(StandardPolicy(), inv, cat, "2026-11-26T10:30:00Z");
  REQUIRE(plan.actions.size() > 2);
  const Action& first = plan.actions[0];
  const Action& second = plan.actions[1];
  CHECK(first.kind == ActionKind::kRemoveLoose);
  CHECK(first.zone == gone);
  CHECK(first.alias == "old01");
  CHECK(first.destination == "usb");
  CHECK(first.argv.empty());
  CHECK(first.files == std::vector<std::string>{gone + "/config/20261101T000000Z.json"});
  CHECK(second.kind == ActionKind::kRemoveLoose);
  CHECK(second.zone == kZone);
  CHECK(second.files == std::vector<std::string>{kZone + "/config/a.json", kZone + "/root/b.zfs"});
  CHECK(OfKind(plan, ActionKind::kRemoveLoose).size() == 2);
  CHECK(plan.Summary().loose_files == 3);
  CHECK(plan.Summary().ToString().find("3 loose files to remove") != std::string::npos);

  // An unreachable destination keeps its loose files for a later run.
  cat["usb"].reachable = false;
  cat["usb"].unreachable_reason = "not mounted";
  CHECK(
      OfKind(MakePlan(StandardPolicy(), inv, cat, "2026-11-26T10:30:00Z"), ActionKind::kRemoveLoose)
          .empty());
}

TEST_CASE("planner: an unreachable destination is skipped but its tips stay protected") {
  InventoryBuilder b = WebZoneWithHourlies(At("2026-11-25T08:00:00Z"), 26);
  // The oldest hourly is the usb chain tip per its mark (no hold: drift).
  b.Snap(kRoot, "zrecon-daily-20261126T000000Z");
  Inventory inv = b.Build();
  const_cast<Snapshot*>(inv.FindSnapshot(kRoot + "@zrecon-hourly-20261125T080000Z"))->exported =
      "usb";
  Catalogs cat;
  cat["usb"].name = "usb";
  cat["usb"].unreachable_reason = "/mnt/usb/zrecon does not exist";
  Plan plan = MakePlan(StandardPolicy(), inv, cat, "2026-11-26T10:00:00Z");
  CHECK(OfKind(plan, ActionKind::kSend).empty());
  REQUIRE(plan.warnings.size() == 1);
  CHECK(plan.warnings[0].find("destination usb is unreachable (/mnt/usb/zrecon does not exist)") !=
        std::string::npos);
  auto destroys = OfKind(plan, ActionKind::kDestroy);
  REQUIRE(destroys.size() == 1);
  for (const std::string& s : destroys[0]->snapshots) {
    CHECK(s != kRoot + "@zrecon-hourly-20261125T080000Z");
  }
  // The missing hold is put back.
  auto holds = OfKind(plan, ActionKind::kHold);
  REQUIRE(holds.size() == 1);
  CHECK(holds[0]->snapshots[0] == kRoot + "@zrecon-hourly-20261125T080000Z");
}

TEST_CASE("planner: a zone matched by two entries is an error") {
  InventoryBuilder b;
  b.Image(kImage).Zone(kZone, "joyent", "web01", kImage);
  Policy policy = StandardPolicy();
  ZoneEntry second;
  second.match.uuid = kZone;
  second.policy = "standard";
  policy.zones.push_back(second);
  Inventory inv = b.Build();
  Catalogs cat = ReachableEmpty();
  PlannerInput in;
  in.policy = &policy;
  in.inventory = &inv;
  in.catalogs = &cat;
  in.now = At("2026-11-26T10:00:00Z");
  Plan plan;
  Status s = BuildPlan(in, &plan);
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("matched by more than one entry") != std::string::npos);
}

TEST_CASE("planner: legacy dialect snapshots a zone tree with -r and destroys one by one") {
  InventoryBuilder b = WebZoneWithHourlies(At("2026-11-25T09:00:00Z"), 25);
  b.Dataset(kRoot + "/data");
  Policy policy = StandardPolicy();
  policy.policies["standard"].exports.clear();
  policy.policies["standard"].keep = {{"hourly", 24}};
  Plan plan = MakePlan(policy, b.Build(), {}, "2026-11-26T10:00:00Z", ZfsDialect::kLegacy);
  auto snaps = OfKind(plan, ActionKind::kSnapshot);
  REQUIRE(snaps.size() == 1);
  CHECK(snaps[0]->argv == Argv{"zfs", "snapshot", "-r", kRoot + "@zrecon-hourly-20261126T100000Z"});
  CHECK(snaps[0]->snapshots ==
        std::vector<std::string>{kRoot + "@zrecon-hourly-20261126T100000Z",
                                 kRoot + "/data@zrecon-hourly-20261126T100000Z"});
  auto destroys = OfKind(plan, ActionKind::kDestroy);
  REQUIRE(destroys.size() == 2);
  CHECK(destroys[0]->argv == Argv{"zfs", "destroy", kRoot + "@zrecon-hourly-20261125T090000Z"});
  CHECK(destroys[1]->argv == Argv{"zfs", "destroy", kRoot + "@zrecon-hourly-20261125T100000Z"});
}

TEST_CASE("planner: kvm disks: root full stream, image-based disk from its origin") {
  const std::string kvm = "e7c5d1a4-9a56-4b4e-8d5b-2a1f9c0e3b11";
  InventoryBuilder b;
  b.Image(kImage).Zone(kvm, "kvm", "web-kvm");
  b.Dataset("zones/" + kvm + "-disk0", "zones/" + kImage + "@final", DatasetType::kVolume);
  b.Dataset("zones/" + kvm + "-disk1", "", DatasetType::kVolume);
  Plan plan = MakePlan(StandardPolicy(), b.Build(), ReachableEmpty(), "2026-11-26T10:00:00Z");
  auto snaps = OfKind(plan, ActionKind::kSnapshot);
  REQUIRE(snaps.size() == 1);
  CHECK(snaps[0]->snapshots.size() == 6);  // 3 datasets x (hourly, daily), one atomic call
  auto sends = OfKind(plan, ActionKind::kSend);
  REQUIRE(sends.size() == 3);
  CHECK(sends[0]->snapshot == "zones/" + kvm + "@zrecon-daily-20261126T100000Z");
  CHECK(sends[0]->from.empty());
  CHECK(sends[1]->from == "zones/" + kImage + "@final");
  CHECK(sends[1]->file.find("/disk0/") != std::string::npos);
  CHECK(sends[2]->from.empty());
  CHECK(OfKind(plan, ActionKind::kSaveImage).size() == 1);
}

TEST_CASE("planner: a bhyve zone without flexible_disk_size gets no snapshots, and is told why") {
  const std::string vm = "8cc2a1fe-bf3d-4a1d-9f98-7761bc2b82d8";
  const std::string root = "zones/" + vm;
  auto build = [&](int64_t flex, bool with_disks) {
    InventoryBuilder b;
    b.Image(kImage).Zone(vm, "bhyve", "web-vm").FlexibleDiskSize(flex);
    if (with_disks) {
      b.Dataset(root + "/disk0", "zones/" + kImage + "@final", DatasetType::kVolume);
      b.Dataset(root + "/disk1", "", DatasetType::kVolume);
    }
    b.Snap(root, "zrecon-daily-20261125T100000Z");
    return b.Build();
  };
  auto warned = [&](const Plan& plan) {
    for (const std::string& w : plan.warnings) {
      if (w.find("without flexible_disk_size") != std::string::npos) return w;
    }
    return std::string();
  };
  Plan refused =
      MakePlan(StandardPolicy(), build(0, true), ReachableEmpty(), "2026-11-26T10:00:00Z");
  CHECK(OfKind(refused, ActionKind::kSnapshot).empty());
  std::string w = warned(refused);
  CHECK(w.find("zone " + vm + ": no snapshots") == 0);
  CHECK(w.find(root + "/disk0, " + root + "/disk1") != std::string::npos);
  CHECK(w.find("vmadm update " + vm + " flexible_disk_size=") != std::string::npos);
  // What it has is still exported: the snapshot taken before.
  auto sends = OfKind(refused, ActionKind::kSend);
  REQUIRE(sends.size() == 1);
  CHECK(sends[0]->snapshot == root + "@zrecon-daily-20261125T100000Z");

  // With flexible_disk_size, or without disks (a live-CD VM), as any zone.
  for (auto [flex, disks] : {std::pair<int64_t, bool>{20480, true}, {0, false}}) {
    Plan plan =
        MakePlan(StandardPolicy(), build(flex, disks), ReachableEmpty(), "2026-11-26T10:00:00Z");
    CHECK(warned(plan).empty());
    auto snaps = OfKind(plan, ActionKind::kSnapshot);
    REQUIRE(snaps.size() == 1);
    CHECK(snaps[0]->snapshots.size() == (disks ? 6u : 2u));
  }
  // A recording without the field (the line format) is planned as before.
  Inventory unknown = build(0, true);
  unknown.zones[0].flexible_disk_size_known = false;
  Plan plan = MakePlan(StandardPolicy(), unknown, ReachableEmpty(), "2026-11-26T10:00:00Z");
  CHECK(OfKind(plan, ActionKind::kSnapshot).size() == 1);
}

TEST_CASE("planner: a zone with its own zonename: root and cores by that name") {
  const std::string vm = "3d0f6a3e-5b8e-4c1a-9e0a-6f4b1c2d3e4f";
  InventoryBuilder b;
  b.Image(kImage).NamedZone(vm, "build-01", "web-build", kImage);
  // A dataset named by the uuid is not the zone's.
  b.Dataset("zones/" + vm);
  Policy policy = StandardPolicy();
  policy.policies["standard"].datasets = {DatasetRole::kZoneRoot, DatasetRole::kCores};
  Plan plan = MakePlan(policy, b.Build(), ReachableEmpty(), "2026-11-26T10:00:00Z");
  auto snaps = OfKind(plan, ActionKind::kSnapshot);
  REQUIRE(snaps.size() == 1);
  CAPTURE(Join(snaps[0]->snapshots, " "));
  CHECK(snaps[0]->snapshots ==
        std::vector<std::string>{"zones/build-01@zrecon-hourly-20261126T100000Z",
                                 "zones/cores/build-01@zrecon-hourly-20261126T100000Z",
                                 "zones/build-01@zrecon-daily-20261126T100000Z",
                                 "zones/cores/build-01@zrecon-daily-20261126T100000Z"});
  // Its chains are keyed like any zone's: the root is "root", cores "cores"
  // (restore finds the root by that key).
  std::vector<std::string> files;
  for (const Action* a : OfKind(plan, ActionKind::kSend)) files.push_back(a->file);
  REQUIRE(files.size() == 2);
  CAPTURE(Join(files, " "));
  CHECK(StartsWith(files[0], vm + "/root/"));
  CHECK(StartsWith(files[1], vm + "/cores/"));
  CHECK(OfKind(plan, ActionKind::kSend)[0]->from == "zones/" + kImage + "@final");
}

TEST_CASE("planner: same inputs give a byte-identical plan") {
  InventoryBuilder b = WebZoneWithHourlies(At("2026-11-25T08:00:00Z"), 30);
  Inventory inv = b.Build();
  Plan one = MakePlan(StandardPolicy(), inv, ReachableEmpty(), "2026-11-26T14:00:00Z");
  Plan two = MakePlan(StandardPolicy(), inv, ReachableEmpty(), "2026-11-26T14:00:00Z");
  CHECK(EncodePlanJson(one) == EncodePlanJson(two));
  CHECK_FALSE(one.actions.empty());
}

TEST_CASE("planner: destroys above max_destroy produce a warning") {
  InventoryBuilder b = WebZoneWithHourlies(At("2026-11-20T00:00:00Z"), 100);
  Policy policy = StandardPolicy();
  policy.policies["standard"].exports.clear();
  policy.max_destroy = 10;
  Plan plan = MakePlan(policy, b.Build(), {}, "2026-11-26T10:00:00Z");
  CHECK(plan.ExceedsDestroyLimit());
  bool warned = false;
  for (const std::string& w : plan.warnings)
    warned = warned || w.find("max_destroy") != std::string::npos;
  CHECK(warned);
}

}  // namespace zrecon

namespace zrecon {

TEST_CASE("planner: a rerun at the same time saves its config under a new name") {
  InventoryBuilder b;
  b.Image(kImage).Zone(kZone, "joyent", "web01", kImage);
  b.Snap(kRoot, "zrecon-daily-20261126T000000Z").Snap(kRoot, "zrecon-hourly-20261126T100500Z");
  Inventory inv = b.Build();
  // A previous apply at this very --now saved the config, then its send failed.
  Catalogs cat = ReachableEmpty();
  ConfigRecord saved;
  saved.stored.file = kZone + "/config/20261126T103000Z.json";
  cat["usb"].zones[kZone].uuid = kZone;
  cat["usb"].zones[kZone].configs.push_back(saved);
  Plan plan = MakePlan(StandardPolicy(), inv, cat, "2026-11-26T10:30:00Z");
  auto configs = OfKind(plan, ActionKind::kSaveConfig);
  REQUIRE(configs.size() == 1);
  CHECK(configs[0]->file == kZone + "/config/20261126T103000Z-2.json");
  CHECK(OfKind(plan, ActionKind::kSend)[0]->stream.config_file == configs[0]->file);
}

}  // namespace zrecon

namespace zrecon {

TEST_CASE("planner: snapshots dated in the future do not make the current one churn") {
  // The clock was ahead: hourlies exist for a day that has not come yet.
  InventoryBuilder b;
  b.Image(kImage).Zone(kZone, "joyent", "web01", kImage);
  b.Snap(kRoot, "zrecon-hourly-20261129T100000Z").Snap(kRoot, "zrecon-hourly-20261129T110000Z");
  b.Snap(kRoot, "zrecon-hourly-20261126T100000Z");  // this hour's
  Policy policy = StandardPolicy();
  policy.policies["standard"].exports.clear();
  policy.policies["standard"].keep = {{"hourly", 2}};
  Plan plan = MakePlan(policy, b.Build(), {}, "2026-11-26T10:30:00Z");
  // Keeping the two newest by name would prune this hour's snapshot and
  // make hourly due again on the next run, forever.
  CHECK(plan.actions.empty());
}

TEST_CASE("planner: full_every does not restart a chain without a fresh snapshot to base it on") {
  InventoryBuilder b;
  b.Image(kImage).Zone(kZone, "joyent", "web01", kImage);
  b.Snap(kRoot, "zrecon-daily-20261020T000000Z", 1, "usb");
  b.Snap(kRoot, "zrecon-hourly-20261126T100500Z");
  Inventory inv = b.Build();
  Catalogs cat = CatalogWithChain(inv, "root/20261020T000000Z", {"zrecon-daily-20261020T000000Z"},
                                  "zones/" + kImage + "@final");
  Policy policy = StandardPolicy();
  policy.policies["standard"].keep = {{"hourly", 24}};  // no dailies are being taken any more
  policy.policies["standard"].exports[0].full_every = Duration(30, Duration::Unit::kDay);
  Plan plan = MakePlan(policy, inv, cat, "2026-11-26T10:30:00Z");
  CHECK(OfKind(plan, ActionKind::kSend).empty());
}

}  // namespace zrecon

namespace zrecon {

TEST_CASE("planner: a zone that left the policy gets zrecon's holds and marks released") {
  const std::string other = "0b0b0b0b-0000-4000-8000-00000000000b";
  InventoryBuilder b;
  b.Image(kImage).Zone(other, "joyent", "db01", kImage);  // "web*" does not match it
  const std::string root = "zones/" + other;
  b.Snap(root, "zrecon-daily-20261125T000000Z", 1, "usb")     // a chain tip, held
      .Snap(root, "zrecon-daily-20261124T000000Z", 0, "usb")  // marked, hold gone
      .Snap(root, "zrecon-daily-20261123T000000Z")            // no tip
      .Snap(root, "before-upgrade", 1, "usb");                // not zrecon's name
  Inventory inv = b.Build();
  Plan plan = MakePlan(StandardPolicy(), inv, ReachableEmpty(), "2026-11-26T10:30:00Z");
  std::vector<std::string> lines;
  for (const Action& a : plan.actions) {
    if (a.zone == other)
      lines.push_back(std::string(ActionKindName(a.kind)) + " " + ShellJoin(a.argv));
  }
  // Only marked snapshots whose names zrecon owns; the hold before the mark.
  CAPTURE(Join(lines, "\n"));
  CHECK(lines ==
        std::vector<std::string>{
            "release zfs release zrecon " + root + "@zrecon-daily-20261125T000000Z",
            "mark_tip zfs inherit zrecon:exported " + root + "@zrecon-daily-20261125T000000Z",
            "mark_tip zfs inherit zrecon:exported " + root + "@zrecon-daily-20261124T000000Z"});
  for (const Action& a : plan.actions) {
    if (a.zone == other)
      CHECK(a.reason.find("no longer protected by the policy") != std::string::npos);
  }

  // A zone still protected is left to the tip logic.
  Policy all = StandardPolicy();
  all.zones[0].match.alias = "*";
  plan = MakePlan(all, inv, ReachableEmpty(), "2026-11-26T10:30:00Z");
  for (const Action& a : plan.actions) {
    CHECK(a.reason.find("no longer protected") == std::string::npos);
  }
}

}  // namespace zrecon

namespace zrecon {

TEST_CASE("planner: an image whose imgadm record has no type is warned about") {
  InventoryBuilder b;
  b.Image(kImage).Zone(kZone, "joyent", "web01", kImage);
  b.Snap(kRoot, "zrecon-daily-20261125T000000Z", 1, "usb")
      .Snap(kRoot, "zrecon-daily-20261126T000000Z");
  Inventory inv = b.Build();
  Catalogs cat = CatalogWithChain(inv, "root/20261125T000000Z", {"zrecon-daily-20261125T000000Z"},
                                  "zones/" + kImage + "@final");
  cat["usb"].images[kImage].imgadm_type = "";
  Plan plan = MakePlan(StandardPolicy(), inv, cat, "2026-11-26T10:30:00Z");
  REQUIRE(plan.warnings.size() == 1);
  CHECK(plan.warnings[0].find("imgadm had no manifest of it") != std::string::npos);
  CHECK(plan.warnings[0].find("imgadm import " + kImage) != std::string::npos);
  CHECK(OfKind(plan, ActionKind::kSaveImageRecord).empty());
}

}  // namespace zrecon

namespace zrecon {

// Found by kill_test: the configs two removed chains share went with the
// first removal, so an apply killed between the two left a chain in the
// manifest whose config records were gone (verify failed).
TEST_CASE("planner: a config shared by removed chains goes with the last removal") {
  InventoryBuilder b;
  b.Image(kImage).Zone(kZone, "lx", "web01", kImage);
  b.Dataset(kRoot + "/data");
  for (const std::string& ds : {kRoot, kRoot + "/data"}) {
    b.Snap(ds, "zrecon-daily-20261020T000000Z")
        .Snap(ds, "zrecon-daily-20261125T000000Z", 1, "usb")
        .Snap(ds, "zrecon-daily-20261126T000000Z");
  }
  Inventory inv = b.Build();
  Catalogs cat =
      CatalogWithChain(inv, "root/20261020T000000Z",
                       {"zrecon-daily-20261020T000000Z", "zrecon-daily-20261125T000000Z"},
                       "zones/" + kImage + "@final");
  // The delegated dataset's chain, saved by the same export runs.
  ZoneManifest& m = cat["usb"].zones[kZone];
  Chain data = m.chains[0];
  data.id = "root+data/20261020T000000Z";
  data.dataset = kRoot + "/data";
  data.origin.clear();
  data.origin_guid = 0;
  data.image_uuid.clear();
  for (ChainLink& l : data.links) {
    l.stream.file = kZone + "/" + data.id + "/" + l.snapshot + ".zfs";
    const Snapshot* s = inv.FindSnapshot(kRoot + "/data@" + l.snapshot);
    l.guid = s->guid;
  }
  data.links[0].from.clear();
  data.links[0].from_guid = 0;
  data.links[1].from = kRoot + "/data@" + data.links[0].snapshot;
  data.links[1].from_guid = data.links[0].guid;
  m.chains.push_back(data);
  Policy policy = StandardPolicy();
  policy.policies["standard"].exports[0].full_every = Duration(30, Duration::Unit::kDay);
  policy.policies["standard"].exports[0].keep_chains = 1;
  policy.zones[0].match.alias = "*";
  Plan plan = MakePlan(policy, inv, cat, "2026-11-26T10:30:00Z");
  auto removals = OfKind(plan, ActionKind::kRemoveExport);
  REQUIRE(removals.size() == 2);
  const std::string config = m.chains[0].links[0].config;
  auto lists = [&](const Action* a) {
    return std::find(a->files.begin(), a->files.end(), config) != a->files.end();
  };
  CHECK_FALSE(lists(removals[0]));
  CHECK(lists(removals[1]));
}

}  // namespace zrecon

namespace zrecon {
namespace {

TEST_CASE("planner: a policy's hooks surround each zone's snapshot, through env") {
  InventoryBuilder b;
  b.Image(kImage).Zone(kZone, "joyent", "web01", kImage);
  Inventory inv = b.Build();
  Policy policy = StandardPolicy();
  PolicyDef& def = policy.policies.at("standard");
  def.pre_snapshot = {"/opt/custom/bin/quiesce", "--lock"};
  def.post_snapshot = {"/opt/custom/bin/resume"};
  def.hook_timeout_seconds = 30;
  Plan plan = MakePlan(policy, inv, ReachableEmpty(), "2026-11-26T10:00:00Z");
  REQUIRE(plan.actions.size() >= 3);
  CHECK(Kinds(plan)[0] == "hook");
  CHECK(Kinds(plan)[1] == "snapshot");
  CHECK(Kinds(plan)[2] == "hook");
  const Action& pre = plan.actions[0];
  CHECK(pre.hook == "pre_snapshot");
  CHECK(pre.zone == kZone);
  CHECK(pre.timeout_seconds == 30);
  CHECK(pre.argv == Argv{"/usr/bin/env", "ZRECON_HOOK=pre_snapshot", "ZRECON_ZONE=" + kZone,
                         "ZRECON_ALIAS=web01",
                         "ZRECON_SNAPSHOT_NAME=zrecon-hourly-20261126T100000Z "
                         "zrecon-daily-20261126T100000Z",
                         "/opt/custom/bin/quiesce", "--lock"});
  CHECK(plan.actions[2].hook == "post_snapshot");
  CHECK(plan.actions[2].argv.back() == "/opt/custom/bin/resume");
  // The plan's text shows them; JSON carries them back.
  CHECK(RenderPlanText(plan, PlanTextOptions()).find("! hook") != std::string::npos);
  Plan decoded;
  REQUIRE(DecodePlanJson(EncodePlanJson(plan), &decoded).ok());
  CHECK(EncodePlanJson(decoded) == EncodePlanJson(plan));
  CHECK(decoded.actions[0].hook == "pre_snapshot");
  CHECK(decoded.actions[0].timeout_seconds == 30);

  // Nothing due: no snapshot, no hooks.
  b.Snap(kRoot, "zrecon-hourly-20261126T100000Z").Snap(kRoot, "zrecon-daily-20261126T100000Z");
  Inventory done = b.Build();
  Plan later = MakePlan(policy, done, ReachableEmpty(), "2026-11-26T10:30:00Z");
  CHECK(OfKind(later, ActionKind::kHook).empty());
}

}  // namespace
}  // namespace zrecon
