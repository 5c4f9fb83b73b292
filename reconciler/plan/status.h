#ifndef ZRECON_PLAN_STATUS_H_
#define ZRECON_PLAN_STATUS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "reconciler/plan/planner.h"
#include "reconciler/util/status.h"
#include "reconciler/util/time.h"

namespace zrecon {

// How well each protected zone is protected now, from what plan reads (the
// policy, the host, the destinations' catalogs): `zrecon status`. Pure, like
// the planner, and from the same facts; no state of its own.

// Nagios/Icinga plugin levels, in the order their exit codes have.
enum class Health { kOk = 0, kWarning = 1, kCritical = 2, kUnknown = 3 };
const char* HealthName(Health h);  // "OK", "WARNING", "CRITICAL", "UNKNOWN"
// The worse of two: CRITICAL > WARNING > UNKNOWN > OK (an unknown part does
// not hide a known failure).
Health Worse(Health a, Health b);

// Ages are judged in periods of the class concerned: older than `warn`
// periods is WARNING, older than `crit` periods CRITICAL.
struct StatusThresholds {
  double warn = 1.5;
  double crit = 3.0;
};

// One snapshot class the zone's policy keeps.
struct ClassHealth {
  std::string snapshot_class;
  int64_t period_seconds = 0;  // approximate (Duration::ApproxSeconds)
  // The newest snapshot of the class on the zone's dataset that lags most
  // ("" when a dataset has none), and its age in seconds (-1: none).
  std::string newest;
  int64_t age = -1;
  Health health = Health::kOk;
  std::string why;  // for people, when not OK
};

// One export rule of the zone's policy.
struct ExportHealth {
  std::string destination;
  std::string snapshot_class;
  bool reachable = false;
  // The newest exported snapshot of the dataset that lags most, by its
  // creation time, and that age (-1: a dataset has none).
  std::string newest;
  int64_t age = -1;
  size_t chains = 0;  // chains of the zone on the destination
  Health health = Health::kOk;
  std::string why;
};

struct ZoneHealth {
  std::string uuid;
  std::string alias;
  std::vector<ClassHealth> classes;   // by period, frequent first
  std::vector<ExportHealth> exports;  // by destination, then class
  Health health = Health::kOk;
};

struct HostHealth {
  EpochSeconds now = 0;           // what the ages are measured from
  std::vector<ZoneHealth> zones;  // the protected zones, by uuid
  // What is wrong outside any one zone: a zone matched by two entries
  // (CRITICAL: plan refuses to run), a zone left out (WARNING).
  std::vector<std::string> problems;
  Health health = Health::kOk;
};

// Fills *out from `in` (as for BuildPlan; its `commands` are not used).
// Fails only on thresholds that make no sense (warn <= 0, crit < warn).
Status ComputeHealth(const PlannerInput& in, const StatusThresholds& thresholds, HostHealth* out);

}  // namespace zrecon

#endif  // ZRECON_PLAN_STATUS_H_
