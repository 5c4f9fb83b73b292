#ifndef ZRECON_APPLY_METRICS_H_
#define ZRECON_APPLY_METRICS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "reconciler/apply/executor.h"
#include "reconciler/plan/plan.h"
#include "reconciler/plan/status.h"
#include "reconciler/util/status.h"
#include "reconciler/util/time.h"

namespace zrecon {

// Prometheus metrics in the text exposition format, for node_exporter's
// textfile collector (`--metrics-file` of apply and status). Names and
// types follow Prometheus conventions: `_seconds`, `_bytes`, counters end
// in `_total`. The file is rewritten whole at every run; what must outlive
// a run (the last success, the counters) is carried over from the file the
// run replaces, so a failed run never erases when protection last worked.

// What a metrics file said that the next one carries on.
struct CarriedMetrics {
  double last_success = 0;    // zrecon_last_success_timestamp_seconds; 0: never
  double runs = 0;            // zrecon_runs_total
  double failed_runs = 0;     // zrecon_failed_runs_total
  double exported_bytes = 0;  // zrecon_exported_bytes_total
};

// Reads the carried values from an earlier file's text; lines it does not
// know, and a file that is not one of zrecon's, are ignored (a fresh start).
CarriedMetrics ParseCarriedMetrics(std::string_view text);

// One apply.
struct RunMetrics {
  EpochSeconds start = 0;
  double duration = 0;  // seconds
  const Plan* plan = nullptr;
  const ApplyReport* report = nullptr;
  // Set when the run failed before its first action (the host or a
  // destination could not be read, a refused plan): a failed run.
  bool failed_early = false;
};

// The metrics text: with `run` (apply), the run's gauges and the carried
// values updated by it; with `health`, the host's protection (zrecon
// status): per zone its level, per kept class the newest snapshot and per
// export rule the newest exported snapshot (of the dataset that lags most,
// named in the `dataset` label), chains per destination, and whether each
// destination was reachable. apply and status should write different files
// (each file is one writer's).
std::string RenderMetrics(const RunMetrics* run, const HostHealth* health,
                          const CarriedMetrics& carried);

// The carried values of the file at `path`: zeros when there is none yet.
// Fails when it exists but cannot be read.
Status ReadCarriedMetrics(const std::string& path, CarriedMetrics* carried);

// Replaces `path` with `text` atomically: the collector never reads half a
// file (WriteFileAtomically: a ".tmp.*" name, which node_exporter skips as
// it reads only *.prom).
Status WriteMetricsFile(const std::string& path, const std::string& text);

}  // namespace zrecon

#endif  // ZRECON_APPLY_METRICS_H_
