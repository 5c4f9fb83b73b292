#include "reconciler/apply/progress.h"
#include "reconciler/util/strings.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <sstream>

namespace zrecon {

namespace {

Plan OneSend() {
  Plan p;
  Action a;
  a.kind = ActionKind::kSend;
  a.zone = "85dbcafe-889a-e402-cf36-c7ffdd15e568";
  a.snapshot = "zones/u@zrecon-daily-20261126T000000Z";
  a.destination = "usb";
  a.file = "u/root/x/0001-zrecon-daily-20261126T000000Z.zfs";
  a.argv = {"zfs", "send", a.snapshot};
  p.actions.push_back(a);
  return p;
}

ActionResult Done(uint64_t bytes, double seconds) {
  ActionResult r;
  r.outcome = Outcome::kDone;
  r.bytes = bytes;
  r.stored = bytes;
  r.seconds = seconds;
  return r;
}

}  // namespace

TEST_CASE("progress: FormatBytes picks binary units") {
  CHECK(FormatBytes(17) == "17 B");
  CHECK(FormatBytes(1536) == "1.5 KiB");
  CHECK(FormatBytes(uint64_t{3} << 30) == "3.0 GiB");
}

TEST_CASE("progress: on a terminal the stream line is redrawn in place with % and ETA") {
  Plan plan = OneSend();
  std::ostringstream out;
  double now = 0;
  TextProgress p(out, true, [&] { return now; });
  p.ActionStarted(plan, 0);
  now = 2;
  p.ActionProgress(plan, 0, 100 << 20, 400 << 20);
  now = 4;
  p.ActionProgress(plan, 0, 200 << 20, 400 << 20);
  p.ActionFinished(plan, 0, Done(400 << 20, 8));
  std::string text = out.str();
  CHECK(text.find("[1/1] > send zones/u@zrecon-daily-20261126T000000Z -> usb:") == 0);
  CHECK(text.find("\r\033[K      100.0 MiB / 400.0 MiB  25%  ETA 6s  50.0 MiB/s") !=
        std::string::npos);
  CHECK(text.find("\r\033[K      200.0 MiB / 400.0 MiB  50%  ETA 4s  50.0 MiB/s") !=
        std::string::npos);
  CHECK(text.find("done: 400.0 MiB in 8.0s (50.0 MiB/s)") != std::string::npos);
}

TEST_CASE("progress: without a terminal, periodic lines and no escape codes") {
  Plan plan = OneSend();
  std::ostringstream out;
  double now = 0;
  TextProgress p(
      out, false, [&] { return now; }, 10);
  p.ActionStarted(plan, 0);
  for (int i = 1; i <= 30; ++i) {
    now = i;
    p.ActionProgress(plan, 0, static_cast<uint64_t>(i) << 20, 0);
  }
  p.ActionFinished(plan, 0, Done(30 << 20, 30));
  std::string text = out.str();
  CHECK(text.find('\r') == std::string::npos);
  CHECK(text.find("\033") == std::string::npos);
  // One line every 10 seconds: at 10, 20 and 30 s; no size, so no % or ETA.
  size_t lines = 0;
  for (size_t pos = 0; (pos = text.find(" MiB/s\n", pos)) != std::string::npos; ++pos) ++lines;
  CHECK(lines == 3);
  CHECK(text.find("done: 30.0 MiB in 30.0s (1.0 MiB/s)") != std::string::npos);
  CHECK(text.find("%") == std::string::npos);
}

TEST_CASE("progress: JSON lines carry start, progress and finish events") {
  Plan plan = OneSend();
  std::ostringstream out;
  double now = 0;
  JsonLinesProgress p(out, [&] { return now; });
  p.ActionStarted(plan, 0);
  now = 1;
  p.ActionProgress(plan, 0, 1000, 4000);
  ActionResult failed;
  failed.outcome = Outcome::kFailed;
  failed.error = "zfs send exited 1: boom";
  p.ActionFinished(plan, 0, failed);
  std::istringstream in(out.str());
  std::string line;
  std::vector<nlohmann::json> events;
  while (std::getline(in, line)) events.push_back(nlohmann::json::parse(line));
  REQUIRE(events.size() == 3);
  CHECK(events[0]["event"] == "start");
  CHECK(events[0]["kind"] == "send");
  CHECK(events[0]["argv"][1] == "send");
  CHECK(events[1]["bytes"] == 1000);
  CHECK(events[1]["expected"] == 4000);
  CHECK(events[2]["outcome"] == "failed");
  CHECK(events[2]["error"] == "zfs send exited 1: boom");
}

TEST_CASE("progress: a skipped action and the run's summary, per zone") {
  Plan plan = OneSend();
  const std::string web = plan.actions[0].zone;
  const std::string db = "0b7e9c4d-2f1a-4d3e-9a8b-6c5d4e3f2a10";
  plan.zones[web] = PlanZone{"web01", "joyent", "img"};
  plan.zones[db] = PlanZone{"db01", "joyent", "img"};
  Action destroy;
  destroy.kind = ActionKind::kDestroy;
  destroy.zone = web;
  destroy.snapshots = {"zones/u@zrecon-daily-20261101T000000Z"};
  plan.actions.push_back(destroy);
  Action snap;
  snap.kind = ActionKind::kSnapshot;
  snap.zone = db;
  snap.snapshots = {"zones/d@zrecon-daily-20261126T000000Z"};
  plan.actions.push_back(snap);
  ApplyReport report;
  report.results.resize(3);
  report.results[0].outcome = Outcome::kFailed;
  report.results[0].error = "usb:x: No space left on device";
  report.results[1].outcome = Outcome::kSkipped;
  report.results[1].error = "zone " + web + " stopped: action [1] of it did not complete";
  report.results[2].outcome = Outcome::kDone;
  report.failed_destinations = {"usb"};
  CHECK(ZoneOutcome(plan, report, web) == Outcome::kFailed);
  CHECK(ZoneOutcome(plan, report, db) == Outcome::kDone);
  CHECK(ZoneOutcome(plan, report, "absent") == Outcome::kDone);
  CHECK_FALSE(report.ok());

  std::ostringstream out;
  JsonLinesProgress p(out, [] { return 0.0; });
  p.ActionSkipped(plan, 1, report.results[1]);
  p.RunFinished(plan, report);
  std::istringstream in(out.str());
  std::string line;
  std::vector<nlohmann::json> events;
  while (std::getline(in, line)) events.push_back(nlohmann::json::parse(line));
  REQUIRE(events.size() == 2);
  CHECK(events[0] ==
        nlohmann::json::parse(R"({"event": "skip", "index": 1, "kind": "destroy",
      "zone": ")" + web + R"(", "reason": "zone )" +
                              web + R"( stopped: action [1] of it did not complete"})"));
  CHECK(events[1]["event"] == "summary");
  CHECK(events[1]["outcome"] == "failed");
  CHECK(events[1]["zones"] == nlohmann::json::parse(R"([{"zone": ")" + web + R"(", "alias": "web01",
      "outcome": "failed"}, {"zone": ")" + db + R"(", "alias": "db01", "outcome": "done"}])"));
  CHECK(events[1]["failed_destinations"] == nlohmann::json::parse(R"(["usb"])"));

  std::ostringstream text;
  TextProgress t(text, false, [] { return 0.0; });
  t.ActionSkipped(plan, 1, report.results[1]);
  CHECK(text.str() == "[2/3] skipped: destroy zones/u@zrecon-daily-20261101T000000Z\n      (zone " +
                          web + " stopped: action [1] of it did not complete)\n");
}

}  // namespace zrecon
