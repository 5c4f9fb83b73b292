#include "reconciler/apply/metrics.h"

#include <doctest/doctest.h>

#include <string>

#include "reconciler/util/files.h"
#include "tests/unit/temp_dir.h"

namespace zrecon {
namespace {

const std::string kZone = "85dbcafe-889a-e402-cf36-c7ffdd15e568";

Plan OneZonePlan() {
  Plan plan;
  plan.zones[kZone] = PlanZone{"web \"01\"", "joyent", "img"};
  Action snap;
  snap.kind = ActionKind::kSnapshot;
  snap.zone = kZone;
  Action send;
  send.kind = ActionKind::kSend;
  send.zone = kZone;
  send.destination = "usb";
  plan.actions = {snap, send};
  return plan;
}

bool Has(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

TEST_CASE("metrics: a run's gauges and counters, carried over failed runs") {
  Plan plan = OneZonePlan();
  ApplyReport report;
  report.results.resize(2);
  report.results[0].outcome = Outcome::kDone;
  report.results[1].outcome = Outcome::kDone;
  report.results[1].stored = 4096;
  RunMetrics run;
  run.start = 1795687200;
  run.duration = 12.5;
  run.plan = &plan;
  run.report = &report;
  CarriedMetrics before;
  before.runs = 7;
  before.exported_bytes = 1000;
  std::string text = RenderMetrics(&run, nullptr, before);
  CHECK(Has(text, "# TYPE zrecon_last_success_timestamp_seconds gauge"));
  CHECK(Has(text, "zrecon_last_run_timestamp_seconds 1795687212.5"));
  CHECK(Has(text, "zrecon_last_run_duration_seconds 12.5"));
  CHECK(Has(text, "zrecon_last_run_success 1"));
  CHECK(Has(text, "zrecon_last_success_timestamp_seconds 1795687212.5"));
  CHECK(Has(text, "# TYPE zrecon_runs_total counter"));
  CHECK(Has(text, "zrecon_runs_total 8"));
  CHECK(Has(text, "zrecon_failed_runs_total 0"));
  CHECK(Has(text, "zrecon_exported_bytes_total 5096"));
  CHECK(Has(text, "zrecon_last_run_actions{outcome=\"done\"} 2"));
  CHECK(
      Has(text, "zrecon_last_run_zone_success{zone=\"" + kZone + "\",alias=\"web \\\"01\\\"\"} 1"));

  // The next run fails: the last success stays, the counters go on.
  CarriedMetrics carried = ParseCarriedMetrics(text);
  CHECK(carried.last_success == 1795687212.5);
  CHECK(carried.runs == 8);
  CHECK(carried.exported_bytes == 5096);
  report.results[1].outcome = Outcome::kFailed;
  report.failed_destinations = {"usb"};
  run.start += 3600;
  text = RenderMetrics(&run, nullptr, carried);
  CHECK(Has(text, "zrecon_last_run_success 0"));
  CHECK(Has(text, "zrecon_last_success_timestamp_seconds 1795687212.5"));
  CHECK(Has(text, "zrecon_runs_total 9"));
  CHECK(Has(text, "zrecon_failed_runs_total 1"));
  CHECK(Has(text, "zrecon_exported_bytes_total 5096"));
  CHECK(Has(text, "zrecon_last_run_destination_failed{destination=\"usb\"} 1"));
  CHECK(
      Has(text, "zrecon_last_run_zone_success{zone=\"" + kZone + "\",alias=\"web \\\"01\\\"\"} 0"));

  // Never succeeded: no last-success sample at all (absent, not 0).
  run.failed_early = true;
  text = RenderMetrics(&run, nullptr, CarriedMetrics());
  CHECK(text.find("zrecon_last_success_timestamp_seconds ") == std::string::npos);
}

TEST_CASE("metrics: the host's protection") {
  HostHealth h;
  h.now = 1795687200;
  h.health = Health::kWarning;
  ZoneHealth z;
  z.uuid = kZone;
  z.alias = "web01";
  z.health = Health::kWarning;
  ClassHealth hourly;
  hourly.snapshot_class = "hourly";
  hourly.newest = "zones/" + kZone + "@zrecon-hourly-x";
  hourly.age = 7200;
  z.classes.push_back(hourly);
  ClassHealth never;
  never.snapshot_class = "monthly";
  z.classes.push_back(never);
  ExportHealth usb;
  usb.destination = "usb";
  usb.snapshot_class = "daily";
  usb.reachable = true;
  usb.newest = "zones/" + kZone + "@zrecon-daily-y";
  usb.age = 3600;
  usb.chains = 2;
  z.exports.push_back(usb);
  ExportHealth nas;
  nas.destination = "nas";
  nas.snapshot_class = "daily";
  z.exports.push_back(nas);
  h.zones.push_back(z);
  std::string text = RenderMetrics(nullptr, &h, CarriedMetrics());
  CHECK(Has(text, "zrecon_health 1"));
  CHECK(Has(text, "zrecon_zone_health{zone=\"" + kZone + "\",alias=\"web01\"} 1"));
  CHECK(Has(text, "zrecon_snapshot_newest_timestamp_seconds{zone=\"" + kZone +
                      "\",alias=\"web01\",class=\"hourly\",dataset=\"zones/" + kZone +
                      "\"} 1795680000"));
  CHECK(text.find("class=\"monthly\"") == std::string::npos);  // never taken: no sample
  CHECK(Has(text, "zrecon_export_newest_timestamp_seconds{zone=\"" + kZone +
                      "\",alias=\"web01\",destination=\"usb\",class=\"daily\",dataset=\"zones/" +
                      kZone + "\"} 1795683600"));
  CHECK(Has(text,
            "zrecon_export_chains{zone=\"" + kZone + "\",alias=\"web01\",destination=\"usb\"} 2"));
  CHECK(Has(text, "zrecon_destination_reachable{destination=\"nas\"} 0"));
  CHECK(Has(text, "zrecon_destination_reachable{destination=\"usb\"} 1"));
  CHECK(text.find("zrecon_runs_total") == std::string::npos);  // status writes no run
}

TEST_CASE("metrics: the file is replaced whole; a missing one carries nothing") {
  testing::TempDir dir("zrecon-metrics");
  std::string path = dir / "zrecon.prom";
  CarriedMetrics carried;
  carried.runs = 5;
  REQUIRE(ReadCarriedMetrics(path, &carried).ok());
  CHECK(carried.runs == 0);
  REQUIRE(WriteMetricsFile(path, "zrecon_runs_total 3\nnot a metric\n").ok());
  REQUIRE(ReadCarriedMetrics(path, &carried).ok());
  CHECK(carried.runs == 3);
  CHECK(ParseCarriedMetrics("zrecon_runs_total -4\nzrecon_failed_runs_total x\n").runs == 0);
}

}  // namespace
}  // namespace zrecon
