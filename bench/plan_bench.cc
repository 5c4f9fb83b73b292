// Stage-by-stage timings of `zrecon plan --inventory` on a recorded host:
// parse, index, plan, fingerprint and JSON encoding, each measured alone.
//
//   bench/make_synthetic_host.py /var/tmp/zrecon-bench/host-1m
//   ZRECON_BENCH_HOST=/var/tmp/zrecon-bench/host-1m build/zrecon_bench
//
// The end-to-end figure (process start, reading, parsing, planning, output)
// comes from bench/plan_bench.sh; this binary says where the time goes.

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <iostream>

#include "reconciler/catalog/catalog.h"
#include "reconciler/inventory/parsers.h"
#include "reconciler/plan/fingerprint.h"
#include "reconciler/plan/plan_json.h"
#include "reconciler/plan/planner.h"
#include "reconciler/policy/policy_loader.h"
#include "reconciler/util/files.h"

namespace zrecon {
namespace {

struct Inputs {
  std::string zfs_text, vmadm_text;
  Policy policy;
  Inventory inventory;
  Catalogs catalogs;
  bool ok = false;
};

const Inputs& Load() {
  static Inputs in = [] {
    Inputs i;
    const char* dir = std::getenv("ZRECON_BENCH_HOST");
    std::string host = dir ? dir : "/var/tmp/zrecon-bench/host-1m";
    std::string policy = std::string(ZRECON_SOURCE_DIR) + "/bench/policy.yaml";
    Diagnostics diags;
    if (!ReadFile(host + "/zfs-list.txt", &i.zfs_text).ok() ||
        !ReadFile(host + "/vmadm-lookup.json", &i.vmadm_text).ok() ||
        !LoadPolicyFile(policy, &i.policy, &diags)) {
      std::cerr << "cannot read " << host << " or " << policy
                << " (run bench/make_synthetic_host.py first)\n";
      return i;
    }
    ParseZfsList(i.zfs_text, &i.inventory);
    ParseVmadmLookup(i.vmadm_text, &i.inventory);
    i.inventory.Index();
    i.catalogs["usb"].name = "usb";
    i.catalogs["usb"].reachable = true;
    i.ok = true;
    return i;
  }();
  return in;
}

PlannerInput MakeInput(const Inputs& in) {
  PlannerInput p;
  p.policy = &in.policy;
  p.inventory = &in.inventory;
  p.catalogs = &in.catalogs;
  ParseRfc3339("2026-11-26T10:30:00Z", &p.now);
  p.host = "bench01";
  return p;
}

void BM_ParseZfsList(benchmark::State& state) {
  const Inputs& in = Load();
  if (!in.ok) return state.SkipWithError("no synthetic host");
  for (auto _ : state) {
    Inventory inv;
    ParseZfsList(in.zfs_text, &inv);
    benchmark::DoNotOptimize(inv);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * in.zfs_text.size()));
}

void BM_Index(benchmark::State& state) {
  const Inputs& in = Load();
  if (!in.ok) return state.SkipWithError("no synthetic host");
  for (auto _ : state) {
    state.PauseTiming();
    Inventory inv = in.inventory;
    state.ResumeTiming();
    inv.Index();
    benchmark::DoNotOptimize(inv);
  }
}

void BM_BuildPlan(benchmark::State& state) {
  const Inputs& in = Load();
  if (!in.ok) return state.SkipWithError("no synthetic host");
  for (auto _ : state) {
    Plan plan;
    BuildPlan(MakeInput(in), &plan);
    benchmark::DoNotOptimize(plan);
  }
}

void BM_Fingerprint(benchmark::State& state) {
  const Inputs& in = Load();
  if (!in.ok) return state.SkipWithError("no synthetic host");
  for (auto _ : state) benchmark::DoNotOptimize(Fingerprint(in.inventory, in.catalogs));
}

void BM_EncodePlanJson(benchmark::State& state) {
  const Inputs& in = Load();
  if (!in.ok) return state.SkipWithError("no synthetic host");
  Plan plan;
  BuildPlan(MakeInput(in), &plan);
  for (auto _ : state) benchmark::DoNotOptimize(EncodePlanJson(plan));
}

BENCHMARK(BM_ParseZfsList)->Unit(benchmark::kMillisecond)->MinTime(2);
BENCHMARK(BM_Index)->Unit(benchmark::kMillisecond)->MinTime(2);
BENCHMARK(BM_BuildPlan)->Unit(benchmark::kMillisecond)->MinTime(2);
BENCHMARK(BM_Fingerprint)->Unit(benchmark::kMillisecond)->MinTime(2);
BENCHMARK(BM_EncodePlanJson)->Unit(benchmark::kMillisecond)->MinTime(2);

}  // namespace
}  // namespace zrecon

BENCHMARK_MAIN();
