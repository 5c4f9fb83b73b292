#include "reconciler/restore/zone_payload.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace zrecon {

namespace {

using Json = nlohmann::json;

const std::string kZone = "85dbcafe-889a-e402-cf36-c7ffdd15e568";
const std::string kImage = "390639d4-f146-11e7-9280-37ae5c6d53d4";
const std::string kHvmImage = "462d1d03-8457-e134-a408-cf9ea2b9be96";

// What every `vmadm get` has, shaped like the real output (vmadm.8.md's
// property list; vmload assembles it): identity, resource controls, and the
// fields vmadm derives or reports about the running instance.
Json Common(const std::string& brand) {
  return {{"zonename", kZone},
          {"autoboot", true},
          {"brand", brand},
          {"limit_priv", "default"},
          {"v", 1},
          {"create_timestamp", "2026-10-01T02:00:00.123Z"},
          {"cpu_shares", 100},
          {"max_lwps", 2000},
          {"max_physical_memory", 1024},
          {"max_locked_memory", 1024},
          {"max_swap", 2048},
          {"billing_id", "00000000-0000-0000-0000-000000000000"},
          {"owner_uuid", "930896af-bf8c-48d4-885c-6573a94b1853"},
          {"hostname", "web01"},
          {"dns_domain", "local"},
          {"resolvers", {"8.8.8.8"}},
          {"alias", "web01"},
          {"uuid", kZone},
          {"zone_state", "running"},
          {"zonepath", "/zones/" + kZone},
          {"zoneid", 12},
          {"zonedid", 14},
          {"pid", 4567},
          {"last_modified", "2026-11-01T00:00:00.000Z"},
          {"boot_timestamp", "2026-11-01T00:00:01.000Z"},
          {"firewall_enabled", false},
          {"server_uuid", "44454c4c-4800-1034-804a-b2c04f354d31"},
          {"platform_buildstamp", "20261101T000000Z"},
          {"state", "running"},
          {"customer_metadata", {{"user-script", "echo hi"}}},
          {"internal_metadata", Json::object()},
          {"routes", Json::object()},
          {"tags", {{"role", "web"}}},
          {"zfs_filesystem", "zones/" + kZone},
          {"zpool", "zones"},
          {"snapshots", Json::array()},
          {"nics",
           {{{"interface", "net0"},
             {"mac", "72:9c:d5:10:a0:01"},
             {"nic_tag", "external"},
             {"ip", "10.0.0.5"},
             {"ips", {"10.0.0.5/24"}},
             {"primary", true}}}}};
}

Json Joyent() {
  Json j = Common("joyent");
  j["image_uuid"] = kImage;
  j["quota"] = 10;
  j["tmpfs"] = 1024;
  j["zfs_root_recsize"] = 131072;
  j["indestructible_zoneroot"] = true;
  return j;
}

Json Lx() {
  Json j = Common("lx");
  j["image_uuid"] = kImage;
  j["kernel_version"] = "4.3.0";
  j["quota"] = 20;
  j["datasets"] = {"zones/" + kZone + "/data"};
  j["indestructible_delegated"] = true;
  return j;
}

Json Kvm() {
  Json j = Common("kvm");
  j["ram"] = 1024;
  j["vcpus"] = 2;
  j["quota"] = 10;
  j["disks"] = {
      {{"path", "/dev/zvol/rdsk/zones/" + kZone + "-disk0"},
       {"boot", true},
       {"model", "virtio"},
       {"media", "disk"},
       {"image_size", 10240},
       {"image_uuid", kHvmImage},
       {"zfs_filesystem", "zones/" + kZone + "-disk0"},
       {"zpool", "zones"},
       {"size", 10240},
       {"compression", "off"},
       {"refreservation", 10240},
       {"block_size", 8192}},
      {{"path", "/dev/zvol/rdsk/zones/" + kZone + "-disk1"},
       {"boot", false},
       {"model", "virtio"},
       {"media", "disk"},
       {"zfs_filesystem", "zones/" + kZone + "-disk1"},
       {"zpool", "zones"},
       {"size", 20480},
       {"compression", "lz4"},
       {"refreservation", 20480},
       {"block_size", 8192}},
      {{"path", "/zones/" + kZone + "/root/install.iso"}, {"media", "cdrom"}, {"model", "ide"}}};
  return j;
}

Json Bhyve() {
  Json j = Common("bhyve");
  j["ram"] = 2048;
  j["vcpus"] = 2;
  j["quota"] = 10;  // bhyve: the zone root's refquota (vmload/index.js:370-376)
  j["flexible_disk_size"] = 51200;
  j["disks"] = {{{"path", "/dev/zvol/rdsk/zones/" + kZone + "/disk0"},
                 {"boot", true},
                 {"model", "virtio"},
                 {"media", "disk"},
                 {"image_size", 10240},
                 {"image_uuid", kHvmImage},
                 {"zfs_filesystem", "zones/" + kZone + "/disk0"},
                 {"zpool", "zones"},
                 {"size", 10240},
                 {"refreservation", 10240},
                 {"block_size", 8192}}};
  return j;
}

Json Payload(const Json& get, const std::string& pool, ZonePayload* p) {
  Status s = MakeCreatePayload(get.dump(2), kZone, pool, p);
  REQUIRE_MESSAGE(s.ok(), s.message());
  return Json::parse(p->json);
}

}  // namespace

TEST_CASE("zone_payload: every brand's create payload is one VM.js accepts") {
  const std::vector<std::pair<std::string, Json>> brands = {
      {"joyent", Joyent()},
      {"joyent-minimal", Common("joyent-minimal")},
      {"lx", Lx()},
      {"kvm", Kvm()},
      {"bhyve", Bhyve()}};
  for (const auto& [brand, get] : brands) {
    CAPTURE(brand);
    ZonePayload p;
    Json j = Payload(get, "tank", &p);
    CHECK(p.brand == brand);
    CHECK(j["uuid"] == kZone);
    CHECK(j["brand"] == brand);
    CHECK(j["zpool"] == "tank");
    CHECK(j["alias"] == "web01");
    // The throw-away zone must never boot (VM.js installZone).
    CHECK(j["autoboot"] == false);
    CHECK(p.autoboot);  // ... and gets the saved value back afterwards
    // What vmadm derives or reports about the instance is not sent.
    for (const char* key : {"zonename", "zonepath", "zoneid", "zonedid", "pid", "state",
                            "zone_state", "create_timestamp", "boot_timestamp", "last_modified",
                            "server_uuid", "platform_buildstamp", "snapshots", "zfs_filesystem",
                            "datasets", "indestructible_zoneroot", "indestructible_delegated"}) {
      CHECK_MESSAGE(!j.contains(key), key);
    }
    // The configuration is.
    CHECK(j["nics"] == get["nics"]);
    CHECK(j["customer_metadata"] == get["customer_metadata"]);
    CHECK(j["max_physical_memory"] == get["max_physical_memory"]);
    if (get.contains("quota")) CHECK(j["quota"] == get["quota"]);
  }
}

TEST_CASE("zone_payload: delegated dataset and indestructible flags") {
  ZonePayload p;
  Json j = Payload(Lx(), "tank", &p);
  CHECK(j["delegate_dataset"] == true);
  CHECK(p.delegated == std::vector<std::string>{"tank/" + kZone + "/data"});
  CHECK(p.indestructible_delegated);
  CHECK_FALSE(p.indestructible_zoneroot);
  j = Payload(Joyent(), "zones", &p);
  CHECK_FALSE(j.contains("delegate_dataset"));
  CHECK(p.indestructible_zoneroot);
  Json off = Joyent();
  off["autoboot"] = false;
  Payload(off, "zones", &p);
  CHECK_FALSE(p.autoboot);
  Json absent = Joyent();
  absent.erase("autoboot");
  Payload(absent, "zones", &p);
  CHECK(p.autoboot);  // VM.js's default
}

TEST_CASE("zone_payload: a zonename other than the uuid is kept, in place") {
  Json named = Lx();
  named["zonename"] = "app-01";
  ZonePayload p;
  Json j = Payload(named, "tank", &p);
  CHECK(j["zonename"] == "app-01");
  CHECK(p.zonename == "app-01");
  // Found by the zone_payload fuzzer: the kept zonename moved to the end of
  // the payload, so a payload made again from it was another text.
  ZonePayload again;
  REQUIRE(MakeCreatePayload(p.json, kZone, "tank", &again).ok());
  CHECK(again.json == p.json);
  // The usual case: zonename is the uuid and vmadm derives it.
  Json plain = Lx();
  plain["zonename"] = kZone;
  j = Payload(plain, "tank", &p);
  CHECK_FALSE(j.contains("zonename"));
  CHECK(p.zonename.empty());
}

TEST_CASE("zone_payload: HVM disks follow VM.js's create rules") {
  SUBCASE("kvm") {
    ZonePayload p;
    Json j = Payload(Kvm(), "tank", &p);
    REQUIRE(j["disks"].size() == 3);
    const Json& boot = j["disks"][0];
    // VM.js:5360-5365: a path needs nocreate; vmadm names the volume itself.
    CHECK_FALSE(boot.contains("path"));
    CHECK_FALSE(boot.contains("zfs_filesystem"));
    // VM.js:5377-5383: block_size and image_uuid together are refused.
    CHECK_FALSE(boot.contains("block_size"));
    CHECK(boot["image_uuid"] == kHvmImage);
    CHECK(boot["zpool"] == "tank");
    CHECK(boot["size"] == 10240);
    const Json& data = j["disks"][1];
    CHECK_FALSE(data.contains("path"));
    CHECK(data["block_size"] == 8192);  // no image: kept
    CHECK(data["zpool"] == "tank");
    // A cdrom is an ISO file, not a volume: kept as it was.
    CHECK(j["disks"][2] == Kvm()["disks"][2]);
    CHECK(p.disks ==
          std::vector<std::string>{"tank/" + kZone + "-disk0", "tank/" + kZone + "-disk1"});
  }
  SUBCASE("bhyve") {
    ZonePayload p;
    Json j = Payload(Bhyve(), "zones", &p);
    CHECK_FALSE(j["disks"][0].contains("path"));
    CHECK_FALSE(j["disks"][0].contains("block_size"));
    CHECK(j["flexible_disk_size"] == 51200);
    CHECK(p.disks == std::vector<std::string>{"zones/" + kZone + "/disk0"});
  }
}

TEST_CASE("zone_payload: a fractional quota is rounded up, its exact bytes kept") {
  Json get = Joyent();
  get["quota"] = 10.5;  // vmload: bytes / 2^30, unrounded
  ZonePayload p;
  Json j = Payload(get, "zones", &p);
  CHECK(j["quota"] == 11);  // VM.js accepts only an integer
  CHECK(p.fractional_quota_bytes == 11274289152ULL);
  get["quota"] = 7;
  j = Payload(get, "zones", &p);
  CHECK(j["quota"] == 7);
  CHECK(p.fractional_quota_bytes == 0);
  get["quota"] = -1.5;
  CHECK_FALSE(MakeCreatePayload(get.dump(), kZone, "zones", &p).ok());
}

}  // namespace zrecon
