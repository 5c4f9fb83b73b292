#ifndef ZRECON_PLAN_PLAN_TEXT_H_
#define ZRECON_PLAN_PLAN_TEXT_H_

#include <string>

#include "reconciler/plan/plan.h"

namespace zrecon {

struct PlanTextOptions {
  bool verbose = false;  // also print notes (unmatched zones, spared snapshots)
};

// The plan for people, in the spirit of `terraform plan`: warnings first,
// then actions grouped by zone with a symbol per action (+ snapshot, > send
// or save, ~ chain tip protection, - destroy or remove), the reason and the
// exact command, then the summary line. Untrusted text (aliases, names) is
// printed escaped.
std::string RenderPlanText(const Plan& plan, const PlanTextOptions& options);

// The symbol and the label of an action kind ("+", "snapshot").
char ActionSymbol(ActionKind kind);
const char* ActionLabel(ActionKind kind);

}  // namespace zrecon

#endif  // ZRECON_PLAN_PLAN_TEXT_H_
