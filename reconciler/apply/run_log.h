#ifndef ZRECON_APPLY_RUN_LOG_H_
#define ZRECON_APPLY_RUN_LOG_H_

#include <string>

#include "reconciler/apply/metrics.h"
#include "reconciler/util/status.h"

namespace zrecon {

// The run log: one JSON object per apply, on one line, appended to a file
// that persists (`apply --run-log PATH`; rotate it with logadm). Fields:
//   start, end        RFC 3339 UTC; duration_seconds
//   outcome           "ok", "failed" or "interrupted"
//   error             why the run failed before its first action (else absent)
//   actions           {"done": n, "failed": n, "skipped": n, "not attempted": n}
//   exported_bytes    stored on destinations by this run
//   zones             [{"zone", "alias", "outcome", "errors": ["[i] kind: message"]}]
//   failed_destinations  [names]
std::string RunRecord(const RunMetrics& run, const std::string& error);

// Appends `record` and a newline on an O_APPEND descriptor (the file is
// created 0644 when missing), in one write(2) as a regular file takes it,
// so that runs never interleave within a line; then fsyncs it.
Status AppendRunRecord(const std::string& path, const std::string& record);

}  // namespace zrecon

#endif  // ZRECON_APPLY_RUN_LOG_H_
