#include "reconciler/apply/metrics.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <map>
#include <vector>

#include "reconciler/util/files.h"
#include "reconciler/util/strings.h"

namespace zrecon {

namespace {

// A label value as the exposition format wants it.
std::string LabelValue(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

using Labels = std::vector<std::pair<std::string, std::string>>;

class Writer {
 public:
  // Starts a metric family: its HELP and TYPE lines, once.
  void Family(const std::string& name, const std::string& type, const std::string& help) {
    out_ += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
    name_ = name;
  }
  void Sample(double value, const Labels& labels = {}) {
    out_ += name_;
    if (!labels.empty()) {
      out_ += "{";
      for (size_t i = 0; i < labels.size(); ++i) {
        out_ += (i ? "," : "") + labels[i].first + "=\"" + LabelValue(labels[i].second) + "\"";
      }
      out_ += "}";
    }
    out_ += " " + fmt::format("{}", value) + "\n";
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
  std::string name_;
};

std::string DatasetOf(const std::string& snapshot) {
  return snapshot.substr(0, snapshot.find('@'));
}

void RenderRun(const RunMetrics& run, const CarriedMetrics& carried, Writer* w) {
  const ApplyReport& report = *run.report;
  const Plan& plan = *run.plan;
  const double end = static_cast<double>(run.start) + run.duration;
  const bool ok = report.ok() && !run.failed_early;
  uint64_t stored = 0;
  for (const ActionResult& r : report.results) {
    if (r.outcome == Outcome::kDone) stored += r.stored;
  }
  w->Family("zrecon_last_run_timestamp_seconds", "gauge", "When the last zrecon apply ended.");
  w->Sample(end);
  w->Family("zrecon_last_run_duration_seconds", "gauge", "How long the last zrecon apply took.");
  w->Sample(run.duration);
  w->Family("zrecon_last_run_success", "gauge",
            "1 when the last zrecon apply did all its actions, else 0.");
  w->Sample(ok ? 1 : 0);
  double last_success = ok ? end : carried.last_success;
  if (last_success > 0) {
    w->Family("zrecon_last_success_timestamp_seconds", "gauge",
              "When a zrecon apply last did all its actions (kept across failed runs).");
    w->Sample(last_success);
  }
  w->Family("zrecon_runs_total", "counter", "zrecon apply runs.");
  w->Sample(carried.runs + 1);
  w->Family("zrecon_failed_runs_total", "counter", "zrecon apply runs that did not do all.");
  w->Sample(carried.failed_runs + (ok ? 0 : 1));
  w->Family("zrecon_exported_bytes_total", "counter",
            "Bytes zrecon apply wrote to destinations (as stored).");
  w->Sample(carried.exported_bytes + static_cast<double>(stored));
  w->Family("zrecon_last_run_exported_bytes", "gauge",
            "Bytes the last zrecon apply wrote to destinations.");
  w->Sample(static_cast<double>(stored));
  w->Family("zrecon_last_run_actions", "gauge", "Actions of the last zrecon apply by outcome.");
  for (Outcome o : {Outcome::kDone, Outcome::kFailed, Outcome::kSkipped, Outcome::kNotAttempted}) {
    w->Sample(static_cast<double>(report.Count(o)), {{"outcome", OutcomeName(o)}});
  }
  std::vector<PlanZoneRef> zones = ZonesOf(plan);
  if (!zones.empty()) {
    w->Family("zrecon_last_run_zone_success", "gauge",
              "1 when the last zrecon apply did all of a zone's actions.");
    for (const PlanZoneRef& z : zones) {
      w->Sample(ZoneOutcome(plan, report, z.uuid) == Outcome::kDone ? 1 : 0,
                {{"zone", z.uuid}, {"alias", z.alias}});
    }
  }
  if (!report.failed_destinations.empty()) {
    w->Family("zrecon_last_run_destination_failed", "gauge",
              "1 for a destination whose medium failed in the last zrecon apply.");
    for (const std::string& d : report.failed_destinations) w->Sample(1, {{"destination", d}});
  }
}

void RenderHealth(const HostHealth& h, Writer* w) {
  w->Family("zrecon_health", "gauge",
            "Protection of the host as zrecon status judges it: 0 OK, 1 WARNING, 2 CRITICAL, "
            "3 UNKNOWN.");
  w->Sample(static_cast<int>(h.health));
  if (h.zones.empty()) return;
  w->Family("zrecon_zone_health", "gauge", "Protection of a zone: 0 OK .. 3 UNKNOWN.");
  for (const ZoneHealth& z : h.zones) {
    w->Sample(static_cast<int>(z.health), {{"zone", z.uuid}, {"alias", z.alias}});
  }
  w->Family("zrecon_snapshot_newest_timestamp_seconds", "gauge",
            "Name time of a zone's newest snapshot of a class, on its dataset that lags most.");
  for (const ZoneHealth& z : h.zones) {
    for (const ClassHealth& c : z.classes) {
      if (c.age < 0) continue;
      w->Sample(static_cast<double>(h.now - c.age), {{"zone", z.uuid},
                                                     {"alias", z.alias},
                                                     {"class", c.snapshot_class},
                                                     {"dataset", DatasetOf(c.newest)}});
    }
  }
  w->Family("zrecon_export_newest_timestamp_seconds", "gauge",
            "Creation time of a zone's newest exported snapshot on a destination, on its "
            "dataset that lags most.");
  for (const ZoneHealth& z : h.zones) {
    for (const ExportHealth& e : z.exports) {
      if (e.age < 0) continue;
      w->Sample(static_cast<double>(h.now - e.age), {{"zone", z.uuid},
                                                     {"alias", z.alias},
                                                     {"destination", e.destination},
                                                     {"class", e.snapshot_class},
                                                     {"dataset", DatasetOf(e.newest)}});
    }
  }
  w->Family("zrecon_export_chains", "gauge", "Export chains of a zone on a destination.");
  std::map<std::string, bool> reachable;
  for (const ZoneHealth& z : h.zones) {
    for (const ExportHealth& e : z.exports) {
      reachable[e.destination] = e.reachable;
      if (e.reachable) {
        w->Sample(static_cast<double>(e.chains),
                  {{"zone", z.uuid}, {"alias", z.alias}, {"destination", e.destination}});
      }
    }
  }
  w->Family("zrecon_destination_reachable", "gauge",
            "1 when a destination could be read (an offline medium is 0).");
  for (const auto& [name, up] : reachable) w->Sample(up ? 1 : 0, {{"destination", name}});
}

}  // namespace

CarriedMetrics ParseCarriedMetrics(std::string_view text) {
  CarriedMetrics out;
  for (std::string_view line : Split(text, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    size_t space = line.find(' ');
    if (space == std::string_view::npos) continue;
    std::string name(line.substr(0, space));
    std::string value(line.substr(space + 1));
    char* end = nullptr;
    double v = std::strtod(value.c_str(), &end);
    if (end == value.c_str() || *end != '\0' || !(v >= 0)) continue;
    if (name == "zrecon_last_success_timestamp_seconds") out.last_success = v;
    if (name == "zrecon_runs_total") out.runs = v;
    if (name == "zrecon_failed_runs_total") out.failed_runs = v;
    if (name == "zrecon_exported_bytes_total") out.exported_bytes = v;
  }
  return out;
}

std::string RenderMetrics(const RunMetrics* run, const HostHealth* health,
                          const CarriedMetrics& carried) {
  Writer w;
  if (run != nullptr) RenderRun(*run, carried, &w);
  if (health != nullptr) RenderHealth(*health, &w);
  return w.Take();
}

Status ReadCarriedMetrics(const std::string& path, CarriedMetrics* carried) {
  *carried = CarriedMetrics();
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 && errno == ENOENT) return Status::Ok();
  std::string text;
  Status s = ReadFile(path, &text);
  if (s.ok()) *carried = ParseCarriedMetrics(text);
  return s;
}

Status WriteMetricsFile(const std::string& path, const std::string& text) {
  return WriteFileAtomically(path, text).Prefixed("--metrics-file");
}

}  // namespace zrecon
