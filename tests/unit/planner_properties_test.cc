// Property tests of the planner's safety invariants (planner.h) on
// thousands of random hosts (random_host.h). BuildPlan may refuse only a
// zone matched twice; every plan it builds must touch only zrecon's
// snapshots and destroy only unprotected ones, never destroy anything but
// snapshots, honour limits.max_destroy, be deterministic and survive a JSON
// round trip, and converge: once applied (plan_simulator.h), the same
// policy at the same `now` has nothing left to do.
//
// ZRECON_PROPERTY_CASES=N runs N cases (default 2000); case i uses seed
// ZRECON_PROPERTY_SEED+i (default 1). A failure prints its seed:
//   ZRECON_PROPERTY_SEED=<seed> ZRECON_PROPERTY_CASES=1 zrecon_unit_tests -tc='planner properties*'
// replays it; ZRECON_PROPERTY_VERBOSE=1 adds the whole inventory and plan.

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "reconciler/plan/plan_json.h"
#include "reconciler/plan/plan_text.h"
#include "reconciler/plan/planner.h"
#include "reconciler/policy/naming.h"
#include "reconciler/util/strings.h"
#include "tests/unit/plan_simulator.h"
#include "tests/unit/random_host.h"
#include "tests/unit/test_builders.h"

namespace zrecon {
namespace {

using testing::GenerateCase;
using testing::PlanSimulator;
using testing::RandomCase;

constexpr uint64_t kDefaultFirstSeed = 1;
constexpr uint64_t kDefaultCases = 2000;
constexpr size_t kFailuresShown = 3;  // per property, each with its context
constexpr size_t kSeedsListed = 40;
constexpr uint64_t kDecodedSample = 200;  // cases whose catalogs are decoded

enum class Property {
  kRefusesOnlyDoubleMatches,
  kOwnershipAndSafeDestroys,
  kOnlySnapshotsDestroyed,
  kDestroyLimit,
  kDeterminism,
  kConvergence,
};

// A broken property in one plan, with the datasets whose state explains it.
struct Violation {
  std::string what;
  std::set<std::string> datasets;
};
using Violations = std::vector<Violation>;

Violation Only(std::string what) { return Violation{std::move(what), {}}; }

// --- settings -------------------------------------------------------------

struct Settings {
  uint64_t first_seed = kDefaultFirstSeed;
  uint64_t cases = kDefaultCases;
  bool verbose = false;
};

bool ReadEnvNumber(const char* name, uint64_t* value, std::string* error) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return true;
  if (ParseUint64(text, value)) return true;
  *error = std::string(name) + "=\"" + text + "\" is not a non-negative decimal integer";
  return false;
}

bool ReadSettings(Settings* s, std::string* error) {
  const char* verbose = std::getenv("ZRECON_PROPERTY_VERBOSE");
  s->verbose = verbose != nullptr && std::string(verbose) == "1";
  return ReadEnvNumber("ZRECON_PROPERTY_SEED", &s->first_seed, error) &&
         ReadEnvNumber("ZRECON_PROPERTY_CASES", &s->cases, error);
}

// --- helpers --------------------------------------------------------------

std::string DatasetOf(const std::string& full) { return full.substr(0, full.find('@')); }
std::string ShortOf(const std::string& full) { return full.substr(full.find('@') + 1); }

std::string Describe(size_t index, const Action& a) {
  std::string target = a.snapshots.empty() ? a.snapshot : Join(a.snapshots, " ");
  if (a.kind == ActionKind::kRemoveExport) target = a.destination + ":" + a.chain_id;
  return "#" + std::to_string(index) + " " + ActionKindName(a.kind) + " " + target +
         (a.property_value.empty() ? "" : " =" + a.property_value) + " (" + a.reason + ")";
}

Status BuildCasePlan(const RandomCase& c, const Inventory& inv, const Catalogs& catalogs,
                     Plan* out) {
  PlannerInput in;
  in.policy = &c.policy;
  in.inventory = &inv;
  in.catalogs = &catalogs;
  in.now = c.now;
  in.host = c.host;
  in.commands.dialect = c.dialect;
  return BuildPlan(in, out);
}

// For each (destination, dataset) the current chain tip of every reachable
// catalog, when that very snapshot (same guid) is on the host.
std::map<std::string, std::set<std::string>> CatalogTips(const RandomCase& c) {
  std::map<std::string, std::set<std::string>> tips;  // full name -> destinations
  for (const auto& [dest, cat] : c.catalogs) {
    if (!cat.reachable) continue;
    for (const auto& [uuid, manifest] : cat.zones) {
      std::map<std::string, const ChainLink*> current;
      for (const Chain& chain : manifest.chains) {
        if (!chain.links.empty()) current[chain.dataset] = chain.tip();
      }
      for (const auto& [dataset, link] : current) {
        std::string full = dataset + "@" + link->snapshot;
        const Snapshot* s = c.inventory.FindSnapshot(full);
        if (s != nullptr && s->guid == link->guid) tips[full].insert(dest);
      }
    }
  }
  return tips;
}

// The newest managed snapshot of every dataset, counting those the plan
// creates: latest name time; at equal times planned after existing, then
// the later createtxg.
std::map<std::string, std::string> NewestManaged(const RandomCase& c, const Plan& plan,
                                                 const NamingTemplate& naming) {
  using Key = std::tuple<EpochSeconds, int, uint64_t>;
  std::map<std::string, std::pair<Key, std::string>> newest;
  auto offer = [&](const std::string& dataset, const std::string& name, int planned, uint64_t txg) {
    std::string_view cls;
    EpochSeconds t = 0;
    if (!naming.Parse(name, &cls, &t)) return;
    Key key{t, planned, txg};
    auto it = newest.find(dataset);
    if (it == newest.end() || it->second.first < key) newest[dataset] = {key, name};
  };
  for (const Dataset& d : c.inventory.datasets) {
    for (const Snapshot& s : d.snapshots) offer(d.name, s.name, 0, s.createtxg);
  }
  for (const Action& a : plan.actions) {
    if (a.kind != ActionKind::kSnapshot) continue;
    for (const std::string& full : a.snapshots) offer(DatasetOf(full), ShortOf(full), 1, 0);
  }
  std::map<std::string, std::string> out;
  for (const auto& [dataset, entry] : newest) out[dataset] = entry.second;
  return out;
}

// --- property 1: only zrecon's snapshots are touched; destroys are safe ----

// Walks the plan in order: a mark, hold or release must be of a zrecon
// snapshot, and a destroy must break no protection, given what the actions
// before it did.
class DestroyChecker {
 public:
  DestroyChecker(const RandomCase& c, const Plan& plan) : c_(c), plan_(plan) {
    std::string why;
    NamingTemplate::Compile(c.policy.naming, c.policy.ClassNames(), &naming_, &why);
    newest_ = NewestManaged(c, plan, naming_);
    catalog_tips_ = CatalogTips(c);
    for (const Action& a : plan.actions) {
      if (a.kind == ActionKind::kMarkTip && !a.property_value.empty()) {
        marked_by_plan_.insert(a.snapshots[0]);
      }
    }
  }

  Violations Run() {
    Violations out;
    for (size_t i = 0; i < plan_.actions.size(); ++i) {
      const Action& a = plan_.actions[i];
      bool tip_change = a.kind == ActionKind::kMarkTip || a.kind == ActionKind::kHold ||
                        a.kind == ActionKind::kRelease;
      if (tip_change && !Ours(a.snapshots[0])) {
        out.push_back({Describe(i, a) + " touches a snapshot that is not zrecon's",
                       {DatasetOf(a.snapshots[0])}});
      }
      if (a.kind == ActionKind::kDestroy) {
        for (const std::string& full : a.snapshots) {
          std::vector<std::string> why = Reasons(full);
          if (!why.empty()) {
            out.push_back(
                {Describe(i, a) + " destroys " + full + ": " + Join(why, "; "), {DatasetOf(full)}});
          }
          destroyed_.insert(full);
        }
      }
      Record(a);
    }
    return out;
  }

 private:
  void Record(const Action& a) {
    if (a.kind == ActionKind::kHold) ++holds_added_[a.snapshots[0]];
    if (a.kind == ActionKind::kRelease) ++holds_released_[a.snapshots[0]];
    if (a.kind == ActionKind::kMarkTip && a.property_value.empty()) {
      marks_cleared_.insert(a.snapshots[0]);
    }
    if (a.kind == ActionKind::kSend) sent_.insert({a.destination, a.stream.dataset});
  }

  bool Ours(const std::string& full) const {
    std::string_view cls;
    EpochSeconds t;
    return !c_.foreign.count(full) && naming_.Parse(ShortOf(full), &cls, &t);
  }

  std::vector<std::string> Reasons(const std::string& full) {
    std::vector<std::string> why;
    std::string dataset = DatasetOf(full), name = ShortOf(full);
    std::string_view cls;
    EpochSeconds t;
    if (c_.foreign.count(full)) why.push_back("it is another tool's snapshot");
    if (!naming_.Parse(name, &cls, &t)) why.push_back("its name is outside the naming template");
    const Snapshot* s = c_.inventory.FindSnapshot(full);
    if (s == nullptr) why.push_back("it is not on the host (planned by this plan?)");
    if (destroyed_.count(full)) why.push_back("it is destroyed twice");
    if (s == nullptr) return why;
    int64_t holds = s->userrefs + holds_added_[full] - holds_released_[full];
    if (holds > 0) {
      why.push_back("it is held (userrefs " + std::to_string(s->userrefs) + ", " +
                    std::to_string(holds_released_[full]) + " released before)");
    }
    if (c_.inventory.IsCloneOrigin(full)) why.push_back("it is the origin of a clone");
    if (!s->exported.empty() && !marks_cleared_.count(full)) {
      why.push_back("it is a chain tip by its mark (zrecon:exported=" + s->exported + ")");
    }
    if (marked_by_plan_.count(full)) why.push_back("this plan marks it as a chain tip");
    auto tip = catalog_tips_.find(full);
    for (const std::string& dest :
         tip == catalog_tips_.end() ? std::set<std::string>{} : tip->second) {
      if (!sent_.count({dest, dataset})) {
        why.push_back("it is the current chain tip in " + dest + "'s catalog, and nothing newer " +
                      "was sent there before");
      }
    }
    auto newest = newest_.find(dataset);
    if (newest != newest_.end() && newest->second == name) {
      why.push_back("it is the newest managed snapshot of its dataset");
    }
    return why;
  }

  const RandomCase& c_;
  const Plan& plan_;
  NamingTemplate naming_;
  std::map<std::string, std::string> newest_;
  std::map<std::string, std::set<std::string>> catalog_tips_;
  std::set<std::string> marked_by_plan_;
  std::map<std::string, int64_t> holds_added_, holds_released_;
  std::set<std::string> marks_cleared_;
  std::set<std::pair<std::string, std::string>> sent_;  // (destination, dataset)
  std::set<std::string> destroyed_;
};

// --- property 2: nothing but snapshots is destroyed -------------------------

// The zfs subcommands each kind may run, and the only flag each allows.
bool AllowedZfs(ActionKind kind, const Argv& argv, std::string* why) {
  static const std::map<ActionKind, std::set<std::string>> kSubcommands = {
      {ActionKind::kSnapshot, {"snapshot"}}, {ActionKind::kSaveImage, {"send"}},
      {ActionKind::kSend, {"send"}},         {ActionKind::kMarkTip, {"set", "inherit"}},
      {ActionKind::kHold, {"hold"}},         {ActionKind::kRelease, {"release"}},
      {ActionKind::kDestroy, {"destroy"}}};
  static const std::map<std::string, std::string> kFlag = {{"snapshot", "-r"}, {"send", "-i"}};
  auto allowed = kSubcommands.find(kind);
  if (argv.size() < 3 || allowed == kSubcommands.end() || !allowed->second.count(argv[1])) {
    *why = "runs `zfs " + (argv.size() > 1 ? argv[1] : std::string()) + "` for a " +
           ActionKindName(kind) + " action";
    return false;
  }
  for (size_t i = 2; i < argv.size(); ++i) {
    auto flag = kFlag.find(argv[1]);
    bool is_flag = !argv[i].empty() && argv[i][0] == '-';
    if (is_flag && (flag == kFlag.end() || argv[i] != flag->second || i != 2)) {
      *why = "passes flag " + argv[i] + " to zfs " + argv[1];
      return false;
    }
  }
  if (argv[1] == "destroy" && (argv.size() != 3 || argv[2].find('@') == std::string::npos)) {
    *why = "destroys something that is not a snapshot: " + ShellJoin(argv);
    return false;
  }
  return true;
}

Violations CheckOnlySnapshotsDestroyed(const Plan& plan) {
  Violations out;
  for (size_t i = 0; i < plan.actions.size(); ++i) {
    const Action& a = plan.actions[i];
    std::string why;
    if (a.argv.empty()) {
      if (a.kind != ActionKind::kRemoveExport) why = "has no command";
    } else if (a.argv[0] == plan.vmadm) {
      if (a.kind != ActionKind::kSaveConfig || a.argv != Argv{plan.vmadm, "get", a.zone}) {
        why = "runs " + ShellJoin(a.argv);
      }
    } else if (a.argv[0] == "imgadm") {
      // Only ever reading imgadm's record of an image.
      if (a.kind != ActionKind::kSaveImageRecord || a.argv.size() != 5 || a.argv[1] != "get") {
        why = "runs " + ShellJoin(a.argv);
      }
    } else if (a.argv[0] != plan.zfs) {
      why = "runs " + ShellJoin(a.argv);
    } else {
      AllowedZfs(a.kind, a.argv, &why);
    }
    if (a.kind == ActionKind::kRemoveExport && !a.argv.empty()) why = "runs a command";
    if (!why.empty()) out.push_back({Describe(i, a) + " " + why, {}});
  }
  return out;
}

// --- property 3: destroys within limits.max_destroy or flagged --------------

Violations CheckDestroyLimit(const Policy& policy, const Plan& plan) {
  int destroys = 0;
  for (const Action& a : plan.actions) {
    if (a.kind == ActionKind::kDestroy) destroys += static_cast<int>(a.snapshots.size());
  }
  bool over = destroys > policy.max_destroy;
  bool warned = std::any_of(plan.warnings.begin(), plan.warnings.end(), [](const std::string& w) {
    return w.find("limits.max_destroy") != std::string::npos;
  });
  std::string state = std::to_string(destroys) + " destroys, max_destroy " +
                      std::to_string(policy.max_destroy) + " (plan says " +
                      std::to_string(plan.max_destroy) + ")";
  Violations out;
  if (plan.max_destroy != policy.max_destroy)
    out.push_back(Only("plan.max_destroy differs: " + state));
  if (plan.Summary().destroys != destroys)
    out.push_back(Only("Summary().destroys miscounts: " + state));
  if (plan.ExceedsDestroyLimit() != over)
    out.push_back(Only("ExceedsDestroyLimit() wrong: " + state));
  if (warned != over) {
    out.push_back(Only(std::string(over ? "no" : "a") + " max_destroy warning with " + state));
  }
  return out;
}

// --- property 4: determinism and the JSON round trip ------------------------

std::string FirstDifference(const std::string& a, const std::string& b) {
  std::vector<std::string_view> la = Split(a, '\n'), lb = Split(b, '\n');
  for (size_t i = 0; i < std::max(la.size(), lb.size()); ++i) {
    std::string_view x = i < la.size() ? la[i] : "<end>", y = i < lb.size() ? lb[i] : "<end>";
    if (x != y) {
      return "line " + std::to_string(i + 1) + ": " + std::string(x) + " | " + std::string(y);
    }
  }
  return "no difference";
}

// Plans again from copies of the inputs, the inventory rows shuffled (as
// another listing order would give them) before indexing.
Violations CheckDeterminism(const RandomCase& c, const Plan& plan) {
  Violations out;
  std::string json = EncodePlanJson(plan);
  Inventory shuffled = c.inventory;
  std::mt19937_64 rng(c.seed);
  std::shuffle(shuffled.datasets.begin(), shuffled.datasets.end(), rng);
  std::shuffle(shuffled.zones.begin(), shuffled.zones.end(), rng);
  shuffled.Index();
  Catalogs catalogs = c.catalogs;
  Plan again;
  Status st = BuildCasePlan(c, shuffled, catalogs, &again);
  if (!st.ok()) {
    out.push_back(Only("the second build fails: " + st.message()));
  } else if (EncodePlanJson(again) != json) {
    out.push_back(Only("two builds differ at " + FirstDifference(json, EncodePlanJson(again))));
  }
  Plan decoded;
  st = DecodePlanJson(json, &decoded);
  if (!st.ok()) {
    out.push_back(Only("the plan's JSON does not decode: " + st.message()));
  } else if (EncodePlanJson(decoded) != json) {
    out.push_back(
        Only("JSON round trip differs at " + FirstDifference(json, EncodePlanJson(decoded))));
  }
  return out;
}

// --- property 5: convergence ------------------------------------------------

// Applies the plan to the simulated host and destinations, then plans again
// with the same policy and `now`: nothing may be left to do.
Violations CheckConvergence(const RandomCase& c, const Plan& plan, bool* converged) {
  Violations out;
  *converged = false;
  PlanSimulator sim(c.inventory, c.holds, c.catalogs);
  Status st = sim.Apply(plan);
  if (!st.ok()) {
    size_t at = st.message().find(" (");
    std::string target = st.message().substr(0, at);
    std::set<std::string> datasets;
    for (std::string_view word : Split(target, ' ')) {
      if (word.find('@') != std::string_view::npos) datasets.insert(DatasetOf(std::string(word)));
    }
    out.push_back({"applying the plan fails: " + st.message(), datasets});
    return out;
  }
  Catalogs catalogs = sim.catalogs();
  Plan next;
  st = BuildCasePlan(c, sim.inventory(), catalogs, &next);
  if (!st.ok()) {
    out.push_back(Only("planning again fails: " + st.message()));
    return out;
  }
  for (size_t i = 0; i < next.actions.size(); ++i) {
    const Action& a = next.actions[i];
    std::set<std::string> datasets;
    for (const std::string& s : a.snapshots) datasets.insert(DatasetOf(s));
    if (!a.stream.dataset.empty()) datasets.insert(a.stream.dataset);
    out.push_back({"after apply, the next plan still has " + Describe(i, a), datasets});
  }
  *converged = out.empty();
  return out;
}

// --- describing a case ----------------------------------------------------

std::string DescribeDataset(const RandomCase& c, const std::string& name) {
  const Dataset* d = c.inventory.FindDataset(name);
  if (d == nullptr) return "  " + name + ": not on the host\n";
  std::string out = "  " + name + (d->origin.empty() ? "" : " (clone of " + d->origin + ")") + "\n";
  for (const Snapshot& s : d->snapshots) {
    auto tags = c.holds.find(name + "@" + s.name);
    out += "    @" + s.name + " guid " + std::to_string(s.guid) + " txg " +
           std::to_string(s.createtxg) + " userrefs " + std::to_string(s.userrefs);
    if (tags != c.holds.end()) {
      out += " [" + Join(std::vector<std::string>(tags->second.begin(), tags->second.end()), ",") +
             "]";
    }
    if (!s.exported.empty()) out += " exported=" + s.exported;
    if (c.inventory.IsCloneOrigin(name + "@" + s.name)) out += " (clone origin)";
    out += "\n";
  }
  for (const auto& [dest, cat] : c.catalogs) {
    for (const auto& [uuid, m] : cat.zones) {
      for (const Chain& chain : m.chains) {
        if (chain.dataset != name) continue;
        out += "    " + dest + (cat.reachable ? "" : " (unreachable)") + " chain " + chain.id +
               " origin " + (chain.origin.empty() ? "-" : chain.origin) + ":";
        for (const ChainLink& l : chain.links) {
          out += " @" + l.snapshot + "/" + std::to_string(l.guid);
        }
        out += "\n";
      }
    }
  }
  return out;
}

std::string DescribeCase(const RandomCase& c, const Plan& plan, const Violations& violations,
                         bool verbose) {
  std::string out = "now " + FormatRfc3339(c.now) + ", dialect " + ZfsDialectName(c.dialect) +
                    "\npolicy:\n" + c.policy_yaml;
  for (const auto& [dest, cat] : c.catalogs) {
    out += "catalog " + dest + ": " + (cat.reachable ? "reachable" : "unreachable") + ", " +
           std::to_string(cat.zones.size()) + " zones, " + std::to_string(cat.images.size()) +
           " images\n";
  }
  std::set<std::string> datasets;
  for (const Violation& v : violations) datasets.insert(v.datasets.begin(), v.datasets.end());
  if (verbose) {
    for (const Dataset& d : c.inventory.datasets) datasets.insert(d.name);
  }
  out += "datasets concerned:\n";
  for (const std::string& d : datasets) out += DescribeDataset(c, d);
  out += "plan actions:\n";
  for (size_t i = 0; i < plan.actions.size(); ++i) {
    const Action& a = plan.actions[i];
    bool related = verbose;
    for (const std::string& s : a.snapshots) related = related || datasets.count(DatasetOf(s));
    related = related || datasets.count(a.stream.dataset);
    if (related) out += "  " + Describe(i, a) + "\n";
  }
  if (verbose) out += RenderPlanText(plan, PlanTextOptions{true});
  return out;
}

// --- the run ----------------------------------------------------------------

// Counts of situations the cases reached, so that a property cannot pass by
// never meeting what it guards.
struct Coverage {
  uint64_t destroys = 0;
  uint64_t destroys_after_release = 0;
  uint64_t spared_held = 0, spared_origin = 0, spared_tip = 0, spared_newest = 0;
  uint64_t over_limit = 0;
  uint64_t new_chains = 0, incrementals = 0, images = 0, removals = 0;
  uint64_t legacy_recursive = 0;
  uint64_t future_dated = 0;
  uint64_t unreachable = 0;
  uint64_t converged_nonempty = 0;
};

struct Results {
  std::string setup_error;  // bad settings or a generator bug
  uint64_t cases = 0;
  uint64_t refused = 0;  // BuildPlan refused the input (a zone matched twice)
  // Per property, the failing cases: seed and message.
  std::map<Property, std::vector<std::pair<uint64_t, std::string>>> failures;
  Coverage coverage;
};

bool Mentions(const std::vector<std::string>& lines, const char* text) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& l) { return l.find(text) != std::string::npos; });
}

void Count(const RandomCase& c, const Plan& plan, Coverage* cov) {
  std::set<std::string> released;
  for (const Action& a : plan.actions) {
    if (a.kind == ActionKind::kRelease) released.insert(a.snapshots[0]);
    if (a.kind == ActionKind::kDestroy) {
      cov->destroys += a.snapshots.size();
      for (const std::string& s : a.snapshots) cov->destroys_after_release += released.count(s);
    }
    if (a.kind == ActionKind::kSend) ++(a.stream.new_chain ? cov->new_chains : cov->incrementals);
    if (a.kind == ActionKind::kSaveImage) ++cov->images;
    if (a.kind == ActionKind::kRemoveExport) ++cov->removals;
    if (a.kind == ActionKind::kSnapshot && a.argv.size() > 2 && a.argv[2] == "-r") {
      ++cov->legacy_recursive;
    }
  }
  cov->spared_held += Mentions(plan.notes, "kept: held");
  cov->spared_origin += Mentions(plan.notes, "origin of a clone");
  cov->spared_tip += Mentions(plan.notes, "export chain tip for");
  cov->spared_newest += Mentions(plan.notes, "newest zrecon snapshot");
  cov->over_limit += plan.ExceedsDestroyLimit();
  cov->unreachable += Mentions(plan.warnings, "is unreachable");
  std::string why;
  NamingTemplate naming;
  NamingTemplate::Compile(c.policy.naming, c.policy.ClassNames(), &naming, &why);
  bool future = false;
  for (const Dataset& d : c.inventory.datasets) {
    for (const Snapshot& s : d.snapshots) {
      std::string_view cls;
      EpochSeconds t = 0;
      future = future || (naming.Parse(s.name, &cls, &t) && t > c.now);
    }
  }
  cov->future_dated += future;
}

std::string Replay(uint64_t seed) {
  return "seed " + std::to_string(seed) + " (replay: ZRECON_PROPERTY_SEED=" + std::to_string(seed) +
         " ZRECON_PROPERTY_CASES=1)";
}

void RunCase(uint64_t seed, const Settings& settings, Results* r) {
  RandomCase c;
  Status st = GenerateCase(seed, &c);
  if (!st.ok()) {
    r->setup_error = Replay(seed) + ": generator bug: " + st.message();
    return;
  }
  ++r->cases;
  Plan plan;
  st = BuildCasePlan(c, c.inventory, c.catalogs, &plan);
  if (!st.ok()) {
    // The one refusal BuildPlan documents; anything else is a failure.
    if (st.message().find("matched by more than one entry") != std::string::npos) {
      ++r->refused;
    } else {
      r->failures[Property::kRefusesOnlyDoubleMatches].push_back(
          {seed, Replay(seed) + ": BuildPlan fails: " + st.message()});
    }
    return;
  }
  Count(c, plan, &r->coverage);
  bool converged = false;
  std::map<Property, Violations> found = {
      {Property::kOwnershipAndSafeDestroys, DestroyChecker(c, plan).Run()},
      {Property::kOnlySnapshotsDestroyed, CheckOnlySnapshotsDestroyed(plan)},
      {Property::kDestroyLimit, CheckDestroyLimit(c.policy, plan)},
      {Property::kDeterminism, CheckDeterminism(c, plan)},
      {Property::kConvergence, CheckConvergence(c, plan, &converged)},
  };
  r->coverage.converged_nonempty += converged && !plan.actions.empty();
  for (const auto& [property, violations] : found) {
    if (violations.empty()) continue;
    std::string message = Replay(seed) + ":\n";
    for (size_t i = 0; i < violations.size() && i < kFailuresShown; ++i) {
      message += "  " + violations[i].what + "\n";
    }
    if (violations.size() > kFailuresShown) {
      message += "  ... and " + std::to_string(violations.size() - kFailuresShown) + " more\n";
    }
    r->failures[property].push_back(
        {seed, message + DescribeCase(c, plan, violations, settings.verbose)});
  }
}

const Results& RunAll() {
  static const Results results = [] {
    Results r;
    Settings settings;
    if (!ReadSettings(&settings, &r.setup_error)) return r;
    for (uint64_t i = 0; i < settings.cases && r.setup_error.empty(); ++i) {
      RunCase(settings.first_seed + i, settings, &r);
    }
    return r;
  }();
  return results;
}

void Report(Property property) {
  const Results& r = RunAll();
  REQUIRE_MESSAGE(r.setup_error.empty(), r.setup_error);
  auto it = r.failures.find(property);
  if (it == r.failures.end()) return;
  std::vector<std::string> seeds;
  for (size_t i = 0; i < it->second.size(); ++i) {
    if (i < kFailuresShown) FAIL_CHECK(it->second[i].second);
    if (i < kSeedsListed) seeds.push_back(std::to_string(it->second[i].first));
  }
  FAIL_CHECK(it->second.size() << " of " << r.cases << " cases violate this property; seeds "
                               << Join(seeds, " ")
                               << std::string(it->second.size() > kSeedsListed ? " ..." : ""));
}

TEST_CASE("planner properties: the random catalogs are ones a destination could hold") {
  Settings settings;
  std::string error;
  REQUIRE_MESSAGE(ReadSettings(&settings, &error), error);
  for (uint64_t i = 0; i < std::min<uint64_t>(settings.cases, kDecodedSample); ++i) {
    RandomCase c;
    Status st = GenerateCase(settings.first_seed + i, &c);
    if (st.ok()) st = testing::CatalogsDecode(c.catalogs);
    CHECK_MESSAGE(st.ok(), Replay(settings.first_seed + i) << ": " << st.message());
  }
}

TEST_CASE("planner properties: the random hosts reach what the properties guard") {
  const Results& r = RunAll();
  REQUIRE_MESSAGE(r.setup_error.empty(), r.setup_error);
  // A replay of a few cases cannot meet every situation.
  if (r.cases < kDefaultCases) return;
  const Coverage& c = r.coverage;
  INFO("cases " << r.cases << ", refused " << r.refused);
  CHECK(r.refused > 0);
  CHECK(r.refused * 4 < r.cases);
  CHECK(c.destroys > 0);
  CHECK(c.destroys_after_release > 0);
  CHECK(c.spared_held > 0);
  CHECK(c.spared_origin > 0);
  CHECK(c.spared_tip > 0);
  CHECK(c.spared_newest > 0);
  CHECK(c.over_limit > 0);
  CHECK(c.new_chains > 0);
  CHECK(c.incrementals > 0);
  CHECK(c.images > 0);
  CHECK(c.removals > 0);
  CHECK(c.legacy_recursive > 0);
  CHECK(c.future_dated > 0);
  CHECK(c.unreachable > 0);
  CHECK(c.converged_nonempty * 4 > r.cases);
}

TEST_CASE("planner properties: BuildPlan refuses only a zone matched by two entries") {
  Report(Property::kRefusesOnlyDoubleMatches);
}

TEST_CASE("planner properties: only zrecon's snapshots are touched, unprotected ones destroyed") {
  Report(Property::kOwnershipAndSafeDestroys);
}

TEST_CASE("planner properties: no dataset, image or zone is ever destroyed") {
  Report(Property::kOnlySnapshotsDestroyed);
}

TEST_CASE("planner properties: destroys beyond limits.max_destroy are flagged") {
  Report(Property::kDestroyLimit);
}

TEST_CASE("planner properties: plans are deterministic and round-trip through JSON") {
  Report(Property::kDeterminism);
}

TEST_CASE("planner properties: an applied plan leaves nothing to do") {
  Report(Property::kConvergence);
}

// A hand-made host with one snapshot of each protected kind, whose plan at
// 10:30 takes an hourly and prunes the 09:00 one: the checks above must
// pass it, and reject it once doctored (a check that cannot fail proves
// nothing).
const char kZone[] = "85dbcafe-889a-e402-cf36-c7ffdd15e568";
const std::string kRoot = std::string("zones/") + kZone;

RandomCase HandMadeCase() {
  testing::InventoryBuilder b;
  b.Zone(kZone, "joyent", "web01")
      .Snap(kRoot, "zrecon-hourly-20261126T060000Z", 1)
      .Snap(kRoot, "zrecon-hourly-20261126T070000Z", 1, "usb")
      .Snap(kRoot, "zrecon-hourly-20261126T080000Z")
      .Snap(kRoot, "first_snap")
      .Snap(kRoot, "zrecon-hourly-20261126T090000Z")
      .Dataset("zones/copies/c0", kRoot + "@zrecon-hourly-20261126T080000Z");
  RandomCase c;
  c.inventory = b.Build();
  c.holds[kRoot + "@zrecon-hourly-20261126T060000Z"] = {"keep"};
  c.holds[kRoot + "@zrecon-hourly-20261126T070000Z"] = {"zrecon"};
  c.foreign = {kRoot + "@first_snap"};
  c.policy = testing::StandardPolicy();
  c.policy.policies["standard"].exports.clear();
  c.policy.policies["standard"].keep = {{"hourly", 1}};
  c.now = testing::At("2026-11-26T10:30:00Z");
  return c;
}

Action Destroy(const std::string& full) {
  Action a;
  a.kind = ActionKind::kDestroy;
  a.zone = kZone;
  a.snapshots = {full};
  a.argv = {"zfs", "destroy", full};
  return a;
}

std::string Joined(const Violations& violations) {
  std::string out;
  for (const Violation& v : violations) out += v.what + "\n";
  return out;
}

TEST_CASE("planner properties: the checks pass a sound plan and reject doctored ones") {
  RandomCase c = HandMadeCase();
  Plan plan;
  Status st = BuildCasePlan(c, c.inventory, c.catalogs, &plan);
  REQUIRE_MESSAGE(st.ok(), st.message());
  REQUIRE(plan.actions.size() == 2);
  REQUIRE(plan.actions[1].snapshots ==
          std::vector<std::string>{kRoot + "@zrecon-hourly-20261126T090000Z"});
  bool converged = false;
  CHECK(Joined(DestroyChecker(c, plan).Run()) == "");
  CHECK(Joined(CheckOnlySnapshotsDestroyed(plan)) == "");
  CHECK(Joined(CheckDestroyLimit(c.policy, plan)) == "");
  CHECK(Joined(CheckDeterminism(c, plan)) == "");
  CHECK(Joined(CheckConvergence(c, plan, &converged)) == "");
  CHECK(converged);

  SUBCASE("destroys of protected snapshots") {
    const std::vector<std::pair<std::string, std::string>> doomed = {
        {"060000Z", "it is held (userrefs 1, 0 released before)"},
        {"070000Z", "it is a chain tip by its mark (zrecon:exported=usb)"},
        {"080000Z", "it is the origin of a clone"},
    };
    for (const auto& [time, why] : doomed) {
      plan.actions.push_back(Destroy(kRoot + "@zrecon-hourly-20261126T" + time));
    }
    plan.actions.push_back(Destroy(kRoot + "@first_snap"));
    std::string found = Joined(DestroyChecker(c, plan).Run());
    for (const auto& [time, why] : doomed) CHECK(found.find(why) != std::string::npos);
    CHECK(found.find("it is another tool's snapshot; its name is outside the naming template") !=
          std::string::npos);
    // zfs refuses the held one: the plan cannot be applied.
    CHECK(Joined(CheckConvergence(c, plan, &converged)).find("dataset is busy") !=
          std::string::npos);
  }
  SUBCASE("a plan that forgot its snapshot destroys the newest and does not converge") {
    plan.actions.erase(plan.actions.begin());
    CHECK(Joined(DestroyChecker(c, plan).Run()).find("newest managed snapshot") !=
          std::string::npos);
    CHECK(Joined(CheckConvergence(c, plan, &converged)).find("still has #0 snapshot") !=
          std::string::npos);
  }
  SUBCASE("commands that destroy a dataset or a zone") {
    Action dataset = Destroy(kRoot);
    dataset.argv = {"zfs", "destroy", "-r", kRoot};
    Action zone = Destroy(kRoot);
    zone.kind = ActionKind::kSaveConfig;
    zone.argv = {"vmadm", "delete", kZone};
    plan.actions = {dataset, zone};
    std::string found = Joined(CheckOnlySnapshotsDestroyed(plan));
    CHECK(found.find("passes flag -r to zfs destroy") != std::string::npos);
    CHECK(found.find("runs vmadm delete " + std::string(kZone)) != std::string::npos);
  }
  SUBCASE("destroys over the limit without the warning") {
    c.policy.max_destroy = 0;
    CHECK(
        Joined(CheckDestroyLimit(c.policy, plan)).find("no max_destroy warning with 1 destroys") !=
        std::string::npos);
  }
}

}  // namespace
}  // namespace zrecon
