#include "reconciler/plan/zone_selection.h"

#include <fnmatch.h>
#include <re2/re2.h>

#include <memory>

#include "reconciler/util/strings.h"

namespace zrecon {

namespace {

bool Glob(const std::optional<std::string>& pattern, const std::string& value) {
  return !pattern || fnmatch(pattern->c_str(), value.c_str(), 0) == 0;
}

// A ZoneMatch with its regex compiled once (matching runs zones x entries).
class CompiledMatch {
 public:
  explicit CompiledMatch(const ZoneMatch& match) : match_(&match) {
    if (match.alias_regex) {
      RE2::Options options;
      options.set_log_errors(false);
      re_ = std::make_unique<RE2>(*match.alias_regex, options);
    }
  }

  bool Matches(const Zone& zone) const {
    if (!Glob(match_->alias, zone.alias) || !Glob(match_->uuid, zone.uuid) ||
        !Glob(match_->brand, zone.brand)) {
      return false;
    }
    // An invalid regex was rejected by validation; treat it as no match here.
    return !re_ || (re_->ok() && RE2::PartialMatch(zone.alias, *re_));
  }

 private:
  const ZoneMatch* match_;
  std::unique_ptr<RE2> re_;
};

std::string ZoneLabel(const Zone& zone) {
  return zone.alias.empty() ? zone.uuid : zone.uuid + " (" + Printable(zone.alias) + ")";
}

// Transient states in which a zone's datasets are being created or received.
bool TransientState(const std::string& state) {
  return state == "provisioning" || state == "receiving";
}

}  // namespace

bool ZoneMatchesSpec(const ZoneMatch& match, const Zone& zone) {
  return CompiledMatch(match).Matches(zone);
}

ZoneSelection SelectZones(const Policy& policy, const Inventory& inventory) {
  ZoneSelection out;
  std::vector<CompiledMatch> excludes;
  for (const ZoneMatch& m : policy.exclude) excludes.emplace_back(m);
  std::vector<CompiledMatch> entries;
  for (const ZoneEntry& e : policy.zones) entries.emplace_back(e.match);
  std::vector<int> entry_hits(policy.zones.size(), 0);

  for (const Zone& zone : inventory.zones) {
    bool excluded = false;
    for (size_t i = 0; i < excludes.size() && !excluded; ++i) {
      if (excludes[i].Matches(zone)) {
        excluded = true;
        out.notes.push_back("zone " + ZoneLabel(zone) + " is excluded by exclude[" +
                            std::to_string(i) + "] (" + policy.exclude[i].Describe() + ")");
      }
    }
    if (excluded) continue;
    std::vector<size_t> hits;
    for (size_t i = 0; i < entries.size(); ++i) {
      if (entries[i].Matches(zone)) hits.push_back(i);
    }
    for (size_t i : hits) ++entry_hits[i];
    if (hits.empty()) {
      out.notes.push_back("zone " + ZoneLabel(zone) + " is matched by no zones entry");
      continue;
    }
    if (hits.size() > 1) {
      std::string which;
      for (size_t i : hits) {
        which += (which.empty() ? "" : ", ") + std::string("zones[") + std::to_string(i) + "] (" +
                 policy.zones[i].loc.ToString() + ")";
      }
      out.errors.push_back("zone " + ZoneLabel(zone) + " is matched by more than one entry: " +
                           which + "; make the matches disjoint or add an exclude");
      continue;
    }
    const ZoneEntry& entry = policy.zones[hits[0]];
    auto policy_it = policy.policies.find(entry.policy);
    if (policy_it == policy.policies.end()) {
      out.errors.push_back("zones[" + std::to_string(hits[0]) + "] names unknown policy \"" +
                           entry.policy + "\"");
      continue;
    }
    if (TransientState(zone.state)) {
      out.warnings.push_back("zone " + ZoneLabel(zone) + " is " + zone.state +
                             "; skipped this run");
      continue;
    }
    out.selected.push_back(
        {&zone, &entry, &policy_it->second, EffectiveKeep(policy_it->second, entry)});
  }
  for (size_t i = 0; i < policy.zones.size(); ++i) {
    if (entry_hits[i] == 0) {
      out.warnings.push_back("zones[" + std::to_string(i) + "] (" + policy.zones[i].loc.ToString() +
                             ", " + policy.zones[i].match.Describe() +
                             ") matches no zone on this host");
    }
  }
  return out;
}

}  // namespace zrecon
