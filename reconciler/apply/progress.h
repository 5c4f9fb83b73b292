#ifndef ZRECON_APPLY_PROGRESS_H_
#define ZRECON_APPLY_PROGRESS_H_

#include <cstdint>
#include <functional>
#include <ostream>

#include "reconciler/apply/executor.h"

namespace zrecon {

// Human progress for apply: one line per action; for streams, bytes, rate,
// and percentage with ETA when the size is known. On a terminal the stream
// line is a live bar redrawn in place; otherwise a progress line is printed
// at most every `line_interval` seconds.
class TextProgress : public ApplyObserver {
 public:
  TextProgress(std::ostream& out, bool terminal, std::function<double()> monotonic,
               double line_interval = 10);
  void ActionStarted(const Plan& plan, size_t index) override;
  void ActionProgress(const Plan& plan, size_t index, uint64_t bytes, uint64_t expected) override;
  void ActionFinished(const Plan& plan, size_t index, const ActionResult& result) override;
  void ActionSkipped(const Plan& plan, size_t index, const ActionResult& result) override;

 private:
  std::ostream& out_;
  bool terminal_;
  std::function<double()> monotonic_;
  double line_interval_;
  double started_ = 0;
  double last_line_ = 0;
  bool bar_drawn_ = false;
};

// Machine progress: one JSON object per line, for monitoring and log
// shipping. Events: start, progress, finish (outcome done or failed), skip
// (an action not run: its reason), interrupted, and last a summary: the
// run's outcome ("ok", "failed", "interrupted"), each zone of the plan
// with its outcome (ZoneOutcome) and the destinations whose medium failed.
class JsonLinesProgress : public ApplyObserver {
 public:
  JsonLinesProgress(std::ostream& out, std::function<double()> monotonic);
  void ActionStarted(const Plan& plan, size_t index) override;
  void ActionProgress(const Plan& plan, size_t index, uint64_t bytes, uint64_t expected) override;
  void ActionFinished(const Plan& plan, size_t index, const ActionResult& result) override;
  void ActionSkipped(const Plan& plan, size_t index, const ActionResult& result) override;
  void RunInterrupted(const Plan& plan, const std::string& reason) override;
  void RunFinished(const Plan& plan, const ApplyReport& report) override;

 private:
  std::ostream& out_;
  std::function<double()> monotonic_;
  double started_ = 0;
};

}  // namespace zrecon

#endif  // ZRECON_APPLY_PROGRESS_H_
