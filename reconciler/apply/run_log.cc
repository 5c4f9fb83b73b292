#include "reconciler/apply/run_log.h"

#include <fcntl.h>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cmath>
#include <map>
#include <vector>

#include "reconciler/plan/plan_text.h"
#include "reconciler/util/fd.h"
#include "reconciler/util/time.h"

namespace zrecon {

std::string RunRecord(const RunMetrics& run, const std::string& error) {
  using Json = nlohmann::ordered_json;
  const Plan& plan = *run.plan;
  const ApplyReport& report = *run.report;
  const EpochSeconds end = run.start + static_cast<EpochSeconds>(std::llround(run.duration));
  std::string outcome = !report.interrupted.empty()          ? "interrupted"
                        : (report.ok() && !run.failed_early) ? "ok"
                                                             : "failed";
  Json actions = Json::object();
  uint64_t stored = 0;
  for (Outcome o : {Outcome::kDone, Outcome::kFailed, Outcome::kSkipped, Outcome::kNotAttempted}) {
    actions[OutcomeName(o)] = report.Count(o);
  }
  for (const ActionResult& r : report.results) {
    if (r.outcome == Outcome::kDone) stored += r.stored;
  }
  std::map<std::string, Json> errors;
  for (size_t i = 0; i < plan.actions.size() && i < report.results.size(); ++i) {
    const Action& a = plan.actions[i];
    if (report.results[i].outcome != Outcome::kFailed) continue;
    errors[a.zone].push_back("[" + std::to_string(i + 1) + "] " + ActionLabel(a.kind) + ": " +
                             report.results[i].error);
  }
  Json zones = Json::array();
  for (const PlanZoneRef& z : ZonesOf(plan)) {
    auto e = errors.find(z.uuid);
    zones.push_back({{"zone", z.uuid},
                     {"alias", z.alias},
                     {"outcome", OutcomeName(ZoneOutcome(plan, report, z.uuid))},
                     {"errors", e == errors.end() ? Json::array() : e->second}});
  }
  Json j = {{"start", FormatRfc3339(run.start)},
            {"end", FormatRfc3339(end)},
            {"duration_seconds", run.duration},
            {"outcome", outcome}};
  if (!error.empty()) j["error"] = error;
  j["actions"] = actions;
  j["exported_bytes"] = stored;
  j["zones"] = zones;
  j["failed_destinations"] = report.failed_destinations;
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Status AppendRunRecord(const std::string& path, const std::string& record) {
  Fd fd(OpenPath(path, O_WRONLY | O_CREAT | O_APPEND, 0644));
  if (!fd.valid()) return SystemError("--run-log: cannot open", path, errno);
  const std::string line = record + "\n";
  if (int err = WriteFully(fd.get(), line.data(), line.size())) {
    return SystemError("--run-log: cannot write", path, err);
  }
  if (int err = FsyncFd(fd.get())) return SystemError("--run-log: cannot fsync", path, err);
  if (int err = fd.Close()) return SystemError("--run-log: cannot close", path, err);
  return Status::Ok();
}

}  // namespace zrecon
