#include "reconciler/plan/plan_json.h"

#include <doctest/doctest.h>

namespace zrecon {

namespace {

Plan SamplePlan() {
  Plan p;
  p.zrecon_version = "0.1.0";
  p.now = 1795688700;
  p.host = "demo01";
  p.dialect = ZfsDialect::kLegacy;
  p.zfs = "/usr/sbin/zfs";
  p.fingerprint = "sha256:" + std::string(64, 'b');
  p.max_destroy = 200;
  p.warnings = {"destination nas is unreachable"};
  p.notes = {"zone x is matched by no zones entry"};
  Action snap;
  snap.kind = ActionKind::kSnapshot;
  snap.zone = "85dbcafe-889a-e402-cf36-c7ffdd15e568";
  snap.alias = "web:01 \"quoted\"";
  snap.reason = "hourly due: none yet";
  snap.argv = {"zfs", "snapshot", "zones/u@a"};
  snap.snapshots = {"zones/u@a"};
  Action send;
  send.kind = ActionKind::kSend;
  send.zone = snap.zone;
  send.reason = "first export";
  send.argv = {"zfs", "send", "-i", "zones/img@final", "zones/u@a"};
  send.destination = "usb";
  send.file = "u/root/20261126T100000Z/0001-a.zfs";
  send.snapshot = "zones/u@a";
  send.from = "zones/img@final";
  send.stream.dataset = "zones/u";
  send.stream.guid = 18446744073709551615ull;
  send.stream.createtxg = 77;
  send.stream.creation = 1795688700;
  send.stream.from_guid = 9007199254740993ull;  // not representable as a double
  send.stream.chain_id = "root/20261126T100000Z";
  send.stream.new_chain = true;
  send.stream.origin = "zones/img@final";
  send.stream.origin_guid = 9007199254740993ull;
  send.stream.image_uuid = "390639d4-f146-11e7-9280-37ae5c6d53d4";
  send.stream.config_file = "u/config/20261126T100000Z.json";
  Action mark;
  mark.kind = ActionKind::kMarkTip;
  mark.zone = snap.zone;
  mark.argv = {"zfs", "inherit", "zrecon:exported", "zones/u@old"};
  mark.snapshots = {"zones/u@old"};
  Action remove;
  remove.kind = ActionKind::kRemoveExport;
  remove.zone = snap.zone;
  remove.destination = "usb";
  remove.chain_id = "root/20261001T000000Z";
  remove.files = {"u/root/20261001T000000Z/0001-x.zfs"};
  Action loose;
  loose.kind = ActionKind::kRemoveLoose;
  loose.zone = snap.zone;
  loose.destination = "usb";
  loose.files = {"u/config/20261125T100000Z.json", "u/root/20261001T000000Z/0002-y.zfs"};
  p.actions = {snap, send, mark, remove, loose};
  p.destinations["usb"] = PlanDestination{"directory", "/mnt/usb/zrecon", "zstd", {}, {}};
  p.zones[snap.zone] = PlanZone{"web:01", "joyent", "390639d4-f146-11e7-9280-37ae5c6d53d4"};
  return p;
}

}  // namespace

TEST_CASE("plan_json: encode then decode reproduces the plan exactly") {
  Plan p = SamplePlan();
  std::string json = EncodePlanJson(p);
  Plan back;
  Status s = DecodePlanJson(json, &back);
  REQUIRE_MESSAGE(s.ok(), s.message());
  CHECK(EncodePlanJson(back) == json);
  CHECK(back.actions[1].stream.guid == 18446744073709551615ull);
  CHECK(back.actions[1].stream.from_guid == 9007199254740993ull);
  CHECK(back.actions[0].alias == "web:01 \"quoted\"");
  CHECK(back.dialect == ZfsDialect::kLegacy);
  CHECK(json.find("\"from\": null") == std::string::npos);  // this send has a from
  CHECK(json.find("\"format_version\": \"1.0\"") != std::string::npos);
}

TEST_CASE("plan_json: decoding names the path of the first bad value") {
  std::string good = EncodePlanJson(SamplePlan());
  struct Case {
    std::string from, to, expect;
  };
  for (const Case& c : {
           Case{"\"format_version\": \"1.0\"", "\"format_version\": \"2.0\"", "not supported"},
           Case{"\"kind\": \"send\"", "\"kind\": \"format_disk\"", "$.actions[1].kind"},
           Case{"\"guid\": \"18446744073709551615\"", "\"guid\": \"18446744073709551616\"",
                "$.actions[1].stream.guid"},
           Case{"\"now\": \"2026-11-26T10:25:00Z\"", "\"now\": \"yesterday\"", "$.now"},
           Case{"\"dialect\": \"legacy\"", "\"dialect\": \"zfs-2.2\"", "$.dialect"},
           Case{"\"max_destroy\": 200", "\"max_destroy\": \"200\"", "$.max_destroy"},
       }) {
    std::string bad = good;
    size_t pos = bad.find(c.from);
    REQUIRE_MESSAGE(pos != std::string::npos, c.from);
    bad.replace(pos, c.from.size(), c.to);
    Plan p;
    Status s = DecodePlanJson(bad, &p);
    CAPTURE(c.to);
    CHECK_FALSE(s.ok());
    CHECK(s.message().find(c.expect) != std::string::npos);
  }
  Plan p;
  CHECK_FALSE(DecodePlanJson("", &p).ok());
  CHECK_FALSE(DecodePlanJson("[1,2]", &p).ok());
  CHECK_FALSE(DecodePlanJson("{\"format_version\": 1}", &p).ok());
  CHECK_FALSE(DecodePlanJson(std::string("{\"a\":\"\xff\xfe\"}"), &p).ok());
}

TEST_CASE("plan_json: a plan file cannot point outside its destinations") {
  struct Case {
    std::string field, value, expect;
  };
  for (const Case& c : {Case{"file", "../../etc/passwd", "not a safe relative path"},
                        Case{"file", "/etc/passwd", "not a safe relative path"},
                        Case{"destination", "nas", "is not in $.destinations"}}) {
    Plan p = SamplePlan();
    if (c.field == "file") {
      p.actions[1].file = c.value;
    } else {
      p.actions[1].destination = c.value;
    }
    Plan back;
    Status s = DecodePlanJson(EncodePlanJson(p), &back);
    CAPTURE(c.value);
    CHECK_FALSE(s.ok());
    CHECK(s.message().find(c.expect) != std::string::npos);
  }
  Plan p = SamplePlan();
  p.actions[3].files.push_back("a/../../b");
  Plan back;
  CHECK_FALSE(DecodePlanJson(EncodePlanJson(p), &back).ok());
  p = SamplePlan();
  p.actions[4].files.push_back("/etc/passwd");
  Status s = DecodePlanJson(EncodePlanJson(p), &back);
  CHECK(s.message() == "$.actions[4]: file \"/etc/passwd\" is not a safe relative path");
  p = SamplePlan();
  p.actions[4].destination = "nas";
  s = DecodePlanJson(EncodePlanJson(p), &back);
  CHECK(s.message() == "$.actions[4].destination: \"nas\" is not in $.destinations");
}

TEST_CASE("plan_json: argv is required, except for the removals, which must have none") {
  Plan p = SamplePlan();
  p.actions[0].argv.clear();
  Plan back;
  Status s = DecodePlanJson(EncodePlanJson(p), &back);
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("$.actions[0].argv") != std::string::npos);
  p = SamplePlan();
  p.actions[4].argv = {"rm", "-rf", "/"};
  s = DecodePlanJson(EncodePlanJson(p), &back);
  CHECK(s.message() == "$.actions[4].argv: must be empty: remove_loose runs no command");
  p = SamplePlan();
  p.actions[4].files.clear();
  s = DecodePlanJson(EncodePlanJson(p), &back);
  CHECK(s.message() == "$.actions[4].files: must not be empty");
}

}  // namespace zrecon
