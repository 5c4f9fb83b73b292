#include "reconciler/apply/progress.h"

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reconciler/plan/plan_text.h"
#include "reconciler/util/strings.h"

namespace zrecon {

namespace {

std::string Subject(const Action& a) {
  switch (a.kind) {
    case ActionKind::kSnapshot:
    case ActionKind::kDestroy:
      return a.snapshots.size() == 1
                 ? a.snapshots[0]
                 : fmt::format("{} (+{} more)", a.snapshots[0], a.snapshots.size() - 1);
    case ActionKind::kMarkTip:
    case ActionKind::kHold:
    case ActionKind::kRelease:
      return a.snapshots.empty() ? std::string() : a.snapshots[0];
    case ActionKind::kSend:
    case ActionKind::kSaveImage:
      return a.snapshot + " -> " + a.destination + ":" + a.file;
    case ActionKind::kSaveImageRecord:
      return a.stream.image_uuid + " -> " + a.destination + ":" + a.file;
    case ActionKind::kSaveConfig:
      return a.zone + " -> " + a.destination + ":" + a.file;
    case ActionKind::kRemoveExport:
      return a.destination + ":" + a.chain_id;
    case ActionKind::kRemoveLoose:
      return a.destination + ":" + a.zone + " (" + std::to_string(a.files.size()) +
             (a.files.size() == 1 ? " file)" : " files)");
    case ActionKind::kHook:
      return a.hook + " of zone " + a.zone;
  }
  return {};
}

std::string Rate(uint64_t bytes, double seconds) {
  if (seconds <= 0) return "";
  return FormatBytes(static_cast<uint64_t>(static_cast<double>(bytes) / seconds)) + "/s";
}

std::string ProgressLine(uint64_t bytes, uint64_t expected, double seconds) {
  std::string line = FormatBytes(bytes);
  if (expected > 0) {
    double fraction = std::min(1.0, static_cast<double>(bytes) / static_cast<double>(expected));
    line += fmt::format(" / {} {:3.0f}%", FormatBytes(expected), fraction * 100);
    if (bytes > 0 && seconds > 0 && fraction < 1) {
      double eta = seconds * (1 - fraction) / fraction;
      line += fmt::format("  ETA {:.0f}s", eta);
    }
  }
  std::string rate = Rate(bytes, seconds);
  if (!rate.empty()) line += "  " + rate;
  return line;
}

}  // namespace

TextProgress::TextProgress(std::ostream& out, bool terminal, std::function<double()> monotonic,
                           double line_interval)
    : out_(out),
      terminal_(terminal),
      monotonic_(std::move(monotonic)),
      line_interval_(line_interval) {}

void TextProgress::ActionStarted(const Plan& plan, size_t index) {
  const Action& a = plan.actions[index];
  started_ = last_line_ = monotonic_();
  bar_drawn_ = false;
  out_ << fmt::format("[{}/{}] {} {} {}\n", index + 1, plan.actions.size(), ActionSymbol(a.kind),
                      ActionLabel(a.kind), Printable(Subject(a)));
  out_.flush();
}

void TextProgress::ActionProgress(const Plan&, size_t, uint64_t bytes, uint64_t expected) {
  double now = monotonic_();
  std::string line = ProgressLine(bytes, expected, now - started_);
  if (terminal_) {
    out_ << "\r\033[K      " << line;
    bar_drawn_ = true;
    out_.flush();
  } else if (now - last_line_ >= line_interval_) {
    last_line_ = now;
    out_ << "      " << line << "\n";
    out_.flush();
  }
}

void TextProgress::ActionFinished(const Plan& plan, size_t index, const ActionResult& result) {
  const Action& a = plan.actions[index];
  if (bar_drawn_) out_ << "\r\033[K";
  bool stream = a.kind == ActionKind::kSend || a.kind == ActionKind::kSaveImage ||
                a.kind == ActionKind::kSaveConfig;
  if (!result.retried_after.empty()) {
    out_ << "      retried after: " << Printable(result.retried_after) << "\n";
  }
  if (result.outcome == Outcome::kDone) {
    if (stream) {
      out_ << fmt::format("      done: {} in {:.1f}s", FormatBytes(result.bytes), result.seconds);
      std::string rate = Rate(result.bytes, result.seconds);
      if (!rate.empty()) out_ << " (" << rate << ")";
      if (result.stored != result.bytes) out_ << ", " << FormatBytes(result.stored) << " stored";
      out_ << "\n";
    }
  } else {
    out_ << "      FAILED: " << Printable(result.error) << "\n";
  }
  out_.flush();
}

void TextProgress::ActionSkipped(const Plan& plan, size_t index, const ActionResult& result) {
  const Action& a = plan.actions[index];
  out_ << fmt::format("[{}/{}] skipped: {} {}\n      ({})\n", index + 1, plan.actions.size(),
                      ActionLabel(a.kind), Printable(Subject(a)), Printable(result.error));
  out_.flush();
}

JsonLinesProgress::JsonLinesProgress(std::ostream& out, std::function<double()> monotonic)
    : out_(out), monotonic_(std::move(monotonic)) {}

void JsonLinesProgress::ActionStarted(const Plan& plan, size_t index) {
  const Action& a = plan.actions[index];
  started_ = monotonic_();
  nlohmann::ordered_json j = {{"event", "start"},
                              {"index", index},
                              {"total", plan.actions.size()},
                              {"kind", ActionKindName(a.kind)},
                              {"zone", a.zone},
                              {"argv", a.argv}};
  out_ << j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
  out_.flush();
}

void JsonLinesProgress::ActionProgress(const Plan&, size_t index, uint64_t bytes,
                                       uint64_t expected) {
  double seconds = monotonic_() - started_;
  nlohmann::ordered_json j = {{"event", "progress"},
                              {"index", index},
                              {"bytes", bytes},
                              {"expected", expected},
                              {"seconds", seconds}};
  out_ << j.dump() << "\n";
  out_.flush();
}

void JsonLinesProgress::ActionFinished(const Plan&, size_t index, const ActionResult& result) {
  nlohmann::ordered_json j = {
      {"event", "finish"},     {"index", index},          {"outcome", OutcomeName(result.outcome)},
      {"bytes", result.bytes}, {"stored", result.stored}, {"seconds", result.seconds}};
  if (!result.error.empty()) j["error"] = result.error;
  if (!result.retried_after.empty()) j["retried_after"] = result.retried_after;
  out_ << j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
  out_.flush();
}

void JsonLinesProgress::ActionSkipped(const Plan& plan, size_t index, const ActionResult& result) {
  const Action& a = plan.actions[index];
  nlohmann::ordered_json j = {{"event", "skip"},
                              {"index", index},
                              {"kind", ActionKindName(a.kind)},
                              {"zone", a.zone},
                              {"reason", result.error}};
  out_ << j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
  out_.flush();
}

void JsonLinesProgress::RunFinished(const Plan& plan, const ApplyReport& report) {
  nlohmann::ordered_json zones = nlohmann::ordered_json::array();
  for (const PlanZoneRef& z : ZonesOf(plan)) {
    zones.push_back({{"zone", z.uuid},
                     {"alias", z.alias},
                     {"outcome", OutcomeName(ZoneOutcome(plan, report, z.uuid))}});
  }
  std::string outcome =
      !report.interrupted.empty() ? "interrupted" : (report.ok() ? "ok" : "failed");
  nlohmann::ordered_json j = {{"event", "summary"},
                              {"outcome", outcome},
                              {"zones", zones},
                              {"failed_destinations", report.failed_destinations}};
  out_ << j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
  out_.flush();
}

void JsonLinesProgress::RunInterrupted(const Plan&, const std::string& reason) {
  nlohmann::ordered_json j = {{"event", "interrupted"}, {"reason", reason}};
  out_ << j.dump() << "\n";
  out_.flush();
}

}  // namespace zrecon
