#include <nlohmann/json.hpp>

#include <iostream>
#include <string>
#include <vector>

#include "reconciler/apply/metrics.h"
#include "reconciler/cli/cli.h"
#include "reconciler/cli/commands.h"
#include "reconciler/plan/managed.h"
#include "reconciler/plan/status.h"
#include "reconciler/util/strings.h"

namespace zrecon {

namespace {

using Json = nlohmann::ordered_json;

std::string ZoneName(const ZoneHealth& z) {
  return z.alias.empty() ? z.uuid : Printable(z.alias) + " (" + z.uuid + ")";
}

std::string Age(int64_t age) { return age < 0 ? "none" : FormatAge(age) + " ago"; }

// The first line as a monitoring plugin prints it, then the long output.
void PrintText(const HostHealth& h) {
  size_t counts[4] = {0, 0, 0, 0};
  for (const ZoneHealth& z : h.zones) ++counts[static_cast<int>(z.health)];
  std::cout << "ZRECON " << HealthName(h.health) << " - " << h.zones.size()
            << (h.zones.size() == 1 ? " zone" : " zones") << " protected: " << counts[0] << " ok, "
            << counts[1] << " warning, " << counts[2] << " critical, " << counts[3] << " unknown\n";
  for (const std::string& p : h.problems) std::cout << "problem: " << Printable(p) << "\n";
  for (const ZoneHealth& z : h.zones) {
    for (const ClassHealth& c : z.classes) {
      if (c.health != Health::kOk) {
        std::cout << HealthName(c.health) << ": " << ZoneName(z) << ": " << Printable(c.why)
                  << "\n";
      }
    }
    for (const ExportHealth& e : z.exports) {
      if (e.health != Health::kOk) {
        std::cout << HealthName(e.health) << ": " << ZoneName(z) << ": " << Printable(e.why)
                  << "\n";
      }
    }
  }
  for (const ZoneHealth& z : h.zones) {
    std::cout << "\nzone " << ZoneName(z) << ": " << HealthName(z.health) << "\n";
    for (const ClassHealth& c : z.classes) {
      std::cout << "  snapshots " << c.snapshot_class << ": newest " << Age(c.age)
                << (c.newest.empty() ? "" : " (" + Printable(c.newest) + ")") << ", "
                << HealthName(c.health) << "\n";
    }
    for (const ExportHealth& e : z.exports) {
      std::cout << "  export " << e.snapshot_class << " to " << e.destination << ": ";
      if (!e.reachable) {
        std::cout << "unreachable, " << HealthName(e.health) << "\n";
        continue;
      }
      std::cout << "newest " << Age(e.age)
                << (e.newest.empty() ? "" : " (" + Printable(e.newest) + ")") << ", " << e.chains
                << (e.chains == 1 ? " chain" : " chains") << ", " << HealthName(e.health) << "\n";
    }
  }
}

Json ToJson(const HostHealth& h, EpochSeconds now) {
  Json zones = Json::array();
  for (const ZoneHealth& z : h.zones) {
    Json classes = Json::array();
    for (const ClassHealth& c : z.classes) {
      classes.push_back({{"class", c.snapshot_class},
                         {"period_seconds", c.period_seconds},
                         {"newest", c.newest},
                         {"age_seconds", c.age},
                         {"health", HealthName(c.health)},
                         {"why", c.why}});
    }
    Json exports = Json::array();
    for (const ExportHealth& e : z.exports) {
      exports.push_back({{"destination", e.destination},
                         {"class", e.snapshot_class},
                         {"reachable", e.reachable},
                         {"newest", e.newest},
                         {"age_seconds", e.age},
                         {"chains", e.chains},
                         {"health", HealthName(e.health)},
                         {"why", e.why}});
    }
    zones.push_back({{"uuid", z.uuid},
                     {"alias", z.alias},
                     {"health", HealthName(z.health)},
                     {"snapshots", classes},
                     {"exports", exports}});
  }
  return Json{{"health", HealthName(h.health)},
              {"exit_code", static_cast<int>(h.health)},
              {"now", FormatRfc3339(now)},
              {"problems", h.problems},
              {"zones", zones}};
}

}  // namespace

int RunStatus(const StatusFlags& flags) {
  Planned read;
  PlannerInput input;
  StatusThresholds thresholds;
  thresholds.warn = flags.warn;
  thresholds.crit = flags.crit;
  HostHealth health;
  Status s = ReadPlanInputs(flags.planning, &read, &input);
  if (s.ok()) s = ComputeHealth(input, thresholds, &health);
  if (!flags.metrics_file.empty()) {
    HostHealth unknown;
    unknown.health = Health::kUnknown;
    Status written = WriteMetricsFile(
        flags.metrics_file, RenderMetrics(nullptr, s.ok() ? &health : &unknown, CarriedMetrics()));
    if (!written.ok()) std::cerr << "zrecon: " << written.message() << "\n";
  }
  if (!s.ok()) {
    // A monitoring system must see "cannot tell", not a state.
    if (flags.json) {
      std::cout << Json{{"health", "UNKNOWN"}, {"exit_code", 3}, {"error", s.message()}}.dump(
                       2, ' ', false, Json::error_handler_t::replace)
                << "\n";
    } else {
      std::cout << "ZRECON UNKNOWN - " << Printable(s.message()) << "\n";
    }
    return static_cast<int>(Health::kUnknown);
  }
  if (flags.json) {
    std::cout << ToJson(health, input.now).dump(2, ' ', false, Json::error_handler_t::replace)
              << "\n";
  } else {
    PrintText(health);
  }
  return static_cast<int>(health.health);
}

}  // namespace zrecon
