#include "reconciler/apply/run_log.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <string>

#include "reconciler/util/files.h"
#include "reconciler/util/strings.h"
#include "tests/unit/temp_dir.h"

namespace zrecon {
namespace {

const std::string kWeb = "85dbcafe-889a-e402-cf36-c7ffdd15e568";
const std::string kDb = "0b7e9c4d-2f1a-4d3e-9a8b-6c5d4e3f2a10";

TEST_CASE("run_log: one JSON line per run, with each zone's outcome and errors") {
  Plan plan;
  plan.zones[kWeb] = PlanZone{"web01", "joyent", "img"};
  plan.zones[kDb] = PlanZone{"db01", "joyent", "img"};
  Action send;
  send.kind = ActionKind::kSend;
  send.zone = kWeb;
  send.destination = "usb";
  Action destroy;
  destroy.kind = ActionKind::kDestroy;
  destroy.zone = kWeb;
  Action snap;
  snap.kind = ActionKind::kSnapshot;
  snap.zone = kDb;
  plan.actions = {send, destroy, snap};
  ApplyReport report;
  report.results.resize(3);
  report.results[0].outcome = Outcome::kFailed;
  report.results[0].error = "usb:x: No space left on device";
  report.results[1].outcome = Outcome::kSkipped;
  report.results[2].outcome = Outcome::kDone;
  report.results[2].stored = 0;
  report.failed_destinations = {"usb"};
  RunMetrics run;
  run.start = 1795687200;
  run.duration = 61.4;
  run.plan = &plan;
  run.report = &report;
  nlohmann::json j = nlohmann::json::parse(RunRecord(run, ""));
  CHECK(j["start"] == "2026-11-26T10:00:00Z");
  CHECK(j["end"] == "2026-11-26T10:01:01Z");
  CHECK(j["outcome"] == "failed");
  CHECK_FALSE(j.contains("error"));
  CHECK(j["actions"] ==
        nlohmann::json::parse(R"({"done": 1, "failed": 1, "skipped": 1, "not attempted": 0})"));
  REQUIRE(j["zones"].size() == 2);
  CHECK(j["zones"][0]["zone"] == kWeb);
  CHECK(j["zones"][0]["alias"] == "web01");
  CHECK(j["zones"][0]["outcome"] == "failed");
  CHECK(j["zones"][0]["errors"][0] == "[1] send: usb:x: No space left on device");
  CHECK(j["zones"][1]["outcome"] == "done");
  CHECK(j["failed_destinations"][0] == "usb");

  Plan none;
  ApplyReport empty;
  run.plan = &none;
  run.report = &empty;
  run.failed_early = true;
  j = nlohmann::json::parse(RunRecord(run, "cannot read the host"));
  CHECK(j["outcome"] == "failed");
  CHECK(j["error"] == "cannot read the host");
  CHECK(j["zones"].empty());
}

TEST_CASE("run_log: records are appended, one per line") {
  testing::TempDir dir("zrecon-runlog");
  std::string path = dir / "runs.jsonl";
  REQUIRE(AppendRunRecord(path, "{\"n\": 1}").ok());
  REQUIRE(AppendRunRecord(path, "{\"n\": 2}").ok());
  std::string text;
  REQUIRE(ReadFile(path, &text).ok());
  CHECK(text == "{\"n\": 1}\n{\"n\": 2}\n");
  CHECK(AppendRunRecord(dir / "absent/runs.jsonl", "{}").message().find("--run-log: cannot open") ==
        0);
}

}  // namespace
}  // namespace zrecon
